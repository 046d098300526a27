//! What is made after the ladder: subtitles (timed against the first video frame), the
//! poster, the seek-preview sprite and the preview clip.

use std::ffi::OsString;
use std::path::Path;

use super::encode::{audio_encoder_args, scale_filter, x264_args};
use super::{Job, POSTER_NAME, PREVIEW_NAME, read_media_playlist, write};
use crate::command::{self, FfmpegRun, run_ffmpeg};
use crate::error::{IoContext, MediaError};
use crate::ladder::Rendition;
use crate::playlist;
use crate::progress::Tracker;
use crate::subtitles::{self, SUBS_DIR, SubtitleInput, SubtitleTrack};
use crate::thumbs::{SPRITE_NAME, SPRITE_VTT_NAME, SpritePlan, THUMBS_DIR};

/// Widest poster we write.
const POSTER_MAX_WIDTH: u32 = 1280;
/// Where in the movie the poster frame is taken when no image is given.
const POSTER_AT: f64 = 0.10;
/// Where in the movie the preview clip starts, and how long it is at most.
const PREVIEW_AT: f64 = 0.20;
const PREVIEW_MAX_SECS: f64 = 15.0;

impl Job<'_> {
    pub(super) fn subtitles(
        &self,
        inputs: &[SubtitleInput],
        renditions: &[Rendition],
        tracker: &mut Tracker<'_>,
    ) -> Result<Vec<SubtitleTrack>, MediaError> {
        let dir = self.out.join(SUBS_DIR);
        std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
        let mpegts = self.first_video_pts(renditions)?;
        let mut tracks = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let vtt_name = format!("{}.vtt", input.lang);
            let vtt_rel = Path::new(SUBS_DIR).join(&vtt_name);
            let args = subtitles::convert_args(&input.path, &vtt_rel)?;
            let step = format!("subtitles {}", input.lang);
            run_ffmpeg(
                FfmpegRun {
                    step,
                    args,
                    cwd: Some(self.out),
                    expected_secs: 0.0,
                },
                &mut |_| {},
            )?;
            let vtt_path = self.out.join(&vtt_rel);
            let vtt = std::fs::read_to_string(&vtt_path)
                .context(|| format!("reading {}", vtt_path.display()))?;
            write(&vtt_path, subtitles::add_timestamp_map(&vtt, mpegts))?;
            let playlist_rel = Path::new(SUBS_DIR).join(format!("{}.m3u8", input.lang));
            write(
                &self.out.join(&playlist_rel),
                playlist::subtitle_playlist(&vtt_name, self.info.duration_secs),
            )?;
            tracks.push(SubtitleTrack {
                lang: input.lang.clone(),
                label: subtitles::display_label(input),
                path: vtt_rel,
                playlist: playlist_rel,
            });
            tracker.update((i + 1) as f64 / inputs.len() as f64);
        }
        Ok(tracks)
    }

    /// The MPEG-TS timestamp (90 kHz) of the first video frame, for `X-TIMESTAMP-MAP`.
    /// All renditions are encoded alike, so the first one's first segment speaks for all.
    fn first_video_pts(&self, renditions: &[Rendition]) -> Result<u64, MediaError> {
        let Some(first) = renditions.first() else {
            return Ok(0);
        };
        let media = read_media_playlist(&self.out.join(first.playlist_path()))?;
        let Some(segment) = media.segments.first() else {
            return Ok(0);
        };
        let seg_path = self.out.join(&first.name).join(&segment.uri);
        let seg_arg = command::input_arg(&seg_path)?;
        let args = [
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=start_pts",
            "-of",
            "csv=p=0",
        ]
        .map(std::ffi::OsStr::new);
        let mut args = args.to_vec();
        args.push(&seg_arg);
        let out = command::run_capture(command::FFPROBE, &args)?;
        let text = String::from_utf8_lossy(&out.stdout);
        // Program and stream sections both print the value; take the first number.
        text.lines()
            .find_map(|l| l.trim().trim_end_matches(',').parse().ok())
            .ok_or_else(|| MediaError::Ffmpeg {
                step: "subtitle timing".to_owned(),
                stderr_tail: format!(
                    "could not read the first video timestamp of {}: {}",
                    seg_path.display(),
                    command::last_lines(&String::from_utf8_lossy(&out.stderr))
                ),
            })
    }

    pub(super) fn poster(&self, tracker: &mut Tracker<'_>) -> Result<(), MediaError> {
        let mut args = Vec::new();
        let filter = match self.poster_image {
            Some(image) => {
                args.push("-i".into());
                args.push(command::input_arg(image)?);
                format!("scale='min({POSTER_MAX_WIDTH},iw)':-2")
            }
            None => {
                let at = self.info.duration_secs * POSTER_AT;
                args.extend(command::os_args([
                    "-ss".to_owned(),
                    format!("{at:.3}"),
                    "-i".to_owned(),
                ]));
                args.push(command::input_arg(self.source)?);
                let width = self.info.width.min(POSTER_MAX_WIDTH);
                format!("scale={width}:-2,setsar=1")
            }
        };
        args.extend(command::os_args([
            "-map_metadata",
            "-1",
            "-frames:v",
            "1",
            "-update",
            "1",
            "-vf",
            &filter,
            "-q:v",
            "3",
            "-f",
            "image2",
            POSTER_NAME,
        ]));
        self.ffmpeg("poster".to_owned(), args, 0.0, tracker)
    }

    pub(super) fn sprite(
        &self,
        renditions: &[Rendition],
        tracker: &mut Tracker<'_>,
    ) -> Result<(), MediaError> {
        let dir = self.out.join(THUMBS_DIR);
        std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
        let plan = SpritePlan::new(self.info.duration_secs, self.info.width, self.info.height);
        let lowest = renditions.first().map(Rendition::playlist_path);
        let mut args: Vec<OsString> = Vec::new();
        match lowest {
            // Relative to the working directory, which is `out_dir`.
            Some(playlist) => args.extend(command::os_args(["-i".to_owned(), playlist])),
            None => {
                args.push("-i".into());
                args.push(command::input_arg(self.source)?);
            }
        }
        let sprite_rel = format!("{THUMBS_DIR}/{SPRITE_NAME}");
        args.extend(command::os_args([
            "-map".to_owned(),
            "0:V:0".to_owned(),
            "-vf".to_owned(),
            plan.filter(),
            "-frames:v".to_owned(),
            "1".to_owned(),
            "-update".to_owned(),
            "1".to_owned(),
            "-q:v".to_owned(),
            "4".to_owned(),
            "-f".to_owned(),
            "image2".to_owned(),
            sprite_rel,
        ]));
        self.ffmpeg("sprite".to_owned(), args, self.info.duration_secs, tracker)?;
        write(
            &dir.join(SPRITE_VTT_NAME),
            plan.vtt(self.info.duration_secs),
        )
    }

    pub(super) fn preview(
        &self,
        renditions: &[Rendition],
        tracker: &mut Tracker<'_>,
    ) -> Result<(), MediaError> {
        let target = preview_rendition(renditions);
        let (start, len) = preview_window(self.info.duration_secs);
        let (mut args, audio_map) = self.source_inputs(Some((start, len)))?;
        let preview = Rendition {
            video_kbps: target.video_kbps.min(1200),
            ..target
        };
        args.extend(command::os_args(["-map", "0:V:0", "-map", audio_map]));
        args.extend(command::os_args(["-vf".to_owned(), scale_filter(&preview)]));
        args.extend(x264_args(&preview));
        args.extend(audio_encoder_args(96));
        args.extend(command::os_args([
            "-map_metadata",
            "-1",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            PREVIEW_NAME,
        ]));
        self.ffmpeg("preview".to_owned(), args, len, tracker)
    }
}

/// The rendition whose size the preview clip uses: 480p, or the best below it.
pub(super) fn preview_rendition(renditions: &[Rendition]) -> Rendition {
    let index = renditions.len().min(2).saturating_sub(1);
    renditions.get(index).cloned().unwrap_or_else(|| Rendition {
        name: "preview".to_owned(),
        width: 640,
        height: 360,
        video_kbps: 800,
        audio_kbps: 96,
        bandwidth: 0,
        average_bandwidth: None,
        frame_rate: 30.0,
        codecs: String::new(),
    })
}

/// Start and length of the preview clip: up to 15 s from 20 % in, moved earlier when the
/// movie ends too soon, the whole movie when it is shorter than 15 s.
pub(super) fn preview_window(duration_secs: f64) -> (f64, f64) {
    let duration = duration_secs.max(0.0);
    let len = duration.min(PREVIEW_MAX_SECS);
    let start = (duration * PREVIEW_AT).min(duration - len).max(0.0);
    (start, len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder;
    use crate::probe::ProbeInfo;

    #[test]
    fn preview_window_stays_inside_the_movie() {
        assert_eq!(preview_window(100.0), (20.0, 15.0));
        assert_eq!(preview_window(10.0), (0.0, 10.0));
        // 20 % of 16 s is 3.2 s, but only 1 s of room remains after a 15 s clip.
        assert_eq!(preview_window(16.0), (1.0, 15.0));
        assert_eq!(preview_window(0.0), (0.0, 0.0));
    }

    #[test]
    fn preview_uses_480p_or_the_best_below() {
        let info = ProbeInfo {
            duration_secs: 10.0,
            width: 1920,
            height: 1080,
            frame_rate: 30.0,
            has_audio: true,
            video_codec: "h264".into(),
        };
        assert_eq!(preview_rendition(&ladder::ladder(&info)).name, "480p");
        let tiny = ProbeInfo {
            width: 320,
            height: 180,
            ..info
        };
        assert_eq!(preview_rendition(&ladder::ladder(&tiny)).name, "180p");
        assert_eq!(preview_rendition(&[]).height, 360);
    }
}
