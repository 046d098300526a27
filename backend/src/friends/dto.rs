//! Bodies of `/users/search`, `/friends` and `/blocks`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use super::domain::Relationship;
use crate::users::dto::PublicUser;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The start of a username or nickname, 1 to 32 characters (case-insensitive where
    /// the database allows).
    pub q: String,
    pub cursor: Option<String>,
    /// 1 to 100 (default 20).
    pub limit: Option<u64>,
}

/// A user found by search, and how the caller stands with them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserHit {
    pub user: PublicUser,
    pub relationship: Relationship,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSearchPage {
    pub items: Vec<UserHit>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendFriendRequest {
    pub user_id: i64,
    /// At most 200 characters.
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

/// A friend request, seen from the caller's side.
#[derive(Debug, Serialize, ToSchema)]
pub struct FriendRequestView {
    pub id: i64,
    /// The other side: the sender of an incoming request, the recipient of an outgoing one.
    pub user: PublicUser,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FriendRequestPage {
    pub items: Vec<FriendRequestView>,
    pub next_cursor: Option<String>,
}

/// What sending a request did: `request_sent` (with the request), or `friend` when they
/// had already asked the caller (both requests are then accepted).
#[derive(Debug, Serialize, ToSchema)]
pub struct SendFriendRequestResponse {
    pub relationship: Relationship,
    pub request: Option<FriendRequestView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FriendView {
    pub user: PublicUser,
    /// Connected now, on any device.
    pub online: bool,
    /// When their last connection closed (absent while online or if never seen).
    pub last_seen: Option<DateTime<Utc>>,
    /// Friends since.
    pub since: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FriendPage {
    pub items: Vec<FriendView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedUser {
    pub user: PublicUser,
    pub blocked_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockPage {
    pub items: Vec<BlockedUser>,
    pub next_cursor: Option<String>,
}
