//! Bodies of `/rooms`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use super::domain::{AssignableRole, ControlMode, RoomRole, Visibility};
use crate::realtime::protocol::ChatMessage;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// 1 to 64 characters.
    #[schema(example = "周五电影夜", min_length = 1, max_length = 64)]
    pub name: String,
    #[serde(default)]
    pub visibility: Visibility,
    /// 2 to 5000 members; none means no limit.
    #[schema(minimum = 2, maximum = 5000)]
    pub capacity: Option<i32>,
    #[serde(default)]
    pub control_mode: ControlMode,
    /// A ready movie to start with.
    pub movie_id: Option<i64>,
}

/// Fields left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoomRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    /// Owner only.
    pub visibility: Option<Visibility>,
    /// Owner only; 2 to 5000.
    #[schema(minimum = 2, maximum = 5000)]
    pub capacity: Option<i32>,
    /// Owner only.
    pub control_mode: Option<ControlMode>,
    /// Seconds between two messages of one member (0 to 300; 0 turns it off).
    #[schema(minimum = 0, maximum = 300)]
    pub slow_mode_secs: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomResponse {
    pub id: i64,
    pub name: String,
    pub visibility: Visibility,
    pub capacity: Option<i32>,
    pub control_mode: ControlMode,
    pub owner_id: i64,
    pub member_count: i32,
    pub slow_mode_secs: i32,
    /// The movie the room is on.
    pub movie_id: Option<i64>,
    pub movie_title: Option<String>,
    /// Only shown to members.
    pub invite_code: Option<String>,
    /// The caller's role, when a member.
    pub my_role: Option<RoomRole>,
    pub last_seq: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomPage {
    pub items: Vec<RoomResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The invite code of an unlisted or private room.
    #[schema(example = "k3x9p2qv7a")]
    pub invite_code: String,
}

/// A banned user, for the moderators' list.
#[derive(Debug, Serialize, ToSchema)]
pub struct BanResponse {
    pub user_id: i64,
    pub name: String,
    /// The moderator who banned them.
    pub banned_by: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BanPage {
    pub items: Vec<BanResponse>,
    pub next_cursor: Option<String>,
}

/// A page of members, by user id.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberPage {
    pub items: Vec<MemberResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    pub user_id: i64,
    pub name: String,
    pub role: RoomRole,
    pub muted_until: Option<DateTime<Utc>>,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    /// 1 to 10080 (a week).
    #[schema(minimum = 1, maximum = 10080)]
    pub minutes: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: AssignableRole,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// A member who becomes the owner; the old owner becomes a moderator.
    pub user_id: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Only messages with a smaller sequence number (for older pages).
    pub before: Option<i64>,
    /// 1 to 100 (default 50).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// Newest first.
    pub items: Vec<ChatMessage>,
    /// Pass as `before` for the next (older) page; absent at the beginning.
    pub next_before: Option<i64>,
}
