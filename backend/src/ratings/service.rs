//! Rating rules and queries.
//!
//! A rating change and the movie's `rating_avg`, `rating_count` and `rating_score` are
//! written in one transaction that first locks the movie row (a no-op `UPDATE`), so
//! changes to one movie's ratings are serialized; the figures are then recomputed from
//! the ratings table itself (a per-score `COUNT(*)`, exact in integers on every
//! backend), never adjusted incrementally, so they cannot drift. Writing first also keeps
//! SQLite transactions free of read-to-write lock upgrades.

use chrono::Utc;
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};

use super::domain;
use super::dto::*;
use crate::auth::AuthUser;
use crate::entities::{movie, rating};
use crate::error::{AppError, AppResult};

fn stats(m: &movie::Model) -> MovieRatingStats {
    MovieRatingStats {
        rating_avg: m.rating_avg,
        rating_count: m.rating_count,
        rating_score: m.rating_score,
    }
}

/// Serialize rating changes of one movie: take its row lock before anything else.
async fn lock_movie(db: &impl ConnectionTrait, id: i64) -> AppResult<()> {
    movie::Entity::update_many()
        .col_expr(
            movie::Column::RatingCount,
            Expr::col(movie::Column::RatingCount),
        )
        .filter(movie::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Recompute the movie's figures from its ratings.
async fn recompute(db: &impl ConnectionTrait, movie_id: i64) -> AppResult<()> {
    let histogram: Vec<(i32, i64)> = rating::Entity::find()
        .select_only()
        .column(rating::Column::Score)
        .column_as(
            Expr::expr(Func::count(Expr::col(rating::Column::Score))),
            "n",
        )
        .filter(rating::Column::MovieId.eq(movie_id))
        .group_by(rating::Column::Score)
        .into_tuple()
        .all(db)
        .await?;
    let n: i64 = histogram.iter().map(|(_, c)| c).sum();
    let sum: i64 = histogram.iter().map(|(s, c)| i64::from(*s) * c).sum();
    let (count, avg, score) = domain::aggregate(n, sum);
    movie::Entity::update_many()
        .col_expr(movie::Column::RatingCount, Expr::value(count))
        .col_expr(movie::Column::RatingAvg, Expr::value(avg))
        .col_expr(movie::Column::RatingScore, Expr::value(score))
        .filter(movie::Column::Id.eq(movie_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn response(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    movie_id: i64,
) -> AppResult<RatingResponse> {
    let m = crate::catalog::find_ready(db, movie_id).await?;
    let r = rating::Entity::find_by_id((movie_id, user.id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("rating"))?;
    Ok(RatingResponse {
        movie_id,
        score: r.score,
        created_at: r.created_at,
        updated_at: r.updated_at,
        movie: stats(&m),
    })
}

/// Create or change the caller's score.
pub async fn put(
    db: &DatabaseConnection,
    user: &AuthUser,
    movie_id: i64,
    req: RateRequest,
) -> AppResult<RatingResponse> {
    let score = domain::score(req.score)?;
    crate::catalog::find_ready(db, movie_id).await?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    lock_movie(&txn, movie_id).await?;
    rating::Entity::insert(rating::ActiveModel {
        movie_id: Set(movie_id),
        user_id: Set(user.id),
        score: Set(score),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([rating::Column::MovieId, rating::Column::UserId])
            .update_columns([rating::Column::Score, rating::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    recompute(&txn, movie_id).await?;
    txn.commit().await?;
    response(db, user, movie_id).await
}

/// The caller's own score (404 when they have not rated the movie).
pub async fn get(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    movie_id: i64,
) -> AppResult<RatingResponse> {
    response(db, user, movie_id).await
}

/// The caller's own score, if any (the movie page shows it beside the averages).
pub async fn own_score(
    db: &impl ConnectionTrait,
    user_id: i64,
    movie_id: i64,
) -> AppResult<Option<i32>> {
    Ok(rating::Entity::find_by_id((movie_id, user_id))
        .one(db)
        .await?
        .map(|r| r.score))
}

/// Remove the caller's score; removing a missing one is a no-op.
pub async fn delete(
    db: &DatabaseConnection,
    user: &AuthUser,
    movie_id: i64,
) -> AppResult<MovieRatingStats> {
    crate::catalog::find_ready(db, movie_id).await?;
    let txn = crate::db::begin_write(db).await?;
    lock_movie(&txn, movie_id).await?;
    let removed = rating::Entity::delete_many()
        .filter(rating::Column::MovieId.eq(movie_id))
        .filter(rating::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?
        .rows_affected;
    if removed > 0 {
        recompute(&txn, movie_id).await?;
    }
    txn.commit().await?;
    Ok(stats(&crate::catalog::find_ready(db, movie_id).await?))
}
