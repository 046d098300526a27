//! `luojia-media`: the offline video pipeline of Luojia Cinema.
//!
//! It turns an uploaded file into what the player streams: an HLS bitrate ladder
//! (H.264 + AAC in MPEG-TS segments), WebVTT subtitles, a poster, a seek-preview sprite and a
//! short preview clip. The work is done by `ffmpeg`/`ffprobe` child processes; this crate
//! decides what to ask them for, checks what they produced and writes the playlists itself.
//!
//! The API is synchronous and blocking (a transcode takes minutes): call it from a blocking
//! thread (`tokio::task::spawn_blocking`, a worker process, …).
//!
//! # API
//!
//! Everything public is re-exported at the crate root from the module that defines it;
//! the signatures and field docs are on the items themselves (`cargo doc -p luojia-media`):
//!
//! | step | items |
//! |---|---|
//! | check the tools | [`ffmpeg_available`] |
//! | look at a source | [`probe`] → [`ProbeInfo`] |
//! | choose the renditions | [`ladder`] → [`Rendition`]s, lowest first, never empty |
//! | run the whole job | [`transcode`]([`TranscodeRequest`], progress) → [`TranscodeOutput`]; progress as [`Progress`] / [`Stage`] |
//! | subtitles | [`SubtitleInput`] in, [`SubtitleTrack`] out; [`write_srt`] for tests and demos |
//! | synthetic sources (demo catalog, tests) | [`synth_source`], [`SynthSpec`] |
//! | errors | [`MediaError`] |
//!
//! `transcode` wants `out_dir` empty or absent (it creates it) and removes everything it
//! wrote there when it fails. The first subtitle track is the `DEFAULT=YES` one.
//!
//! # Output layout
//!
//! Everything `transcode` writes is inside `out_dir` and every URI in every playlist is
//! relative, so the directory can be served under any (tokenized) URL prefix:
//!
//! ```text
//! master.m3u8                 written by us: variants + SUBTITLES group
//! 360p/index.m3u8, seg_00000.ts …   one directory per rendition (ffmpeg's HLS muxer)
//! 480p/ 720p/ 1080p/          only the rungs the source can fill
//! subs/zh-CN.vtt, subs/zh-CN.m3u8   one WebVTT file + one-segment playlist per track
//! poster.jpg                  the given image or a frame at 10 %, at most 1280 px wide
//! thumbs/sprite.jpg, thumbs/thumbs.vtt   seek previews (`sprite.jpg#xywh=x,y,w,h` cues)
//! preview.mp4                 ≤ 15 s from 20 % in, 480p, H.264/AAC, faststart
//! ```
//!
//! # Choices
//!
//! * Ladder: see [`ladder`]. Renditions are never larger than the source; a source smaller
//!   than 360p gets a single rendition at its own size.
//! * Keyframes every 2 s in every rendition, 4 s segments (`hls_time 4`, VOD, independent
//!   segments, MPEG-TS), so renditions switch on common boundaries.
//! * `BANDWIDTH` is measured: the peak segment bitrate of RFC 8216 §4.3.4.2 computed from
//!   the segment files' sizes; `AVERAGE-BANDWIDTH` is their mean. [`ladder`] alone returns
//!   the nominal `(video + audio) × 1.1`.
//! * Sources without audio get a silent AAC track, so `CODECS` always says `mp4a.40.2` and
//!   players never meet a variant without audio.
//! * One ffmpeg process encodes all renditions (decode once, `split`), x264 `veryfast`;
//!   see [`transcode`] for the measurements.
//! * Errors: see [`MediaError`]; on failure `transcode` removes what it wrote.

mod command;
mod error;
mod ladder;
mod playlist;
mod probe;
mod progress;
mod subtitles;
mod synth;
mod thumbs;
mod transcode;

pub use command::ffmpeg_available;
pub use error::MediaError;
pub use ladder::{Rendition, ladder};
pub use probe::{ProbeInfo, probe};
pub use progress::{Progress, Stage};
pub use subtitles::{SubtitleInput, SubtitleTrack, write_srt};
pub use synth::{SynthSpec, synth_source};
pub use transcode::{TranscodeOutput, TranscodeRequest, transcode};
