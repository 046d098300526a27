//! The one error type of the crate.
//!
//! Policy: the variants say *whose* fault a failure is, so the caller can map them without
//! parsing text. `InputMissing`, `NotAVideo`, `InvalidSubtitle` and `InvalidArgument` are
//! the uploader's or caller's fault (a 4xx in an HTTP layer); `FfmpegMissing` is an
//! installation problem; `Ffmpeg` and `Io` are unexpected and carry enough detail (the
//! step and the end of ffmpeg's stderr, or what we were doing) to be logged as they are.

use std::path::PathBuf;

/// Everything that can go wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// `ffmpeg` or `ffprobe` could not be started (not installed or not on `PATH`).
    #[error("`{program}` was not found on PATH; install ffmpeg (e.g. `apt-get install ffmpeg`)")]
    FfmpegMissing {
        /// The program that could not be started.
        program: &'static str,
    },

    /// The input file (video, subtitle or poster image) does not exist.
    #[error("input file does not exist: {}", .0.display())]
    InputMissing(PathBuf),

    /// The input exists but is not something we can publish as a movie.
    #[error("{} is not a usable video: {reason}", path.display())]
    NotAVideo {
        /// The file that was probed.
        path: PathBuf,
        /// Human-readable reason, e.g. "no video stream (audio only)".
        reason: String,
    },

    /// A subtitle input was rejected before ffmpeg ran (bad language tag, duplicate language,
    /// unsupported extension).
    #[error("subtitle {} rejected: {reason}", path.display())]
    InvalidSubtitle {
        /// The subtitle file.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },

    /// `transcode` refuses to write into a directory that already holds files, because on
    /// failure it removes everything in it.
    #[error("output directory is not empty: {}", .0.display())]
    OutDirNotEmpty(PathBuf),

    /// A caller-supplied value is out of range (e.g. a zero-sized synthetic source).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// ffmpeg or ffprobe ran and failed.
    #[error("ffmpeg failed during {step}:\n{stderr_tail}")]
    Ffmpeg {
        /// Which step of the pipeline ran it, e.g. "rendition 720p" or "poster".
        step: String,
        /// The last ~20 lines of its stderr (or the exit status when it printed nothing).
        stderr_tail: String,
    },

    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing, e.g. "writing master.m3u8".
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Adds a short description of the operation to an `io::Result`.
pub(crate) trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, MediaError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, MediaError> {
        self.map_err(|source| MediaError::Io {
            context: what(),
            source,
        })
    }
}
