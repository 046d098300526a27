//! Seek commands: latency from send to each member's `playback_state`.

use std::time::Duration;

use anyhow::{Result, anyhow};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::SyncArgs;
use crate::member::{Shared, ToMember, connect_members};
use crate::rest::{make_room, register_many};
use crate::retry::Retry;
use crate::stats::{latency_json, new_hist, now_micros};

// sync

pub(crate) async fn cmd_sync(args: SyncArgs) -> Result<Value> {
    let retry = Retry::new(args.common.max_attempts);
    let users = register_many(&args.common, args.connections, &retry).await?;
    let room_id = make_room(&args.common, &users, &retry).await?;
    let members = users.into_iter().map(|u| (0, u.token)).collect();
    let urls = [args.common.url.clone()];
    let members = connect_members(
        &urls,
        members,
        Some(room_id),
        args.common.concurrency,
        &retry,
        Shared::new(true),
    )
    .await?;
    // Everyone reports ready first (so the room never waits on anybody).
    members
        .send_all(&json!({"type":"player_status","room_id":room_id,"status":"ready"}).to_string());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let controller = members
        .senders
        .first()
        .ok_or_else(|| anyhow!("no members"))?
        .clone();
    eprintln!(
        "[loadgen] sync: {} members, {} seeks every {} ms",
        members.senders.len(),
        args.commands,
        args.interval_ms
    );
    let mut tick = tokio::time::interval(Duration::from_millis(args.interval_ms.max(1)));
    for i in 0..args.commands {
        tick.tick().await;
        let frame = json!({"type":"playback","room_id":room_id,"action":"seek",
            "position_ms": 1000 * (i as i64 + 1), "req_id": format!("s{}", now_micros())});
        controller
            .send(ToMember::Send(Message::text(frame.to_string())))
            .map_err(|_| anyhow!("the controller's connection is gone"))?;
    }
    tokio::time::sleep(Duration::from_secs_f64(args.drain)).await;
    let _ = members.stop.send(true);
    let n = members.tasks.len() as u64;
    let mut hist = new_hist()?;
    let mut received = 0u64;
    let mut errors = 0u64;
    let mut first_error = None;
    for t in members.tasks {
        let s = t.await??;
        if let Some(h) = &s.sync {
            hist.add(h).map_err(|e| anyhow!("histogram: {e:?}"))?;
        }
        received += s.sync_received;
        errors += s.errors;
        if first_error.is_none() {
            first_error = s.first_error;
        }
    }
    let expected = args.commands as u64 * n;
    let mut out = json!({
        "mode": "sync",
        "connections": n,
        "commands": args.commands,
        "interval_ms": args.interval_ms,
        "expected": expected,
        "delivered": received,
        "lost": expected.saturating_sub(received),
        "errors": errors,
        "first_error": first_error,
        "latency": latency_json(&hist),
    });
    retry.report(&mut out);
    Ok(out)
}
