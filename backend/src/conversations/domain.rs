//! A conversation's concepts as types: direct or group, a member's standing, what a
//! message is and what it refers to, and the limits. The stored enums are sea-orm string
//! enums; all are enums in the OpenAPI document.
//!
//! This module depends on nothing else in the crate (the realtime core may name it).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest text message, in characters (emoji are text).
pub const MAX_TEXT_CHARS: usize = 4_000;
/// The most members a group has.
pub const MAX_GROUP_MEMBERS: i32 = 500;
/// A group name's length, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// How long after sending a message its sender may recall it.
pub const RECALL_WINDOW_SECS: i64 = 120;
/// A client id's length.
pub const MAX_CLIENT_ID: usize = 64;

crate::db::stored_enum! {
    /// Stored in `conversations.kind`.
    pub enum ConversationKind {
        /// Two friends; created on first use, one per pair.
        Direct,
        /// Up to 500 members with an owner and admins.
        Group,
    }
}

crate::db::stored_enum! {
    /// A member's standing, ordered `member < admin < owner`. Stored in
    /// `conversation_members.role`; in a direct conversation both are `member`.
    #[derive(PartialOrd, Ord)]
    pub enum MemberRole {
        Member,
        /// Renames the group, adds and removes members.
        Admin,
        /// Also names admins, resets the invite link and dissolves the group.
        Owner,
    }
}

crate::db::stored_enum! {
    /// What a message is. Stored in `conversation_messages.kind`.
    pub enum ConversationMessageKind {
        /// Up to 4,000 characters; emoji are text.
        Text,
        /// A sticker: built-in (`builtin:<pack>/<id>`) or an uploaded GIF/image.
        Sticker,
        Image,
        /// A voice note (up to 60 s).
        Voice,
        /// An invitation to a watch room; opens the room.
        RoomInvite,
        /// A movie; opens the movie page.
        MovieShare,
        /// Written by the server (someone joined, left, renamed the group).
        System,
    }
}

/// The roles one can be given (ownership moves only by transfer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignableMemberRole {
    Member,
    Admin,
}

impl From<AssignableMemberRole> for MemberRole {
    fn from(r: AssignableMemberRole) -> Self {
        match r {
            AssignableMemberRole::Member => Self::Member,
            AssignableMemberRole::Admin => Self::Admin,
        }
    }
}

/// The key that makes a direct conversation unique per pair, whichever side opens it.
pub fn direct_key(a: i64, b: i64) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("{lo}:{hi}")
}

/// What a stored message refers to (`conversation_messages.payload`, JSON). Snapshots
/// (a room's name, a movie's title) keep an old message readable after the thing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Payload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    /// A system message's event (`created`, `joined`, `left`, `removed`, `renamed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user_id: Option<i64>,
}

/// A message as clients see it (REST and the socket's `message`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct ConversationMessage {
    pub conversation_id: i64,
    pub seq: i64,
    /// `None` for system messages.
    pub sender_id: Option<i64>,
    pub sender_name: Option<String>,
    pub client_id: Option<String>,
    pub kind: ConversationMessageKind,
    /// The text of a `text` message; empty for other kinds and once recalled.
    pub text: String,
    /// A built-in sticker (`builtin:<pack>/<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<String>,
    /// The picture, voice note or uploaded sticker, with short-lived URLs (issued only
    /// to members of the conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomInvite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movie: Option<MovieShare>,
    /// What a system message tells (`created`, `joined`, `left`, `removed`, `renamed`),
    /// with the member it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user_id: Option<i64>,
    /// Recalled by its sender: shown as "recalled" to everyone, content gone.
    pub recalled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An uploaded file a message carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Attachment {
    pub upload_id: i64,
    pub content_type: String,
    pub bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// Signed, valid for a short while; ask for the message again for a fresh one.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
}

/// An invitation to a watch room, as it was when sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct RoomInvite {
    pub room_id: i64,
    pub name: String,
    /// Opens the room at `/r/<invite_code>`.
    pub invite_code: String,
}

/// A shared movie, as it was when sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct MovieShare {
    pub movie_id: i64,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
}

/// A message to send. Which fields it needs depends on `kind`: `text` for text,
/// `sticker` (built-in) or `upload_id` for a sticker, `upload_id` for image and voice,
/// `room_id` for a room invite, `movie_id` for a movie share.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Makes the send idempotent: the same id again answers with the original message.
    #[schema(example = "c-7f3a", min_length = 1, max_length = 64)]
    pub client_id: String,
    #[serde(default = "text_kind")]
    pub kind: ConversationMessageKind,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub text: Option<String>,
    #[serde(default)]
    pub sticker: Option<String>,
    #[serde(default)]
    pub upload_id: Option<i64>,
    #[serde(default)]
    pub room_id: Option<i64>,
    #[serde(default)]
    pub movie_id: Option<i64>,
}

fn text_kind() -> ConversationMessageKind {
    ConversationMessageKind::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_key_is_the_same_from_both_sides() {
        assert_eq!(direct_key(7, 3), "3:7");
        assert_eq!(direct_key(3, 7), "3:7");
    }

    #[test]
    fn roles_are_ordered() {
        assert!(MemberRole::Member < MemberRole::Admin && MemberRole::Admin < MemberRole::Owner);
    }

    #[test]
    fn payload_leaves_out_what_is_not_there() {
        let p = Payload {
            upload_id: Some(4),
            ..Default::default()
        };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"upload_id":4}"#);
    }
}
