//! Account rules and queries. Nothing here sees an `HttpRequest`.
//!
//! Sessions: each login opens a session (one device); its refresh tokens form a family.
//! A refresh token is used once and replaced. If a used token comes back, somebody holds
//! a copy: the whole session is revoked, so both the thief and the victim must log in again.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use super::cache::AuthCache;
use super::domain::{Email, NewPassword, UserRole, Username};
use super::dto::{LoginRequest, RegisterRequest, TokenPair};
use super::tokens::{JwtKeys, hash_token, random_token};
use crate::entities::{refresh_token, session, user};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ratelimit::Limit;
use crate::state::AppState;

fn invalid_credentials() -> AppError {
    AppError::new(ErrorCode::InvalidCredentials, "invalid login or password")
}

fn invalid_refresh() -> AppError {
    AppError::new(ErrorCode::InvalidToken, "invalid or expired refresh token")
}

/// Which of username / email is already taken (for a clear 409).
async fn taken(db: &impl ConnectionTrait, username: &Username, email: &Email) -> AppResult<()> {
    if user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(
            AppError::new(ErrorCode::UsernameTaken, "username is already taken")
                .with_field("username"),
        );
    }
    if user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(
            AppError::new(ErrorCode::EmailTaken, "email is already registered").with_field("email"),
        );
    }
    Ok(())
}

/// Insert a user row. Callers hash the password first.
pub async fn insert_user(
    db: &impl ConnectionTrait,
    username: &Username,
    email: &Email,
    password_hash: String,
    role: UserRole,
) -> AppResult<user::Model> {
    taken(db, username, email).await?;
    let now = Utc::now();
    let row = user::ActiveModel {
        username: Set(Some(username.as_str().to_owned())),
        email: Set(Some(email.as_str().to_owned())),
        password_hash: Set(password_hash),
        nickname: Set(Some(username.as_str().to_owned())),
        role: Set(role),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(u) => Ok(u),
        // Lost a race with another registration: say which field collided.
        Err(e) if crate::db::is_unique_violation(&e) => {
            taken(db, username, email).await?;
            Err(AppError::new(ErrorCode::Conflict, "account already exists"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Open a session for `user` and issue its first token pair.
pub async fn open_session(
    db: &impl ConnectionTrait,
    jwt: &JwtKeys,
    refresh_ttl_days: i64,
    user: &user::Model,
    user_agent: Option<String>,
) -> AppResult<TokenPair> {
    let now = Utc::now();
    let expires = now + Duration::days(refresh_ttl_days);
    let sid = uuid::Uuid::now_v7().to_string();
    session::ActiveModel {
        id: Set(sid.clone()),
        user_id: Set(user.id),
        user_agent: Set(user_agent.map(|ua| ua.chars().take(255).collect())),
        created_at: Set(now),
        expires_at: Set(expires),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    issue_pair(db, jwt, user, &sid, expires).await
}

async fn issue_pair(
    db: &impl ConnectionTrait,
    jwt: &JwtKeys,
    user: &user::Model,
    sid: &str,
    expires: chrono::DateTime<Utc>,
) -> AppResult<TokenPair> {
    let refresh = random_token();
    refresh_token::ActiveModel {
        session_id: Set(sid.to_owned()),
        token_hash: Set(hash_token(&refresh)),
        created_at: Set(Utc::now()),
        expires_at: Set(expires),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(TokenPair {
        access_token: jwt.issue(user.id, sid, user.role)?,
        token_type: "Bearer",
        expires_in: jwt.ttl_secs(),
        refresh_token: refresh,
        refresh_expires_at: expires,
    })
}

/// One verification per this many ms for an account past its failure budget.
const UNDER_ATTACK_PACE_MS: u64 = 10_000;

fn per_minute(max: u32) -> Limit {
    Limit {
        max,
        window_secs: 60,
    }
}

fn per_hour(max: u32) -> Limit {
    Limit {
        max,
        window_secs: 3600,
    }
}

pub async fn register(
    state: &AppState,
    req: RegisterRequest,
    ip: &str,
    user_agent: Option<String>,
) -> AppResult<(user::Model, TokenPair)> {
    let limits = &state.settings.rate_limit;
    state
        .limiter
        .hit("register-ip", ip, per_hour(limits.register_per_ip))
        .await?;
    let username = Username::parse(&req.username)?;
    let email = Email::parse(&req.email)?;
    // Per name too (canonical spellings), so probing which names are taken from many
    // addresses is bounded.
    for key in [username.as_str(), email.as_str()] {
        state
            .limiter
            .hit("register-name", key, per_hour(limits.register_per_name))
            .await?;
    }
    let password = NewPassword::parse(req.password, "password")?;
    taken(&state.db, &username, &email).await?;
    let hash = state.passwords.hash(password.into_inner()).await?;

    let txn = crate::db::begin_write(&state.db).await?;
    let user = insert_user(&txn, &username, &email, hash, UserRole::User).await?;
    let tokens = open_session(
        &txn,
        &state.jwt,
        state.settings.auth.refresh_ttl_days,
        &user,
        user_agent,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(user_id = user.id, "registered");
    Ok((user, tokens))
}

/// Login limits, keyed on the account (its id; an unknown login on its canonical
/// spelling), never on how the login was typed:
/// - every attempt from one address counts against `login_per_ip` and, per account,
///   against `login_per_account` (a minute each);
/// - failures on an account from all addresses count against `login_failures_per_account`
///   (an hour). Past it, addresses that failed on the account are refused for the hour and
///   every other address gets one try per account every 10 s: a guesser is slowed to a
///   crawl while the owner, from an address that did not fail, gets in after a short wait.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    ip: &str,
    user_agent: Option<String>,
) -> AppResult<(user::Model, TokenPair)> {
    let limits = &state.settings.rate_limit;
    let login = req.login.trim().to_lowercase();
    state
        .limiter
        .hit("login-ip", ip, per_minute(limits.login_per_ip))
        .await?;
    if login.is_empty() || login.len() > 254 || req.password.len() > 1024 {
        return Err(invalid_credentials());
    }
    let column = if login.contains('@') {
        user::Column::Email
    } else {
        user::Column::Username
    };
    let found = user::Entity::find()
        .filter(column.eq(login.as_str()))
        .filter(user::Column::DeletedAt.is_null())
        .one(&state.db)
        .await?;
    let account = match &found {
        Some(u) => format!("id:{}", u.id),
        None => format!("name:{login}"),
    };
    let from_here = format!("{account}@{ip}");
    let limiter = &state.limiter;
    limiter
        .hit(
            "login-account",
            &from_here,
            per_minute(limits.login_per_account),
        )
        .await?;
    let failures = per_hour(limits.login_failures_per_account);
    if limiter
        .check("login-fail", &account, failures)
        .await
        .is_err()
    {
        limiter
            .check("login-fail-from", &from_here, per_hour(1))
            .await?;
        limiter
            .cooldown("login-paced", &account, UNDER_ATTACK_PACE_MS)
            .await
            .map_err(|mut e| {
                e.detail =
                    "many failed logins on this account: try again in a few seconds".to_owned();
                e
            })?;
    }
    let ok = state
        .passwords
        .verify(
            req.password,
            found.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = match found {
        Some(u) if ok => u,
        _ => {
            // Counted only; the answer is the same 401 either way.
            let _ = limiter.hit("login-fail", &account, failures).await;
            let _ = limiter
                .hit("login-fail-from", &from_here, per_hour(1))
                .await;
            return Err(invalid_credentials());
        }
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let tokens = open_session(
        &txn,
        &state.jwt,
        state.settings.auth.refresh_ttl_days,
        &user,
        user_agent,
    )
    .await?;
    txn.commit().await?;
    Ok((user, tokens))
}

pub async fn refresh(
    db: &DatabaseConnection,
    jwt: &JwtKeys,
    cache: &AuthCache,
    presented: &str,
) -> AppResult<(user::Model, TokenPair)> {
    if presented.is_empty() || presented.len() > 128 {
        return Err(invalid_refresh());
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_token(presented)))
        .one(&txn)
        .await?
        .ok_or_else(invalid_refresh)?;
    let sess = session::Entity::find_by_id(token.session_id.clone())
        .one(&txn)
        .await?
        .ok_or_else(invalid_refresh)?;
    if sess.revoked_at.is_some() || sess.expires_at <= now || token.expires_at <= now {
        return Err(invalid_refresh());
    }
    // Mark used; the `used_at IS NULL` guard makes two concurrent uses of one token
    // impossible to both succeed.
    let marked = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if token.used_at.is_some() || marked != 1 {
        revoke_sessions(&txn, sess.user_id, Some(&sess.id), None).await?;
        txn.commit().await?;
        cache.forget_session(&sess.id);
        tracing::warn!(user_id = sess.user_id, session = %sess.id, "refresh token reused: session revoked");
        return Err(AppError::new(
            ErrorCode::RefreshTokenReused,
            "this refresh token was already used; the session has been ended for safety",
        ));
    }
    let user = user::Entity::find_by_id(sess.user_id)
        .filter(user::Column::DeletedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(invalid_refresh)?;
    let tokens = issue_pair(&txn, jwt, &user, &sess.id, sess.expires_at).await?;
    txn.commit().await?;
    Ok((user, tokens))
}

/// Revoke sessions of `user_id`: only `only` when given, else all of them except `keep`.
pub async fn revoke_sessions(
    db: &impl ConnectionTrait,
    user_id: i64,
    only: Option<&str>,
    keep: Option<&str>,
) -> AppResult<u64> {
    let mut q = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(id) = only {
        q = q.filter(session::Column::Id.eq(id));
    }
    if let Some(id) = keep {
        q = q.filter(session::Column::Id.ne(id));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// Delete every session of `user_id` and their refresh tokens (account deletion; callers
/// forget them in the auth cache after committing).
pub async fn delete_sessions(db: &impl ConnectionTrait, user_id: i64) -> AppResult<()> {
    let sessions: Vec<String> = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::SessionId.is_in(sessions))
        .exec(db)
        .await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
