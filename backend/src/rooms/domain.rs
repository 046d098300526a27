//! A room's concepts as types: who may do what (role, control mode), who sees it
//! (visibility), what a message is, what a member's player is doing, and why a member
//! was removed. The stored ones are sea-orm string enums (their snake_case name in a
//! `VARCHAR` on every database); all of them are enums in the OpenAPI document, so a
//! generated client gets unions instead of `string`.
//!
//! This module depends on nothing else in the crate: the realtime core uses it too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::db::stored_enum! {
    /// Who finds a room and how one gets in. Stored in `rooms.visibility`.
    #[derive(Default)]
    pub enum Visibility {
        /// Listed in `GET /rooms`; anyone logged in may join.
        Public,
        /// Not listed; joined by invite code (or id).
        #[default]
        Unlisted,
        /// Not listed; joined by invite code only; invisible to non-members.
        Private,
    }
}

crate::db::stored_enum! {
    /// Who may play, pause, seek, change the rate or the movie. Stored in `rooms.control_mode`.
    #[derive(Default)]
    pub enum ControlMode {
        /// Only the owner and moderators control playback.
        #[default]
        Host,
        /// Every member does.
        Everyone,
    }
}

crate::db::stored_enum! {
    /// A member's standing in a room, ordered `member < moderator < owner`. Stored in
    /// `room_members.role`.
    #[derive(PartialOrd, Ord)]
    pub enum RoomRole {
        /// Chats and watches; controls playback only in an `everyone` room.
        Member,
        /// Controls playback, deletes messages, kicks, bans and mutes members.
        Moderator,
        /// The one who created the room (or got it transferred); also edits and deletes it.
        Owner,
    }
}

impl RoomRole {
    /// Whether this role may change the playback in a room with `mode`.
    pub fn may_control(self, mode: ControlMode) -> bool {
        mode == ControlMode::Everyone || self >= Self::Moderator
    }
}

/// The roles one can be given with `PUT /rooms/{id}/members/{user_id}/role` (ownership
/// moves only by transfer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignableRole {
    Member,
    Moderator,
}

impl From<AssignableRole> for RoomRole {
    fn from(r: AssignableRole) -> Self {
        match r {
            AssignableRole::Member => Self::Member,
            AssignableRole::Moderator => Self::Moderator,
        }
    }
}

crate::db::stored_enum! {
    /// What a chat message is. Stored in `room_messages.kind`.
    #[derive(Default)]
    pub enum MessageKind {
        /// Written by a member.
        #[default]
        Text,
        /// Written by the server (no sender).
        System,
    }
}

/// What a member's player is doing, as the room sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// Joined; the player has not reported yet.
    Joining,
    /// Can play at once.
    Ready,
    /// Loading; a wait-for-everyone play waits for it.
    Buffering,
    /// No open connection in the room.
    Offline,
}

/// Why the server took a member out of a room (`removed` on the socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// A moderator removed them; they may join again.
    Kicked,
    /// A moderator banned them; joining again is refused until unbanned.
    Banned,
    /// They left the room (from another tab, or by REST).
    Left,
    /// The owner deleted the room.
    RoomDeleted,
}

/// A change in a member's standing, announced to the room as their `presence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Role(RoomRole),
    /// Muted until then; `None` lifts the mute.
    MutedUntil(Option<DateTime<Utc>>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_control_follows_the_mode() {
        assert!(RoomRole::Member < RoomRole::Moderator && RoomRole::Moderator < RoomRole::Owner);
        assert!(!RoomRole::Member.may_control(ControlMode::Host));
        assert!(RoomRole::Member.may_control(ControlMode::Everyone));
        assert!(RoomRole::Moderator.may_control(ControlMode::Host));
        assert!(RoomRole::Owner.may_control(ControlMode::Host));
    }

    #[test]
    fn wire_names_are_snake_case() {
        let json = |v: serde_json::Value| v.to_string();
        assert_eq!(
            json(serde_json::json!(RemovalReason::RoomDeleted)),
            "\"room_deleted\""
        );
        assert_eq!(
            json(serde_json::json!(PresenceStatus::Buffering)),
            "\"buffering\""
        );
        assert_eq!(
            json(serde_json::json!(RoomRole::Moderator)),
            "\"moderator\""
        );
    }
}
