//! Checking and re-encoding an upload, by its content (never its name or declared type).
//! Blocking CPU and process work: the service runs it on the blocking pool under a
//! concurrency limit.
//!
//! Images (JPEG, PNG, WebP, GIF): the format is read from the magic bytes; the pixel
//! count from the header is checked against the cap BEFORE anything is decoded (a small
//! file can declare 30000×30000); the decoder also runs under `image::Limits`. The picture
//! is decoded, turned upright (EXIF orientation) and encoded again from its pixels, so no
//! metadata (EXIF, GPS, comments, ICC text) survives. A thumbnail (longest side 320) goes
//! with it. An animated GIF keeps its frames (within a frame and total-pixel cap);
//! avatars are cropped square and resized to 256.
//!
//! Voice (WebM/Opus, Ogg/Opus, M4A/AAC): the container is read from the magic bytes,
//! ffprobe must find exactly an Opus (WebM, Ogg) or AAC (M4A) audio stream and nothing
//! else, and the duration is measured from the packets (a header can lie, and Chromium's
//! recordings have none). The file is then remuxed without its metadata (`-c copy`, so
//! nothing is decoded), which also gives WebM recordings a duration header.

use std::ffi::OsString;
use std::io::{BufReader, Cursor};
use std::path::Path;
use std::process::{Command, Stdio};

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageError, ImageFormat, Limits};

use super::domain::UploadKind;
use crate::config::UploadsSettings;
use crate::error::{AppError, ErrorCode};

/// Longest side of a thumbnail.
pub const THUMBNAIL_SIDE: u32 = 320;
/// Side of an avatar.
pub const AVATAR_SIDE: u32 = 256;
/// Longest side of a still sticker.
pub const STICKER_SIDE: u32 = 512;
/// Voice notes may run this much over the cap (a recorder stopped by a timer overshoots).
const VOICE_SLACK_MS: u64 = 500;

/// An encoded file, ready for the store.
#[derive(Debug)]
pub struct Encoded {
    pub content_type: &'static str,
    pub ext: &'static str,
    pub data: Vec<u8>,
}

/// What processing made of an upload.
#[derive(Debug)]
pub struct Processed {
    pub content: Encoded,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u32>,
    pub thumbnail: Option<Encoded>,
}

fn unsupported(what: &str) -> AppError {
    AppError::new(ErrorCode::UnsupportedMediaType, what.to_owned()).with_field("file")
}

fn invalid(detail: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidMedia, detail).with_field("file")
}

fn too_large(caps: &UploadsSettings) -> AppError {
    AppError::new(
        ErrorCode::ImageTooLarge,
        format!(
            "the picture is larger than {} pixels",
            caps.max_image_pixels
        ),
    )
    .with_field("file")
}

/// An `image` error: limits become `image_too_large`, anything else `invalid_media`.
fn image_error(e: ImageError, caps: &UploadsSettings) -> AppError {
    match e {
        ImageError::Limits(_) => too_large(caps),
        ImageError::IoError(e) => AppError::internal(e),
        other => invalid(format!("the picture cannot be read: {other}")),
    }
}

/// Process the file at `path` for `kind`.
pub fn process(
    path: &Path,
    kind: UploadKind,
    caps: &UploadsSettings,
) -> Result<Processed, AppError> {
    match kind {
        UploadKind::Voice => voice(path, caps),
        _ => image(path, kind, caps),
    }
}

fn limits(caps: &UploadsSettings) -> Limits {
    let mut limits = Limits::default();
    // Enough for the largest allowed picture in RGBA, plus the decoder's own buffers.
    limits.max_alloc = Some(
        caps.max_image_pixels
            .saturating_mul(4)
            .saturating_add(64 << 20),
    );
    limits
}

fn image(path: &Path, kind: UploadKind, caps: &UploadsSettings) -> Result<Processed, AppError> {
    let file = std::fs::File::open(path).map_err(AppError::internal)?;
    let mut reader = image::ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(AppError::internal)?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif)) => {
            f
        }
        _ => return Err(unsupported("not a JPEG, PNG, WebP or GIF picture")),
    };
    reader.limits(limits(caps));
    let mut decoder = reader.into_decoder().map_err(|e| image_error(e, caps))?;
    // The header's size, before a single pixel is decoded.
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(invalid("the picture has no pixels"));
    }
    if u64::from(w) * u64::from(h) > caps.max_image_pixels {
        return Err(too_large(caps));
    }
    if format == ImageFormat::Gif && kind != UploadKind::Avatar {
        drop(decoder);
        if let Some(animated) = animated_gif(path, caps)? {
            return Ok(animated);
        }
        let file = std::fs::File::open(path).map_err(AppError::internal)?;
        let mut reader = image::ImageReader::with_format(BufReader::new(file), ImageFormat::Gif);
        reader.limits(limits(caps));
        decoder = reader.into_decoder().map_err(|e| image_error(e, caps))?;
    }
    let orientation = decoder.orientation().map_err(|e| image_error(e, caps))?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| image_error(e, caps))?;
    img.apply_orientation(orientation);
    let img = match kind {
        UploadKind::Avatar => square(&img, AVATAR_SIDE),
        UploadKind::Sticker => shrink(img, STICKER_SIDE),
        _ => img,
    };
    let content = match kind {
        // An avatar is a small square: JPEG unless it is see-through.
        UploadKind::Avatar => encode_small(&img)?,
        _ => encode_as(&img, format)?,
    };
    let thumbnail = match kind {
        UploadKind::Image => Some(encode_small(&shrink(img.clone(), THUMBNAIL_SIDE))?),
        _ => None,
    };
    Ok(Processed {
        content,
        width: Some(img.width()),
        height: Some(img.height()),
        duration_ms: None,
        thumbnail,
    })
}

/// An animated GIF decoded frame by frame (within the caps) and encoded again, or `None`
/// when it has a single frame (then it is a still picture).
fn animated_gif(path: &Path, caps: &UploadsSettings) -> Result<Option<Processed>, AppError> {
    let file = std::fs::File::open(path).map_err(AppError::internal)?;
    let mut decoder = GifDecoder::new(BufReader::new(file)).map_err(|e| image_error(e, caps))?;
    decoder
        .set_limits(limits(caps))
        .map_err(|e| image_error(e, caps))?;
    let (w, h) = decoder.dimensions();
    let per_frame = u64::from(w) * u64::from(h);
    let mut frames = Vec::new();
    for frame in decoder.into_frames() {
        let frame = frame.map_err(|e| image_error(e, caps))?;
        frames.push(frame);
        if frames.len() > caps.max_gif_frames
            || per_frame * frames.len() as u64 > caps.max_gif_total_pixels
        {
            return Err(AppError::new(
                ErrorCode::ImageTooLarge,
                format!(
                    "an animation may have at most {} frames and {} pixels in all",
                    caps.max_gif_frames, caps.max_gif_total_pixels
                ),
            )
            .with_field("file"));
        }
    }
    if frames.len() < 2 {
        return Ok(None);
    }
    let first = DynamicImage::ImageRgba8(frames[0].buffer().clone());
    let mut data = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut data, 10);
        encoder
            .set_repeat(Repeat::Infinite)
            .map_err(|e| image_error(e, caps))?;
        encoder
            .encode_frames(frames)
            .map_err(|e| image_error(e, caps))?;
    }
    Ok(Some(Processed {
        content: Encoded {
            content_type: "image/gif",
            ext: "gif",
            data,
        },
        width: Some(w),
        height: Some(h),
        duration_ms: None,
        thumbnail: Some(encode_small(&shrink(first, THUMBNAIL_SIDE))?),
    }))
}

/// The picture no larger than `side` on its longest side.
fn shrink(img: DynamicImage, side: u32) -> DynamicImage {
    if img.width() <= side && img.height() <= side {
        img
    } else {
        img.resize(side, side, FilterType::Triangle)
    }
}

/// The centre square of the picture, `side` × `side` (or smaller if the picture is).
fn square(img: &DynamicImage, side: u32) -> DynamicImage {
    let s = img.width().min(img.height());
    let cropped = img.crop_imm((img.width() - s) / 2, (img.height() - s) / 2, s, s);
    if s > side {
        cropped.resize_exact(side, side, FilterType::Lanczos3)
    } else {
        cropped
    }
}

fn encode_jpeg(img: &DynamicImage) -> Result<Encoded, AppError> {
    let mut data = Vec::new();
    JpegEncoder::new_with_quality(&mut data, 85)
        .encode_image(&img.to_rgb8())
        .map_err(AppError::internal)?;
    Ok(Encoded {
        content_type: "image/jpeg",
        ext: "jpg",
        data,
    })
}

fn encode_with(img: &DynamicImage, format: ImageFormat) -> Result<Encoded, AppError> {
    let (content_type, ext) = match format {
        ImageFormat::Png => ("image/png", "png"),
        ImageFormat::WebP => ("image/webp", "webp"),
        ImageFormat::Gif => ("image/gif", "gif"),
        _ => return encode_jpeg(img),
    };
    // The WebP and GIF encoders take 8-bit RGB(A) only.
    let pixels = if img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(img.to_rgb8())
    };
    let mut data = Cursor::new(Vec::new());
    pixels
        .write_to(&mut data, format)
        .map_err(AppError::internal)?;
    Ok(Encoded {
        content_type,
        ext,
        data: data.into_inner(),
    })
}

/// In the format it came in.
fn encode_as(img: &DynamicImage, format: ImageFormat) -> Result<Encoded, AppError> {
    encode_with(img, format)
}

/// A thumbnail or an avatar: JPEG, or PNG when the picture has transparency.
fn encode_small(img: &DynamicImage) -> Result<Encoded, AppError> {
    if img.color().has_alpha() {
        encode_with(img, ImageFormat::Png)
    } else {
        encode_jpeg(img)
    }
}

/// The audio containers a voice note may come in, by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    WebM,
    Ogg,
    Mp4,
}

impl Container {
    fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Self::WebM)
        } else if head.starts_with(b"OggS") {
            Some(Self::Ogg)
        } else if head.get(4..8) == Some(b"ftyp") {
            Some(Self::Mp4)
        } else {
            None
        }
    }

    /// ffprobe's `format_name` for it, the codec it must hold, and how it is written back.
    fn expect(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            Self::WebM => ("matroska,webm", "opus", "webm", "audio/webm", "webm"),
            Self::Ogg => ("ogg", "opus", "ogg", "audio/ogg", "ogg"),
            Self::Mp4 => ("mov,mp4,m4a,3gp,3g2,mj2", "aac", "ipod", "audio/mp4", "m4a"),
        }
    }
}

fn run(program: &str, args: Vec<OsString>) -> Result<std::process::Output, AppError> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| AppError::internal(anyhow::anyhow!("starting {program}: {e}")))
}

fn input_arg(path: &Path) -> OsString {
    // `file:` so that no name can be taken for a protocol.
    let mut s = OsString::from("file:");
    s.push(path.as_os_str());
    s
}

fn voice(path: &Path, caps: &UploadsSettings) -> Result<Processed, AppError> {
    let mut head = [0u8; 12];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(AppError::internal)?;
        f.read(&mut head).map_err(AppError::internal)?
    };
    let container = Container::sniff(&head[..n])
        .ok_or_else(|| unsupported("a voice note must be WebM/Opus, Ogg/Opus or M4A/AAC"))?;
    let (format_name, codec, muxer, content_type, ext) = container.expect();
    let probe = run(
        "ffprobe",
        vec![
            "-v".into(),
            "error".into(),
            "-show_entries".into(),
            "format=format_name:stream=codec_type,codec_name".into(),
            "-of".into(),
            "json".into(),
            input_arg(path),
        ],
    )?;
    if !probe.status.success() {
        return Err(invalid("the voice note cannot be read"));
    }
    let info: serde_json::Value = serde_json::from_slice(&probe.stdout)
        .map_err(|_| invalid("the voice note cannot be read"))?;
    let streams = info["streams"].as_array().cloned().unwrap_or_default();
    let only_audio = streams.len() == 1
        && streams[0]["codec_type"] == "audio"
        && streams[0]["codec_name"] == codec;
    if info["format"]["format_name"] != format_name || !only_audio {
        return Err(unsupported(
            "a voice note must be WebM/Opus, Ogg/Opus or M4A/AAC audio only",
        ));
    }
    let duration_ms = measured_duration_ms(path)?;
    if duration_ms > caps.max_voice_secs * 1000 + VOICE_SLACK_MS {
        return Err(AppError::new(
            ErrorCode::VoiceTooLong,
            format!("a voice note may last at most {} s", caps.max_voice_secs),
        )
        .with_field("file"));
    }
    let out = tempfile::Builder::new()
        .prefix("remux-")
        .suffix(&format!(".{ext}"))
        .tempfile_in(path.parent().unwrap_or(Path::new(".")))
        .map_err(AppError::internal)?
        .into_temp_path();
    let remux = run(
        "ffmpeg",
        vec![
            "-nostdin".into(),
            "-v".into(),
            "error".into(),
            "-y".into(),
            "-i".into(),
            input_arg(path),
            "-map".into(),
            "0:a:0".into(),
            "-c".into(),
            "copy".into(),
            "-map_metadata".into(),
            "-1".into(),
            "-fflags".into(),
            "+bitexact".into(),
            "-f".into(),
            muxer.into(),
            input_arg(&out),
        ],
    )?;
    if !remux.status.success() {
        return Err(invalid("the voice note cannot be read"));
    }
    let data = std::fs::read(&out).map_err(AppError::internal)?;
    Ok(Processed {
        content: Encoded {
            content_type,
            ext,
            data,
        },
        width: None,
        height: None,
        duration_ms: Some(u32::try_from(duration_ms).unwrap_or(u32::MAX)),
        thumbnail: None,
    })
}

/// The end of the last audio packet, in ms.
fn measured_duration_ms(path: &Path) -> Result<u64, AppError> {
    let out = run(
        "ffprobe",
        vec![
            "-v".into(),
            "error".into(),
            "-select_streams".into(),
            "a:0".into(),
            "-show_entries".into(),
            "packet=pts_time,duration_time".into(),
            "-of".into(),
            "csv=p=0".into(),
            input_arg(path),
        ],
    )?;
    if !out.status.success() {
        return Err(invalid("the voice note cannot be read"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let end = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(',');
            let pts: f64 = parts.next()?.trim().parse().ok()?;
            let dur: f64 = parts
                .next()
                .and_then(|d| d.trim().parse().ok())
                .unwrap_or(0.0);
            Some(pts + dur)
        })
        .fold(0.0_f64, f64::max);
    if end <= 0.0 || !end.is_finite() {
        return Err(invalid("the voice note has no sound"));
    }
    Ok((end * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_sniffed_by_magic_bytes() {
        assert_eq!(
            Container::sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1]),
            Some(Container::WebM)
        );
        assert_eq!(Container::sniff(b"OggS\0\x02"), Some(Container::Ogg));
        assert_eq!(
            Container::sniff(b"\0\0\0\x20ftypM4A "),
            Some(Container::Mp4)
        );
        assert_eq!(Container::sniff(b"ID3\x04"), None);
        assert_eq!(Container::sniff(b""), None);
    }

    #[test]
    fn avatars_are_centre_squares() {
        let img = DynamicImage::new_rgb8(600, 300);
        let sq = square(&img, AVATAR_SIDE);
        assert_eq!((sq.width(), sq.height()), (256, 256));
        let small = square(&DynamicImage::new_rgb8(100, 40), AVATAR_SIDE);
        assert_eq!((small.width(), small.height()), (40, 40));
    }
}
