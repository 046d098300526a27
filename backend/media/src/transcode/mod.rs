//! The transcode job: from one source file to a directory a player can stream.
//!
//! Steps, in order: probe → one ffmpeg run for the whole ladder → subtitles → poster →
//! sprite → preview → master playlist. Everything is written inside `out_dir`, which must be
//! empty or absent; if any step fails, [`OutDirGuard`] removes what the job wrote (the
//! directory itself too when the job created it), so a failed job leaves nothing
//! half-published.
//!
//! Encoding choices:
//!
//! * **One ffmpeg process for all renditions**: the source is decoded once and a `split`
//!   filter feeds one scaler, x264 encoder and HLS muxer per rendition. Measured on the
//!   2-core target with a 30 s 1080p source and the 4-rung ladder: ~30 s wall / 37 s CPU,
//!   against ~38 s / 43 s for one process per rendition run one after another, and ~33 s /
//!   45 s for two such processes at a time. Decoding once is what saves the CPU; x264's own
//!   threads keep both cores busy. The price is one progress stage for the whole ladder.
//! * x264 `veryfast`, High profile, capped CRF 23 (`-maxrate` = the rung's bitrate,
//!   `-bufsize` 2×), level chosen per rendition so `CODECS` is exact.
//! * Keyframes exactly every 2 s in every rendition: constant output frame rate (`-r`),
//!   `-g`/`-keyint_min` of 2 s of frames, `-sc_threshold 0` and
//!   `-force_key_frames expr:gte(t,n_forced*2)`. With `hls_time 4` this gives 4 s segments
//!   that start at the same instants in every rendition, so players switch cleanly.
//! * A source without audio gets a silent stereo AAC track (`anullsrc`), so every output has
//!   audio and `CODECS` is always truthful. Audio is always stereo 48 kHz AAC-LC.
//! * Metadata is dropped (`-map_metadata -1`): phone clips carry GPS positions.
//!
//! The steps live beside this file: `encode` (the ladder and its measured bandwidth),
//! `assets` (subtitles, poster, seek sprite, preview clip) and `out_dir` (the guard that
//! removes a failed job's files).

mod assets;
mod encode;
mod out_dir;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::command::{self, FfmpegRun, run_ffmpeg};
use crate::error::{IoContext, MediaError};
use crate::ladder::{self, Rendition};
use crate::playlist;
use crate::probe::{ProbeInfo, probe};
use crate::progress::{Progress, Stage, Tracker};
use crate::subtitles::{self, SubtitleInput, SubtitleTrack};
use crate::thumbs::{SPRITE_NAME, SPRITE_VTT_NAME, THUMBS_DIR};

use assets::{preview_rendition, preview_window};
use out_dir::OutDirGuard;

const MASTER_NAME: &str = "master.m3u8";
const POSTER_NAME: &str = "poster.jpg";
const PREVIEW_NAME: &str = "preview.mp4";

/// What to transcode and where.
#[derive(Debug, Clone, Copy)]
pub struct TranscodeRequest<'a> {
    /// The source video.
    pub input: &'a Path,
    /// Output directory; must be empty or not exist yet. Created if missing.
    pub out_dir: &'a Path,
    /// Subtitle tracks to publish; the first is the default one.
    pub subtitles: &'a [SubtitleInput],
    /// An image to use as the poster; without one a frame at 10 % of the movie is used.
    pub poster: Option<&'a Path>,
}

/// What a finished job wrote. All paths are relative to `out_dir`.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeOutput {
    /// The source as probed.
    pub probe: ProbeInfo,
    /// The renditions, lowest first, with measured `bandwidth` / `average_bandwidth`.
    pub renditions: Vec<Rendition>,
    /// The subtitle tracks, in request order.
    pub subtitles: Vec<SubtitleTrack>,
    /// "master.m3u8".
    pub master_playlist: PathBuf,
    /// "poster.jpg".
    pub poster: PathBuf,
    /// "thumbs/sprite.jpg".
    pub sprite: PathBuf,
    /// "thumbs/thumbs.vtt".
    pub sprite_vtt: PathBuf,
    /// "preview.mp4".
    pub preview: PathBuf,
}

/// Runs the whole job, reporting progress through `progress`.
///
/// Blocking; runs several ffmpeg processes one after another. On error, everything written
/// to `out_dir` is removed.
pub fn transcode(
    req: &TranscodeRequest<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<TranscodeOutput, MediaError> {
    let started = Instant::now();
    // Check every input before creating anything.
    let source = command::absolute_existing(req.input)?;
    subtitles::validate(req.subtitles)?;
    let poster_image = req.poster.map(command::absolute_existing).transpose()?;

    progress(Progress {
        stage: Stage::Probe,
        fraction: 0.0,
    });
    let info = probe(&source)?;
    let renditions = ladder::ladder(&info);
    let mut tracker = Tracker::new(progress, plan(&info, &renditions, req));

    let guard = OutDirGuard::prepare(req.out_dir)?;
    let job = Job {
        source: &source,
        out: req.out_dir,
        info: &info,
        poster_image: poster_image.as_deref(),
    };
    let output = job.run(renditions, req.subtitles, &mut tracker)?;
    guard.keep();
    tracker.done();
    tracing::info!(
        input = %req.input.display(),
        secs = started.elapsed().as_secs_f64(),
        media_secs = info.duration_secs,
        renditions = output.renditions.len(),
        "transcode finished"
    );
    Ok(output)
}

/// The steps of a job with their estimated costs, in "seconds of 720p x264 veryfast work"
/// (only the ratios matter).
fn plan(
    info: &ProbeInfo,
    renditions: &[Rendition],
    req: &TranscodeRequest<'_>,
) -> Vec<(Stage, f64)> {
    const PX_720P: f64 = 1280.0 * 720.0;
    const PX_1080P: f64 = 1920.0 * 1080.0;
    let d = info.duration_secs;
    let decode = f64::from(info.width) * f64::from(info.height) / PX_1080P * 0.2;
    let encode = |w: u32, h: u32| f64::from(w) * f64::from(h) / PX_720P;
    // One ffmpeg run decodes the source once and feeds every encoder.
    let ladder_cost = renditions
        .iter()
        .map(|r| encode(r.width, r.height))
        .sum::<f64>()
        + decode;
    let mut steps = vec![(renditions_stage(renditions), d * ladder_cost)];
    if !req.subtitles.is_empty() {
        steps.push((Stage::Subtitles, 0.3 * req.subtitles.len() as f64));
    }
    steps.push((Stage::Poster, 0.5));
    steps.push((Stage::Sprite, 0.3 + d * 0.03));
    let preview = preview_rendition(renditions);
    steps.push((
        Stage::Preview,
        preview_window(d).1 * (encode(preview.width, preview.height) + decode),
    ));
    steps
}

fn renditions_stage(renditions: &[Rendition]) -> Stage {
    Stage::Renditions {
        names: renditions.iter().map(|r| r.name.clone()).collect(),
    }
}

/// Borrowed state of a running job.
struct Job<'a> {
    source: &'a Path,
    out: &'a Path,
    info: &'a ProbeInfo,
    poster_image: Option<&'a Path>,
}

impl Job<'_> {
    fn run(
        &self,
        mut renditions: Vec<Rendition>,
        subtitle_inputs: &[SubtitleInput],
        tracker: &mut Tracker<'_>,
    ) -> Result<TranscodeOutput, MediaError> {
        tracker.begin(&renditions_stage(&renditions));
        self.encode_renditions(&renditions, tracker)?;
        for r in &mut renditions {
            self.measure_bandwidth(r)?;
        }
        let tracks = if subtitle_inputs.is_empty() {
            Vec::new()
        } else {
            tracker.begin(&Stage::Subtitles);
            self.subtitles(subtitle_inputs, &renditions, tracker)?
        };
        tracker.begin(&Stage::Poster);
        self.poster(tracker)?;
        tracker.begin(&Stage::Sprite);
        self.sprite(&renditions, tracker)?;
        tracker.begin(&Stage::Preview);
        self.preview(&renditions, tracker)?;

        let master = playlist::master_playlist(&renditions, &tracks);
        write(&self.out.join(MASTER_NAME), master)?;
        Ok(TranscodeOutput {
            probe: self.info.clone(),
            renditions,
            subtitles: tracks,
            master_playlist: PathBuf::from(MASTER_NAME),
            poster: PathBuf::from(POSTER_NAME),
            sprite: Path::new(THUMBS_DIR).join(SPRITE_NAME),
            sprite_vtt: Path::new(THUMBS_DIR).join(SPRITE_VTT_NAME),
            preview: PathBuf::from(PREVIEW_NAME),
        })
    }

    fn ffmpeg(
        &self,
        step: String,
        args: Vec<OsString>,
        expected_secs: f64,
        tracker: &mut Tracker<'_>,
    ) -> Result<(), MediaError> {
        let started = Instant::now();
        let run = FfmpegRun {
            step: step.clone(),
            args,
            cwd: Some(self.out),
            expected_secs,
        };
        run_ffmpeg(run, &mut |f| tracker.update(f))?;
        tracing::debug!(
            step,
            secs = started.elapsed().as_secs_f64(),
            "ffmpeg step done"
        );
        Ok(())
    }

    /// Input arguments for the source, optionally cut, plus a silent track when it has no
    /// audio; returns the arguments and the `-map` for the audio.
    fn source_inputs(
        &self,
        cut: Option<(f64, f64)>,
    ) -> Result<(Vec<OsString>, &'static str), MediaError> {
        let mut args = Vec::new();
        if let Some((start, len)) = cut {
            args.extend(command::os_args(["-ss".to_owned(), format!("{start:.3}")]));
            args.extend(command::os_args(["-t".to_owned(), format!("{len:.3}")]));
        }
        args.push("-i".into());
        args.push(command::input_arg(self.source)?);
        if self.info.has_audio {
            return Ok((args, "0:a:0"));
        }
        let silent_secs = cut.map_or(self.info.duration_secs, |(_, len)| len);
        args.extend(command::os_args([
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-t".to_owned(),
            format!("{silent_secs:.3}"),
            "-i".to_owned(),
            "anullsrc=r=48000:cl=stereo".to_owned(),
        ]));
        Ok((args, "1:a:0"))
    }
}

fn read_media_playlist(path: &Path) -> Result<playlist::MediaPlaylist, MediaError> {
    let text = std::fs::read_to_string(path).context(|| format!("reading {}", path.display()))?;
    Ok(playlist::parse_media_playlist(&text))
}

fn write(path: &Path, contents: String) -> Result<(), MediaError> {
    std::fs::write(path, contents).context(|| format!("writing {}", path.display()))
}
