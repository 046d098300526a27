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

/// The names `text` mentions: each `@name` (up to whitespace or punctuation, 1 to 32
/// characters), distinct, at most 10.
pub fn mentioned_names(text: &str) -> Vec<String> {
    let stop = |c: char| c.is_whitespace() || ",.!?;:()[]，。！？；：（）【】@、".contains(c);
    let mut out: Vec<String> = Vec::new();
    for part in text.split('@').skip(1) {
        let name: String = part.chars().take_while(|&c| !stop(c)).take(33).collect();
        let n = name.chars().count();
        if (1..=32).contains(&n) && !out.contains(&name) {
            out.push(name);
            if out.len() == 10 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mentioned_names;

    #[test]
    fn mentions_are_at_names_up_to_punctuation() {
        assert_eq!(
            mentioned_names("@小红 今晚看吗？@bob_1，@小红"),
            ["小红", "bob_1"]
        );
        assert!(mentioned_names("a@ b @").is_empty());
        assert!(mentioned_names(&format!("@{}", "x".repeat(33))).is_empty());
        assert_eq!(mentioned_names("mail me at a@b.cn"), ["b"]);
    }
}
