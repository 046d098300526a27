//! One member connection: the reader task and its statistics, and connecting a crowd.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Result, anyhow};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::retry::{Retry, backoff};
use crate::stats::{new_hist, now_micros};
use crate::ws::{connect, is_transient_error, join};

#[derive(Default)]
pub(crate) struct ConnStats {
    /// Chat delivery latency: receipt − the send time carried in the text.
    pub(crate) chat: Option<Histogram<u64>>,
    pub(crate) sync: Option<Histogram<u64>>,
    /// Send → `chat_ack` at the sender (the send time travels in the `client_id`).
    pub(crate) ack: Option<Histogram<u64>>,
    /// The highest chat `seq` received so far (kept across snapshots).
    pub(crate) max_seq: u64,
    /// Chats received with a `seq` lower than one already received (swaps).
    pub(crate) out_of_order: u64,
    /// seq → times received
    pub(crate) seen: HashMap<u64, u32>,
    pub(crate) sync_received: u64,
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
    pub(crate) last_recv_us: u64,
    pub(crate) closed: Option<String>,
}

/// `{"type":"X",...}` → X (serde writes the tag first); falls back to a full parse.
pub(crate) fn frame_type(text: &str) -> &str {
    const KEY: &str = "\"type\":\"";
    // Fast path: the tag first. Otherwise the first "type" key anywhere.
    let rest = match text.strip_prefix("{\"type\":\"") {
        Some(rest) => rest,
        None => match text.find(KEY) {
            Some(i) => &text[i + KEY.len()..],
            None => return "",
        },
    };
    match rest.find('"') {
        Some(end) => &rest[..end],
        None => "",
    }
}

pub(crate) fn number_after(text: &str, key: &str) -> Option<u64> {
    let start = text.find(key)? + key.len();
    let digits: &str = &text[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

impl ConnStats {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            chat: Some(new_hist()?),
            sync: Some(new_hist()?),
            ack: Some(new_hist()?),
            ..Default::default()
        })
    }
}

/// What a member task is told to do besides reading.
pub(crate) enum ToMember {
    /// Send this frame.
    Send(Message),
    /// Hand over the statistics gathered so far and start afresh (one step of a run).
    Snapshot(oneshot::Sender<ConnStats>),
}

/// State shared by all member tasks of a run.
pub(crate) struct Shared {
    /// Collect the `seq` of every `chat_ack` into `acks`.
    collect_acks: bool,
    pub(crate) acks: Mutex<Vec<u64>>,
    /// `joined` / `left` frames received after the connection was handed to its task.
    pub(crate) joined: AtomicU64,
    pub(crate) first_joined_us: AtomicU64,
    pub(crate) last_joined_us: AtomicU64,
    pub(crate) left: AtomicU64,
    /// `room`: a `join` refused with a transient error (overload) is sent again after a
    /// backoff, up to this many attempts per connection (0: never).
    pub(crate) join_attempts: u32,
    pub(crate) join_retries: AtomicU64,
}

impl Shared {
    pub(crate) fn new(collect_acks: bool) -> Arc<Self> {
        Arc::new(Self {
            collect_acks,
            acks: Mutex::new(Vec::new()),
            joined: AtomicU64::new(0),
            first_joined_us: AtomicU64::new(u64::MAX),
            last_joined_us: AtomicU64::new(0),
            left: AtomicU64::new(0),
            join_attempts: 0,
            join_retries: AtomicU64::new(0),
        })
    }

    /// For `room`: re-sends a `join` refused by overload, up to `attempts` per connection.
    pub(crate) fn retrying_joins(attempts: u32) -> Arc<Self> {
        let mut shared = Self::new(false);
        if let Some(s) = Arc::get_mut(&mut shared) {
            s.join_attempts = attempts;
        }
        shared
    }

    fn record_joined(&self, now: u64) {
        self.first_joined_us.fetch_min(now, Ordering::Relaxed);
        self.last_joined_us.fetch_max(now, Ordering::Relaxed);
        self.joined.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) fn handle_text(
    text: &str,
    stats: &mut ConnStats,
    shared: &Shared,
    pending_acks: &mut Vec<u64>,
) {
    let now = now_micros();
    match frame_type(text) {
        "chat" => {
            stats.last_recv_us = now;
            if let Some(seq) = number_after(text, "\"seq\":") {
                *stats.seen.entry(seq).or_insert(0) += 1;
                if seq < stats.max_seq {
                    stats.out_of_order += 1;
                }
                stats.max_seq = stats.max_seq.max(seq);
            }
            if let (Some(t), Some(h)) = (number_after(text, "\"text\":\"t="), stats.chat.as_mut()) {
                h.saturating_record(now.saturating_sub(t).max(1));
            }
        }
        "chat_ack" => {
            if shared.collect_acks
                && let Some(seq) = number_after(text, "\"seq\":")
            {
                pending_acks.push(seq);
            }
            if let (Some(t), Some(h)) =
                (number_after(text, "\"client_id\":\"c"), stats.ack.as_mut())
            {
                h.saturating_record(now.saturating_sub(t).max(1));
            }
        }
        "joined" => shared.record_joined(now),
        "left" => {
            shared.left.fetch_add(1, Ordering::Relaxed);
        }
        "playback_state" => {
            stats.last_recv_us = now;
            stats.sync_received += 1;
            if let (Some(t), Some(h)) = (number_after(text, "\"req_id\":\"s"), stats.sync.as_mut())
            {
                h.saturating_record(now.saturating_sub(t).max(1));
            }
        }
        "error" => {
            stats.errors += 1;
            if stats.first_error.is_none() {
                stats.first_error = Some(text.chars().take(300).collect());
            }
        }
        _ => {}
    }
}

/// Reads the connection until `stop`, sending whatever arrives on `out` (and handing over
/// its statistics when asked).
pub(crate) async fn member_task<S>(
    mut sink: SplitSink<WebSocketStream<S>, Message>,
    mut stream: SplitStream<WebSocketStream<S>>,
    mut out: mpsc::UnboundedReceiver<ToMember>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<ConnStats>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut stats = ConnStats::new()?;
    let mut pending_acks = Vec::new();
    let mut out_open = true;
    // The `join` this connection sent and has no `joined` for yet (retried on overload).
    let mut last_join: Option<String> = None;
    let mut join_attempt = 0u32;
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    handle_text(&t, &mut stats, &shared, &mut pending_acks);
                    if let Some(join) = &last_join
                        && join_attempt < shared.join_attempts
                        && frame_type(&t) == "error"
                        && is_transient_error(&t)
                    {
                        // Overload refused the join: again after a backoff (reading
                        // pauses meanwhile; nothing is broadcast to a non-member).
                        join_attempt += 1;
                        shared.join_retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(backoff(join_attempt)).await;
                        if let Err(e) = sink.send(Message::text(join.clone())).await {
                            stats.closed = Some(format!("send error: {e}"));
                            break;
                        }
                    }
                    if frame_type(&t) == "joined" {
                        last_join = None;
                    }
                    if !pending_acks.is_empty() {
                        shared.acks.lock().await.append(&mut pending_acks);
                    }
                }
                Some(Ok(Message::Close(c))) => {
                    stats.closed = Some(format!("{c:?}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    stats.closed = Some(format!("error: {e}"));
                    break;
                }
                None => {
                    stats.closed = Some("eof".into());
                    break;
                }
            },
            m = out.recv(), if out_open => match m {
                Some(ToMember::Send(m)) => {
                    if shared.join_attempts > 0 && let Message::Text(text) = &m
                        && frame_type(text) == "join"
                    {
                        last_join = Some(text.to_string());
                        join_attempt = 0;
                    }
                    if let Err(e) = sink.send(m).await {
                        stats.closed = Some(format!("send error: {e}"));
                        break;
                    }
                }
                Some(ToMember::Snapshot(reply)) => {
                    let mut fresh = ConnStats::new()?;
                    fresh.max_seq = stats.max_seq;
                    let _ = reply.send(std::mem::replace(&mut stats, fresh));
                }
                None => out_open = false,
            },
            _ = stop.changed() => break,
        }
    }
    let _ = sink.close().await;
    Ok(stats)
}

pub(crate) struct Members {
    pub(crate) senders: Vec<mpsc::UnboundedSender<ToMember>>,
    pub(crate) tasks: Vec<tokio::task::JoinHandle<Result<ConnStats>>>,
    /// Index into the WebSocket URLs each member is connected to (0: the senders' one).
    pub(crate) instance: Vec<usize>,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) shared: Arc<Shared>,
}

impl Members {
    /// Sends `frame` on every member's connection.
    pub(crate) fn send_all(&self, frame: &str) {
        for tx in &self.senders {
            let _ = tx.send(ToMember::Send(Message::text(frame)));
        }
    }

    /// Every member's statistics since the last snapshot (a member whose task has ended
    /// counts as an empty one).
    pub(crate) async fn snapshot(&self) -> Result<Vec<ConnStats>> {
        let mut waits = Vec::with_capacity(self.senders.len());
        for tx in &self.senders {
            let (reply, rx) = oneshot::channel();
            let _ = tx.send(ToMember::Snapshot(reply));
            waits.push(rx);
        }
        let mut all = Vec::with_capacity(waits.len());
        for rx in waits {
            all.push(match rx.await {
                Ok(s) => s,
                Err(_) => ConnStats {
                    closed: Some("task ended".into()),
                    ..ConnStats::new()?
                },
            });
        }
        Ok(all)
    }

    /// Stops every member task; their final statistics.
    pub(crate) async fn stop(self) -> Result<Vec<ConnStats>> {
        let _ = self.stop.send(true);
        let mut all = Vec::with_capacity(self.tasks.len());
        for t in self.tasks {
            all.push(t.await??);
        }
        Ok(all)
    }
}

/// Which of `instances` servers each of `n` members connects to: the first `senders` all
/// to instance 0, the other members (the receivers) round-robin, so that every instance
/// has as many receivers as the others (±1).
pub(crate) fn spread(n: usize, senders: usize, instances: usize) -> Vec<usize> {
    let instances = instances.max(1);
    (0..n)
        .map(|i| {
            if i < senders {
                0
            } else {
                (i - senders) % instances
            }
        })
        .collect()
}

/// Connects one member to `urls[instance]` of each `(instance, token)`, joins it to
/// `room_id` (if any) and starts its reader task (each must be read continuously, else the server's
/// outbound queue overflows). A failed connect or join is retried from the start.
pub(crate) async fn connect_members(
    urls: &[String],
    members: Vec<(usize, String)>,
    room_id: Option<i64>,
    concurrency: usize,
    retry: &Retry,
    shared: Arc<Shared>,
) -> Result<Members> {
    let (stop, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let n = members.len();
    let instance: Vec<usize> = members.iter().map(|(i, _)| *i).collect();
    type Conn = (
        mpsc::UnboundedSender<ToMember>,
        tokio::task::JoinHandle<Result<ConnStats>>,
    );
    let conns: Vec<Result<Conn>> = futures_util::stream::iter(members)
        .map(|(at, token)| {
            let url = urls
                .get(at)
                .cloned()
                .ok_or_else(|| anyhow!("no WebSocket URL number {at}"));
            let shared = shared.clone();
            let stop_rx = stop_rx.clone();
            async move {
                let url = url?;
                let (url, token) = (&url, &token);
                let ws = retry
                    .run("connect and join", move |_| async move {
                        let mut ws = connect(url, token).await?;
                        if let Some(room_id) = room_id {
                            join(&mut ws, room_id).await?;
                        }
                        Ok(ws)
                    })
                    .await?;
                // Start reading at once: presence frames from later joins must not pile up.
                let (sink, stream) = ws.split();
                let (tx, rx) = mpsc::unbounded_channel();
                Ok((
                    tx,
                    tokio::spawn(member_task(sink, stream, rx, shared, stop_rx)),
                ))
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut senders = Vec::with_capacity(n);
    let mut tasks = Vec::with_capacity(n);
    for c in conns {
        let (tx, task) = c?;
        senders.push(tx);
        tasks.push(task);
    }
    eprintln!(
        "[loadgen] {n} members connected{} in {:.1} s",
        if room_id.is_some() { " and joined" } else { "" },
        started.elapsed().as_secs_f64()
    );
    Ok(Members {
        senders,
        tasks,
        instance,
        stop,
        shared,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fast_paths() {
        let f = r#"{"type":"chat","message":{"room_id":1,"seq":42,"text":"t=1234567 xx"}}"#;
        assert_eq!(frame_type(f), "chat");
        assert_eq!(number_after(f, "\"seq\":"), Some(42));
        assert_eq!(number_after(f, "\"text\":\"t="), Some(1_234_567));
        assert_eq!(frame_type("[]"), "");
        assert_eq!(frame_type(r#"{"a":1,"type":"joined"}"#), "joined");
    }

    #[test]
    fn spread_puts_senders_first_and_balances() {
        let at = spread(200, 10, 2);
        assert!(at[..10].iter().all(|&i| i == 0));
        // 95 receivers on each instance.
        assert_eq!(at[10..].iter().filter(|&&i| i == 0).count(), 95);
        assert_eq!(at[10..].iter().filter(|&&i| i == 1).count(), 95);
        assert_eq!(spread(5, 1, 1), vec![0; 5]);
        assert_eq!(spread(5, 2, 2), vec![0, 0, 0, 1, 0]);
        assert_eq!(spread(5, 0, 3), vec![0, 1, 2, 0, 1]);
    }
}
