//! Bodies of `/me` and `/users`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entities::user;

/// Lives in `auth` (login and register answer with it), which `users` builds on.
pub use crate::auth::dto::MeResponse;

/// What anyone may see of a user. Never the email or any secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicUser {
    pub id: i64,
    pub username: String,
    pub nickname: String,
    pub bio: String,
    pub avatar_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&user::Model> for PublicUser {
    fn from(u: &user::Model) -> Self {
        let username = u.username.clone().unwrap_or_default();
        Self {
            id: u.id,
            nickname: u.nickname.clone().unwrap_or_else(|| username.clone()),
            username,
            bio: u.bio.clone().unwrap_or_default(),
            avatar_url: u.avatar_url.clone(),
            created_at: u.created_at,
        }
    }
}

/// Fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// 1 to 32 characters, any script.
    #[schema(example = "小明", min_length = 1, max_length = 32)]
    pub nickname: Option<String>,
    /// At most 500 characters; empty clears it.
    #[schema(max_length = 500)]
    pub bio: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(format = Password)]
    pub current_password: String,
    /// 8 characters to 72 bytes.
    #[schema(format = Password, min_length = 8, max_length = 72)]
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMeRequest {
    /// The current password, to confirm.
    #[schema(format = Password)]
    pub password: String,
}
