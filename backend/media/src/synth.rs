//! Synthetic source videos for the demo catalog and the tests.
//!
//! A synthetic movie is ffmpeg's `testsrc2` pattern, hue-rotated so every movie looks
//! different, with a beeping sine tone (one beep a second, so audio/video sync is easy to
//! judge), the title in the lower third and a running timecode in the corner (handy when
//! checking that two viewers of a watch party are in sync). It is encoded with x264
//! `ultrafast`, because the demo catalog is generated on first start and then transcoded
//! again by the real pipeline.
//!
//! Text needs ffmpeg's `drawtext` filter (libfreetype) and a font. Whether the filter exists
//! is asked once per process (`ffmpeg -filters`); fonts are looked up in the usual Debian
//! places, a CJK font (Noto Sans CJK) for titles with Chinese/Japanese/Korean characters.
//! When either is missing the video is made without text rather than failing.
//!
//! Text reaches drawtext through `textfile=` in the output's directory (ffmpeg runs there),
//! with expansion off for the title, so no title can break the filter graph syntax.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::command::{self, FFMPEG, FfmpegRun, run_ffmpeg};
use crate::error::{IoContext, MediaError};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSpec {
    /// Length in seconds (1..=3600).
    pub duration_secs: u32,
    /// Frame width in pixels (even, 16..=3840).
    pub width: u32,
    /// Frame height in pixels (even, 16..=2160).
    pub height: u32,
    /// Drawn on the frames when drawtext and a suitable font are available.
    pub title: String,
    /// Hue rotation in degrees; also picks the tone's pitch.
    pub hue: u32,
}

const FRAME_RATE: u32 = 30;

/// Fonts that cover CJK (and Latin) text.
const CJK_FONTS: [&str; 4] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];
/// Fonts for Latin text.
const LATIN_FONTS: [&str; 2] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Writes a synthetic H.264/AAC MP4 to `out` (parent directories are created).
pub fn synth_source(out: &Path, spec: &SynthSpec) -> Result<(), MediaError> {
    validate(spec)?;
    let out = std::path::absolute(out).context(|| format!("resolving {}", out.display()))?;
    let (Some(dir), Some(name)) = (out.parent(), out.file_name()) else {
        return Err(MediaError::InvalidArgument(format!(
            "{} is not a file path",
            out.display()
        )));
    };
    std::fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;

    let mut part_name = name.to_owned();
    part_name.push(".part");
    let part = dir.join(&part_name);
    let text = TextFiles::write(dir, spec)?;
    let result = run_ffmpeg(
        FfmpegRun {
            step: "synthetic source".to_owned(),
            args: synth_args(spec, text.as_ref(), &part),
            cwd: Some(dir),
            expected_secs: f64::from(spec.duration_secs),
        },
        &mut |_| {},
    )
    .and_then(|()| {
        std::fs::rename(&part, &out).context(|| format!("renaming to {}", out.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

fn validate(spec: &SynthSpec) -> Result<(), MediaError> {
    let bad = |what: String| Err(MediaError::InvalidArgument(what));
    if !(1..=3600).contains(&spec.duration_secs) {
        return bad(format!(
            "duration {} s is not in 1..=3600",
            spec.duration_secs
        ));
    }
    if !(16..=3840).contains(&spec.width) || !(16..=2160).contains(&spec.height) {
        return bad(format!(
            "size {}x{} is out of range",
            spec.width, spec.height
        ));
    }
    if !spec.width.is_multiple_of(2) || !spec.height.is_multiple_of(2) {
        return bad(format!("size {}x{} must be even", spec.width, spec.height));
    }
    Ok(())
}

/// The text files drawtext reads, removed on drop.
struct TextFiles {
    dir: PathBuf,
    title: Option<String>,
    timecode: String,
    font: &'static str,
}

impl TextFiles {
    /// Writes the title and timecode files, or returns `None` when text cannot be drawn.
    fn write(dir: &Path, spec: &SynthSpec) -> Result<Option<TextFiles>, MediaError> {
        if !has_drawtext() {
            tracing::info!("ffmpeg has no drawtext filter; synthetic videos get no text");
            return Ok(None);
        }
        let title = spec.title.trim();
        let Some(font) = pick_font(title, |p| Path::new(p).is_file()) else {
            tracing::info!(title, "no font for the title; synthetic video gets no text");
            return Ok(None);
        };
        let stem = format!(
            ".luojia-synth-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let files = TextFiles {
            dir: dir.to_owned(),
            title: (!title.is_empty()).then(|| format!("{stem}-title.txt")),
            timecode: format!("{stem}-time.txt"),
            font,
        };
        if let Some(name) = &files.title {
            write_text(&dir.join(name), title)?;
        }
        write_text(&dir.join(&files.timecode), "%{pts:hms}")?;
        Ok(Some(files))
    }
}

impl Drop for TextFiles {
    fn drop(&mut self) {
        for name in self.title.iter().chain([&self.timecode]) {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
    }
}

fn write_text(path: &Path, text: &str) -> Result<(), MediaError> {
    std::fs::write(path, text).context(|| format!("writing {}", path.display()))
}

/// The ffmpeg arguments for a synthetic source.
fn synth_args(spec: &SynthSpec, text: Option<&TextFiles>, out: &Path) -> Vec<OsString> {
    let d = spec.duration_secs;
    let (w, h) = (spec.width, spec.height);
    let mut video = format!(
        "testsrc2=size={w}x{h}:rate={FRAME_RATE}:duration={d},hue=h={}:s=1.2",
        spec.hue % 360
    );
    if let Some(text) = text {
        video.push_str(&drawtext_filters(text, h));
    }
    let audio = format!(
        "sine=frequency={}:beep_factor=4:sample_rate=48000:duration={d}",
        tone_hz(spec.hue)
    );
    let mut args = command::os_args([
        "-f",
        "lavfi",
        "-i",
        &video,
        "-f",
        "lavfi",
        "-i",
        &audio,
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "60",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        "-shortest",
        "-f",
        "mp4",
    ]);
    let mut out_arg = OsString::from("file:");
    out_arg.push(out.as_os_str());
    args.push(out_arg);
    args
}

/// `,drawtext=…` for the title (lower third) and the timecode (top left).
fn drawtext_filters(text: &TextFiles, height: u32) -> String {
    let font = text.font;
    let title_size = (height / 12).max(8);
    let time_size = (height / 20).max(8);
    let mut f = String::new();
    if let Some(title) = &text.title {
        f.push_str(&format!(
            ",drawtext=fontfile={font}:textfile={title}:expansion=none:fontsize={title_size}:\
             fontcolor=white:box=1:boxcolor=black@0.55:boxborderw={}:x=(w-text_w)/2:y=h*0.72",
            title_size / 3
        ));
    }
    f.push_str(&format!(
        ",drawtext=fontfile={font}:textfile={}:expansion=normal:fontsize={time_size}:\
         fontcolor=white:box=1:boxcolor=black@0.55:boxborderw={}:x={}:y={}",
        text.timecode,
        time_size / 4,
        time_size / 2,
        time_size / 2
    ));
    f
}

/// 220–660 Hz, by hue, so movies also sound different.
fn tone_hz(hue: u32) -> u32 {
    220 + (hue % 360 / 72) * 110
}

/// True for characters a Latin font will not have (CJK, kana, Hangul, fullwidth forms).
fn needs_cjk_font(text: &str) -> bool {
    text.chars().any(|c| c >= '\u{2E80}')
}

/// The first existing font that can draw `title`.
fn pick_font(title: &str, exists: impl Fn(&str) -> bool) -> Option<&'static str> {
    let cjk = CJK_FONTS.iter();
    if needs_cjk_font(title) {
        cjk.copied().find(|p| exists(p))
    } else {
        LATIN_FONTS.iter().chain(cjk).copied().find(|p| exists(p))
    }
}

/// Whether this ffmpeg has the drawtext filter; asked once per process.
fn has_drawtext() -> bool {
    static HAS_DRAWTEXT: OnceLock<bool> = OnceLock::new();
    *HAS_DRAWTEXT.get_or_init(|| {
        command::run_capture(
            FFMPEG,
            &[
                std::ffi::OsStr::new("-hide_banner"),
                std::ffi::OsStr::new("-filters"),
            ],
        )
        .map(|out| lists_filter(&String::from_utf8_lossy(&out.stdout), "drawtext"))
        .unwrap_or(false)
    })
}

/// Whether `ffmpeg -filters` output lists `name`.
fn lists_filter(filters: &str, name: &str) -> bool {
    filters
        .lines()
        .any(|line| line.split_whitespace().nth(1) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SynthSpec {
        SynthSpec {
            duration_secs: 8,
            width: 320,
            height: 180,
            title: "Demo".into(),
            hue: 400,
        }
    }

    #[test]
    fn specs_are_validated() {
        assert!(validate(&spec()).is_ok());
        for bad in [
            SynthSpec {
                duration_secs: 0,
                ..spec()
            },
            SynthSpec {
                width: 321,
                ..spec()
            },
            SynthSpec {
                height: 8,
                ..spec()
            },
            SynthSpec {
                width: 7680,
                ..spec()
            },
        ] {
            assert!(
                matches!(validate(&bad), Err(MediaError::InvalidArgument(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn fonts_match_the_script_of_the_title() {
        let all = |_: &str| true;
        assert_eq!(pick_font("Big Buck", all), Some(LATIN_FONTS[0]));
        assert_eq!(pick_font("洛珈影院", all), Some(CJK_FONTS[0]));
        let only_latin = |p: &str| LATIN_FONTS.contains(&p);
        assert_eq!(pick_font("洛珈影院", only_latin), None);
        let only_cjk = |p: &str| CJK_FONTS.contains(&p);
        assert_eq!(pick_font("Demo", only_cjk), Some(CJK_FONTS[0]));
    }

    #[test]
    fn filter_list_parsing() {
        let text = " ... drawbox           V->V       Draw a colored box on the input video.\n \
                    T.C drawtext          V->V       Draw text on top of video frames.\n";
        assert!(lists_filter(text, "drawtext"));
        assert!(!lists_filter(text, "drawgrid"));
    }

    #[test]
    fn arguments_without_text_use_the_hue_and_a_tone() {
        let args: Vec<String> = synth_args(&spec(), None, Path::new("/tmp/a:b.mp4"))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            args.contains(&"testsrc2=size=320x180:rate=30:duration=8,hue=h=40:s=1.2".to_owned())
        );
        assert!(args.iter().any(|a| a.starts_with("sine=frequency=220:")));
        assert_eq!(args.last().map(String::as_str), Some("file:/tmp/a:b.mp4"));
        assert!(!args.iter().any(|a| a.contains("drawtext")));
    }

    #[test]
    fn drawtext_reads_text_from_files() {
        let files = TextFiles {
            dir: PathBuf::from("/nonexistent"),
            title: Some(".t-title.txt".into()),
            timecode: ".t-time.txt".into(),
            font: LATIN_FONTS[0],
        };
        let f = drawtext_filters(&files, 720);
        assert!(
            f.contains("textfile=.t-title.txt:expansion=none:fontsize=60"),
            "{f}"
        );
        assert!(f.contains("textfile=.t-time.txt:expansion=normal"), "{f}");
        assert_eq!(f.matches(",drawtext=").count(), 2);
    }
}
