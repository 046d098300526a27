//! Bodies of `/conversations`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::domain::{AssignableMemberRole, ConversationKind, ConversationMessage, MemberRole};

/// A person as a conversation shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationUser {
    pub id: i64,
    pub username: String,
    pub nickname: String,
    pub avatar_url: Option<String>,
}

/// A conversation in the caller's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationResponse {
    pub id: i64,
    pub kind: ConversationKind,
    /// The group's name, or the other person's nickname in a direct conversation.
    pub name: String,
    pub avatar_url: Option<String>,
    /// The other person of a direct conversation.
    pub peer: Option<ConversationUser>,
    pub member_count: i32,
    pub my_role: MemberRole,
    /// Notifications off for this conversation (it still counts its own unread).
    pub muted: bool,
    /// The newest message's number.
    pub last_seq: i64,
    /// The newest message the caller has read.
    pub last_read_seq: i64,
    /// Messages after `last_read_seq` (the caller's own count as read).
    pub unread: i64,
    /// In a direct conversation: the newest of the caller's messages the other person
    /// has read (read receipts).
    pub peer_last_read_seq: Option<i64>,
    /// The caller sees messages after this one (a group member joined then).
    pub joined_seq: i64,
    pub last_message: Option<ConversationMessage>,
    pub last_activity_at: DateTime<Utc>,
    /// Only for the owner and admins of a group: the invite link's code.
    pub invite_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage {
    pub items: Vec<ConversationResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadResponse {
    /// Unread messages over every conversation that is not muted.
    pub total: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDirectRequest {
    /// A friend's user id.
    pub user_id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    /// 1 to 32 characters.
    #[schema(example = "周末电影小组", min_length = 1, max_length = 32)]
    pub name: String,
    /// Friends to add (up to 499).
    #[serde(default)]
    pub member_ids: Vec<i64>,
}

/// Fields left out stay as they are (owner and admins).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroupRequest {
    #[schema(min_length = 1, max_length = 32)]
    pub name: Option<String>,
    /// An uploaded image (purpose `avatar`) to use as the group's avatar.
    pub avatar_upload_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationMuteRequest {
    pub muted: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMembersRequest {
    /// Friends of the caller.
    pub user_ids: Vec<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRoleRequest {
    pub role: AssignableMemberRole,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupTransferRequest {
    pub user_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationMember {
    pub user: ConversationUser,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationMemberPage {
    pub items: Vec<ConversationMember>,
    pub next_cursor: Option<String>,
}

/// What one sees of a group before joining by its link.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupPreview {
    pub id: i64,
    pub name: String,
    pub avatar_url: Option<String>,
    pub member_count: i32,
    /// Whether the caller is in it already.
    pub member: bool,
}

/// The answer to a send: the stored message (`duplicate` when the `client_id` was used
/// before and nothing new was stored).
#[derive(Debug, Serialize, ToSchema)]
pub struct SendMessageResponse {
    pub message: ConversationMessage,
    pub duplicate: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Older messages: those before this `seq` (newest first, returned oldest first).
    pub before_seq: Option<i64>,
    /// Newer messages: those after this `seq` (catching up after a reconnect).
    pub after_seq: Option<i64>,
    /// 1 to 100 (default 50).
    pub limit: Option<u64>,
    /// Search the conversation's text messages for this (newest first).
    pub q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationMessagePage {
    /// Oldest first.
    pub messages: Vec<ConversationMessage>,
    /// Whether there are more in the direction asked (older for `before_seq` and the
    /// first page, newer for `after_seq`).
    pub more: bool,
    /// The conversation's newest `seq` now: after catching up with `after_seq`, a client
    /// is current up to here (messages it may not see leave gaps in the numbers).
    pub last_seq: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// The newest message read.
    pub seq: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadResponse {
    pub last_read_seq: i64,
    pub unread_total: i64,
}
