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
    /// Kind-specific details: `request_id`, `note`, `room_id`, `code`, `conversation_id`,
    /// `excerpt`.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub payload: serde_json::Value,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

/// What a feature hands to `notifications::service::notify`.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: NotificationKind,
    pub actor_id: Option<i64>,
    /// A small JSON object (at most [`MAX_PAYLOAD`] bytes once serialized).
    pub payload: serde_json::Value,
}
