//! Profile rules: read, update, change password, delete.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use super::dto::UpdateMeRequest;
use crate::auth::AuthUser;
use crate::auth::cache::AuthCache;
use crate::auth::domain::{Email, NewPassword, UserRole, Username, parse_bio, parse_nickname};
use crate::auth::password::{self, Passwords};
use crate::auth::service::{delete_sessions, insert_user, revoke_sessions};
use crate::entities::user;
use crate::error::{AppError, AppResult, ErrorCode};

/// A live user for reading, from the cache when possible.
pub async fn find_active_cached(
    db: &impl ConnectionTrait,
    cache: &AuthCache,
    id: i64,
) -> AppResult<Arc<user::Model>> {
    if let Some(u) = cache.user(id) {
        return Ok(u);
    }
    let u = find_active(db, id).await?;
    Ok(cache.remember_user(u))
}

/// A live (not deleted) user, read from the database.
pub async fn find_active(db: &impl ConnectionTrait, id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

async fn check_password(passwords: &Passwords, user: &user::Model, given: String) -> AppResult<()> {
    if given.len() > 1024
        || !passwords
            .verify(given, Some(user.password_hash.clone()))
            .await?
    {
        return Err(
            AppError::new(ErrorCode::InvalidCredentials, "password is not correct")
                .with_field("password"),
        );
    }
    Ok(())
}

pub async fn update_me(
    db: &impl ConnectionTrait,
    cache: &AuthCache,
    me: &AuthUser,
    req: UpdateMeRequest,
) -> AppResult<user::Model> {
    let current = find_active(db, me.id).await?;
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
    let updated = row.update(db).await?;
    cache.forget_user(me.id);
    Ok(updated)
}

/// Change the password and end every other session of this user.
pub async fn change_password(
    db: &DatabaseConnection,
    cache: &AuthCache,
    passwords: &Passwords,
    me: &AuthUser,
    current_password: String,
    new_password: String,
) -> AppResult<()> {
    let new = NewPassword::parse(new_password, "new_password")?;
    let current = find_active(db, me.id).await?;
    check_password(passwords, &current, current_password).await?;
    let hash = passwords.hash(new.into_inner()).await?;
    let txn = crate::db::begin_write(db).await?;
    let mut row: user::ActiveModel = current.into();
    row.password_hash = Set(hash);
    row.updated_at = Set(Utc::now());
    row.update(&txn).await?;
    revoke_sessions(&txn, me.id, None, Some(&me.session_id)).await?;
    txn.commit().await?;
    cache.forget_user_sessions(me.id, Some(&me.session_id));
    cache.forget_user(me.id);
    Ok(())
}

/// Delete the account: personal data is erased, sessions are removed, and the row stays
/// as a tombstone so that the user's content can show "deleted user".
pub async fn delete_me(
    db: &DatabaseConnection,
    cache: &AuthCache,
    passwords: &Passwords,
    me: &AuthUser,
    password: String,
) -> AppResult<()> {
    let current = find_active(db, me.id).await?;
    check_password(passwords, &current, password).await?;
    let txn = crate::db::begin_write(db).await?;
    delete_sessions(&txn, me.id).await?;
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
    cache.forget_user_sessions(me.id, None);
    cache.forget_user(me.id);
    tracing::info!(user_id = me.id, "account deleted");
    Ok(())
}

/// `luojia create-admin` on an existing account: make it an administrator. False when
/// there is no account of that name.
pub async fn promote_to_admin(db: &impl ConnectionTrait, username: &Username) -> AppResult<bool> {
    let Some(existing) = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let mut row: user::ActiveModel = existing.into();
    row.role = Set(UserRole::Admin);
    row.updated_at = Set(Utc::now());
    row.update(db).await?;
    Ok(true)
}

/// `luojia create-admin` for a new account.
pub async fn create_admin(
    db: &impl ConnectionTrait,
    bcrypt_cost: u32,
    username: &Username,
    email: &Email,
    password: NewPassword,
) -> AppResult<user::Model> {
    let hash = password::hash(password.into_inner(), bcrypt_cost).await?;
    insert_user(db, username, email, hash, UserRole::Admin).await
}

/// Display names by user id (nickname, else username); deleted users show as
/// "已注销用户". Used wherever a list names its authors (comments, room chat, members).
pub async fn display_names(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> AppResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, display_name(u)))
        .collect())
}

/// A user's display name: nickname, else username; "已注销用户" once deleted.
pub fn display_name(u: user::Model) -> String {
    if u.deleted_at.is_some() {
        "已注销用户".to_owned()
    } else {
        u.nickname.or(u.username).unwrap_or_default()
    }
}
