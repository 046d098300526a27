//! Danmaku rules: length, colour and mode checks, a per-user cooldown, windowed reads
//! with a cap, deletion by the author within two minutes or by an admin.
//!
//! Who sees what: a danmaku sent on the movie page is public. One sent live in a watch
//! room is public only while that room is `public`; from an `unlisted` or `private` room
//! (or a room since deleted) it stays in the room and never appears in the movie's public
//! list. The check is made when the list is read, so making a room private also hides what
//! was sent in it before.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::dto::*;
use crate::auth::AuthUser;
use crate::entities::{danmaku, room};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ratelimit::RateLimiter;

pub const MAX_CHARS: usize = 100;
pub const WINDOW_MS: i64 = 6 * 60 * 1000;
pub const CAP: u64 = 1000;
pub const COOLDOWN_MS: u64 = 3000;
const DELETE_WITHIN: i64 = 120;

pub fn response(d: danmaku::Model) -> DanmakuResponse {
    DanmakuResponse {
        id: d.id,
        movie_id: d.movie_id,
        user_id: d.user_id,
        room_id: d.room_id,
        position_ms: d.position_ms,
        text: d.text,
        mode: d.mode,
        color: d.color,
        client_id: d.client_id,
        created_at: d.created_at,
    }
}

fn parse_color(c: Option<&str>) -> AppResult<String> {
    let c = c.unwrap_or("#ffffff").trim().to_lowercase();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(c)
    } else {
        Err(AppError::validation(
            "color",
            "color must look like #rrggbb",
        ))
    }
}

/// Store a danmaku (idempotent per `client_id`). `room_id` marks one sent live.
pub async fn create(
    db: &impl ConnectionTrait,
    limiter: &RateLimiter,
    user_id: i64,
    movie_id: i64,
    room_id: Option<i64>,
    req: CreateDanmakuRequest,
) -> AppResult<(DanmakuResponse, bool)> {
    let text = req.text.trim();
    let n = text.chars().count();
    if n == 0 || n > MAX_CHARS || text.chars().any(char::is_control) {
        return Err(AppError::validation(
            "text",
            "a danmaku is 1 to 100 characters of text",
        ));
    }
    let color = parse_color(req.color.as_deref())?;
    if req
        .client_id
        .as_ref()
        .is_some_and(|c| c.is_empty() || c.len() > 64)
    {
        return Err(AppError::validation(
            "client_id",
            "client_id must be 1 to 64 characters",
        ));
    }
    let m = crate::catalog::find_ready(db, movie_id).await?;
    if req.position_ms < 0 || m.duration_ms.is_some_and(|d| req.position_ms > d) {
        return Err(AppError::validation(
            "position_ms",
            "position is outside the movie",
        ));
    }
    if let Some(cid) = &req.client_id
        && let Some(existing) = danmaku::Entity::find()
            .filter(danmaku::Column::UserId.eq(user_id))
            .filter(danmaku::Column::ClientId.eq(cid.as_str()))
            .one(db)
            .await?
    {
        return Ok((response(existing), false));
    }
    limiter
        .cooldown("danmaku", &user_id.to_string(), COOLDOWN_MS)
        .await?;
    let row = danmaku::ActiveModel {
        movie_id: Set(movie_id),
        user_id: Set(user_id),
        room_id: Set(room_id),
        position_ms: Set(req.position_ms),
        text: Set(text.to_owned()),
        mode: Set(req.mode),
        color: Set(color),
        client_id: Set(req.client_id.clone()),
        deleted_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((response(row), true))
}

/// Sent outside any room, or in a room that is public now.
fn publicly_visible() -> Condition {
    let public_rooms = Query::select()
        .column(room::Column::Id)
        .from(room::Entity)
        .and_where(room::Column::Visibility.eq(crate::rooms::domain::Visibility::Public))
        .to_owned();
    Condition::any()
        .add(danmaku::Column::RoomId.is_null())
        .add(danmaku::Column::RoomId.in_subquery(public_rooms))
}

pub async fn window(
    db: &impl ConnectionTrait,
    movie_id: i64,
    q: WindowQuery,
) -> AppResult<DanmakuWindow> {
    if q.from_ms < 0 || q.to_ms <= q.from_ms || q.to_ms - q.from_ms > WINDOW_MS {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            "the window must start at 0 or later and span at most 6 minutes",
        )
        .with_field("to_ms"));
    }
    crate::catalog::find_ready(db, movie_id).await?;
    let rows = danmaku::Entity::find()
        .filter(danmaku::Column::MovieId.eq(movie_id))
        .filter(danmaku::Column::DeletedAt.is_null())
        .filter(publicly_visible())
        .filter(danmaku::Column::PositionMs.gte(q.from_ms))
        .filter(danmaku::Column::PositionMs.lt(q.to_ms))
        .order_by_asc(danmaku::Column::PositionMs)
        .order_by_asc(danmaku::Column::Id)
        .limit(CAP * 4 + 1)
        .all(db)
        .await?;
    let truncated = rows.len() as u64 > CAP;
    // Thin evenly across the window rather than dropping its end.
    let items: Vec<DanmakuResponse> = if truncated {
        let step = rows.len() as f64 / CAP as f64;
        (0..CAP as usize)
            .filter_map(|i| rows.get((i as f64 * step) as usize).cloned())
            .map(response)
            .collect()
    } else {
        rows.into_iter().map(response).collect()
    };
    Ok(DanmakuWindow { items, truncated })
}

pub async fn delete(db: &impl ConnectionTrait, me: &AuthUser, id: i64) -> AppResult<()> {
    let d = danmaku::Entity::find_by_id(id)
        .filter(danmaku::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("danmaku"))?;
    if !me.is_admin() {
        if d.user_id != me.id {
            return Err(AppError::forbidden("you may delete only your own danmaku"));
        }
        if d.created_at < Utc::now() - Duration::seconds(DELETE_WITHIN) {
            return Err(AppError::forbidden(
                "a danmaku can be deleted within two minutes of sending",
            ));
        }
    }
    let mut row: danmaku::ActiveModel = d.into();
    row.deleted_at = Set(Some(Utc::now()));
    row.update(db).await?;
    Ok(())
}
