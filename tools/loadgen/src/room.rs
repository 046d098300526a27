//! Members joining one room: how long the join wave takes, and the server's memory per
//! member while they are in the room and after they leave.
//!
//! The users are registered and made members of the room over REST first; then (each
//! step followed by --settle s before VmRSS is read): all connect (authenticated, no room:
//! `rss_connected_kib` is the baseline), all send `join` at once (`rss_joined_kib`), all
//! send `leave` (`rss_left_kib`), all disconnect (`rss_disconnected_kib`). A `join`
//! refused by overload (`service_unavailable`, `rate_limited`, `internal_error`) is sent
//! again after a backoff (up to --max-attempts per member, counted in `join_retries`), so
//! the wave's time includes the retries an app would make.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{Value, json};

use crate::cli::RoomArgs;
use crate::member::{Shared, connect_members};
use crate::rest::{make_room, register_many};
use crate::retry::Retry;
use crate::stats::{now_micros, vm_rss_kib};

/// Waits until `count()` reaches `n` or `timeout` passes; the count reached.
async fn wait_for(n: u64, timeout: Duration, count: impl Fn() -> u64) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let c = count();
        if c >= n || Instant::now() >= deadline {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn per_member(after: u64, before: u64, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    (after as f64 - before as f64) / n as f64
}

fn pct_over(value: u64, baseline: u64) -> f64 {
    if baseline == 0 {
        return 0.0;
    }
    100.0 * (value as f64 - baseline as f64) / baseline as f64
}

pub(crate) async fn cmd_room(args: RoomArgs) -> Result<Value> {
    let retry = Retry::new(args.common.max_attempts);
    let settle = Duration::from_secs_f64(args.settle);
    let timeout = Duration::from_secs_f64(args.timeout);
    let pid = args.server_pid;
    let users = register_many(&args.common, args.connections, &retry).await?;
    let room_id = make_room(&args.common, &users, &retry).await?;
    tokio::time::sleep(settle).await;
    let rss_start = vm_rss_kib(pid)?;

    let members = users.into_iter().map(|u| (0, u.token)).collect();
    let urls = [args.common.url.clone()];
    let members = connect_members(
        &urls,
        members,
        None,
        args.common.concurrency,
        &retry,
        Shared::retrying_joins(args.common.max_attempts),
    )
    .await?;
    let n = members.senders.len() as u64;
    tokio::time::sleep(settle).await;
    let rss_connected = vm_rss_kib(pid)?;

    let shared = members.shared.clone();
    eprintln!("[loadgen] room: {n} members join room {room_id} at once");
    let join_sent = now_micros();
    members.send_all(&json!({"type": "join", "room_id": room_id}).to_string());
    let joined = wait_for(n, timeout, || shared.joined.load(Ordering::Relaxed)).await;
    let first_joined = shared.first_joined_us.load(Ordering::Relaxed);
    let last_joined = shared.last_joined_us.load(Ordering::Relaxed);
    let join_s = last_joined.saturating_sub(first_joined) as f64 / 1e6;
    let join_wall_s = last_joined.saturating_sub(join_sent) as f64 / 1e6;
    eprintln!(
        "[loadgen] room: {joined} of {n} joined; first to last joined {join_s:.2} s ({join_wall_s:.2} s from the joins sent)"
    );
    tokio::time::sleep(settle).await;
    let rss_joined = vm_rss_kib(pid)?;

    members.send_all(&json!({"type": "leave", "room_id": room_id}).to_string());
    let left = wait_for(n, timeout, || shared.left.load(Ordering::Relaxed)).await;
    tokio::time::sleep(settle).await;
    let rss_left = vm_rss_kib(pid)?;

    let stats = members.stop().await?;
    tokio::time::sleep(settle).await;
    let rss_disconnected = vm_rss_kib(pid)?;

    let errors: u64 = stats.iter().map(|s| s.errors).sum();
    let first_error = stats.iter().find_map(|s| s.first_error.clone());
    let closed_early = stats.iter().filter(|s| s.closed.is_some()).count();
    let mut out = json!({
        "mode": "room",
        "connections": n,
        "joined": joined,
        "left": left,
        "join_s": join_s,
        "join_wall_s": join_wall_s,
        "join_retries": shared.join_retries.load(Ordering::Relaxed),
        "errors": errors,
        "first_error": first_error,
        "closed_early": closed_early,
        "rss_start_kib": rss_start,
        "rss_connected_kib": rss_connected,
        "rss_joined_kib": rss_joined,
        "rss_left_kib": rss_left,
        "rss_disconnected_kib": rss_disconnected,
        "kib_per_member": per_member(rss_joined, rss_connected, n),
        "kib_per_member_with_connection": per_member(rss_joined, rss_start, n),
        "left_over_connected_pct": pct_over(rss_left, rss_connected),
        "disconnected_over_start_pct": pct_over(rss_disconnected, rss_start),
    });
    retry.report(&mut out);
    Ok(out)
}
