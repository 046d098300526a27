//! Direct messages at scale: --pairs pairs of friends, every person connected and sending
//! `message_send` at --rate per second to their partner for --duration s. Each text
//! carries its send time (`t=<unix µs>`); the partner's reader records send → `message`
//! latency. Afterwards every acknowledged `seq` of a conversation must have reached the
//! partner exactly once: `lost` counts acknowledged messages the partner never got,
//! `duplicated` messages a connection got twice. Set-up goes over REST: register, friend
//! requests both ways (the second accepts), open the direct conversation.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::DmArgs;
use crate::rest::{User, http_client, post_json, register_many};
use crate::retry::Retry;
use crate::stats::{latency_json, new_hist, now_micros};
use crate::ws::connect;

/// What one connection saw.
#[derive(Default)]
struct Seen {
    /// `seq`s of the partner's messages received.
    got: HashSet<i64>,
    duplicated: u64,
    /// `seq`s of its own messages acknowledged.
    acked: Vec<i64>,
    errors: u64,
}

pub(crate) async fn cmd_dm(args: DmArgs) -> Result<Value> {
    let retry = Retry::new(args.common.max_attempts);
    let users = register_many(&args.common, args.pairs * 2, &retry).await?;
    let http = http_client()?;
    let url = args.common.url.clone();
    let started = Instant::now();
    // Friends and a conversation per pair.
    let pairs: Vec<(usize, usize)> = (0..args.pairs).map(|i| (2 * i, 2 * i + 1)).collect();
    let conversations: Vec<Result<i64>> = futures_util::stream::iter(pairs.iter().copied())
        .map(|(a, b)| {
            let (http, url, retry, users) = (http.clone(), url.clone(), &retry, &users);
            async move {
                let (ua, ub) = (&users[a], &users[b]);
                for (from, to) in [(ua, ub), (ub, ua)] {
                    let body = json!({"user_id": to.id});
                    let body = &body;
                    retry
                        .run("friend request", |_| {
                            post_json(
                                &http,
                                format!("{url}/api/v1/friends/requests"),
                                &from.token,
                                body,
                            )
                        })
                        .await?;
                }
                let body = json!({"user_id": ub.id});
                let body = &body;
                let c = retry
                    .run("open conversation", |_| {
                        post_json(
                            &http,
                            format!("{url}/api/v1/conversations/direct"),
                            &ua.token,
                            body,
                        )
                    })
                    .await?;
                c["id"]
                    .as_i64()
                    .ok_or_else(|| anyhow!("no conversation id in {c}"))
            }
        })
        .buffered(args.common.concurrency.max(1))
        .collect()
        .await;
    let conversations = conversations.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!(
        "[loadgen] dm: {} pairs befriended with a conversation each in {:.1} s",
        args.pairs,
        started.elapsed().as_secs_f64()
    );

    // Connect everyone: the second of each pair to --peer-url when given.
    let peer_url = args.peer_url.clone().unwrap_or_else(|| url.clone());
    let sockets: Vec<Result<crate::ws::Ws>> = futures_util::stream::iter(users.iter().enumerate())
        .map(|(i, u): (usize, &User)| {
            let target = if i % 2 == 0 {
                url.clone()
            } else {
                peer_url.clone()
            };
            let retry = &retry;
            async move { retry.run("connect", |_| connect(&target, &u.token)).await }
        })
        .buffered(args.common.concurrency.max(1))
        .collect()
        .await;
    let sockets = sockets.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!("[loadgen] dm: {} connections open", sockets.len());

    let hist = Arc::new(Mutex::new(new_hist()?));
    let stop_at = Instant::now() + Duration::from_secs_f64(args.duration);
    let drain_until = stop_at + Duration::from_secs_f64(args.drain);
    let interval = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let mut tasks = Vec::new();
    for (i, ws) in sockets.into_iter().enumerate() {
        let conversation = conversations[i / 2];
        let me = users[i].id;
        let hist = hist.clone();
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let mut seen = Seen::default();
            let mut local: Histogram<u64> = new_hist().unwrap_or_else(|_| Histogram::new(3).expect("histogram"));
            // Spread the first sends over one interval.
            let offset = Duration::from_micros((i as u64 * 7919) % interval.as_micros().max(1) as u64);
            let mut next = tokio::time::Instant::now() + offset;
            let mut k = 0u64;
            loop {
                let now = Instant::now();
                if now >= drain_until {
                    break;
                }
                let sending = now < stop_at;
                tokio::select! {
                    _ = tokio::time::sleep_until(next), if sending => {
                        k += 1;
                        let frame = json!({"type": "message_send", "conversation_id": conversation,
                            "client_id": format!("{me}-{k}"), "text": format!("t={}", now_micros())});
                        if tx.send(Message::text(frame.to_string())).await.is_err() {
                            seen.errors += 1;
                            break;
                        }
                        next += interval;
                    }
                    frame = tokio::time::timeout(Duration::from_millis(200), rx.next()) => {
                        let Ok(frame) = frame else { continue };
                        let Some(Ok(Message::Text(text))) = frame else {
                            if frame.is_none() { break } else { continue }
                        };
                        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                        match v["type"].as_str() {
                            Some("message") => {
                                let m = &v["message"];
                                if m["sender_id"].as_i64() == Some(me) {
                                    continue;
                                }
                                let seq = m["seq"].as_i64().unwrap_or(-1);
                                if !seen.got.insert(seq) {
                                    seen.duplicated += 1;
                                    continue;
                                }
                                if let Some(t) = m["text"].as_str().and_then(|t| t.strip_prefix("t=")).and_then(|t| t.parse::<u64>().ok()) {
                                    let _ = local.record(now_micros().saturating_sub(t).max(1));
                                }
                            }
                            Some("message_ack") => seen.acked.push(v["seq"].as_i64().unwrap_or(-1)),
                            Some("error") => seen.errors += 1,
                            _ => {}
                        }
                    }
                }
            }
            if let Ok(mut h) = hist.lock() {
                let _ = h.add(&local);
            }
            let _ = tx.close().await;
            seen
        }));
    }
    let mut seen = Vec::with_capacity(tasks.len());
    for t in tasks {
        seen.push(t.await?);
    }
    let (mut sent, mut lost, mut duplicated, mut errors) = (0u64, 0u64, 0u64, 0u64);
    for (i, s) in seen.iter().enumerate() {
        let partner = &seen[i ^ 1];
        sent += s.acked.len() as u64;
        lost += s
            .acked
            .iter()
            .filter(|seq| !partner.got.contains(seq))
            .count() as u64;
        duplicated += s.duplicated;
        errors += s.errors;
    }
    let h = hist.lock().map_err(|_| anyhow!("histogram lock"))?;
    let mut out = json!({
        "mode": "dm",
        "pairs": args.pairs,
        "instances": if args.peer_url.is_some() { 2 } else { 1 },
        "rate_per_person": args.rate,
        "duration_s": args.duration,
        "acknowledged": sent,
        "delivered": h.len(),
        "lost": lost,
        "duplicated": duplicated,
        "errors": errors,
        "latency": latency_json(&h),
    });
    retry.report(&mut out);
    Ok(out)
}
