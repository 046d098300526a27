//! Request and response bodies of `/auth`. Requests refuse unknown fields, so nobody can
//! slip in a `role` or an `id` (no mass assignment).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entities::user;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3 to 32 of letters, digits and `_`; case-insensitive.
    #[schema(
        example = "xiaoming",
        min_length = 3,
        max_length = 32,
        pattern = r"^ *[A-Za-z0-9_]{3,32} *$"
    )]
    pub username: String,
    #[schema(
        example = "xiaoming@example.com",
        max_length = 254,
        pattern = r"^ *[^\s@\u0000-\u001F\u007F-\u009F]+@[^\s@.\u0000-\u001F\u007F-\u009F][^\s@\u0000-\u001F\u007F-\u009F]*\.[^\s@\u0000-\u001F\u007F-\u009F]*[^\s@.\u0000-\u001F\u007F-\u009F] *$"
    )]
    pub email: String,
    /// 8 characters to 72 bytes.
    #[schema(example = "correct horse battery", format = Password, min_length = 8, max_length = 72)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    #[schema(example = "xiaoming", min_length = 1, max_length = 254)]
    pub login: String,
    #[schema(example = "correct horse battery", format = Password, max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh. Each one works once.
    #[schema(min_length = 1, max_length = 128)]
    pub refresh_token: String,
}

/// Credentials for the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Opaque; exchange at `POST /api/v1/auth/refresh` for a new pair. Single use.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    pub user: MeResponse,
    pub tokens: TokenPair,
}

/// The caller's own account, with private fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub nickname: String,
    pub bio: String,
    pub avatar_url: Option<String>,
    pub role: super::domain::UserRole,
    pub created_at: DateTime<Utc>,
}

impl From<&user::Model> for MeResponse {
    fn from(u: &user::Model) -> Self {
        let username = u.username.clone().unwrap_or_default();
        Self {
            id: u.id,
            nickname: u.nickname.clone().unwrap_or_else(|| username.clone()),
            username,
            email: u.email.clone().unwrap_or_default(),
            bio: u.bio.clone().unwrap_or_default(),
            avatar_url: u.avatar_url.clone(),
            role: u.role,
            created_at: u.created_at,
        }
    }
}

impl From<user::Model> for MeResponse {
    fn from(u: user::Model) -> Self {
        Self::from(&u)
    }
}
