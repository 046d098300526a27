//! One WebSocket connection: a single `select!` loop over client frames, the heartbeat,
//! the idle deadline and the shutdown signal. It decodes a frame, calls the room use case
//! (`rooms::live`) and encodes the answer; the rules live there.
//!
//! Limits, each a test: frames over `MAX_FRAME` close the connection with 1009; more than
//! `RATE` frames a second (burst `BURST`) are answered `rate_limited`, each such frame a
//! strike; strikes decay at `RATE` per second, and a client that collects more than
//! `MAX_STRIKES` is closed with 1008 (so a long session with an occasional burst is never
//! cut). A client silent for the idle timeout (pings unanswered) is closed at that moment
//! with 1000 `idle`. A full outbound queue means the client is too slow: it gets close
//! 1008 `too slow: reconnect` ahead of what is queued, and a socket that does not even
//! take that is dropped by the kernel's write timeout (`TCP_USER_TIMEOUT`, set on accept).
//! Malformed frames get an `error` answer and the connection stays.
//!
//! Frames to the client go through one bounded queue ([`Outbox`]) that the hub feeds
//! directly; this loop only reads, answers and keeps time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use actix_ws::{CloseCode, CloseReason, MessageStream, ProtocolError};
use chrono::Utc;
use tokio::sync::Notify;

use super::Realtime;
use super::hub::ConnHandle;
use super::outbound::{Frame, Out, Outbox, Sent};
use super::protocol::{ClientMessage, ServerMessage};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub const MAX_FRAME: usize = 16 * 1024;
pub const QUEUE: usize = 256;
const RATE: f64 = 10.0;
const BURST: f64 = 20.0;
const MAX_STRIKES: f64 = 50.0;

/// Token bucket for frames, and the strikes of a client that ignores it.
struct Limiter {
    tokens: f64,
    strikes: f64,
    at: Instant,
}

impl Limiter {
    fn new(now: Instant) -> Self {
        Self {
            tokens: BURST,
            strikes: 0.0,
            at: now,
        }
    }

    /// Whether a frame may pass at `now`; `Err` when the client must be closed.
    fn take(&mut self, now: Instant) -> Result<bool, ()> {
        let dt = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + dt * RATE).min(BURST);
        self.strikes = (self.strikes - dt * RATE).max(0.0);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(true);
        }
        self.strikes += 1.0;
        if self.strikes > MAX_STRIKES {
            Err(())
        } else {
            Ok(false)
        }
    }
}

pub struct Identity {
    pub user_id: i64,
    pub name: String,
}

struct Conn {
    state: actix_web::web::Data<AppState>,
    rt: Realtime,
    me: Identity,
    handle: ConnHandle,
    /// Set when the outbound queue was found full: the loop closes the connection.
    too_slow: bool,
}

/// What a failed message was about, echoed in the `error`.
#[derive(Clone, Copy)]
enum Target {
    Room(i64),
    Conversation(i64),
}

fn problem(e: &AppError, about: Target, req_id: Option<String>) -> ServerMessage {
    let (room_id, conversation_id) = match about {
        Target::Room(id) => (Some(id), None),
        Target::Conversation(id) => (None, Some(id)),
    };
    ServerMessage::Error {
        code: e.code,
        message: e.detail.clone(),
        room_id,
        conversation_id,
        req_id,
    }
}

fn close(code: CloseCode, why: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code,
        description: Some(why.into()),
    })
}

pub async fn run(
    state: actix_web::web::Data<AppState>,
    me: Identity,
    outbox: Outbox,
    stream: MessageStream,
) {
    let rt = state.realtime.clone();
    let ping_every = Duration::from_millis(state.settings.realtime.ping_interval_ms.max(10));
    let idle = Duration::from_millis(state.settings.realtime.idle_timeout_ms.max(10));
    let kick = Arc::new(Notify::new());
    let handle = ConnHandle {
        id: rt.next_conn_id(),
        user_id: me.user_id,
        tx: outbox,
        kick: kick.clone(),
        worker: rt.this_worker(),
    };
    let mut stream = stream
        .max_frame_size(MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME);
    let welcome = ServerMessage::Welcome {
        user_id: me.user_id,
        server_time: Utc::now().timestamp_millis(),
        ping_interval_ms: ping_every.as_millis() as u64,
    };
    if handle.tx.text(Frame::json(&welcome)) != Sent::Queued {
        return;
    }
    rt.connect(handle.clone()).await;
    let mut conn = Conn {
        state,
        rt: rt.clone(),
        me,
        handle,
        too_slow: false,
    };
    let mut shutdown = rt.shutdown_signal();
    let mut ping = tokio::time::interval(ping_every);
    ping.tick().await;
    let idle_at = tokio::time::sleep(idle);
    tokio::pin!(idle_at);
    let mut limiter = Limiter::new(Instant::now());
    let reason: Option<CloseReason> = loop {
        tokio::select! {
            msg = stream.recv() => {
                idle_at.as_mut().reset(tokio::time::Instant::now() + idle);
                match msg {
                    Some(Ok(actix_ws::AggregatedMessage::Text(text))) => {
                        match limiter.take(Instant::now()) {
                            Ok(true) => conn.handle_text(&text).await,
                            Ok(false) => conn.send(&ServerMessage::error(
                                ErrorCode::RateLimited,
                                "slow down: at most 10 messages a second",
                            )),
                            Err(()) => break close(CloseCode::Policy, "rate limit"),
                        }
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Binary(_))) => {
                        conn.send(&ServerMessage::error(ErrorCode::InvalidMessage, "binary frames are not supported"));
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Ping(b))) => conn.push(Out::Pong(b)),
                    Some(Ok(actix_ws::AggregatedMessage::Pong(_))) => {}
                    Some(Ok(actix_ws::AggregatedMessage::Close(_))) | None => break None,
                    Some(Err(ProtocolError::Overflow)) => break close(CloseCode::Size, "frame too large"),
                    Some(Err(_)) => break Some(CloseReason { code: CloseCode::Protocol, description: None }),
                }
            }
            _ = kick.notified() => {
                conn.too_slow = true;
            }
            _ = &mut idle_at => break close(CloseCode::Normal, "idle"),
            _ = ping.tick() => conn.push(Out::Ping(Bytes::new())),
            _ = shutdown.changed() => {
                break close(CloseCode::Away, "server restarting: reconnect");
            }
        }
        if conn.too_slow {
            // Ahead of the frames it could not take: it reconnects with `last_seq`.
            rt.disconnect(conn.handle.id).await;
            if let Some(r) = close(CloseCode::Policy, "too slow: reconnect") {
                conn.handle.tx.close_now(r);
            }
            return;
        }
    };
    rt.disconnect(conn.handle.id).await;
    conn.handle.tx.close(reason);
}

impl Conn {
    /// Queue a frame for this client; a full queue marks the connection too slow.
    fn push(&mut self, out: Out) {
        if self.handle.tx.send(out) == Sent::Full {
            self.too_slow = true;
        }
    }

    fn send(&mut self, msg: &ServerMessage) {
        self.push(Out::Text(Frame::json(msg)));
    }

    fn answer(
        &mut self,
        result: Result<Option<ServerMessage>, AppError>,
        about: Target,
        tag: Option<String>,
    ) {
        match result {
            Ok(Some(msg)) => self.send(&msg),
            Ok(None) => {}
            Err(e) => self.send(&problem(&e, about, tag)),
        }
    }

    async fn handle_text(&mut self, text: &str) {
        let msg: ClientMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                self.send(&ServerMessage::error(
                    ErrorCode::InvalidMessage,
                    format!("malformed message: {e}"),
                ));
                return;
            }
        };
        let state = self.state.clone();
        match msg {
            ClientMessage::TimeSync { client_time } => {
                let now = Utc::now();
                let server_time = now.timestamp_millis() as f64
                    + f64::from(now.timestamp_subsec_micros() % 1000) / 1000.0;
                self.send(&ServerMessage::TimeSync {
                    client_time,
                    server_time,
                });
            }
            ClientMessage::Leave { room_id } => {
                self.rt.leave(room_id, self.handle.id).await;
                self.send(&ServerMessage::Left { room_id });
            }
            msg @ (ClientMessage::Join { .. }
            | ClientMessage::Chat { .. }
            | ClientMessage::DeleteMessage { .. }
            | ClientMessage::Playback { .. }
            | ClientMessage::Danmaku { .. }) => {
                let (room_id, tag) = msg.room_and_tag();
                let r = self
                    .rt
                    .handlers
                    .rooms
                    .handle(&state, &self.handle, &self.me.name, msg)
                    .await;
                self.answer(r, Target::Room(room_id), tag);
            }
            msg @ (ClientMessage::MessageSend { .. }
            | ClientMessage::MessageRead { .. }
            | ClientMessage::Typing { .. }) => {
                let (conversation_id, tag) = msg.conversation_and_tag();
                let r = self
                    .rt
                    .handlers
                    .conversations
                    .handle(&state, &self.handle, &self.me.name, msg)
                    .await;
                self.answer(r, Target::Conversation(conversation_id), tag);
            }
            ClientMessage::PlayerStatus {
                room_id, status, ..
            } => {
                if !self
                    .rt
                    .set_status(room_id, self.handle.id, status.into())
                    .await
                {
                    let e = AppError::new(
                        ErrorCode::NotJoined,
                        "join the room on this connection before reporting the player's status",
                    );
                    self.send(&problem(&e, Target::Room(room_id), None));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strikes_decay_so_occasional_bursts_never_close() {
        let t0 = Instant::now();
        let mut l = Limiter::new(t0);
        // A burst of 40 frames every 10 s for an hour: 20 refused each time, never closed.
        for round in 0..360u64 {
            let at = t0 + Duration::from_secs(round * 10);
            let passed = (0..40).filter(|_| l.take(at) == Ok(true)).count();
            assert_eq!(passed, 20, "round {round}");
        }
        // A flood is still closed.
        let at = t0 + Duration::from_secs(4000);
        assert!((0..100).any(|_| l.take(at).is_err()));
    }
}
