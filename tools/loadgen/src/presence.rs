//! Friends' presence cost: one user with `--friends` friends, `--online` of them connected
//! (one connection each), connects and then disconnects. Every friend connection counts the
//! `friend_presence` frames about that user (and their bytes) and anything else it receives.
//! The target: exactly one frame per online friend connection each way, none to others.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::cli::PresenceArgs;
use crate::rest::{User, http_client, post_json, register_many};
use crate::retry::Retry;
use crate::ws::connect;

#[derive(Default)]
struct Counts {
    online_frames: AtomicU64,
    online_bytes: AtomicU64,
    offline_frames: AtomicU64,
    offline_bytes: AtomicU64,
    /// Connections that got more than one frame of one kind.
    repeated: AtomicU64,
    other_frames: AtomicU64,
    last_frame_us: AtomicU64,
}

/// Each friend asks the target; the target accepts every request.
async fn befriend(
    args: &PresenceArgs,
    target: &User,
    friends: &[User],
    retry: &Retry,
) -> Result<()> {
    let http = http_client()?;
    let url = &args.common.url;
    let req_url = format!("{url}/api/v1/friends/requests");
    let body = json!({ "user_id": target.id, "note": "bench" });
    let ids: Vec<Result<i64>> = futures_util::stream::iter(friends)
        .map(|f| {
            let (http, req_url, body) = (&http, &req_url, &body);
            async move {
                let v: Value = retry
                    .run("friend request", |_| {
                        post_json(http, req_url.clone(), &f.token, body)
                    })
                    .await?;
                v["request"]["id"]
                    .as_i64()
                    .ok_or_else(|| anyhow!("no request id in {v}"))
            }
        })
        .buffer_unordered(args.common.concurrency.max(1))
        .collect()
        .await;
    let ids = ids.into_iter().collect::<Result<Vec<_>>>()?;
    let empty = json!({});
    let accepted: Vec<Result<Value>> = futures_util::stream::iter(ids)
        .map(|id| {
            let (http, token, empty) = (&http, &target.token, &empty);
            let accept = format!("{url}/api/v1/friends/requests/{id}/accept");
            async move {
                retry
                    .run("accept", |_| post_json(http, accept.clone(), token, empty))
                    .await
            }
        })
        .buffer_unordered(args.common.concurrency.max(1))
        .collect()
        .await;
    accepted.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(())
}

pub(crate) async fn cmd_presence(args: PresenceArgs) -> Result<Value> {
    let online = args.online.min(args.friends);
    let retry = Retry::new(args.common.max_attempts);
    let mut users = register_many(&args.common, args.friends + 1, &retry).await?;
    let target = users.remove(0);
    befriend(&args, &target, &users, &retry).await?;
    eprintln!(
        "[loadgen] {} friends; connecting {online} of them",
        users.len()
    );

    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let mut readers = Vec::new();
    for f in users.iter().take(online) {
        let mut ws = retry
            .run("connect", |_| connect(&args.common.url, &f.token))
            .await?;
        let (counts, target_id) = (counts.clone(), target.id);
        readers.push(tokio::spawn(async move {
            let (mut on, mut off) = (0u32, 0u32);
            while let Some(Ok(msg)) = ws.next().await {
                let Ok(text) = msg.to_text() else { continue };
                if text.is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(text).unwrap_or_default();
                if v["type"] == "friend_presence" && v["user_id"] == target_id {
                    let (frames, bytes, n) = if v["online"] == true {
                        on += 1;
                        (&counts.online_frames, &counts.online_bytes, on)
                    } else {
                        off += 1;
                        (&counts.offline_frames, &counts.offline_bytes, off)
                    };
                    frames.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
                    if n == 2 {
                        counts.repeated.fetch_add(1, Ordering::Relaxed);
                    }
                    counts
                        .last_frame_us
                        .store(start.elapsed().as_micros() as u64, Ordering::Relaxed);
                } else {
                    counts.other_frames.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Let the friends' own online announcements (to each other: none, they are not
    // friends of each other) and anything else settle, then count from zero.
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    counts.other_frames.store(0, Ordering::Relaxed);

    let wait = |field: fn(&Counts) -> &AtomicU64| {
        let counts = counts.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            while (field(&counts).load(Ordering::Relaxed) as usize) < online
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let t0 = start.elapsed().as_micros() as u64;
    let me = retry
        .run("connect", |_| connect(&args.common.url, &target.token))
        .await?;
    wait(|c| &c.online_frames).await;
    let connect_ms = (counts
        .last_frame_us
        .load(Ordering::Relaxed)
        .saturating_sub(t0)) as f64
        / 1000.0;
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;

    let t1 = start.elapsed().as_micros() as u64;
    drop(me);
    wait(|c| &c.offline_frames).await;
    let disconnect_ms = (counts
        .last_frame_us
        .load(Ordering::Relaxed)
        .saturating_sub(t1)) as f64
        / 1000.0;
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    for r in readers {
        r.abort();
    }
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    Ok(json!({
        "mode": "presence",
        "friends": users.len(),
        "online_friends": online,
        "connect": {
            "frames": get(&counts.online_frames),
            "bytes": get(&counts.online_bytes),
            "ms_to_last": connect_ms,
        },
        "disconnect": {
            "frames": get(&counts.offline_frames),
            "bytes": get(&counts.offline_bytes),
            "ms_to_last": disconnect_ms,
        },
        "connections_with_repeats": get(&counts.repeated),
        "other_frames": get(&counts.other_frames),
        "settle_s": args.settle,
    }))
}
