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

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::command::{self, FfmpegRun, run_ffmpeg};
use crate::error::{IoContext, MediaError};
use crate::ladder::{self, Rendition, gop_frames, rate_arg};
use crate::playlist;
use crate::probe::{ProbeInfo, probe};
use crate::progress::{Progress, Stage, Tracker};
use crate::subtitles::{self, SUBS_DIR, SubtitleInput, SubtitleTrack};
use crate::thumbs::{SPRITE_NAME, SPRITE_VTT_NAME, SpritePlan, THUMBS_DIR};

/// HLS segment length in seconds.
const SEGMENT_SECS: u32 = 4;
/// Keyframe interval in seconds (segments are cut on keyframes).
const KEYFRAME_SECS: u32 = 2;
/// Widest poster we write.
const POSTER_MAX_WIDTH: u32 = 1280;
/// Where in the movie the poster frame is taken when no image is given.
const POSTER_AT: f64 = 0.10;
/// Where in the movie the preview clip starts, and how long it is at most.
const PREVIEW_AT: f64 = 0.20;
const PREVIEW_MAX_SECS: f64 = 15.0;

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

    /// Encodes the whole ladder in one ffmpeg run: the source is decoded once and a `split`
    /// filter feeds one scaler + x264 + HLS muxer per rendition.
    fn encode_renditions(
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
    fn measure_bandwidth(&self, r: &mut Rendition) -> Result<(), MediaError> {
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

    fn subtitles(
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

    fn poster(&self, tracker: &mut Tracker<'_>) -> Result<(), MediaError> {
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

    fn sprite(
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

    fn preview(
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
fn preview_rendition(renditions: &[Rendition]) -> Rendition {
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
pub(crate) fn preview_window(duration_secs: f64) -> (f64, f64) {
    let duration = duration_secs.max(0.0);
    let len = duration.min(PREVIEW_MAX_SECS);
    let start = (duration * PREVIEW_AT).min(duration - len).max(0.0);
    (start, len)
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
fn scale_filter(r: &Rendition) -> String {
    format!("scale={}:{},setsar=1", r.width, r.height)
}

/// x264 arguments for a rendition (also used for the preview clip).
fn x264_args(r: &Rendition) -> Vec<OsString> {
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

fn audio_encoder_args(kbps: u32) -> Vec<OsString> {
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

fn read_media_playlist(path: &Path) -> Result<playlist::MediaPlaylist, MediaError> {
    let text = std::fs::read_to_string(path).context(|| format!("reading {}", path.display()))?;
    Ok(playlist::parse_media_playlist(&text))
}

fn write(path: &Path, contents: String) -> Result<(), MediaError> {
    std::fs::write(path, contents).context(|| format!("writing {}", path.display()))
}

/// Owns `out_dir` while a job runs: on drop, unless [`OutDirGuard::keep`] was called, it
/// removes what the job wrote.
struct OutDirGuard {
    path: PathBuf,
    created: bool,
    armed: bool,
}

impl OutDirGuard {
    /// Creates `path`, or checks that the existing directory is empty.
    fn prepare(path: &Path) -> Result<OutDirGuard, MediaError> {
        match std::fs::read_dir(path) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(MediaError::OutDirNotEmpty(path.to_owned()));
                }
                Ok(OutDirGuard {
                    path: path.to_owned(),
                    created: false,
                    armed: true,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path).context(|| format!("creating {}", path.display()))?;
                Ok(OutDirGuard {
                    path: path.to_owned(),
                    created: true,
                    armed: true,
                })
            }
            Err(e) => Err(MediaError::Io {
                context: format!("opening output directory {}", path.display()),
                source: e,
            }),
        }
    }

    /// The job succeeded: leave the files.
    fn keep(mut self) {
        self.armed = false;
    }

    fn clean(&self) -> std::io::Result<()> {
        if self.created {
            return std::fs::remove_dir_all(&self.path);
        }
        for entry in std::fs::read_dir(&self.path)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                std::fs::remove_dir_all(entry.path())?;
            } else {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

impl Drop for OutDirGuard {
    fn drop(&mut self) {
        if self.armed {
            match self.clean() {
                Ok(()) => tracing::debug!(dir = %self.path.display(), "removed partial output"),
                Err(e) => tracing::warn!(
                    dir = %self.path.display(),
                    error = %e,
                    "could not remove partial output"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn guard_removes_a_directory_it_created() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("job");
        let guard = OutDirGuard::prepare(&out).unwrap();
        std::fs::create_dir(out.join("360p")).unwrap();
        std::fs::write(out.join("master.m3u8"), "x").unwrap();
        drop(guard);
        assert!(!out.exists());
    }

    #[test]
    fn guard_empties_an_existing_directory_and_keeps_on_success() {
        let root = tempfile::tempdir().unwrap();
        let guard = OutDirGuard::prepare(root.path()).unwrap();
        std::fs::create_dir(root.path().join("subs")).unwrap();
        std::fs::write(root.path().join("subs/en.vtt"), "x").unwrap();
        drop(guard);
        assert!(root.path().exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);

        let guard = OutDirGuard::prepare(root.path()).unwrap();
        std::fs::write(root.path().join("poster.jpg"), "x").unwrap();
        guard.keep();
        assert!(root.path().join("poster.jpg").exists());
        assert!(matches!(
            OutDirGuard::prepare(root.path()),
            Err(MediaError::OutDirNotEmpty(_))
        ));
    }
}
