//! Chat fan-out (server and bare): senders at a fixed total rate, delivery at every member.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::ChatArgs;
use crate::member::{ConnStats, Members, Shared, ToMember, connect_members, spread};
use crate::rest::{make_room, register_many};
use crate::retry::Retry;
use crate::stats::{latency_json, new_hist, now_micros, pct_ms, proc_cpu_s};

pub(crate) fn chat_text(len: usize) -> String {
    // "t=<µs> " + padding
    let pad = len.saturating_sub(24).min(470);
    format!("t={} {}", now_micros(), "x".repeat(pad))
}

/// How many members send at `rate` msg/s: at least --senders, and enough that none sends
/// more than --max-sender-rate (never more than `members`).
pub(crate) fn senders_for(args: &ChatArgs, rate: f64, members: usize) -> usize {
    let needed = if args.burst > 0 || args.max_sender_rate <= 0.0 {
        0
    } else {
        (rate / args.max_sender_rate).ceil() as usize
    };
    args.senders.max(needed).clamp(1, members.max(1))
}

/// The most senders any step of the run uses (they are placed first, see `spread`).
pub(crate) fn max_senders(args: &ChatArgs, members: usize) -> usize {
    step_rates(args)
        .into_iter()
        .map(|r| senders_for(args, r, members))
        .max()
        .unwrap_or(1)
}

fn step_rates(args: &ChatArgs) -> Vec<f64> {
    if args.rates.is_empty() {
        vec![args.rate]
    } else {
        args.rates.clone()
    }
}

/// Runs the chat (one step at --rate, or one per --rates) on `members`, then stops them.
pub(crate) async fn run_chat(
    args: &ChatArgs,
    members: Members,
    room_id: i64,
    mode: &str,
    setup_s: f64,
) -> Result<Value> {
    // Give presence traffic from the set-up a moment to drain.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut steps = Vec::new();
    let mut capacity: Option<(f64, usize)> = None;
    for (i, rate) in step_rates(args).into_iter().enumerate() {
        let mut step = chat_step(args, &members, room_id, rate, i, mode).await?;
        step["mode"] = json!(mode);
        step["setup_s"] = json!(setup_s);
        let behind = step["behind"].as_bool().unwrap_or(true);
        let dps = step["deliveries_per_s"].as_f64().unwrap_or(0.0);
        if !behind && capacity.is_none_or(|(c, _)| dps > c) {
            capacity = Some((dps, i));
        }
        steps.push(step);
        if behind && args.saturate {
            eprintln!("[loadgen] {mode}: fell behind at {rate} msg/s; stopping");
            break;
        }
        if i + 1 < args.rates.len() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    members.stop().await?;
    if args.rates.is_empty() {
        return steps.pop().ok_or_else(|| anyhow!("no step ran"));
    }
    Ok(json!({
        "mode": mode,
        "connections": steps.first().map(|s| s["connections"].clone()),
        "setup_s": setup_s,
        "saturate": args.saturate,
        "min_delivered": args.min_delivered,
        "max_p99_ms": args.max_p99_ms,
        "capacity_deliveries_per_s": capacity.map(|(c, _)| c),
        "capacity_step": capacity.map(|(_, i)| i),
        "steps": steps,
    }))
}

/// One step: the senders send at `rate` for --duration s, then --drain s of waiting, then
/// every member's statistics since the previous step.
async fn chat_step(
    args: &ChatArgs,
    members: &Members,
    room_id: i64,
    rate: f64,
    step: usize,
    mode: &str,
) -> Result<Value> {
    let n_members = members.senders.len();
    let k = senders_for(args, rate, n_members);
    // Every sender sends `per_tick` chats back to back every `period`.
    let (per_tick, period, rate) = if args.burst > 0 {
        let interval = Duration::from_millis(args.burst_interval_ms.max(1));
        let rate = (k * args.burst) as f64 / interval.as_secs_f64();
        (args.burst, interval, rate)
    } else {
        let per_sender = rate / k as f64;
        (
            1,
            Duration::from_secs_f64(1.0 / per_sender.max(0.001)),
            rate,
        )
    };
    let per_sender = per_tick as f64 / period.as_secs_f64();
    if per_sender > 9.0 {
        eprintln!(
            "[loadgen] warning: {per_sender:.1} msg/s per sender exceeds the server's 10 frames/s limit"
        );
    }
    let ticks = (args.duration / period.as_secs_f64()).round() as u64;
    eprintln!(
        "[loadgen] {mode}: {n_members} members, {k} senders × {} msgs at {per_sender:.2}/s each ({rate:.1} msg/s total{})",
        ticks * per_tick as u64,
        if args.burst > 0 {
            format!(", bursts of {per_tick}")
        } else {
            String::new()
        }
    );
    let cpu0 = args.server_pid.map(proc_cpu_s).transpose()?;
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
            for i in 0..ticks {
                tick.tick().await;
                for j in 0..per_tick {
                    // The send time travels in the client_id (for send → chat_ack) and
                    // in the text (for send → delivery).
                    let frame = json!({
                        "type": "chat",
                        "room_id": room_id,
                        "client_id": format!("c{}_{step}_{si}_{i}_{j}", now_micros()),
                        "text": chat_text(text_len),
                    })
                    .to_string();
                    if tx.send(ToMember::Send(Message::text(frame))).is_err() {
                        return;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in send_tasks {
        t.await?;
    }
    let last_send = now_micros();
    tokio::time::sleep(Duration::from_secs_f64(args.drain)).await;
    let cpu1 = args.server_pid.map(proc_cpu_s).transpose()?;
    let all = members.snapshot().await?;
    let acked: Vec<u64> = std::mem::take(&mut *members.shared.acks.lock().await);
    let mut total = Delivery::new()?;
    // With several instances: the receivers on the senders' instance and on the others.
    // The senders are left out of both: a sender's session is busy storing its own chats
    // while frames for it wait, which would weigh on the local side only.
    let mut local = Delivery::new()?;
    let mut remote = Delivery::new()?;
    let mut ack = new_hist()?;
    let instances = members.instance.iter().max().map_or(1, |m| m + 1);
    let mut errors = 0u64;
    let mut first_error = None;
    let mut closed = 0u64;
    let mut first_close = None;
    let mut out_of_order = 0u64;
    let mut members_out_of_order = 0u64;
    let mut last_recv = first_send;
    for (i, (s, &at)) in all.iter().zip(&members.instance).enumerate() {
        total.add(s, &acked)?;
        if at > 0 {
            remote.add(s, &acked)?;
        } else if i >= k {
            local.add(s, &acked)?;
        }
        if let Some(h) = &s.ack {
            ack.add(h).map_err(|e| anyhow!("histogram: {e:?}"))?;
        }
        out_of_order += s.out_of_order;
        members_out_of_order += u64::from(s.out_of_order > 0);
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
    let sent = sent.load(Ordering::Relaxed);
    let send_window_s = (last_send.saturating_sub(first_send)) as f64 / 1e6;
    let deliver_window_s = (last_recv.saturating_sub(first_send)) as f64 / 1e6;
    let expected = total.expected(&acked);
    let delivered_ratio = if expected > 0 {
        total.delivered as f64 / expected as f64
    } else {
        0.0
    };
    let acked_ratio = if sent > 0 {
        acked.len() as f64 / sent as f64
    } else {
        0.0
    };
    let p99 = pct_ms(&total.hist, 0.99);
    let behind = delivered_ratio < args.min_delivered
        || acked_ratio < args.min_delivered
        || p99 > args.max_p99_ms;
    let mut out = json!({
        "step": step,
        "connections": all.len(),
        "senders": k,
        "rate_target": rate,
        "offered_deliveries_per_s": rate * all.len() as f64,
        "burst": if args.burst > 0 { json!({"size": args.burst, "interval_ms": args.burst_interval_ms}) } else { Value::Null },
        "duration_s": args.duration,
        "text_len": args.text_len,
        "sent": sent,
        "acked": acked.len(),
        "expected": expected,
        "delivered": total.delivered,
        "delivered_ratio": delivered_ratio,
        "lost": total.lost,
        "duplicates": total.dups,
        "out_of_order": out_of_order,
        "members_out_of_order": members_out_of_order,
        "errors": errors,
        "first_error": first_error,
        "closed_early": closed,
        "first_close": first_close,
        "send_window_s": send_window_s,
        "deliver_window_s": deliver_window_s,
        "msgs_per_s_sent": if send_window_s > 0.0 { acked.len() as f64 / send_window_s } else { 0.0 },
        "deliveries_per_s": if deliver_window_s > 0.0 { total.delivered as f64 / deliver_window_s } else { 0.0 },
        "behind": behind,
        "latency": latency_json(&total.hist),
        "ack_latency": latency_json(&ack),
    });
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        let cpu = c1 - c0;
        out["server_cpu_s"] = json!(cpu);
        out["server_cpu_window_s"] = json!(now_micros().saturating_sub(first_send) as f64 / 1e6);
        out["cpu_us_per_delivery"] = if total.delivered > 0 {
            json!(cpu * 1e6 / total.delivered as f64)
        } else {
            Value::Null
        };
    }
    if instances > 1 {
        out["instances"] = json!(instances);
        out["local"] = local.json(&acked);
        out["remote"] = remote.json(&acked);
        out["remote_minus_local_p99_ms"] =
            json!(pct_ms(&remote.hist, 0.99) - pct_ms(&local.hist, 0.99));
    }
    eprintln!(
        "[loadgen]   step {step}: {rate:.0} msg/s, {} of {expected} delivered ({:.0}/s), p99 {p99:.1} ms, ack p99 {:.1} ms, {out_of_order} out of order{}{}",
        total.delivered,
        out["deliveries_per_s"].as_f64().unwrap_or(0.0),
        pct_ms(&ack, 0.99),
        out["cpu_us_per_delivery"]
            .as_f64()
            .map(|c| format!(", {c:.2} µs CPU per delivery"))
            .unwrap_or_default(),
        if behind { ", BEHIND" } else { "" },
    );
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
    let k = max_senders(&args, users.len());
    let members = spread(users.len(), k, urls.len())
        .into_iter()
        .zip(users.into_iter().map(|u| u.token))
        .collect();
    let members = connect_members(
        &urls,
        members,
        Some(room_id),
        args.common.concurrency,
        &retry,
        Shared::new(true),
    )
    .await?;
    let setup = t0.elapsed().as_secs_f64();
    let mut out = run_chat(&args, members, room_id, "server", setup).await?;
    if urls.len() > 1 {
        out["ws_urls"] = json!(urls);
    }
    retry.report(&mut out);
    Ok(out)
}
