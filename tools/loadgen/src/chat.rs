//! Chat fan-out (server and bare): senders at a fixed total rate, delivery at every member.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::ChatArgs;
use crate::member::{ConnStats, Members, connect_members, spread};
use crate::rest::{make_room, register_many};
use crate::retry::Retry;
use crate::stats::{latency_json, new_hist, now_micros, pct_ms};

// chat fan-out (server and bare)

pub(crate) fn chat_text(len: usize) -> String {
    // "t=<µs> " + padding
    let pad = len.saturating_sub(24).min(470);
    format!("t={} {}", now_micros(), "x".repeat(pad))
}

pub(crate) async fn run_chat(
    args: &ChatArgs,
    members: Members,
    room_id: i64,
    mode: &str,
    setup_s: f64,
) -> Result<Value> {
    let k = args.senders.clamp(1, members.senders.len().max(1));
    let per_sender = args.rate / k as f64;
    if per_sender > 9.0 {
        eprintln!(
            "[loadgen] warning: {per_sender:.1} msg/s per sender exceeds the server's 10 frames/s limit"
        );
    }
    let count = (per_sender * args.duration).round() as u64;
    let period = Duration::from_secs_f64(1.0 / per_sender.max(0.001));
    // Give presence traffic from the set-up a moment to drain.
    tokio::time::sleep(Duration::from_secs(1)).await;
    eprintln!(
        "[loadgen] {mode}: {} members, {k} senders × {count} msgs at {per_sender:.2}/s each ({:.1} msg/s total)",
        members.senders.len(),
        args.rate
    );
    let first_send = now_micros();
    let sent = Arc::new(AtomicU64::new(0));
    let mut send_tasks = Vec::new();
    for (si, tx) in members.senders.iter().take(k).enumerate() {
        let tx = tx.clone();
        let sent = sent.clone();
        let text_len = args.text_len;
        // Stagger the senders across one period so the load is smooth.
        let offset = period.mul_f64(si as f64 / k as f64);
        send_tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for i in 0..count {
                tick.tick().await;
                let frame = json!({
                    "type": "chat",
                    "room_id": room_id,
                    "client_id": format!("s{si}_{i}"),
                    "text": chat_text(text_len),
                })
                .to_string();
                if tx.send(Message::text(frame)).is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in send_tasks {
        t.await?;
    }
    let last_send = now_micros();
    tokio::time::sleep(Duration::from_secs_f64(args.drain)).await;
    let _ = members.stop.send(true);
    let n = members.tasks.len() as u64;
    let mut all = Vec::with_capacity(members.tasks.len());
    for t in members.tasks {
        all.push(t.await??);
    }
    let acked: Vec<u64> = members.acks.lock().await.clone();
    let mut total = Delivery::new()?;
    // With several instances: the receivers on the senders' instance and on the others.
    // The senders are left out of both: a sender's session is busy storing its own chats
    // while frames for it wait, which would weigh on the local side only.
    let mut local = Delivery::new()?;
    let mut remote = Delivery::new()?;
    let instances = members.instance.iter().max().map_or(1, |m| m + 1);
    let mut errors = 0u64;
    let mut first_error = None;
    let mut closed = 0u64;
    let mut first_close = None;
    let mut last_recv = first_send;
    for (i, (s, &at)) in all.iter().zip(&members.instance).enumerate() {
        total.add(s, &acked)?;
        if at > 0 {
            remote.add(s, &acked)?;
        } else if i >= k {
            local.add(s, &acked)?;
        }
        errors += s.errors;
        if first_error.is_none() {
            first_error.clone_from(&s.first_error);
        }
        if let Some(c) = &s.closed {
            closed += 1;
            if first_close.is_none() {
                first_close = Some(c.clone());
            }
        }
        last_recv = last_recv.max(s.last_recv_us);
    }
    let send_window_s = (last_send.saturating_sub(first_send)) as f64 / 1e6;
    let deliver_window_s = (last_recv.saturating_sub(first_send)) as f64 / 1e6;
    let mut out = json!({
        "mode": mode,
        "connections": n,
        "senders": k,
        "rate_target": args.rate,
        "duration_s": args.duration,
        "text_len": args.text_len,
        "setup_s": setup_s,
        "sent": sent.load(Ordering::Relaxed),
        "acked": acked.len(),
        "expected": total.expected(&acked),
        "delivered": total.delivered,
        "lost": total.lost,
        "duplicates": total.dups,
        "errors": errors,
        "first_error": first_error,
        "closed_early": closed,
        "first_close": first_close,
        "send_window_s": send_window_s,
        "deliver_window_s": deliver_window_s,
        "msgs_per_s_sent": if send_window_s > 0.0 { acked.len() as f64 / send_window_s } else { 0.0 },
        "deliveries_per_s": if deliver_window_s > 0.0 { total.delivered as f64 / deliver_window_s } else { 0.0 },
        "latency": latency_json(&total.hist),
    });
    if instances > 1 {
        out["instances"] = json!(instances);
        out["local"] = local.json(&acked);
        out["remote"] = remote.json(&acked);
        out["remote_minus_local_p99_ms"] =
            json!(pct_ms(&remote.hist, 0.99) - pct_ms(&local.hist, 0.99));
    }
    Ok(out)
}

/// Chat deliveries to a set of members: latency, and every acknowledged `seq` seen once.
pub(crate) struct Delivery {
    pub(crate) members: u64,
    pub(crate) hist: Histogram<u64>,
    pub(crate) delivered: u64,
    pub(crate) lost: u64,
    pub(crate) dups: u64,
}

impl Delivery {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            members: 0,
            hist: new_hist()?,
            delivered: 0,
            lost: 0,
            dups: 0,
        })
    }

    pub(crate) fn add(&mut self, s: &ConnStats, acked: &[u64]) -> Result<()> {
        self.members += 1;
        if let Some(h) = &s.chat {
            self.hist.add(h).map_err(|e| anyhow!("histogram: {e:?}"))?;
        }
        for seq in acked {
            match s.seen.get(seq) {
                None => self.lost += 1,
                Some(c) => {
                    self.delivered += 1;
                    self.dups += u64::from(c.saturating_sub(1));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn expected(&self, acked: &[u64]) -> u64 {
        acked.len() as u64 * self.members
    }

    pub(crate) fn json(&self, acked: &[u64]) -> Value {
        json!({
            "members": self.members,
            "expected": self.expected(acked),
            "delivered": self.delivered,
            "lost": self.lost,
            "duplicates": self.dups,
            "latency": latency_json(&self.hist),
        })
    }
}

pub(crate) async fn cmd_chat(args: ChatArgs) -> Result<Value> {
    let t0 = Instant::now();
    let retry = Retry::new(args.common.max_attempts);
    let urls = if args.ws_urls.is_empty() {
        vec![args.common.url.clone()]
    } else {
        args.ws_urls.clone()
    };
    let users = register_many(&args.common, args.connections, &retry).await?;
    let room_id = make_room(&args.common, &users, &retry).await?;
    // The same sender count as run_chat, so that every sender is on the first instance.
    let k = args.senders.clamp(1, users.len().max(1));
    let members = spread(users.len(), k, urls.len())
        .into_iter()
        .zip(users.into_iter().map(|u| u.token))
        .collect();
    let members = connect_members(&urls, members, room_id, args.common.concurrency, &retry).await?;
    let setup = t0.elapsed().as_secs_f64();
    let mut out = run_chat(&args, members, room_id, "server", setup).await?;
    if urls.len() > 1 {
        out["ws_urls"] = json!(urls);
    }
    retry.report(&mut out);
    Ok(out)
}
