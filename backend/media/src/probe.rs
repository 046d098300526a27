//! Reading what an input file contains, with `ffprobe -print_format json`.
//!
//! This is also where "is this a video at all?" is decided, so that an upload of a text
//! file, a song or a photo fails early with [`MediaError::NotAVideo`] and a reason a person
//! can read, instead of failing deep inside an encode. Cover art in audio files shows up as
//! a video stream with the `attached_pic` disposition; it does not count as video.
//!
//! Sizes are reported in display orientation: a phone clip stored as 1920x1080 with a 90°
//! rotation flag is reported as 1080x1920, because ffmpeg applies the rotation when it
//! decodes and the ladder must be computed on what comes out of the decoder.

use std::ffi::OsStr;
use std::path::Path;

use serde::Deserialize;

use crate::command::{self, FFPROBE};
use crate::error::MediaError;

/// Shortest input we accept as a video, in seconds.
const MIN_DURATION_SECS: f64 = 0.5;

/// What [`probe`] found out about an input.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeInfo {
    /// Duration of the container (or of the video stream when the container has none).
    pub duration_secs: f64,
    /// Display width in pixels (square pixels, after rotation).
    pub width: u32,
    /// Display height in pixels (after rotation).
    pub height: u32,
    /// Average frame rate of the video stream (30 when ffprobe cannot tell).
    pub frame_rate: f64,
    /// Whether there is at least one audio stream.
    pub has_audio: bool,
    /// ffmpeg's codec name of the video stream, e.g. "h264", "hevc", "vp9".
    pub video_codec: String,
}

/// Probes `input` with ffprobe.
///
/// Errors: [`MediaError::InputMissing`] when the file does not exist,
/// [`MediaError::NotAVideo`] when ffprobe cannot read it or it has no usable video stream,
/// [`MediaError::FfmpegMissing`] when ffprobe is not installed.
pub fn probe(input: &Path) -> Result<ProbeInfo, MediaError> {
    let input_arg = command::input_arg(input)?;
    let mut args: Vec<&OsStr> = [
        "-v",
        "error",
        "-hide_banner",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
    ]
    .into_iter()
    .map(OsStr::new)
    .collect();
    args.push(&input_arg);
    let out = command::run_capture(FFPROBE, &args)?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(not_a_video(input, unreadable_reason(&stderr)));
    }
    parse_probe_json(input, &String::from_utf8_lossy(&out.stdout))
}

/// Turns ffprobe's complaint into a short reason.
fn unreadable_reason(stderr: &str) -> String {
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    match last {
        // ffprobe prefixes the message with the input name; keep only what follows it.
        Some(line) => {
            let message = line.rsplit(": ").next().unwrap_or(line).trim();
            format!("not a recognised media file ({message})")
        }
        None => "not a recognised media file".to_owned(),
    }
}

fn not_a_video(path: &Path, reason: impl Into<String>) -> MediaError {
    MediaError::NotAVideo {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

#[derive(Debug, Deserialize)]
struct FfprobeOutput {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Debug, Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    sample_aspect_ratio: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    disposition: Disposition,
    #[serde(default)]
    tags: Tags,
    #[serde(default)]
    side_data_list: Vec<SideData>,
}

#[derive(Debug, Default, Deserialize)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Debug, Default, Deserialize)]
struct Tags {
    rotate: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SideData {
    rotation: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Format {
    duration: Option<String>,
    format_name: Option<String>,
}

/// Interprets ffprobe's JSON. Separate from [`probe`] so it can be tested without ffprobe.
pub(crate) fn parse_probe_json(path: &Path, json: &str) -> Result<ProbeInfo, MediaError> {
    let parsed: FfprobeOutput = serde_json::from_str(json).map_err(|e| MediaError::Ffmpeg {
        step: "probe".to_owned(),
        stderr_tail: format!("unreadable ffprobe output: {e}"),
    })?;
    let has_audio = parsed
        .streams
        .iter()
        .any(|s| s.codec_type.as_deref() == Some("audio"));
    let Some(video) = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && s.disposition.attached_pic == 0)
    else {
        let reason = if has_audio {
            "no video stream (audio only)"
        } else {
            "no video stream"
        };
        return Err(not_a_video(path, reason));
    };

    let format_name = parsed
        .format
        .as_ref()
        .and_then(|f| f.format_name.as_deref())
        .unwrap_or_default();
    if is_image_format(format_name) {
        return Err(not_a_video(path, "a still image, not a video"));
    }

    let (width, height) = match (video.width, video.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => return Err(not_a_video(path, "the video stream has no picture size")),
    };
    let width = display_width(width, video.sample_aspect_ratio.as_deref());
    let (width, height) = if is_quarter_turn(rotation_degrees(video)) {
        (height, width)
    } else {
        (width, height)
    };

    let duration_secs = parsed
        .format
        .as_ref()
        .and_then(|f| parse_positive(f.duration.as_deref()))
        .or_else(|| parse_positive(video.duration.as_deref()))
        .ok_or_else(|| not_a_video(path, "unknown duration"))?;
    if duration_secs < MIN_DURATION_SECS {
        return Err(not_a_video(
            path,
            format!("too short ({duration_secs:.2} s); a still image?"),
        ));
    }

    let frame_rate = parse_rate(video.avg_frame_rate.as_deref())
        .or_else(|| parse_rate(video.r_frame_rate.as_deref()))
        .unwrap_or(30.0);

    Ok(ProbeInfo {
        duration_secs,
        width,
        height,
        frame_rate,
        has_audio,
        video_codec: video.codec_name.clone().unwrap_or_default(),
    })
}

/// The width of the picture as displayed: anamorphic sources (e.g. DVD's 720x576 at
/// 64:45) have non-square pixels, and the ladder must keep the *display* aspect ratio.
fn display_width(width: u32, sample_aspect_ratio: Option<&str>) -> u32 {
    let Some((n, d)) = sample_aspect_ratio.and_then(|s| s.split_once(':')) else {
        return width;
    };
    match (n.trim().parse::<u32>(), d.trim().parse::<u32>()) {
        (Ok(n), Ok(d)) if n > 0 && d > 0 && n != d => {
            let w = (f64::from(width) * f64::from(n) / f64::from(d)).round();
            (w as u32).max(1)
        }
        _ => width,
    }
}

/// Demuxers that read single pictures (jpg, png, webp, …).
fn is_image_format(format_name: &str) -> bool {
    format_name
        .split(',')
        .any(|f| f == "image2" || f.ends_with("_pipe"))
}

/// Rotation from the display matrix side data, or from the legacy `rotate` tag.
fn rotation_degrees(stream: &Stream) -> f64 {
    stream
        .side_data_list
        .iter()
        .find_map(|d| d.rotation)
        .or_else(|| stream.tags.rotate.as_deref()?.trim().parse().ok())
        .unwrap_or(0.0)
}

fn is_quarter_turn(degrees: f64) -> bool {
    let normalised = degrees.rem_euclid(180.0);
    (normalised - 90.0).abs() < 1.0
}

fn parse_positive(value: Option<&str>) -> Option<f64> {
    let v: f64 = value?.trim().parse().ok()?;
    (v.is_finite() && v > 0.0).then_some(v)
}

/// Parses ffprobe's "30000/1001" rates; "0/0" and nonsense give `None`.
pub(crate) fn parse_rate(value: Option<&str>) -> Option<f64> {
    let value = value?.trim();
    let rate = match value.split_once('/') {
        Some((n, d)) => {
            let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
            if d == 0.0 {
                return None;
            }
            n / d
        }
        None => value.parse().ok()?,
    };
    (rate.is_finite() && (1.0..=1000.0).contains(&rate)).then_some(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ProbeInfo, MediaError> {
        parse_probe_json(Path::new("in.mp4"), json)
    }

    fn reason(err: Result<ProbeInfo, MediaError>) -> String {
        match err {
            Err(MediaError::NotAVideo { reason, .. }) => reason,
            other => panic!("expected NotAVideo, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_normal_movie() {
        let info = parse(
            r#"{"streams":[
                {"codec_type":"video","codec_name":"h264","width":1920,"height":1080,
                 "avg_frame_rate":"30000/1001","r_frame_rate":"30000/1001"},
                {"codec_type":"audio","codec_name":"aac"}],
               "format":{"duration":"61.500000","format_name":"mov,mp4,m4a,3gp,3g2,mj2"}}"#,
        )
        .unwrap();
        assert_eq!((info.width, info.height), (1920, 1080));
        assert!((info.frame_rate - 29.97).abs() < 0.01);
        assert_eq!(info.duration_secs, 61.5);
        assert!(info.has_audio);
        assert_eq!(info.video_codec, "h264");
    }

    #[test]
    fn rotated_phone_video_is_reported_upright() {
        let info = parse(
            r#"{"streams":[{"codec_type":"video","codec_name":"hevc","width":1920,"height":1080,
                 "avg_frame_rate":"0/0","r_frame_rate":"60/1",
                 "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]}],
               "format":{"duration":"3.0","format_name":"mov,mp4,m4a,3gp,3g2,mj2"}}"#,
        )
        .unwrap();
        assert_eq!((info.width, info.height), (1080, 1920));
        assert_eq!(info.frame_rate, 60.0);
        assert!(!info.has_audio);
    }

    #[test]
    fn audio_with_cover_art_is_not_a_video() {
        let r = reason(parse(
            r#"{"streams":[{"codec_type":"audio","codec_name":"mp3"},
                {"codec_type":"video","codec_name":"mjpeg","width":500,"height":500,
                 "disposition":{"attached_pic":1}}],
               "format":{"duration":"200.0","format_name":"mp3"}}"#,
        ));
        assert_eq!(r, "no video stream (audio only)");
    }

    #[test]
    fn still_images_and_empty_files_are_rejected() {
        let r = reason(parse(
            r#"{"streams":[{"codec_type":"video","codec_name":"png","width":10,"height":10}],
               "format":{"format_name":"png_pipe"}}"#,
        ));
        assert!(r.contains("still image"), "{r}");
        assert_eq!(
            reason(parse(r#"{"streams":[],"format":{}}"#)),
            "no video stream"
        );
        let r = reason(parse(
            r#"{"streams":[{"codec_type":"video","width":10,"height":10}],
               "format":{"duration":"0.04","format_name":"mov"}}"#,
        ));
        assert!(r.starts_with("too short"), "{r}");
    }

    #[test]
    fn unreadable_json_is_an_ffmpeg_error() {
        assert!(matches!(parse("not json"), Err(MediaError::Ffmpeg { .. })));
    }

    #[test]
    fn frame_rates_parse_defensively() {
        assert_eq!(parse_rate(Some("25/1")), Some(25.0));
        assert_eq!(parse_rate(Some("0/0")), None);
        assert_eq!(parse_rate(Some("90000/1")), None);
        assert_eq!(parse_rate(Some("abc")), None);
        assert_eq!(parse_rate(None), None);
    }

    #[test]
    fn ffprobe_complaint_becomes_a_short_reason() {
        let r = unreadable_reason("file:/tmp/x.mp4: Invalid data found when processing input\n");
        assert_eq!(
            r,
            "not a recognised media file (Invalid data found when processing input)"
        );
    }

    #[test]
    fn anamorphic_pixels_widen_the_picture() {
        assert_eq!(display_width(720, Some("64:45")), 1024);
        assert_eq!(display_width(1920, Some("1:1")), 1920);
        assert_eq!(display_width(1920, Some("0:1")), 1920);
        assert_eq!(display_width(1920, None), 1920);
        let info = parse(
            r#"{"streams":[{"codec_type":"video","codec_name":"mpeg2video","width":720,"height":576,
                 "sample_aspect_ratio":"64:45","avg_frame_rate":"25/1"}],
               "format":{"duration":"10.0","format_name":"mpeg"}}"#,
        )
        .unwrap();
        assert_eq!((info.width, info.height), (1024, 576));
    }

    #[test]
    fn rotation_tag_and_quarter_turns() {
        assert!(is_quarter_turn(90.0));
        assert!(is_quarter_turn(-90.0));
        assert!(is_quarter_turn(270.0));
        assert!(!is_quarter_turn(180.0));
        assert!(!is_quarter_turn(0.0));
    }
}
