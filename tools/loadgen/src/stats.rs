//! Clocks, latency histograms and /proc readings.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

pub(crate) fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

pub(crate) fn new_hist() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 600_000_000, 3).map_err(|e| anyhow!("histogram: {e:?}"))
}

pub(crate) fn pct_ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    h.value_at_quantile(q) as f64 / 1000.0
}

pub(crate) fn latency_json(h: &Histogram<u64>) -> Value {
    json!({
        "count": h.len(),
        "p50_ms": pct_ms(h, 0.50),
        "p90_ms": pct_ms(h, 0.90),
        "p99_ms": pct_ms(h, 0.99),
        "p999_ms": pct_ms(h, 0.999),
        "max_ms": if h.is_empty() { 0.0 } else { h.max() as f64 / 1000.0 },
        "mean_ms": if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
    })
}

pub(crate) fn vm_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("read /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

/// Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds (utime + stime, all threads) a process has used, from /proc/<pid>/stat.
pub(crate) fn proc_cpu_s(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("read /proc/{pid}/stat"))?;
    cpu_ticks_of_stat(&stat)
        .map(|t| t as f64 / clock_ticks())
        .ok_or_else(|| anyhow!("unexpected /proc/{pid}/stat: {stat}"))
}

/// utime + stime of a /proc/<pid>/stat line (fields 14 and 15; the name in field 2 may hold
/// spaces and parentheses, so count from the last ')').
fn cpu_ticks_of_stat(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime() {
        let stat = "4242 (luojia (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 9 0";
        assert_eq!(cpu_ticks_of_stat(stat), Some(281));
        assert_eq!(cpu_ticks_of_stat("garbage"), None);
        assert!(proc_cpu_s(std::process::id()).is_ok());
    }
}
