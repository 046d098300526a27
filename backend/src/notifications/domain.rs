//! What a notification is: its kind (stored), what it carries, and how it is shown. A
//! leaf: the realtime protocol names [`Notification`] for its `notification` message.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::db::stored_enum! {
    /// Why someone is told. Stored in `notifications.kind`.
    pub enum NotificationKind {
        /// Someone asked to be your friend (payload: `request_id`, `note`).
        FriendRequest,
        /// Someone accepted your friend request.
        FriendAccepted,
        /// Someone invited you to a watch room (payload: `room_id`, `code`).
        RoomInvite,
        /// Someone mentioned you in a room or a group (payload: `room_id` or
        /// `conversation_id`, `excerpt`).
        Mention,
    }
}

/// Longest stored payload (its JSON text), in bytes.
pub const MAX_PAYLOAD: usize = 2_000;

/// Who caused a notification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationActor {
    pub id: i64,
    /// Nickname or username; `已注销用户` for deleted accounts.
    pub name: String,
    pub avatar_url: Option<String>,
}

/// A stored notification, as listed and as pushed over the socket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    pub kind: NotificationKind,
    pub actor: Option<NotificationActor>,
    pub payload: NotificationPayload,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

/// Kind-specific details; the fields that do not apply are absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotificationPayload {
    /// `friend_request`: the request, to accept or decline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    /// `friend_request`: the note that came with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `room_invite`, `mention` in a room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<i64>,
    /// `room_invite`: the room's invite code (opens `/r/<code>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `mention` in a conversation (opens `/messages/<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<i64>,
    /// `mention`: a short excerpt of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
}

/// What a feature hands to `notifications::service::notify`.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: NotificationKind,
    pub actor_id: Option<i64>,
    /// At most [`MAX_PAYLOAD`] bytes once serialized (keep excerpts short).
    pub payload: NotificationPayload,
}
