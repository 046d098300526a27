//! Set-up steps with bounded retries.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Result, anyhow};
use serde_json::{Value, json};

use crate::stats::now_micros;

// Set-up with retries
//
// Registering thousands of users and opening thousands of connections overwhelms the
// server now and then: a connection reset, a 503 "pool timed out", SQLite's "database is
// locked" (500). Such failures are retried with bounded exponential backoff; anything that
// another attempt cannot fix (a 4xx other than 429, an unexpected answer) stops the run.

/// How one attempt of a set-up step failed.
pub(crate) enum StepError {
    /// Worth another attempt: a transport error, 5xx or 429 (with the server's
    /// `Retry-After`, if it sent one).
    Transient {
        err: anyhow::Error,
        retry_after: Option<Duration>,
    },
    /// Another attempt cannot help.
    Fatal(anyhow::Error),
}

impl StepError {
    pub(crate) fn transient(err: anyhow::Error) -> Self {
        Self::Transient {
            err,
            retry_after: None,
        }
    }

    pub(crate) fn context(self, context: &'static str) -> Self {
        match self {
            Self::Transient { err, retry_after } => Self::Transient {
                err: err.context(context),
                retry_after,
            },
            Self::Fatal(err) => Self::Fatal(err.context(context)),
        }
    }
}

pub(crate) fn is_transient_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// The error for an HTTP answer other than the expected one.
pub(crate) async fn status_error(resp: reqwest::Response) -> StepError {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: String = resp
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let err = anyhow!("HTTP {status}: {body}");
    if is_transient_status(status.as_u16()) {
        StepError::Transient { err, retry_after }
    } else {
        StepError::Fatal(err)
    }
}

pub(crate) const BACKOFF_FIRST: Duration = Duration::from_millis(200);
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Wait before attempt `attempt + 1`: 200 ms doubling per attempt, at most 5 s, plus up to
/// 25 % jitter so that a crowd of failed requests does not come back in lockstep.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_FIRST
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_MAX);
    let jitter = (now_micros() % 1000) as f64 / 4000.0;
    base.mul_f64(1.0 + jitter)
}

/// Runs set-up steps with retries and counts the retries (reported as `setup_retries`).
#[derive(Clone)]
pub(crate) struct Retry {
    pub(crate) max_attempts: u32,
    pub(crate) retries: Arc<AtomicU64>,
    pub(crate) first: Arc<std::sync::Mutex<Option<String>>>,
}

/// Retries logged on stderr (the rest are only counted).
pub(crate) const RETRIES_LOGGED: u64 = 5;

impl Retry {
    pub(crate) fn new(max_attempts: u32) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            retries: Arc::new(AtomicU64::new(0)),
            first: Arc::new(std::sync::Mutex::new(None)),
        }
    }

    /// `step(attempt)` (attempt 1, 2, …) until it succeeds, fails fatally, or has failed
    /// `max_attempts` times. Errors are reported as "`what`: …".
    pub(crate) async fn run<T, F, Fut>(&self, what: &str, mut step: F) -> Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, StepError>>,
    {
        let mut attempt = 1;
        loop {
            let (err, retry_after) = match step(attempt).await {
                Ok(v) => return Ok(v),
                Err(StepError::Fatal(e)) => {
                    return Err(e.context(format!("{what}: not a transient failure, not retried")));
                }
                Err(StepError::Transient { err, retry_after }) => (err, retry_after),
            };
            if attempt >= self.max_attempts {
                return Err(err.context(format!("{what}: gave up after {attempt} attempts")));
            }
            let n = self.retries.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1
                && let Ok(mut first) = self.first.lock()
            {
                *first = Some(format!("{what}: {err:#}"));
            }
            if n <= RETRIES_LOGGED {
                eprintln!("[loadgen] retry {n}: {what}: attempt {attempt} failed: {err:#}");
            }
            let wait = backoff(attempt)
                .max(retry_after.unwrap_or_default())
                .min(BACKOFF_MAX * 2);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// `setup_retries` and `setup_first_retry` for the JSON output.
    pub(crate) fn report(&self, out: &mut Value) {
        out["setup_retries"] = json!(self.retries.load(Ordering::Relaxed));
        out["setup_first_retry"] = json!(self.first.lock().ok().and_then(|f| f.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_overload_answers_are_transient() {
        assert!(is_transient_status(503));
        assert!(is_transient_status(500));
        assert!(is_transient_status(429));
        assert!(!is_transient_status(409));
        assert!(!is_transient_status(401));
        assert!(!is_transient_status(400));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert!(backoff(1) >= BACKOFF_FIRST && backoff(1) < BACKOFF_FIRST * 2);
        assert!(backoff(3) >= BACKOFF_FIRST * 4);
        assert!(backoff(30) <= BACKOFF_MAX.mul_f64(1.25));
    }

    #[tokio::test]
    async fn retry_counts_transient_failures_and_stops_on_fatal_ones() {
        let retry = Retry::new(8);
        let got = retry
            .run("step", |attempt| async move {
                if attempt < 3 {
                    Err(StepError::Transient {
                        err: anyhow!("HTTP 503"),
                        retry_after: Some(Duration::from_millis(1)),
                    })
                } else {
                    Ok(attempt)
                }
            })
            .await;
        assert_eq!(got.ok(), Some(3));
        assert_eq!(retry.retries.load(Ordering::Relaxed), 2);
        let fatal = retry
            .run("step", |_| async {
                Err::<(), _>(StepError::Fatal(anyhow!("HTTP 400")))
            })
            .await;
        assert!(fatal.is_err());
        assert_eq!(retry.retries.load(Ordering::Relaxed), 2);
        let few = Retry::new(1);
        let gave_up = few
            .run("step", |_| async {
                Err::<(), _>(StepError::transient(anyhow!("reset")))
            })
            .await;
        assert!(gave_up.is_err());
        assert_eq!(few.retries.load(Ordering::Relaxed), 0);
    }
}
