//! Watch history (through the [`Coalescer`](super::coalescer::Coalescer)) and the
//! watchlist. Every query is scoped to the caller: there is no way to name another
//! user's entries.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, Set};

use super::coalescer::{Coalescer, Pending};
use super::dto::*;
use crate::auth::cache::AuthCache;
use crate::catalog::{MovieDurations, MovieSummary};
use crate::entities::{movie, user, watch_history, watchlist};
use crate::error::{AppError, AppResult};
use crate::paging::{KeyKind, Keyset, Page, PageQuery};

/// Finished means past this share of the movie.
const FINISHED_AT: f64 = 0.9;

/// Whether the user paused their watch history.
pub async fn is_paused(
    db: &impl ConnectionTrait,
    cache: &AuthCache,
    user_id: i64,
) -> AppResult<bool> {
    Ok(
        crate::users::service::find_active_cached(db, cache, user_id)
            .await?
            .history_paused,
    )
}

/// Accept a progress report: kept by the coalescer, written in batches.
pub async fn report(
    db: &impl ConnectionTrait,
    durations: &MovieDurations,
    cache: &AuthCache,
    history: &Coalescer,
    user_id: i64,
    movie_id: i64,
    position_ms: i64,
) -> AppResult<()> {
    if position_ms < 0 {
        return Err(AppError::validation(
            "position_ms",
            "position_ms must not be negative",
        ));
    }
    let duration = durations.of_ready(db, movie_id).await?;
    let position_ms = duration.map_or(position_ms, |d| position_ms.min(d));
    if is_paused(db, cache, user_id).await? {
        return Ok(());
    }
    let finished = duration.is_some_and(|d| d > 0 && position_ms as f64 >= d as f64 * FINISHED_AT);
    history
        .record(
            user_id,
            movie_id,
            Pending {
                position_ms,
                finished,
                at: Utc::now(),
            },
        )
        .await;
    Ok(())
}

/// The caller's resume position for one movie.
pub async fn resume_position(
    db: &impl ConnectionTrait,
    coalescer: &Coalescer,
    user_id: i64,
    movie_id: i64,
) -> AppResult<Option<i64>> {
    if let Some(p) = coalescer.pending_one(user_id, movie_id).await {
        return Ok(Some(p.position_ms));
    }
    Ok(watch_history::Entity::find_by_id((user_id, movie_id))
        .one(db)
        .await?
        .map(|h| h.position_ms))
}

async fn summaries(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> AppResult<HashMap<i64, MovieSummary>> {
    let rows = movie::Entity::find()
        .filter(movie::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(crate::catalog::summaries_of(db, rows)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

/// History newest first; `unfinished` limits it to "continue watching".
pub async fn list(
    db: &impl ConnectionTrait,
    coalescer: &Coalescer,
    user_id: i64,
    q: PageQuery,
    unfinished: bool,
) -> AppResult<HistoryPage> {
    let pager = Keyset::by_key(
        "history",
        watch_history::Column::UpdatedAt,
        KeyKind::Time,
        watch_history::Column::MovieId,
        Order::Desc,
    )
    .page(q.cursor.as_deref(), q.limit, 20)?;
    // Make this instance's pending reports visible first (read-your-writes).
    if !coalescer.pending_for(user_id).await.is_empty() {
        coalescer.flush().await.map_err(AppError::unavailable)?;
    }
    let mut select =
        watch_history::Entity::find().filter(watch_history::Column::UserId.eq(user_id));
    if unfinished {
        select = select
            .filter(watch_history::Column::Finished.eq(false))
            .filter(watch_history::Column::PositionMs.gt(0));
    }
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    let mut movies = summaries(db, rows.iter().map(|r| r.movie_id).collect()).await?;
    let items = rows
        .into_iter()
        .filter_map(|r| {
            movies.remove(&r.movie_id).map(|movie| HistoryEntry {
                movie,
                position_ms: r.position_ms,
                finished: r.finished,
                updated_at: r.updated_at,
            })
        })
        .collect();
    Ok(HistoryPage { items, next_cursor })
}

/// Delete one entry, or all of them.
pub async fn delete(
    db: &impl ConnectionTrait,
    coalescer: &Coalescer,
    user_id: i64,
    movie_id: Option<i64>,
) -> AppResult<()> {
    let _exclusive = coalescer.exclusive().await;
    coalescer.forget(user_id, movie_id).await;
    let mut q =
        watch_history::Entity::delete_many().filter(watch_history::Column::UserId.eq(user_id));
    if let Some(id) = movie_id {
        q = q.filter(watch_history::Column::MovieId.eq(id));
    }
    q.exec(db).await?;
    Ok(())
}

pub async fn set_paused(
    db: &impl ConnectionTrait,
    cache: &AuthCache,
    coalescer: &Coalescer,
    user_id: i64,
    paused: bool,
) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(
            user::Column::HistoryPaused,
            sea_orm::sea_query::Expr::value(paused),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    cache.forget_user(user_id);
    if paused {
        let _exclusive = coalescer.exclusive().await;
        coalescer.forget(user_id, None).await;
    }
    Ok(())
}

pub async fn watchlist_add(
    db: &impl ConnectionTrait,
    user_id: i64,
    movie_id: i64,
) -> AppResult<()> {
    crate::catalog::find_ready(db, movie_id).await?;
    let added = watchlist::Entity::insert(watchlist::ActiveModel {
        user_id: Set(user_id),
        movie_id: Set(movie_id),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await;
    match added {
        // Already there: adding is idempotent.
        Err(e) if crate::db::is_unique_violation(&e) => {}
        other => {
            other?;
        }
    }
    Ok(())
}

/// Whether one movie is on the caller's watchlist.
pub async fn in_watchlist(
    db: &impl ConnectionTrait,
    user_id: i64,
    movie_id: i64,
) -> AppResult<bool> {
    Ok(watchlist::Entity::find_by_id((user_id, movie_id))
        .one(db)
        .await?
        .is_some())
}

pub async fn watchlist_remove(
    db: &impl ConnectionTrait,
    user_id: i64,
    movie_id: i64,
) -> AppResult<()> {
    watchlist::Entity::delete_by_id((user_id, movie_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn watchlist(
    db: &impl ConnectionTrait,
    user_id: i64,
    q: PageQuery,
) -> AppResult<WatchlistPage> {
    let pager = Keyset::by_key(
        "watchlist",
        watchlist::Column::CreatedAt,
        KeyKind::Time,
        watchlist::Column::MovieId,
        Order::Desc,
    )
    .page(q.cursor.as_deref(), q.limit, 20)?;
    let select = watchlist::Entity::find().filter(watchlist::Column::UserId.eq(user_id));
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    let mut movies = summaries(db, rows.iter().map(|r| r.movie_id).collect()).await?;
    let items = rows
        .into_iter()
        .filter_map(|r| {
            movies.remove(&r.movie_id).map(|movie| WatchlistEntry {
                movie,
                added_at: r.created_at,
            })
        })
        .collect();
    Ok(WatchlistPage { items, next_cursor })
}
