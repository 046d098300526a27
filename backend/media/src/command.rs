//! Running ffmpeg and ffprobe as child processes.
//!
//! Every ffmpeg run goes through [`run_ffmpeg`], which adds `-progress pipe:1` and reads
//! the `key=value` progress blocks from stdout while a helper thread drains stderr into a
//! small ring buffer. Draining both pipes concurrently matters: a child that fills an unread
//! pipe blocks forever. On failure the last lines of stderr become
//! [`MediaError::Ffmpeg::stderr_tail`], which is usually the one line that explains it.
//!
//! We never build a shell command line: arguments are passed as a vector, and input paths
//! are made absolute and prefixed with `file:` so that a name such as `a:b.mp4` cannot be
//! taken for a protocol. Outputs are written relative to a working directory we choose.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::error::{IoContext, MediaError};

pub(crate) const FFMPEG: &str = "ffmpeg";
pub(crate) const FFPROBE: &str = "ffprobe";

/// How many stderr lines an [`MediaError::Ffmpeg`] keeps.
const STDERR_TAIL_LINES: usize = 20;

/// One ffmpeg invocation: the arguments after the global options we always add.
pub(crate) struct FfmpegRun<'a> {
    /// Name of the pipeline step, used in errors and logs.
    pub step: String,
    pub args: Vec<OsString>,
    /// Working directory; relative output paths are resolved against it.
    pub cwd: Option<&'a Path>,
    /// Expected output duration in seconds, to turn `out_time` into a fraction.
    pub expected_secs: f64,
}

/// A line of ffmpeg's `-progress` output that we care about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ProgressLine {
    /// Output timestamp reached, in seconds.
    OutTime(f64),
    /// `progress=end`: the run finished writing.
    End,
}

/// Parses one line of `-progress` output.
///
/// ffmpeg prints `out_time_us`, `out_time_ms` (which, despite the name, is also in
/// microseconds) and `out_time`; the first two are enough. Values can be `N/A` or negative
/// at the very start, which we ignore.
pub(crate) fn parse_progress_line(line: &str) -> Option<ProgressLine> {
    let (key, value) = line.trim().split_once('=')?;
    match key {
        "out_time_us" | "out_time_ms" => {
            let micros: i64 = value.trim().parse().ok()?;
            (micros >= 0).then(|| ProgressLine::OutTime(micros as f64 / 1_000_000.0))
        }
        "progress" if value.trim() == "end" => Some(ProgressLine::End),
        _ => None,
    }
}

/// `done` seconds of `total` as a fraction in 0..=1 (0 when the total is unknown).
pub(crate) fn fraction_of(done: f64, total: f64) -> f64 {
    if total > 0.0 && done.is_finite() {
        (done / total).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Runs ffmpeg, reporting progress within this run as a fraction in 0..=1.
pub(crate) fn run_ffmpeg(
    run: FfmpegRun<'_>,
    on_fraction: &mut dyn FnMut(f64),
) -> Result<(), MediaError> {
    let mut cmd = Command::new(FFMPEG);
    cmd.args(["-hide_banner", "-nostdin", "-nostats", "-y"])
        .args(["-loglevel", "warning", "-progress", "pipe:1"])
        .args(&run.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = run.cwd {
        cmd.current_dir(dir);
    }
    tracing::debug!(step = %run.step, args = ?run.args, "running ffmpeg");
    let mut child = cmd.spawn().map_err(|e| spawn_error(FFMPEG, e))?;

    let stderr = child.stderr.take();
    let step_for_log = run.step.clone();
    let tail = std::thread::spawn(move || stderr.map(|s| collect_tail(s, &step_for_log)));

    let read_result = match child.stdout.take() {
        Some(stdout) => read_progress(stdout, run.expected_secs, on_fraction),
        None => Ok(()),
    };
    if read_result.is_err() {
        // Without a reader ffmpeg could block on a full pipe; stop it before waiting.
        let _ = child.kill();
    }
    let status = child
        .wait()
        .context(|| format!("waiting for ffmpeg ({})", run.step))?;
    let tail = tail.join().ok().flatten().unwrap_or_default();
    read_result.context(|| format!("reading ffmpeg progress ({})", run.step))?;

    if status.success() {
        Ok(())
    } else {
        let stderr_tail = if tail.trim().is_empty() {
            format!("(no output; {status})")
        } else {
            tail
        };
        Err(MediaError::Ffmpeg {
            step: run.step,
            stderr_tail,
        })
    }
}

fn read_progress(
    stdout: impl Read,
    expected_secs: f64,
    on_fraction: &mut dyn FnMut(f64),
) -> std::io::Result<()> {
    for line in BufReader::new(stdout).lines() {
        match parse_progress_line(&line?) {
            Some(ProgressLine::OutTime(t)) => on_fraction(fraction_of(t, expected_secs)),
            Some(ProgressLine::End) => on_fraction(1.0),
            None => {}
        }
    }
    Ok(())
}

/// Reads a stream to the end and returns its last [`STDERR_TAIL_LINES`] lines.
fn collect_tail(stream: impl Read, step: &str) -> String {
    let mut reader = BufReader::new(stream);
    let mut lines: VecDeque<String> = VecDeque::with_capacity(STDERR_TAIL_LINES);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
                if line.is_empty() {
                    continue;
                }
                tracing::debug!(step, "ffmpeg: {line}");
                if lines.len() == STDERR_TAIL_LINES {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        }
    }
    Vec::from(lines).join("\n")
}

/// Runs a program to completion and captures its output (for short ffprobe-style calls).
/// The exit status is left to the caller.
pub(crate) fn run_capture(program: &'static str, args: &[&OsStr]) -> Result<Output, MediaError> {
    tracing::debug!(program, ?args, "running");
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(program, e))
}

/// The last [`STDERR_TAIL_LINES`] non-empty lines of a text.
pub(crate) fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[start..].join("\n")
}

fn spawn_error(program: &'static str, e: std::io::Error) -> MediaError {
    if e.kind() == std::io::ErrorKind::NotFound {
        MediaError::FfmpegMissing { program }
    } else {
        MediaError::Io {
            context: format!("starting {program}"),
            source: e,
        }
    }
}

/// Checks that both `ffmpeg` and `ffprobe` can be started.
///
/// Returns [`MediaError::FfmpegMissing`] naming the missing program, so a health check or
/// a test can print a clear message.
pub fn ffmpeg_available() -> Result<(), MediaError> {
    for program in [FFMPEG, FFPROBE] {
        let out = run_capture(program, &[OsStr::new("-version")])?;
        if !out.status.success() {
            return Err(MediaError::Ffmpeg {
                step: format!("{program} -version"),
                stderr_tail: last_lines(&String::from_utf8_lossy(&out.stderr)),
            });
        }
    }
    Ok(())
}

/// An input path as an ffmpeg argument: absolute, with the `file:` protocol forced.
///
/// Fails with [`MediaError::InputMissing`] when the file does not exist.
pub(crate) fn input_arg(path: &Path) -> Result<OsString, MediaError> {
    let absolute = absolute_existing(path)?;
    let mut arg = OsString::from("file:");
    arg.push(absolute.as_os_str());
    Ok(arg)
}

/// The canonical absolute path of an existing file.
pub(crate) fn absolute_existing(path: &Path) -> Result<PathBuf, MediaError> {
    match std::fs::canonicalize(path) {
        Ok(p) if p.is_file() => Ok(p),
        Ok(_) => Err(MediaError::InputMissing(path.to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(MediaError::InputMissing(path.to_owned()))
        }
        Err(e) => Err(MediaError::Io {
            context: format!("resolving {}", path.display()),
            source: e,
        }),
    }
}

/// Builds an argument vector from anything string-like.
pub(crate) fn os_args<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    items.into_iter().map(Into::into).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_out_time_in_microseconds() {
        assert_eq!(
            parse_progress_line("out_time_us=2500000"),
            Some(ProgressLine::OutTime(2.5))
        );
        // out_time_ms is microseconds too (an old ffmpeg quirk kept for compatibility).
        assert_eq!(
            parse_progress_line("out_time_ms=1000000\n"),
            Some(ProgressLine::OutTime(1.0))
        );
    }

    #[test]
    fn ignores_unknown_negative_and_unavailable_values() {
        assert_eq!(parse_progress_line("out_time_us=N/A"), None);
        assert_eq!(
            parse_progress_line("out_time_us=-9223372036854775807"),
            None
        );
        assert_eq!(parse_progress_line("frame=12"), None);
        assert_eq!(parse_progress_line("out_time=00:00:01.000000"), None);
        assert_eq!(parse_progress_line("progress=continue"), None);
        assert_eq!(parse_progress_line("garbage"), None);
    }

    #[test]
    fn recognises_the_end_marker() {
        assert_eq!(parse_progress_line("progress=end"), Some(ProgressLine::End));
    }

    #[test]
    fn fraction_is_clamped_and_safe_without_total() {
        assert_eq!(fraction_of(5.0, 10.0), 0.5);
        assert_eq!(fraction_of(12.0, 10.0), 1.0);
        assert_eq!(fraction_of(-1.0, 10.0), 0.0);
        assert_eq!(fraction_of(3.0, 0.0), 0.0);
        assert_eq!(fraction_of(f64::NAN, 10.0), 0.0);
    }

    #[test]
    fn stderr_tail_keeps_the_last_lines() {
        let text: String = (1..=30).map(|i| format!("line {i}\n\n")).collect();
        let tail = collect_tail(text.as_bytes(), "test");
        assert_eq!(tail.lines().count(), STDERR_TAIL_LINES);
        assert!(tail.starts_with("line 11"));
        assert!(tail.ends_with("line 30"));
        assert_eq!(last_lines(&text), tail);
    }

    #[test]
    fn missing_input_is_reported_as_such() {
        let err = input_arg(Path::new("/definitely/not/here.mp4"));
        assert!(matches!(err, Err(MediaError::InputMissing(_))));
    }
}
