//! Live room use cases: what a member does over the WebSocket (join, chat, danmaku,
//! playback, player status), and what the room does when its wait gate opens.
//!
//! The WebSocket session only decodes a frame, calls one of these and encodes the
//! answer; the rules live here and in `service`. Every action re-reads the caller's
//! membership and role: a member kicked a second ago cannot send, and a demoted host
//! cannot control playback.

use chrono::Utc;

use super::service as rooms;
use crate::danmaku::dto::CreateDanmakuRequest;
use crate::entities::room;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::realtime::SocketMessages;
use crate::realtime::hub::{ConnHandle, GateOpened, GateTicket, waiting_frame};
use crate::realtime::protocol::{ClientMessage, MemberPresence, PlaybackAction, ServerMessage};
use crate::realtime::sync::{self, SyncError};
use crate::rooms::domain::PresenceStatus;
use crate::state::AppState;
use futures_util::future::BoxFuture;

/// Play starts this far in the future so every member can start together.
pub const PLAY_LEAD_MS: i64 = 500;
/// Pause, seek, rate and movie changes.
pub const LEAD_MS: i64 = 300;
/// How long "wait for everyone" waits for buffering members.
pub const GATE_MS: i64 = 8_000;
/// How many missed messages a reconnect may ask for before it is told to reload.
const MAX_CATCH_UP: i64 = 500;

/// The socket's room messages, for the realtime session (given to `Realtime::start`).
pub struct SocketRooms;

impl SocketMessages for SocketRooms {
    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        conn: &'a ConnHandle,
        name: &'a str,
        msg: ClientMessage,
    ) -> BoxFuture<'a, AppResult<Option<ServerMessage>>> {
        let me = conn.user_id;
        Box::pin(async move {
            match msg {
                ClientMessage::Join { room_id, last_seq } => {
                    join(state, conn.clone(), name, room_id, last_seq)
                        .await
                        .map(Some)
                }
                ClientMessage::Chat {
                    room_id,
                    client_id,
                    text,
                    position_ms,
                } => chat(state, me, room_id, &client_id, &text, position_ms)
                    .await
                    .map(Some),
                ClientMessage::DeleteMessage { room_id, seq } => {
                    delete_message(state, me, room_id, seq).await.map(|()| None)
                }
                ClientMessage::Playback {
                    room_id,
                    action,
                    req_id,
                } => playback(state, me, room_id, action, req_id)
                    .await
                    .map(|()| None),
                ClientMessage::Danmaku {
                    room_id,
                    client_id,
                    position_ms,
                    text,
                    mode,
                    color,
                } => {
                    let req = CreateDanmakuRequest {
                        position_ms,
                        text,
                        mode,
                        color,
                        client_id: Some(client_id),
                    };
                    danmaku(state, me, room_id, req).await
                }
                // The session handles the rest itself.
                ClientMessage::TimeSync { .. }
                | ClientMessage::Leave { .. }
                | ClientMessage::PlayerStatus { .. }
                | ClientMessage::MessageSend { .. }
                | ClientMessage::MessageRead { .. }
                | ClientMessage::Typing { .. } => Ok(None),
            }
        })
    }
}

/// Subscribe `conn` to the room and answer `joined`.
pub async fn join(
    state: &AppState,
    conn: ConnHandle,
    name: &str,
    room_id: i64,
    last_seq: Option<i64>,
) -> AppResult<ServerMessage> {
    let db = &state.db;
    let room = rooms::find_room(db, room_id).await?;
    let me = rooms::require_member(db, &room, conn.user_id).await?;
    let presence = MemberPresence {
        user_id: conn.user_id,
        name: name.to_owned(),
        role: me.role,
        online: true,
        status: PresenceStatus::Joining,
        muted_until: rooms::muted_until(&me),
    };
    let members = state.realtime.join(room_id, conn, presence).await;
    // Subscribed first, read second: nothing committed in between can be missed (a
    // message both read and broadcast is deduplicated by `seq` on the client).
    let room = rooms::find_room(db, room_id).await?;
    let (messages, reload) = match last_seq {
        Some(s) if s >= 0 && s <= room.last_seq && room.last_seq - s <= MAX_CATCH_UP => (
            rooms::messages_after(db, room_id, s, MAX_CATCH_UP as u64).await?,
            false,
        ),
        // Too far behind, or ahead of the room (a client that kept history of a room
        // deleted and made again, or a bug): start over from the newest messages.
        other => {
            let mut recent =
                rooms::messages_before(db, room_id, None, rooms::HISTORY_ON_JOIN).await?;
            recent.reverse();
            (recent, other.is_some())
        }
    };
    Ok(ServerMessage::Joined {
        room_id,
        playback: rooms::playback_of(&room),
        members,
        member_count: room.member_count,
        messages,
        reload,
        last_seq: room.last_seq,
    })
}

/// Tell the room how many members it has now (after a join, leave, kick or ban).
pub async fn announce_member_count(state: &AppState, room_id: i64) -> AppResult<()> {
    let room = rooms::find_room(&state.db, room_id).await?;
    let msg = ServerMessage::MemberCount {
        room_id,
        member_count: room.member_count,
    };
    state.realtime.broadcast(room_id, &msg).await;
    Ok(())
}

/// Store a chat message in the room's order; answers the `chat_ack`.
pub async fn chat(
    state: &AppState,
    user_id: i64,
    room_id: i64,
    client_id: &str,
    text: &str,
    position_ms: Option<i64>,
) -> AppResult<ServerMessage> {
    let checked = rooms::check_chat(&state.db, room_id, user_id, client_id, text).await?;
    let message = match state
        .chat
        .submit(room_id, user_id, client_id, checked, position_ms)
        .await?
    {
        rooms::Stored::New(m) => {
            notify_mentions(state, user_id, room_id, &m.text).await;
            m
        }
        rooms::Stored::Duplicate(m) => m,
    };
    Ok(ServerMessage::ChatAck {
        room_id,
        client_id: client_id.to_owned(),
        seq: message.seq,
        message,
    })
}

/// Tell the room's members named by `@name` in a new chat message (a failure is only
/// logged: the message is stored and delivered already).
async fn notify_mentions(state: &AppState, actor: i64, room_id: i64, text: &str) {
    use crate::notifications::domain::{NewNotification, NotificationKind, NotificationPayload};
    use crate::notifications::service::{mentioned_users, notify};
    if !text.contains('@') {
        return;
    }
    let result = async {
        for user in mentioned_users(&state.db, actor, text).await? {
            if rooms::membership(&state.db, room_id, user).await?.is_some() {
                let n = NewNotification {
                    kind: NotificationKind::Mention,
                    actor_id: Some(actor),
                    payload: NotificationPayload {
                        room_id: Some(room_id),
                        excerpt: Some(text.chars().take(80).collect()),
                        ..Default::default()
                    },
                };
                notify(&state.db, &state.realtime, user, n).await?;
            }
        }
        Ok::<(), AppError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e.detail, room = room_id, "mention notifications");
    }
}

/// A live danmaku: stored for the movie, shown to the room. Answers the message for the
/// sender alone when it was a resend (the room saw it already).
pub async fn danmaku(
    state: &AppState,
    user_id: i64,
    room_id: i64,
    req: CreateDanmakuRequest,
) -> AppResult<Option<ServerMessage>> {
    let room = rooms::find_room(&state.db, room_id).await?;
    let me = rooms::require_member(&state.db, &room, user_id).await?;
    rooms::check_not_muted(&me)?;
    let movie_id = rooms::playback_of(&room)
        .movie_id
        .or(room.movie_id)
        .ok_or_else(|| AppError::validation("room_id", "nothing is playing in this room"))?;
    let (danmaku, new) = crate::danmaku::service::create(
        &state.db,
        &state.limiter,
        user_id,
        movie_id,
        Some(room_id),
        req,
    )
    .await?;
    let msg = ServerMessage::Danmaku { room_id, danmaku };
    if new {
        state.realtime.broadcast(room_id, &msg).await;
        Ok(None)
    } else {
        Ok(Some(msg))
    }
}

pub async fn delete_message(
    state: &AppState,
    user_id: i64,
    room_id: i64,
    seq: i64,
) -> AppResult<()> {
    rooms::delete_message(&state.db, room_id, user_id, seq).await?;
    state
        .realtime
        .broadcast(room_id, &ServerMessage::MessageDeleted { room_id, seq })
        .await;
    Ok(())
}

/// The caller may control playback in this room, as the room and their role are now.
async fn may_control(state: &AppState, room: &room::Model, user_id: i64) -> AppResult<()> {
    let me = rooms::require_member(&state.db, room, user_id).await?;
    if me.role.may_control(room.control_mode) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the host and moderators control playback in this room",
        ))
    }
}

/// A playback command. A play while members are not ready waits behind the room's gate.
pub async fn playback(
    state: &AppState,
    user_id: i64,
    room_id: i64,
    action: PlaybackAction,
    req_id: Option<String>,
) -> AppResult<()> {
    let db = &state.db;
    let room = rooms::find_room(db, room_id).await?;
    may_control(state, &room, user_id).await?;
    if let PlaybackAction::ChangeMovie { movie_id } = &action {
        crate::catalog::find_ready(db, *movie_id)
            .await
            .map_err(|e| match e.code {
                ErrorCode::NotFound => AppError::validation("movie_id", "no such movie"),
                _ => e,
            })?;
    }
    if action == PlaybackAction::Play && !state.realtime.not_ready(room_id).await.is_empty() {
        let ticket = GateTicket {
            by: user_id,
            req_id,
            version: rooms::playback_of(&room).version,
        };
        let deadline = Utc::now().timestamp_millis() + GATE_MS;
        state.realtime.open_gate(room_id, deadline, ticket).await;
        return Ok(());
    }
    let is_play = action == PlaybackAction::Play;
    apply_and_broadcast(state, room_id, action, Some(user_id), req_id, Some(room), 3).await?;
    if !is_play {
        // A pause, seek, rate or movie change voids a play that was waiting.
        state.realtime.cancel_gate(room_id).await;
    }
    Ok(())
}

/// The rooms side of the wait gate: each opened gate is checked against the room as it
/// is now. The waiting play is applied only if nothing changed the playback meanwhile and
/// its requester may still control the room; then the end of the wait is announced
/// (after the `playback_state`, as documented).
pub async fn run_gates(
    state: AppState,
    mut events: tokio::sync::mpsc::UnboundedReceiver<GateOpened>,
) {
    while let Some(ev) = events.recv().await {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = gated_play(&state, &ev).await {
                tracing::warn!(room_id = ev.room_id, error = %e, "gated play failed");
            }
            let done = waiting_frame(ev.room_id, vec![], ev.deadline);
            state.realtime.broadcast(ev.room_id, &done).await;
        });
    }
}

async fn gated_play(state: &AppState, ev: &GateOpened) -> AppResult<()> {
    let room = rooms::find_room(&state.db, ev.room_id).await?;
    if rooms::playback_of(&room).version != ev.ticket.version {
        return Ok(()); // a later command won
    }
    if may_control(state, &room, ev.ticket.by).await.is_err() {
        return Ok(()); // the requester was demoted or removed meanwhile
    }
    // One try: a conflict means another command won the race, and it wins.
    apply_and_broadcast(
        state,
        ev.room_id,
        PlaybackAction::Play,
        Some(ev.ticket.by),
        ev.ticket.req_id.clone(),
        Some(room),
        1,
    )
    .await
}

/// Apply `action` to the stored anchor (re-reading and retrying up to `attempts` times
/// if another command won the race) and broadcast the new state.
///
/// `fresh` is the room as the caller just read it (saves a query on the first try).
pub async fn apply_and_broadcast(
    state: &AppState,
    room_id: i64,
    action: PlaybackAction,
    by: Option<i64>,
    req_id: Option<String>,
    mut fresh: Option<room::Model>,
    attempts: u32,
) -> AppResult<()> {
    for _ in 0..attempts {
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
            state
                .realtime
                .broadcast(
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
async fn movie_duration(state: &AppState, id: i64) -> AppResult<Option<i64>> {
    state.movie_durations.of(&state.db, id).await
}
