//! The ladder: one ffmpeg run encodes every rendition (decode once, `split`), then each
//! rendition's `BANDWIDTH` is measured on the segments it produced.

use std::ffi::OsString;

use super::{Job, read_media_playlist};
use crate::command;
use crate::error::{IoContext, MediaError};
use crate::ladder::{Rendition, gop_frames, rate_arg};
use crate::playlist;
use crate::progress::Tracker;

/// HLS segment length in seconds.
const SEGMENT_SECS: u32 = 4;
/// Keyframe interval in seconds (segments are cut on keyframes).
const KEYFRAME_SECS: u32 = 2;

impl Job<'_> {
    /// Encodes the whole ladder in one ffmpeg run: the source is decoded once and a `split`
    /// filter feeds one scaler + x264 + HLS muxer per rendition.
    pub(super) fn encode_renditions(
        &self,
        renditions: &[Rendition],
        tracker: &mut Tracker<'_>,
    ) -> Result<(), MediaError> {
        let (mut args, audio_map) = self.source_inputs(None)?;
        args.extend(command::os_args([
            "-filter_complex".to_owned(),
            ladder_filter(renditions),
        ]));
        for (i, r) in renditions.iter().enumerate() {
            let dir = self.out.join(&r.name);
            std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
            args.extend(command::os_args([
                "-map".to_owned(),
                format!("[v{i}]"),
                "-map".to_owned(),
                audio_map.to_owned(),
            ]));
            args.extend(x264_args(r));
            args.extend(audio_encoder_args(r.audio_kbps));
            args.extend(hls_args(r));
        }
        self.ffmpeg(
            "renditions".to_owned(),
            args,
            self.info.duration_secs,
            tracker,
        )
    }

    /// Replaces the nominal bandwidth by the one measured on the segments.
    pub(super) fn measure_bandwidth(&self, r: &mut Rendition) -> Result<(), MediaError> {
        let dir = self.out.join(&r.name);
        let media = read_media_playlist(&self.out.join(r.playlist_path()))?;
        let mut sizes = Vec::with_capacity(media.segments.len());
        for seg in &media.segments {
            let path = dir.join(&seg.uri);
            let meta =
                std::fs::metadata(&path).context(|| format!("reading {}", path.display()))?;
            sizes.push((seg.duration_secs, meta.len()));
        }
        let target = if media.target_duration > 0.0 {
            media.target_duration
        } else {
            f64::from(SEGMENT_SECS)
        };
        let produced: f64 = sizes.iter().map(|(d, _)| d).sum();
        if produced < 0.9 * self.info.duration_secs {
            tracing::warn!(
                rendition = %r.name,
                produced,
                expected = self.info.duration_secs,
                "rendition is shorter than the source (damaged input?)"
            );
        }
        if let Some((peak, average)) = playlist::measured_bandwidth(&sizes, target) {
            tracing::debug!(rendition = %r.name, nominal = r.bandwidth, peak, average, "bandwidth");
            r.bandwidth = peak;
            r.average_bandwidth = Some(average);
        }
        Ok(())
    }
}

/// `[0:V:0]split=N[s0]…;[s0]scale=W:H,setsar=1[v0];…` — outputs `[v0]`, `[v1]`, ….
fn ladder_filter(renditions: &[Rendition]) -> String {
    let n = renditions.len();
    let mut graph = if n == 1 {
        "[0:V:0]null[s0]".to_owned()
    } else {
        let labels: String = (0..n).map(|i| format!("[s{i}]")).collect();
        format!("[0:V:0]split={n}{labels}")
    };
    for (i, r) in renditions.iter().enumerate() {
        graph.push_str(&format!(";[s{i}]{}[v{i}]", scale_filter(r)));
    }
    graph
}

/// Scales to the rendition's size; pixels are square after it (sizes are display sizes).
pub(super) fn scale_filter(r: &Rendition) -> String {
    format!("scale={}:{},setsar=1", r.width, r.height)
}

/// x264 arguments for a rendition (also used for the preview clip).
pub(super) fn x264_args(r: &Rendition) -> Vec<OsString> {
    let gop = gop_frames(r.frame_rate).to_string();
    command::os_args([
        "-r".to_owned(),
        rate_arg(r.frame_rate),
        "-c:v".to_owned(),
        "libx264".to_owned(),
        "-preset".to_owned(),
        "veryfast".to_owned(),
        "-profile:v".to_owned(),
        "high".to_owned(),
        "-level:v".to_owned(),
        r.level_arg(),
        "-pix_fmt".to_owned(),
        "yuv420p".to_owned(),
        "-crf".to_owned(),
        "23".to_owned(),
        "-maxrate".to_owned(),
        format!("{}k", r.video_kbps),
        "-bufsize".to_owned(),
        format!("{}k", r.video_kbps * 2),
        "-g".to_owned(),
        gop.clone(),
        "-keyint_min".to_owned(),
        gop,
        "-sc_threshold".to_owned(),
        "0".to_owned(),
        "-force_key_frames".to_owned(),
        format!("expr:gte(t,n_forced*{KEYFRAME_SECS})"),
    ])
}

/// HLS muxer arguments writing `<name>/index.m3u8` and `<name>/seg_NNNNN.ts`.
fn hls_args(r: &Rendition) -> Vec<OsString> {
    command::os_args([
        "-map_metadata".to_owned(),
        "-1".to_owned(),
        "-f".to_owned(),
        "hls".to_owned(),
        "-hls_time".to_owned(),
        SEGMENT_SECS.to_string(),
        "-hls_playlist_type".to_owned(),
        "vod".to_owned(),
        "-hls_flags".to_owned(),
        "independent_segments".to_owned(),
        "-hls_segment_type".to_owned(),
        "mpegts".to_owned(),
        "-hls_segment_filename".to_owned(),
        format!("{}/seg_%05d.ts", r.name),
        r.playlist_path(),
    ])
}

pub(super) fn audio_encoder_args(kbps: u32) -> Vec<OsString> {
    command::os_args([
        "-c:a".to_owned(),
        "aac".to_owned(),
        "-b:a".to_owned(),
        format!("{kbps}k"),
        "-ac".to_owned(),
        "2".to_owned(),
        "-ar".to_owned(),
        "48000".to_owned(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder;
    use crate::probe::ProbeInfo;

    #[test]
    fn ladder_filter_splits_once_per_rendition() {
        let info = ProbeInfo {
            duration_secs: 10.0,
            width: 1280,
            height: 720,
            frame_rate: 30.0,
            has_audio: true,
            video_codec: "h264".into(),
        };
        let renditions = ladder::ladder(&info);
        assert_eq!(
            ladder_filter(&renditions),
            "[0:V:0]split=3[s0][s1][s2];[s0]scale=640:360,setsar=1[v0];\
             [s1]scale=854:480,setsar=1[v1];[s2]scale=1280:720,setsar=1[v2]"
        );
        assert_eq!(
            ladder_filter(&renditions[..1]),
            "[0:V:0]null[s0];[s0]scale=640:360,setsar=1[v0]"
        );
    }

    #[test]
    fn encoder_arguments_align_keyframes() {
        let info = ProbeInfo {
            duration_secs: 10.0,
            width: 1280,
            height: 720,
            frame_rate: 25.0,
            has_audio: true,
            video_codec: "h264".into(),
        };
        let r = &ladder::ladder(&info)[0];
        let args: Vec<String> = x264_args(r)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(
            joined.contains("-g 50 -keyint_min 50 -sc_threshold 0"),
            "{joined}"
        );
        assert!(
            joined.contains("-force_key_frames expr:gte(t,n_forced*2)"),
            "{joined}"
        );
        assert!(joined.contains("-r 25 "), "{joined}");
        assert!(joined.contains("-level:v 3.0"), "{joined}");
    }
}
