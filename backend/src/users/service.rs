//! Profile rules: read, update, change password, delete.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::dto::UpdateMeRequest;
use crate::auth::domain::{NewPassword, parse_bio, parse_nickname};
use crate::auth::{AuthUser, password, service::revoke_sessions};
use crate::entities::{refresh_token, session, user};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

/// A live user for reading, from the cache when possible.
pub async fn find_active_cached(state: &AppState, id: i64) -> AppResult<Arc<user::Model>> {
    if let Some(u) = state.auth_cache.user(id) {
        return Ok(u);
    }
    let u = find_active(state, id).await?;
    Ok(state.auth_cache.remember_user(u))
}

/// A live (not deleted) user, read from the database.
pub async fn find_active(state: &AppState, id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .filter(user::Column::DeletedAt.is_null())
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

async fn check_password(state: &AppState, user: &user::Model, given: String) -> AppResult<()> {
    if given.len() > 1024
        || !password::verify(given, Some(user.password_hash.clone()), &state.dummy_hash).await?
    {
        return Err(
            AppError::new(ErrorCode::InvalidCredentials, "password is not correct")
                .with_field("password"),
        );
    }
    Ok(())
}

pub async fn update_me(
    state: &AppState,
    me: &AuthUser,
    req: UpdateMeRequest,
) -> AppResult<user::Model> {
    let current = find_active(state, me.id).await?;
    let nickname = req.nickname.as_deref().map(parse_nickname).transpose()?;
    let bio = req.bio.as_deref().map(parse_bio).transpose()?;
    let mut row: user::ActiveModel = current.into();
    if let Some(n) = nickname {
        row.nickname = Set(Some(n));
    }
    if let Some(b) = bio {
        row.bio = Set(Some(b).filter(|b| !b.is_empty()));
    }
    row.updated_at = Set(Utc::now());
    let updated = row.update(&state.db).await?;
    state.auth_cache.forget_user(me.id);
    Ok(updated)
}

/// Change the password and end every other session of this user.
pub async fn change_password(
    state: &AppState,
    me: &AuthUser,
    current_password: String,
    new_password: String,
) -> AppResult<()> {
    let new = NewPassword::parse(new_password, "new_password")?;
    let current = find_active(state, me.id).await?;
    check_password(state, &current, current_password).await?;
    let hash = password::hash(new.into_inner(), state.settings.auth.bcrypt_cost).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let mut row: user::ActiveModel = current.into();
    row.password_hash = Set(hash);
    row.updated_at = Set(Utc::now());
    row.update(&txn).await?;
    revoke_sessions(&txn, me.id, None, Some(&me.session_id)).await?;
    txn.commit().await?;
    state
        .auth_cache
        .forget_user_sessions(me.id, Some(&me.session_id));
    state.auth_cache.forget_user(me.id);
    Ok(())
}

/// Delete the account: personal data is erased, sessions are removed, and the row stays
/// as a tombstone so that the user's content can show "deleted user".
pub async fn delete_me(state: &AppState, me: &AuthUser, password: String) -> AppResult<()> {
    let current = find_active(state, me.id).await?;
    check_password(state, &current, password).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let sessions: Vec<String> = session::Entity::find()
        .filter(session::Column::UserId.eq(me.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::SessionId.is_in(sessions))
        .exec(&txn)
        .await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(me.id))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    let mut row: user::ActiveModel = current.into();
    row.username = Set(None);
    row.email = Set(None);
    row.password_hash = Set(String::new());
    row.nickname = Set(None);
    row.bio = Set(None);
    row.avatar_url = Set(None);
    row.updated_at = Set(now);
    row.deleted_at = Set(Some(now));
    row.update(&txn).await?;
    txn.commit().await?;
    state.auth_cache.forget_user_sessions(me.id, None);
    state.auth_cache.forget_user(me.id);
    tracing::info!(user_id = me.id, "account deleted");
    Ok(())
}
