//! One error type for the whole API.
//!
//! Policy: every error leaves the server as `application/problem+json` (RFC 9457) with a
//! stable snake_case `code` that clients may switch on. Expected failures (bad input,
//! missing rights, conflicts) carry a human `detail`; unexpected ones become an opaque
//! 500 whose cause is logged together with the request id, never shown to the client.
//! Extractor failures (bad JSON, bad query, oversized body) are mapped here too, so no
//! plain-text actix error ever reaches a client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Stable machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    InvalidBody,
    InvalidQuery,
    ControlCharacter,
    UnsupportedMediaType,
    PayloadTooLarge,
    ValidationFailed,
    PasswordTooLong,
    Unauthorized,
    InvalidToken,
    TokenExpired,
    InvalidCredentials,
    RefreshTokenReused,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    UsernameTaken,
    EmailTaken,
    Conflict,
    RoomFull,
    Banned,
    OwnerMustTransfer,
    RateLimited,
    ServiceUnavailable,
    InternalError,
    /// A WebSocket frame that is not a valid message.
    InvalidMessage,
    /// A room action on a WebSocket connection that has not joined the room.
    NotJoined,
    /// A direct conversation needs the two people to be friends.
    NotFriends,
    /// A group is at its member limit.
    GroupFull,
    /// A message can be recalled only for a short while after it was sent.
    RecallExpired,
    /// A friend request to someone who is already a friend.
    AlreadyFriends,
    /// Too many friend requests waiting for an answer: cancel some first.
    FriendRequestLimit,
    /// The friends list is full (yours or theirs).
    FriendLimit,
    /// You block this user: unblock them first.
    UserBlocked,
    /// An upload whose content cannot be read as what it claims to be.
    InvalidMedia,
    /// A picture over the pixel cap (or an animation over its frame cap).
    ImageTooLarge,
    /// A voice note over the length cap.
    VoiceTooLong,
    /// The sticker collection is full.
    TooManyStickers,
    /// A `Range` outside the file.
    RangeNotSatisfiable,
}

impl ErrorCode {
    /// Every code, for the documentation.
    pub const ALL: &[ErrorCode] = &[
        Self::MalformedJson,
        Self::InvalidBody,
        Self::InvalidQuery,
        Self::ControlCharacter,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::ValidationFailed,
        Self::PasswordTooLong,
        Self::Unauthorized,
        Self::InvalidToken,
        Self::TokenExpired,
        Self::InvalidCredentials,
        Self::RefreshTokenReused,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::UsernameTaken,
        Self::EmailTaken,
        Self::Conflict,
        Self::RoomFull,
        Self::Banned,
        Self::OwnerMustTransfer,
        Self::RateLimited,
        Self::ServiceUnavailable,
        Self::InternalError,
        Self::InvalidMessage,
        Self::NotJoined,
        Self::NotFriends,
        Self::GroupFull,
        Self::RecallExpired,
        Self::AlreadyFriends,
        Self::FriendRequestLimit,
        Self::FriendLimit,
        Self::UserBlocked,
        Self::InvalidMedia,
        Self::ImageTooLarge,
        Self::VoiceTooLong,
        Self::TooManyStickers,
        Self::RangeNotSatisfiable,
    ];

    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            MalformedJson | InvalidBody | InvalidQuery | ControlCharacter | ValidationFailed
            | PasswordTooLong | InvalidMessage | NotJoined => StatusCode::BAD_REQUEST,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InvalidMedia | ImageTooLarge | VoiceTooLong => StatusCode::UNPROCESSABLE_ENTITY,
            RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Unauthorized | InvalidToken | TokenExpired | InvalidCredentials
            | RefreshTokenReused => StatusCode::UNAUTHORIZED,
            Forbidden | NotFriends => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            UsernameTaken | EmailTaken | Conflict | RoomFull | OwnerMustTransfer | GroupFull
            | RecallExpired | AlreadyFriends | FriendRequestLimit | FriendLimit | UserBlocked
            | TooManyStickers => StatusCode::CONFLICT,
            Banned => StatusCode::FORBIDDEN,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` style, derived from `code`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the HTTP status.
    pub title: String,
    pub status: u16,
    /// What went wrong, for humans.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub detail: String,
    pub field: Option<String>,
    /// Seconds, for 429 and 503 answers.
    pub retry_after: Option<u64>,
    /// The hidden cause of a 500/503, logged but never sent.
    source: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            field: None,
            retry_after: None,
            source: None,
        }
    }

    pub fn validation(field: &str, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, detail).with_field(field)
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            ErrorCode::RateLimited,
            format!("too many attempts, try again in {retry_after} s"),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// An unexpected failure: opaque to the client, logged with its cause.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(ErrorCode::InternalError, "internal server error");
        e.source = Some(source.into());
        e
    }

    /// A dependency (database, Redis) is unreachable: 503, retry soon.
    pub fn unavailable(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            ErrorCode::ServiceUnavailable,
            "service temporarily unavailable, try again shortly",
        );
        e.retry_after = Some(1);
        e.source = Some(source.into());
        e
    }

    pub fn problem(&self) -> Problem {
        let status = self.code.status();
        Problem {
            kind: format!("https://luojia.cinema/problems/{}", self.code.as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            field: self.field.clone(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl std::error::Error for AppError {}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(source) = &self.source {
            // Runs inside the request span, so the request id is on this line.
            tracing::error!(code = %self.code.as_str(), error = ?source, "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        use sea_orm::{DbErr, RuntimeErr};
        if crate::db::is_unique_violation(&e) {
            return AppError::new(ErrorCode::Conflict, "already exists");
        }
        let unreachable = matches!(
            &e,
            DbErr::ConnectionAcquire(_) | DbErr::Conn(RuntimeErr::SqlxError(_))
        );
        if unreachable {
            AppError::unavailable(e)
        } else {
            AppError::internal(e)
        }
    }
}

impl From<deadpool_redis::PoolError> for AppError {
    fn from(e: deadpool_redis::PoolError) -> Self {
        AppError::unavailable(e)
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

/// `JsonConfig` error handler: bad JSON and oversized bodies become problems.
pub fn json_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let app = match &err {
        E::OverflowKnownLength { limit, .. } | E::Overflow { limit } => AppError::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {limit} bytes"),
        ),
        E::ContentType => AppError::new(
            ErrorCode::UnsupportedMediaType,
            "expected Content-Type: application/json",
        ),
        E::Deserialize(e) if e.is_data() => {
            AppError::new(ErrorCode::InvalidBody, format!("invalid request body: {e}"))
        }
        E::Deserialize(e) => {
            AppError::new(ErrorCode::MalformedJson, format!("malformed JSON: {e}"))
        }
        E::Payload(actix_web::error::PayloadError::Overflow) => AppError::new(
            ErrorCode::PayloadTooLarge,
            "request body is too large".to_owned(),
        ),
        other => AppError::new(
            ErrorCode::MalformedJson,
            format!("unreadable body: {other}"),
        ),
    };
    app.into()
}

/// `QueryConfig` error handler.
pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    invalid_query(err).into()
}

/// A query string that does not parse (for handlers that parse it themselves).
pub fn invalid_query(err: actix_web::error::QueryPayloadError) -> AppError {
    AppError::new(
        ErrorCode::InvalidQuery,
        format!("invalid query string: {err}"),
    )
}

/// `PathConfig` error handler: a path that does not parse names no resource.
pub fn path_error(err: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    // `PATCH /rooms/join` reaches `/rooms/{id}`: it names the route `/rooms/join`,
    // which does not answer PATCH.
    if let Some(allow) = crate::edge::literal_route_methods(req.path()) {
        return actix_web::error::InternalError::from_response(
            err,
            crate::edge::method_not_allowed(&allow),
        )
        .into();
    }
    AppError::new(ErrorCode::NotFound, format!("no such resource: {err}")).into()
}

/// Fallback for unmatched routes.
pub async fn not_found() -> AppResult<actix_web::HttpResponse> {
    Err(AppError::new(ErrorCode::NotFound, "no such route"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_snake_case() {
        assert_eq!(ErrorCode::UsernameTaken.as_str(), "username_taken");
        assert_eq!(ErrorCode::PasswordTooLong.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = AppError::internal(anyhow::anyhow!("secret table name"));
        let p = e.problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("secret"));
    }
}
