//! Subtitles: checking the inputs, converting them to WebVTT, and writing SRT for demos.
//!
//! Every track becomes `subs/<lang>.vtt` (converted by ffmpeg from .srt, .vtt, .ass or
//! .ssa) plus a one-segment playlist `subs/<lang>.m3u8`. The language tag becomes a file
//! name and a playlist attribute, so it is checked strictly (BCP-47 shape: ASCII letters,
//! digits and `-`) and must be unique.
//!
//! Two details make the tracks line up and read well:
//!
//! * The MPEG-TS segments ffmpeg writes do not start at timestamp 0 (the muxer adds ~1.4 s
//!   of delay, plus the B-frame delay), so each `.vtt` gets an
//!   `X-TIMESTAMP-MAP=MPEGTS:<first video PTS>,LOCAL:00:00:00.000` header, as the HLS spec
//!   asks. Without it, hls.js and Safari would show every cue ~1.5 s early.
//! * Subtitle files made in China are often GBK/GB18030 rather than UTF-8. A file that is
//!   not valid UTF-8 (and has no UTF-16 BOM) is decoded as GB18030, a superset of GBK.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::command;
use crate::error::{IoContext, MediaError};

/// A subtitle file to publish with the movie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtitleInput {
    /// BCP-47 language tag, e.g. "zh-CN" or "en". Also the file name of the outputs.
    pub lang: String,
    /// Name shown in the player's menu, e.g. "简体中文".
    pub label: String,
    /// A .srt, .vtt, .ass or .ssa file.
    pub path: PathBuf,
}

/// A subtitle track as published; paths are relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtitleTrack {
    /// BCP-47 language tag.
    pub lang: String,
    /// Menu label.
    pub label: String,
    /// The WebVTT file, e.g. "subs/zh-CN.vtt".
    pub path: PathBuf,
    /// Its HLS media playlist, e.g. "subs/zh-CN.m3u8".
    pub playlist: PathBuf,
}

/// Directory of the subtitle outputs inside the output directory.
pub(crate) const SUBS_DIR: &str = "subs";

const EXTENSIONS: [&str; 4] = ["srt", "vtt", "ass", "ssa"];

/// Checks all subtitle inputs before any work starts.
pub(crate) fn validate(inputs: &[SubtitleInput]) -> Result<(), MediaError> {
    let mut seen = HashSet::new();
    for input in inputs {
        let reject = |reason: String| MediaError::InvalidSubtitle {
            path: input.path.clone(),
            reason,
        };
        if !is_valid_lang(&input.lang) {
            return Err(reject(format!(
                "language tag {:?} is not a BCP-47 tag like \"zh-CN\" or \"en\"",
                input.lang
            )));
        }
        if !seen.insert(input.lang.to_ascii_lowercase()) {
            return Err(reject(format!(
                "language {:?} is given more than once",
                input.lang
            )));
        }
        let ext = input
            .path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if !EXTENSIONS.contains(&ext.as_str()) {
            return Err(reject(format!(
                "unsupported subtitle format {ext:?} (use .srt, .vtt, .ass or .ssa)"
            )));
        }
        command::absolute_existing(&input.path)?;
    }
    Ok(())
}

/// BCP-47 shape: 1–8 alphanumeric subtags separated by `-`, the first 2–8 letters.
pub(crate) fn is_valid_lang(lang: &str) -> bool {
    if lang.is_empty() || lang.len() > 35 {
        return false;
    }
    let mut subtags = lang.split('-');
    let first_ok = subtags
        .next()
        .is_some_and(|s| (2..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphabetic()));
    first_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The label as shown in the menu: trimmed, falling back to the language tag.
pub(crate) fn display_label(input: &SubtitleInput) -> String {
    let label = input.label.trim();
    if label.is_empty() {
        input.lang.clone()
    } else {
        label.to_owned()
    }
}

/// ffmpeg arguments converting `input` to WebVTT at `output` (relative to the working dir).
pub(crate) fn convert_args(input: &Path, output: &Path) -> Result<Vec<OsString>, MediaError> {
    let mut args = Vec::new();
    let bytes = std::fs::read(input).context(|| format!("reading {}", input.display()))?;
    if needs_gb18030(&bytes) {
        args.extend(command::os_args(["-sub_charenc", "GB18030"]));
    }
    args.push("-i".into());
    args.push(command::input_arg(input)?);
    args.extend(command::os_args([
        "-map", "0:s:0", "-c:s", "webvtt", "-f", "webvtt",
    ]));
    args.push(output.as_os_str().to_owned());
    Ok(args)
}

/// True for text that is neither UTF-8 nor BOM-marked UTF-16.
fn needs_gb18030(bytes: &[u8]) -> bool {
    let utf16_bom = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    !utf16_bom && std::str::from_utf8(bytes).is_err()
}

/// Puts an `X-TIMESTAMP-MAP` header after the `WEBVTT` line, replacing any existing one.
pub(crate) fn add_timestamp_map(vtt: &str, mpegts: u64) -> String {
    let mut lines = vtt.lines();
    let first = lines.next().unwrap_or("WEBVTT");
    let first = if first.trim_start_matches('\u{feff}').starts_with("WEBVTT") {
        first.trim_start_matches('\u{feff}')
    } else {
        "WEBVTT"
    };
    let mut out = format!("{first}\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n");
    for line in lines.filter(|l| !l.starts_with("X-TIMESTAMP-MAP=")) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A timestamp as `HH:MM:SS.mmm` (WebVTT, `separator` '.') or `HH:MM:SS,mmm` (SRT, ',').
pub(crate) fn timestamp(secs: f64, separator: char) -> String {
    let millis = if secs.is_finite() && secs > 0.0 {
        (secs * 1000.0).round() as u64
    } else {
        0
    };
    let (h, rest) = (millis / 3_600_000, millis % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("{h:02}:{m:02}:{s:02}{separator}{ms:03}")
}

/// Writes a UTF-8 SRT file from `(start, end, text)` cues in seconds.
///
/// Cues must have `0 <= start < end`; empty lines inside a text are dropped because a blank
/// line ends an SRT cue.
pub fn write_srt(out: &Path, cues: &[(f64, f64, &str)]) -> Result<(), MediaError> {
    let text = srt_text(cues)?;
    std::fs::write(out, text).context(|| format!("writing {}", out.display()))
}

fn srt_text(cues: &[(f64, f64, &str)]) -> Result<String, MediaError> {
    let mut text = String::new();
    for (i, (start, end, body)) in cues.iter().enumerate() {
        if !(start.is_finite() && end.is_finite() && *start >= 0.0 && start < end) {
            return Err(MediaError::InvalidArgument(format!(
                "subtitle cue {} has start {start} and end {end}",
                i + 1
            )));
        }
        let body: Vec<&str> = body
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect();
        let _ = write!(
            text,
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            timestamp(*start, ','),
            timestamp(*end, ','),
            body.join("\n")
        );
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(lang: &str, path: &Path) -> SubtitleInput {
        SubtitleInput {
            lang: lang.into(),
            label: String::new(),
            path: path.to_owned(),
        }
    }

    #[test]
    fn language_tags_are_checked_strictly() {
        for ok in ["en", "zh-CN", "zh-Hans-CN", "yue", "es-419", "sgn-BE-FR"] {
            assert!(is_valid_lang(ok), "{ok}");
        }
        for bad in [
            "", "e", "zh_CN", "../etc", "zh-", "en/x", "中文", "a b", "123",
        ] {
            assert!(!is_valid_lang(bad), "{bad}");
        }
    }

    #[test]
    fn validation_rejects_duplicates_formats_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let srt = dir.path().join("a.srt");
        std::fs::write(&srt, "1\n00:00:00,000 --> 00:00:01,000\nhi\n").unwrap();
        let txt = dir.path().join("a.txt");
        std::fs::write(&txt, "hi").unwrap();

        assert!(validate(&[input("en", &srt), input("zh-CN", &srt)]).is_ok());
        let dup = validate(&[input("en", &srt), input("EN", &srt)]);
        assert!(matches!(dup, Err(MediaError::InvalidSubtitle { .. })));
        let bad_lang = validate(&[input("../x", &srt)]);
        assert!(matches!(bad_lang, Err(MediaError::InvalidSubtitle { .. })));
        let bad_ext = validate(&[input("en", &txt)]);
        assert!(matches!(bad_ext, Err(MediaError::InvalidSubtitle { .. })));
        let missing = validate(&[input("en", &dir.path().join("nope.srt"))]);
        assert!(matches!(missing, Err(MediaError::InputMissing(_))));
    }

    #[test]
    fn labels_fall_back_to_the_language() {
        let mut i = input("en", Path::new("x.srt"));
        assert_eq!(display_label(&i), "en");
        i.label = "  English ".into();
        assert_eq!(display_label(&i), "English");
    }

    #[test]
    fn timestamps_in_both_flavours() {
        assert_eq!(timestamp(0.0, '.'), "00:00:00.000");
        assert_eq!(timestamp(3661.5, '.'), "01:01:01.500");
        assert_eq!(timestamp(59.9996, ','), "00:01:00,000");
        assert_eq!(timestamp(-3.0, '.'), "00:00:00.000");
        assert_eq!(timestamp(360_000.0, '.'), "100:00:00.000");
    }

    #[test]
    fn srt_text_numbers_cues_and_drops_blank_lines() {
        let text = srt_text(&[(0.5, 2.0, "你好"), (2.0, 4.25, "two\n\nlines")]).unwrap();
        assert_eq!(
            text,
            "1\n00:00:00,500 --> 00:00:02,000\n你好\n\n2\n00:00:02,000 --> 00:00:04,250\ntwo\nlines\n\n"
        );
        assert!(matches!(
            srt_text(&[(2.0, 1.0, "backwards")]),
            Err(MediaError::InvalidArgument(_))
        ));
        assert!(srt_text(&[(f64::NAN, 1.0, "x")]).is_err());
    }

    #[test]
    fn timestamp_map_goes_after_the_header() {
        let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n";
        assert_eq!(
            add_timestamp_map(vtt, 132_000),
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:132000,LOCAL:00:00:00.000\n\n00:00:01.000 --> 00:00:02.000\nhi\n"
        );
        let again = add_timestamp_map(&add_timestamp_map(vtt, 1), 2);
        assert_eq!(again.matches("X-TIMESTAMP-MAP").count(), 1);
        assert!(again.contains("MPEGTS:2,"));
    }

    #[test]
    fn charset_guess() {
        assert!(!needs_gb18030("中文 UTF-8".as_bytes()));
        // "中文" in GBK.
        assert!(needs_gb18030(&[0xD6, 0xD0, 0xCE, 0xC4]));
        assert!(!needs_gb18030(&[0xFF, 0xFE, 0x2D, 0x4E]));
    }
}
