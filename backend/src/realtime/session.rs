//! One WebSocket connection: a single `select!` loop over client frames, the outbound
//! queue, the heartbeat and the shutdown signal.
//!
//! Limits, each a test: frames over `MAX_FRAME` close the connection with 1009; more than
//! `RATE` frames a second (burst `BURST`) are answered `rate_limited`, and a client that
//! keeps going is closed with 1008; a client silent for `IDLE` (pings unanswered) is
//! closed; a full outbound queue means the client is too slow and it is closed with 1008
//! (it recovers by reconnecting with `last_seq`). Malformed frames get an `error` answer
//! and the connection stays.
//!
//! Frames to the client go through one bounded queue ([`Outbox`]) that the hub feeds
//! directly; this loop only reads, answers and keeps time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use actix_ws::{CloseCode, CloseReason, MessageStream, ProtocolError};
use chrono::Utc;
use tokio::sync::{Notify, oneshot};

use super::Realtime;
use super::hub::{ConnHandle, HubCmd};
use super::outbound::{Out, Outbox, Sent};
use super::protocol::{ClientMessage, MemberPresence, PlaybackAction, ServerMessage};
use super::sync::{self, ControlMode, Role, SyncError};
use crate::entities::movie;
use crate::error::{AppError, ErrorCode};
use crate::rooms::service as rooms;
use crate::state::AppState;
use sea_orm::EntityTrait;

pub const MAX_FRAME: usize = 16 * 1024;
pub const QUEUE: usize = 256;
pub const PING_EVERY: Duration = Duration::from_secs(15);
pub const IDLE: Duration = Duration::from_secs(45);
const RATE: f64 = 10.0;
const BURST: f64 = 20.0;
const MAX_STRIKES: u32 = 50;
/// Play starts this far in the future so every member can start together.
pub const PLAY_LEAD_MS: i64 = 500;
/// Pause, seek, rate and movie changes.
pub const LEAD_MS: i64 = 300;
/// How long "wait for everyone" waits for buffering members.
pub const GATE_MS: i64 = 8_000;
/// How many missed messages a reconnect may ask for before it is told to reload.
const MAX_CATCH_UP: i64 = 500;

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * RATE).min(BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
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

fn problem(e: &AppError, room_id: Option<i64>, req_id: Option<String>) -> ServerMessage {
    ServerMessage::Error {
        code: e.code.as_str(),
        message: e.detail.clone(),
        room_id,
        req_id,
    }
}

pub async fn run(
    state: actix_web::web::Data<AppState>,
    me: Identity,
    outbox: Outbox,
    stream: MessageStream,
) {
    let rt = state.realtime.clone();
    let kick = Arc::new(Notify::new());
    let handle = ConnHandle {
        id: rt.next_conn_id(),
        user_id: me.user_id,
        tx: outbox,
        kick: kick.clone(),
    };
    let mut stream = stream
        .max_frame_size(MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME);
    let welcome = ServerMessage::Welcome {
        user_id: me.user_id,
        server_time: Utc::now().timestamp_millis(),
        ping_interval_ms: PING_EVERY.as_millis() as u64,
    };
    if handle.tx.text(welcome.to_json()) != Sent::Queued {
        return;
    }
    let mut conn = Conn {
        state,
        rt: rt.clone(),
        me,
        handle,
        too_slow: false,
    };
    let mut shutdown = rt.shutdown_signal();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_seen = Instant::now();
    let mut bucket = Bucket {
        tokens: BURST,
        at: Instant::now(),
    };
    let mut strikes = 0u32;
    let close: Option<CloseReason> = loop {
        tokio::select! {
            msg = stream.recv() => {
                last_seen = Instant::now();
                match msg {
                    Some(Ok(actix_ws::AggregatedMessage::Text(text))) => {
                        if !bucket.take() {
                            strikes += 1;
                            if strikes > MAX_STRIKES {
                                break Some(CloseReason { code: CloseCode::Policy, description: Some("rate limit".into()) });
                            }
                            conn.send(&ServerMessage::error("rate_limited", "slow down: at most 10 messages a second"));
                            continue;
                        }
                        conn.handle_text(&text).await;
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Binary(_))) => {
                        conn.send(&ServerMessage::error("invalid_message", "binary frames are not supported"));
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Ping(b))) => conn.push(Out::Pong(b)),
                    Some(Ok(actix_ws::AggregatedMessage::Pong(_))) => {}
                    Some(Ok(actix_ws::AggregatedMessage::Close(_))) | None => break None,
                    Some(Err(ProtocolError::Overflow)) => {
                        break Some(CloseReason { code: CloseCode::Size, description: Some("frame too large".into()) });
                    }
                    Some(Err(_)) => break Some(CloseReason { code: CloseCode::Protocol, description: None }),
                }
            }
            _ = kick.notified() => {
                break Some(CloseReason { code: CloseCode::Policy, description: Some("too slow: reconnect".into()) });
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > IDLE {
                    break Some(CloseReason { code: CloseCode::Normal, description: Some("idle".into()) });
                }
                conn.push(Out::Ping(Bytes::new()));
            }
            _ = shutdown.changed() => {
                break Some(CloseReason { code: CloseCode::Away, description: Some("server restarting: reconnect".into()) });
            }
        }
        if conn.too_slow {
            break Some(CloseReason {
                code: CloseCode::Policy,
                description: Some("too slow: reconnect".into()),
            });
        }
    };
    let _ = rt
        .hub
        .send(HubCmd::Disconnect {
            conn_id: conn.handle.id,
        })
        .await;
    // Best effort: a client too slow to take one more frame is cut off without it.
    conn.handle.tx.send(Out::Close(close));
}

impl Conn {
    /// Queue a frame for this client; a full queue marks the connection too slow.
    fn push(&mut self, out: Out) {
        if self.handle.tx.send(out) == Sent::Full {
            self.too_slow = true;
        }
    }

    fn send(&mut self, msg: &ServerMessage) {
        self.push(Out::Text(msg.to_json().into()));
    }

    async fn handle_text(&mut self, text: &str) {
        let msg: ClientMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                self.send(&ServerMessage::error(
                    "invalid_message",
                    format!("malformed message: {e}"),
                ));
                return;
            }
        };
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
            ClientMessage::Join { room_id, last_seq } => {
                if let Err(e) = self.join(room_id, last_seq).await {
                    self.send(&problem(&e, Some(room_id), None));
                }
            }
            ClientMessage::Leave { room_id } => {
                let _ = self
                    .rt
                    .hub
                    .send(HubCmd::Leave {
                        room_id,
                        conn_id: self.handle.id,
                    })
                    .await;
                self.send(&ServerMessage::Left { room_id });
            }
            ClientMessage::Chat {
                room_id,
                client_id,
                text,
                position_ms,
            } => {
                if let Err(e) = self.chat(room_id, &client_id, &text, position_ms).await {
                    self.send(&problem(&e, Some(room_id), Some(client_id)));
                }
            }
            ClientMessage::DeleteMessage { room_id, seq } => {
                match rooms::delete_message(&self.state.db, room_id, self.me.user_id, seq).await {
                    Ok(()) => {
                        self.rt
                            .broadcast(room_id, &ServerMessage::MessageDeleted { room_id, seq })
                            .await
                    }
                    Err(e) => self.send(&problem(&e, Some(room_id), None)),
                }
            }
            ClientMessage::Playback {
                room_id,
                action,
                req_id,
            } => {
                if let Err(e) = self.playback(room_id, action, req_id.clone()).await {
                    self.send(&problem(&e, Some(room_id), req_id));
                }
            }
            ClientMessage::Danmaku {
                room_id,
                client_id,
                position_ms,
                text,
                mode,
                color,
            } => {
                let req = crate::danmaku::dto::CreateDanmakuRequest {
                    position_ms,
                    text,
                    mode,
                    color,
                    client_id: Some(client_id.clone()),
                };
                if let Err(e) = self.danmaku(room_id, req).await {
                    self.send(&problem(&e, Some(room_id), Some(client_id)));
                }
            }
            ClientMessage::PlayerStatus {
                room_id, status, ..
            } => {
                let status = match status {
                    super::protocol::PlayerStatus::Ready => "ready",
                    super::protocol::PlayerStatus::Buffering => "buffering",
                };
                let _ = self
                    .rt
                    .hub
                    .send(HubCmd::Status {
                        room_id,
                        conn_id: self.handle.id,
                        status: status.to_owned(),
                    })
                    .await;
            }
        }
    }

    async fn join(&mut self, room_id: i64, last_seq: Option<i64>) -> Result<(), AppError> {
        let db = &self.state.db;
        let room = rooms::find_room(db, room_id).await?;
        let me = rooms::require_member(db, &room, self.me.user_id).await?;
        let (reply, rx) = oneshot::channel();
        let presence = MemberPresence {
            user_id: self.me.user_id,
            name: self.me.name.clone(),
            role: me.role.clone(),
            online: true,
            status: "joining".to_owned(),
        };
        self.rt
            .hub
            .send(HubCmd::Join {
                room_id,
                conn: self.handle.clone(),
                presence,
                reply,
            })
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("hub stopped")))?;
        let online = rx.await.unwrap_or_default();
        // Subscribed first, read second: nothing committed in between can be missed
        // (a message both read and broadcast is deduplicated by `seq` on the client).
        let room = rooms::find_room(db, room_id).await?;
        let (messages, reload) = match last_seq {
            Some(s) if s >= 0 && room.last_seq - s <= MAX_CATCH_UP => (
                rooms::messages_after(db, room_id, s, MAX_CATCH_UP as u64).await?,
                false,
            ),
            other => {
                let mut recent =
                    rooms::messages_before(db, room_id, None, rooms::HISTORY_ON_JOIN).await?;
                recent.reverse();
                (recent, other.is_some())
            }
        };
        let members = rooms::members(db, room_id, self.me.user_id)
            .await?
            .into_iter()
            .map(|m| {
                let live = online.iter().find(|p| p.user_id == m.user_id);
                MemberPresence {
                    user_id: m.user_id,
                    name: m.name,
                    role: m.role,
                    online: live.is_some_and(|p| p.online),
                    status: live
                        .map(|p| p.status.clone())
                        .unwrap_or_else(|| "offline".to_owned()),
                }
            })
            .collect();
        let joined = ServerMessage::Joined {
            room_id,
            playback: rooms::playback_of(&room),
            members,
            messages,
            reload,
            last_seq: room.last_seq,
        };
        self.send(&joined);
        Ok(())
    }

    async fn chat(
        &mut self,
        room_id: i64,
        client_id: &str,
        text: &str,
        position_ms: Option<i64>,
    ) -> Result<(), AppError> {
        let stored = rooms::store_chat(
            &self.state.db,
            room_id,
            self.me.user_id,
            client_id,
            text,
            position_ms,
        )
        .await?;
        let (message, new) = match stored {
            rooms::Stored::New(m) => (m, true),
            rooms::Stored::Duplicate(m) => (m, false),
        };
        let ack = ServerMessage::ChatAck {
            room_id,
            client_id: client_id.to_owned(),
            seq: message.seq,
            message: message.clone(),
        };
        self.send(&ack);
        if new {
            self.rt
                .broadcast(room_id, &ServerMessage::Chat { message })
                .await;
        }
        Ok(())
    }

    async fn danmaku(
        &mut self,
        room_id: i64,
        req: crate::danmaku::dto::CreateDanmakuRequest,
    ) -> Result<(), AppError> {
        let room = rooms::find_room(&self.state.db, room_id).await?;
        rooms::require_member(&self.state.db, &room, self.me.user_id).await?;
        let movie_id = rooms::playback_of(&room)
            .movie_id
            .or(room.movie_id)
            .ok_or_else(|| AppError::validation("room_id", "nothing is playing in this room"))?;
        let (danmaku, new) = crate::danmaku::service::create(
            &self.state,
            self.me.user_id,
            movie_id,
            Some(room_id),
            req,
        )
        .await?;
        let msg = ServerMessage::Danmaku { room_id, danmaku };
        if new {
            self.rt.broadcast(room_id, &msg).await;
        } else {
            self.send(&msg);
        }
        Ok(())
    }

    async fn playback(
        &mut self,
        room_id: i64,
        action: PlaybackAction,
        req_id: Option<String>,
    ) -> Result<(), AppError> {
        let db = &self.state.db;
        let room = rooms::find_room(db, room_id).await?;
        let me = rooms::require_member(db, &room, self.me.user_id).await?;
        if !sync::may_control(
            ControlMode::parse(&room.control_mode),
            Role::parse(&me.role),
        ) {
            return Err(AppError::forbidden(
                "only the host and moderators control playback in this room",
            ));
        }
        if let PlaybackAction::ChangeMovie { movie_id } = &action {
            let ok = movie::Entity::find_by_id(*movie_id)
                .one(db)
                .await?
                .is_some_and(|m| m.status == "ready");
            if !ok {
                return Err(AppError::validation("movie_id", "no such movie"));
            }
        }
        if action == PlaybackAction::Play {
            let (reply, rx) = oneshot::channel();
            let _ = self.rt.hub.send(HubCmd::NotReady { room_id, reply }).await;
            if !rx.await.unwrap_or_default().is_empty() {
                let (state, rt, by) = (self.state.clone(), self.rt.clone(), self.me.user_id);
                let deadline = Utc::now().timestamp_millis() + GATE_MS;
                let on_open = Box::new(move || {
                    tokio::spawn(async move {
                        if let Err(e) = apply_and_broadcast(
                            &state,
                            &rt,
                            room_id,
                            PlaybackAction::Play,
                            Some(by),
                            None,
                            None,
                        )
                        .await
                        {
                            tracing::warn!(room_id, error = %e, "gated play failed");
                        }
                    });
                });
                let _ = self
                    .rt
                    .hub
                    .send(HubCmd::Gate {
                        room_id,
                        deadline,
                        on_open,
                    })
                    .await;
                return Ok(());
            }
        }
        apply_and_broadcast(
            &self.state,
            &self.rt,
            room_id,
            action,
            Some(self.me.user_id),
            req_id,
            Some(room),
        )
        .await
    }
}

/// Apply `action` to the stored anchor (retrying once if another command won the race)
/// and broadcast the new state.
///
/// `fresh` is the room as the caller just read it (saves a query on the first try); a
/// lost race re-reads it.
pub async fn apply_and_broadcast(
    state: &AppState,
    rt: &Realtime,
    room_id: i64,
    action: PlaybackAction,
    by: Option<i64>,
    req_id: Option<String>,
    mut fresh: Option<crate::entities::room::Model>,
) -> Result<(), AppError> {
    for _ in 0..3 {
        let room = match fresh.take() {
            Some(r) => r,
            None => rooms::find_room(&state.db, room_id).await?,
        };
        let current = rooms::playback_of(&room);
        let movie_id = match &action {
            PlaybackAction::ChangeMovie { movie_id } => Some(*movie_id),
            _ => current.movie_id,
        };
        let duration = match movie_id {
            Some(id) => movie_duration(state, id).await?,
            None => None,
        };
        let lead = if action == PlaybackAction::Play {
            PLAY_LEAD_MS
        } else {
            LEAD_MS
        };
        let next = sync::apply(
            &current,
            &action,
            Utc::now().timestamp_millis(),
            lead,
            duration,
        )
        .map_err(|e| match e {
            SyncError::Forbidden => AppError::forbidden("not allowed"),
            SyncError::Invalid(why) => AppError::new(ErrorCode::ValidationFailed, why),
        })?;
        if rooms::save_playback(&state.db, room_id, current.version, &next).await? {
            rt.broadcast(
                room_id,
                &ServerMessage::PlaybackState {
                    room_id,
                    state: next,
                    by,
                    req_id,
                },
            )
            .await;
            return Ok(());
        }
    }
    Err(AppError::new(
        ErrorCode::Conflict,
        "the room's playback changed meanwhile; try again",
    ))
}

/// A movie's duration, from the shared cache when possible.
async fn movie_duration(state: &AppState, id: i64) -> Result<Option<i64>, AppError> {
    if let Some(d) = state.movie_durations.get(&id) {
        return Ok(d);
    }
    let d = movie::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .and_then(|m| m.duration_ms);
    state.movie_durations.insert(id, d);
    Ok(d)
}
