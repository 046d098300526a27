//! Server memory per idle authenticated connection.

use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::cli::IdleArgs;
use crate::member::{ConnStats, Shared, member_task};
use crate::rest::register_many;
use crate::retry::Retry;
use crate::stats::vm_rss_kib;
use crate::ws::connect;

pub(crate) async fn cmd_idle(args: IdleArgs) -> Result<Value> {
    let n_users = args
        .users
        .unwrap_or(args.connections)
        .clamp(1, args.connections.max(1));
    let retry = Retry::new(args.common.max_attempts);
    let users = register_many(&args.common, n_users, &retry).await?;
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let before = vm_rss_kib(args.server_pid)?;
    let (stop, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let tokens: Vec<String> = (0..args.connections)
        .map(|i| users[i % users.len()].token.clone())
        .collect();
    // First one connection per user: what a user's first connection costs once (their
    // cached account and session, their friends' presence, the database pages that brings
    // in) is per user, not per connection. The rest are measured from there.
    let warm_n = if args.connections > n_users {
        n_users
    } else {
        0
    };
    let mut tasks = Vec::new();
    let mut failed = 0u64;
    let mut first_failure = None;
    let mut warm = None;
    for batch in [&tokens[..warm_n], &tokens[warm_n..]] {
        let results = open_all(&args, batch, &stop_rx, &retry).await;
        for r in results {
            match r {
                Ok(t) => tasks.push(t),
                Err(e) => {
                    failed += 1;
                    if first_failure.is_none() {
                        first_failure = Some(format!("{e:#}"));
                    }
                }
            }
        }
        if warm.is_none() && warm_n > 0 {
            tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
            warm = Some((tasks.len() as u64, vm_rss_kib(args.server_pid)?));
        }
    }
    let open_s = started.elapsed().as_secs_f64();
    eprintln!(
        "[loadgen] idle: {} connections open ({failed} failed) in {open_s:.1} s",
        tasks.len()
    );
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let after = vm_rss_kib(args.server_pid)?;
    let open = tasks.len() as u64;
    let per_connection_all = if open > 0 {
        after.saturating_sub(before) as f64 / open as f64
    } else {
        0.0
    };
    let mut closed_early = 0u64;
    let _ = stop.send(true);
    for t in tasks {
        if let Ok(Ok(s)) = t.await
            && s.closed.is_some()
        {
            closed_early += 1;
        }
    }
    let mut out = json!({
        "mode": "idle",
        "connections_requested": args.connections,
        "connections_open": open,
        "connect_failures": failed,
        "first_failure": first_failure,
        "closed_early": closed_early,
        "users": n_users,
        "open_s": open_s,
        "server_rss_before_kib": before,
        "server_rss_after_kib": after,
        "kib_per_connection_all": per_connection_all,
        "warm_connections": warm.map(|w| w.0),
        "server_rss_warm_kib": warm.map(|w| w.1),
        // Growth per connection past the first one of each user (all of them without those).
        "kib_per_connection": match warm {
            Some((n, rss)) if open > n => after.saturating_sub(rss) as f64 / (open - n) as f64,
            _ => per_connection_all,
        },
    });
    retry.report(&mut out);
    Ok(out)
}

type Opened = Result<tokio::task::JoinHandle<Result<ConnStats>>>;

/// Open an idle member connection for each token (a few at a time).
async fn open_all(
    args: &IdleArgs,
    tokens: &[String],
    stop_rx: &watch::Receiver<bool>,
    retry: &Retry,
) -> Vec<Opened> {
    let url = args.common.url.clone();
    futures_util::stream::iter(tokens.iter().cloned())
        .map(|token| {
            let url = url.clone();
            let stop_rx = stop_rx.clone();
            async move {
                let ws = retry.run("connect", |_| connect(&url, &token)).await?;
                let (sink, stream) = ws.split();
                let (_tx, rx) = mpsc::unbounded_channel();
                Ok(tokio::spawn(member_task(
                    sink,
                    stream,
                    rx,
                    Shared::new(false),
                    stop_rx,
                )))
            }
        })
        .buffer_unordered(args.common.concurrency.max(1) * 4)
        .collect()
        .await
}
