//! The WebSocket protocol: JSON text frames, each an object with a snake_case `type`.
//! Both directions are tagged enums so that an unknown or malformed frame is one
//! `error` answer, never a dropped connection. `docs/realtime.md` documents every
//! message with examples; the schemas are in `openapi.yaml` (`ClientMessage`,
//! `ServerMessage`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::sync::PlaybackState;
use crate::conversations::domain::{ConversationMessage, NewMessage};
use crate::rooms::domain::{MessageKind, PresenceStatus, RemovalReason, RoomRole};

/// What a client may send.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Clock sync: the server answers at once with its time.
    TimeSync {
        /// The client's clock (ms) when sending; echoed back.
        client_time: f64,
    },
    /// Start receiving a room's events. `last_seq` (the newest message the client has)
    /// asks for exactly the messages after it; without it the last 50 come.
    Join {
        room_id: i64,
        #[serde(default)]
        last_seq: Option<i64>,
    },
    Leave {
        room_id: i64,
    },
    /// Send a chat message. `client_id` makes the send idempotent: sending the same
    /// id again returns the original message and stores nothing new.
    Chat {
        room_id: i64,
        client_id: String,
        text: String,
        /// The sender's playback position, shown beside the message.
        #[serde(default)]
        position_ms: Option<i64>,
    },
    /// Delete a message (its author, or a moderator).
    DeleteMessage {
        room_id: i64,
        seq: i64,
    },
    /// Ask the room to play, pause, seek, change rate or change movie.
    Playback {
        room_id: i64,
        #[serde(flatten)]
        action: PlaybackAction,
        /// Echoed in the answer or error, to match them up.
        #[serde(default)]
        req_id: Option<String>,
    },
    /// A danmaku at the room's current movie: shown to everyone in the room at once and
    /// stored for the movie. `client_id` makes it idempotent.
    Danmaku {
        room_id: i64,
        client_id: String,
        position_ms: i64,
        text: String,
        #[serde(default)]
        mode: crate::danmaku::dto::DanmakuMode,
        #[serde(default)]
        color: Option<String>,
    },
    /// The player's condition: `ready` (can play at once) or `buffering`.
    PlayerStatus {
        room_id: i64,
        status: PlayerStatus,
        #[serde(default)]
        position_ms: Option<i64>,
    },
    /// Send a message to a conversation (as `POST /conversations/{id}/messages`). The
    /// sender is the connection's user, never a field of the frame. Answered by
    /// `message_ack` after the commit (or `error` with the `client_id` as `req_id`).
    MessageSend {
        conversation_id: i64,
        #[serde(flatten)]
        message: NewMessage,
    },
    /// I have read a conversation up to `seq`.
    MessageRead {
        conversation_id: i64,
        seq: i64,
    },
    /// I am typing in a conversation (send at most every few seconds; never stored).
    Typing {
        conversation_id: i64,
    },
}

impl ClientMessage {
    /// The room a room message is about, and the client's tag for it (`client_id` of a
    /// chat or danmaku, `req_id` of a playback command), which an `error` answer echoes.
    pub fn room_and_tag(&self) -> (i64, Option<String>) {
        match self {
            Self::TimeSync { .. } => (0, None),
            Self::Join { room_id, .. }
            | Self::Leave { room_id }
            | Self::DeleteMessage { room_id, .. }
            | Self::PlayerStatus { room_id, .. } => (*room_id, None),
            Self::Chat {
                room_id, client_id, ..
            }
            | Self::Danmaku {
                room_id, client_id, ..
            } => (*room_id, Some(client_id.clone())),
            Self::Playback {
                room_id, req_id, ..
            } => (*room_id, req_id.clone()),
            Self::MessageSend { .. } | Self::MessageRead { .. } | Self::Typing { .. } => (0, None),
        }
    }

    /// The conversation a conversation message is about, and its `client_id` (echoed in
    /// an `error` as `req_id`).
    pub fn conversation_and_tag(&self) -> (i64, Option<String>) {
        match self {
            Self::MessageSend {
                conversation_id,
                message,
            } => (*conversation_id, Some(message.client_id.clone())),
            Self::MessageRead {
                conversation_id, ..
            }
            | Self::Typing { conversation_id } => (*conversation_id, None),
            _ => (0, None),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PlaybackAction {
    Play,
    Pause,
    Seek { position_ms: i64 },
    Rate { rate: f64 },
    ChangeMovie { movie_id: i64 },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlayerStatus {
    Ready,
    Buffering,
}

impl From<PlayerStatus> for PresenceStatus {
    fn from(s: PlayerStatus) -> Self {
        match s {
            PlayerStatus::Ready => Self::Ready,
            PlayerStatus::Buffering => Self::Buffering,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct ChatMessage {
    pub room_id: i64,
    pub seq: i64,
    /// `None` for system messages.
    pub sender_id: Option<i64>,
    pub sender_name: Option<String>,
    pub client_id: Option<String>,
    pub kind: MessageKind,
    /// Empty once deleted.
    pub text: String,
    pub position_ms: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct MemberPresence {
    pub user_id: i64,
    pub name: String,
    pub role: RoomRole,
    pub online: bool,
    pub status: PresenceStatus,
    /// Set while a moderator's mute holds (compare with the server's clock): no chat and
    /// no danmaku until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<DateTime<Utc>>,
}

/// What the server sends.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Sent once after the upgrade.
    Welcome {
        user_id: i64,
        /// The server's clock (ms since the epoch).
        server_time: i64,
        /// Server ping interval; an idle connection closes after three missed intervals.
        ping_interval_ms: u64,
    },
    TimeSync {
        client_time: f64,
        /// Server clock (ms since the epoch, with a fraction) when answering.
        server_time: f64,
    },
    Joined {
        room_id: i64,
        playback: PlaybackState,
        /// Online members, at most 100 (the full list: `GET /api/v1/rooms/{id}/members`).
        members: Vec<MemberPresence>,
        /// All members of the room, online or not.
        member_count: i32,
        /// The last 50 messages, or exactly those after `last_seq`.
        messages: Vec<ChatMessage>,
        /// True when the messages after `last_seq` can no longer all be given: drop the
        /// local history and use `messages` (the last 50) instead.
        reload: bool,
        /// The room's newest sequence number.
        last_seq: i64,
    },
    Left {
        room_id: i64,
    },
    /// A new message (including your own, after its `chat_ack`).
    Chat {
        message: ChatMessage,
    },
    /// Your message is stored (sent after commit).
    ChatAck {
        room_id: i64,
        client_id: String,
        seq: i64,
        message: ChatMessage,
    },
    MessageDeleted {
        room_id: i64,
        seq: i64,
    },
    /// A danmaku sent live in the room (also to its sender, as the acknowledgement).
    Danmaku {
        room_id: i64,
        danmaku: crate::danmaku::dto::DanmakuResponse,
    },
    /// The room's playback anchor changed: play from `position_ms` at server time
    /// `anchor_time` (possibly slightly in the future) at `rate`.
    PlaybackState {
        room_id: i64,
        state: PlaybackState,
        /// Who caused it (`None` for the server, e.g. the wait gate's deadline).
        by: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
    },
    /// Play was requested but the room waits for these members to be ready, at most
    /// until `deadline` (server ms). An empty list means the wait is over.
    Waiting {
        room_id: i64,
        waiting_for: Vec<i64>,
        deadline: i64,
    },
    Presence {
        room_id: i64,
        member: MemberPresence,
    },
    /// Several presence changes at once (sent instead of many `presence` messages when
    /// a room's presence changes in a burst, e.g. many members joining together).
    PresenceBatch {
        room_id: i64,
        members: Vec<MemberPresence>,
    },
    /// Someone joined the room or left it (by REST, a kick or a ban): how many members it
    /// has now. Presence says who is online; this counts everyone.
    MemberCount {
        room_id: i64,
        member_count: i32,
    },
    /// You were removed from the room.
    Removed {
        room_id: i64,
        reason: RemovalReason,
    },
    Error {
        /// Stable code: the same values as the REST problems' `code`.
        code: crate::error::ErrorCode,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        room_id: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
    },
    /// A new message in one of your conversations (also your own, on every device; the
    /// sending connection gets `message_ack` first). Order by `seq`; fetch a gap with
    /// `GET /api/v1/conversations/{id}/messages?after_seq=`.
    Message {
        message: ConversationMessage,
    },
    /// Your message is stored (sent after commit). `duplicate`: the `client_id` was used
    /// before and this is the original.
    MessageAck {
        conversation_id: i64,
        client_id: String,
        seq: i64,
        duplicate: bool,
        message: ConversationMessage,
    },
    /// Someone read a conversation up to `seq`: to the reader's own devices (their unread
    /// count clears everywhere) and, in a direct conversation, to the other person (read
    /// receipts).
    MessageRead {
        conversation_id: i64,
        user_id: i64,
        seq: i64,
    },
    /// Someone is typing (shown for a few seconds; never stored).
    Typing {
        conversation_id: i64,
        user_id: i64,
        name: String,
    },
    /// A message was recalled by its sender: show it as recalled.
    MessageRecalled {
        conversation_id: i64,
        seq: i64,
    },
    /// A conversation's name, avatar, members or roles changed: read it again.
    ConversationChanged {
        conversation_id: i64,
    },
    /// You are no longer in this conversation (you left, were removed, or it is gone).
    ConversationRemoved {
        conversation_id: i64,
    },
    /// A new notification, on every device of its user.
    Notification {
        notification: crate::notifications::domain::Notification,
    },
    /// Notifications were marked read (on any device): `id`, or all of them when absent.
    NotificationsRead {
        id: Option<i64>,
        /// The user's unread notifications now.
        unread_count: u64,
    },
    /// A friend came online (their first connection) or went offline (their last one
    /// closed, or their instance died). Sent only to friends.
    FriendPresence {
        user_id: i64,
        online: bool,
        /// When they went offline (absent while online, or never seen).
        last_seen: Option<chrono::DateTime<chrono::Utc>>,
    },
}

impl ServerMessage {
    pub fn error(code: crate::error::ErrorCode, message: impl Into<String>) -> Self {
        Self::Error {
            code,
            message: message.into(),
            room_id: None,
            conversation_id: None,
            req_id: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal_error","message":"serialization failed"}"#
                .to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse() {
        let m: ClientMessage = serde_json::from_str(
            r#"{"type":"playback","room_id":1,"action":"seek","position_ms":5000,"req_id":"a"}"#,
        )
        .expect("parse");
        match m {
            ClientMessage::Playback {
                room_id,
                action,
                req_id,
            } => {
                assert_eq!(room_id, 1);
                assert_eq!(action, PlaybackAction::Seek { position_ms: 5000 });
                assert_eq!(req_id.as_deref(), Some("a"));
            }
            other => panic!("{other:?}"),
        }
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"nope"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"join"}"#).is_err());
    }

    #[test]
    fn server_messages_are_tagged() {
        let j = ServerMessage::error(crate::error::ErrorCode::Forbidden, "no").to_json();
        assert!(j.contains(r#""type":"error""#) && j.contains(r#""code":"forbidden""#));
    }
}
