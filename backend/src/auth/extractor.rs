//! `AuthUser`: the caller, proven by a bearer access token whose session is still open.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::domain::UserRole;
use crate::entities::session;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub role: UserRole,
    pub session_id: String,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == UserRole::Admin
    }
}

pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal(anyhow::anyhow!("no state")))?;
            let token = token.ok_or_else(|| {
                AppError::unauthorized("missing credentials: send Authorization: Bearer <token>")
            })?;
            authenticate(&state, &token).await
        })
    }
}

/// Verify an access token and check that its session is still open.
pub async fn authenticate(state: &AppState, token: &str) -> Result<AuthUser, AppError> {
    // A token seen before skips the signature check (same bytes, same claims); its expiry
    // is still checked.
    let now = chrono::Utc::now().timestamp();
    let claims = match state.auth_cache.verified(token, now) {
        Some(c) => c,
        None => {
            let c = std::sync::Arc::new(state.jwt.verify(token)?);
            state
                .auth_cache
                .remember_verified(token.to_owned(), c.clone());
            c
        }
    };
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| AppError::new(ErrorCode::InvalidToken, "invalid access token"))?;
    check_session(state, &claims.sid, id).await?;
    Ok(AuthUser {
        id,
        role: claims.role,
        session_id: claims.sid.clone(),
    })
}

/// The session must still be open and belong to `user_id`: logout and password changes
/// end it at once.
pub async fn check_session(state: &AppState, sid: &str, user_id: i64) -> Result<(), AppError> {
    let open = match state.auth_cache.session_user(sid) {
        Some(uid) => uid == user_id,
        None => {
            let found = session::Entity::find_by_id(sid.to_owned())
                .filter(session::Column::RevokedAt.is_null())
                .one(&state.db)
                .await?;
            if let Some(s) = &found {
                state.auth_cache.remember_session(s.id.clone(), s.user_id);
            }
            found.is_some_and(|s| s.user_id == user_id)
        }
    };
    if open {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::InvalidToken,
            "session has ended, log in again",
        ))
    }
}
