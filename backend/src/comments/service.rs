//! Comment rules and queries.
//!
//! Counters (`like_count`, `reply_count`) change only through atomic SQL increments inside
//! the transaction that inserts or deletes the row they count, so concurrent likes never
//! lose an update. Every such transaction starts by writing the counted comment's row:
//! that takes its row lock first (the same order everywhere, so no deadlocks, including
//! InnoDB's foreign-key share lock on the parent row) and, on SQLite, makes the
//! transaction a writer from its first statement (no read-to-write lock upgrade).

use std::collections::{HashMap, HashSet};

use chrono::{SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order,
    QueryFilter, QuerySelect, Set,
};

use super::domain;
use super::dto::*;
use crate::auth::AuthUser;
use crate::entities::{comment, comment_like};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::paging::{KeyKind, Keyset, Page};
use crate::users::service::display_names;

/// A comment on a ready movie.
async fn find_comment(db: &impl ConnectionTrait, id: i64) -> AppResult<comment::Model> {
    let c = comment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("comment"))?;
    crate::catalog::find_ready(db, c.movie_id)
        .await
        .map_err(|_| AppError::not_found("comment"))?;
    Ok(c)
}

/// Responses for rows, with author names and the caller's likes in two queries.
async fn responses(
    db: &impl ConnectionTrait,
    caller: Option<&AuthUser>,
    rows: Vec<comment::Model>,
) -> AppResult<Vec<CommentResponse>> {
    let names = display_names(db, rows.iter().map(|c| c.user_id)).await?;
    let liked: HashSet<i64> = match caller {
        Some(u) if !rows.is_empty() => comment_like::Entity::find()
            .filter(comment_like::Column::UserId.eq(u.id))
            .filter(comment_like::Column::CommentId.is_in(rows.iter().map(|c| c.id)))
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.comment_id)
            .collect(),
        _ => HashSet::new(),
    };
    Ok(rows
        .into_iter()
        .map(|c| response(c, &names, &liked))
        .collect())
}

fn response(
    c: comment::Model,
    names: &HashMap<i64, String>,
    liked: &HashSet<i64>,
) -> CommentResponse {
    let deleted = c.deleted_at.is_some();
    CommentResponse {
        id: c.id,
        movie_id: c.movie_id,
        parent_id: c.parent_id,
        author: CommentAuthor {
            id: c.user_id,
            name: names.get(&c.user_id).cloned().unwrap_or_default(),
        },
        body: if deleted { String::new() } else { c.body },
        like_count: c.like_count,
        reply_count: c.reply_count,
        liked_by_me: liked.contains(&c.id),
        edited: c.edited_at.is_some(),
        deleted,
        created_at: c.created_at,
        edited_at: c.edited_at,
    }
}

async fn one(
    db: &impl ConnectionTrait,
    caller: Option<&AuthUser>,
    c: comment::Model,
) -> AppResult<CommentResponse> {
    responses(db, caller, vec![c])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("comment response missing")))
}

/// How a listing of comments pages: top-level ones newest or hottest first, replies
/// oldest first.
fn keyset(sort: Option<CommentSort>) -> Keyset<comment::Entity> {
    use comment::Column as C;
    match sort {
        Some(CommentSort::New) => Keyset::by_id("new", C::Id, Order::Desc),
        Some(CommentSort::Hot) => {
            Keyset::by_key("hot", C::HotScore, KeyKind::Float, C::Id, Order::Desc)
        }
        None => Keyset::by_id("replies", C::Id, Order::Asc),
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: Option<&AuthUser>,
    movie_id: i64,
    q: ListCommentsQuery,
) -> AppResult<CommentPage> {
    let pager = keyset(Some(q.sort.unwrap_or_default())).page(q.cursor.as_deref(), q.limit, 20)?;
    crate::catalog::find_ready(db, movie_id).await?;
    let select = comment::Entity::find()
        .filter(comment::Column::MovieId.eq(movie_id))
        .filter(comment::Column::ParentId.is_null());
    page_of(db, caller, pager.fetch(db, select).await?).await
}

pub async fn replies(
    db: &impl ConnectionTrait,
    caller: Option<&AuthUser>,
    comment_id: i64,
    q: ListRepliesQuery,
) -> AppResult<CommentPage> {
    let pager = keyset(None).page(q.cursor.as_deref(), q.limit, 20)?;
    let parent = find_comment(db, comment_id).await?;
    let select = comment::Entity::find().filter(comment::Column::ParentId.eq(parent.id));
    page_of(db, caller, pager.fetch(db, select).await?).await
}

async fn page_of(
    db: &impl ConnectionTrait,
    caller: Option<&AuthUser>,
    page: Page<comment::Model>,
) -> AppResult<CommentPage> {
    Ok(CommentPage {
        items: responses(db, caller, page.rows).await?,
        next_cursor: page.next_cursor,
    })
}

fn bad_parent(detail: &str) -> AppError {
    AppError::validation("parent_id", detail)
}

pub async fn create(
    db: &DatabaseConnection,
    user: &AuthUser,
    movie_id: i64,
    req: CreateCommentRequest,
) -> AppResult<CommentResponse> {
    let body = domain::body(&req.body)?;
    crate::catalog::find_ready(db, movie_id).await?;
    if let Some(pid) = req.parent_id {
        let parent = comment::Entity::find_by_id(pid)
            .one(db)
            .await?
            .ok_or_else(|| bad_parent("no such comment to reply to"))?;
        if parent.movie_id != movie_id {
            return Err(bad_parent("the parent comment belongs to another movie"));
        }
        if parent.parent_id.is_some() {
            return Err(bad_parent(
                "replies are one level deep: reply to the top-level comment",
            ));
        }
    }
    // Whole seconds: every backend stores them exactly, so the hot score recomputed
    // from the stored time later matches this one.
    let now = Utc::now().trunc_subsecs(0);
    let txn = crate::db::begin_write(db).await?;
    if let Some(pid) = req.parent_id {
        comment::Entity::update_many()
            .col_expr(
                comment::Column::ReplyCount,
                Expr::col(comment::Column::ReplyCount).add(1),
            )
            .filter(comment::Column::Id.eq(pid))
            .exec(&txn)
            .await?;
    }
    let c = comment::ActiveModel {
        movie_id: Set(movie_id),
        user_id: Set(user.id),
        parent_id: Set(req.parent_id),
        body: Set(body),
        like_count: Set(0),
        reply_count: Set(0),
        hot_score: Set(domain::hot_score(0, now)),
        edited_at: Set(None),
        deleted_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    one(db, Some(user), c).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    user: &AuthUser,
    id: i64,
    req: UpdateCommentRequest,
) -> AppResult<CommentResponse> {
    let body = domain::body(&req.body)?;
    let c = find_comment(db, id).await?;
    if c.user_id != user.id {
        return Err(AppError::forbidden("you may only edit your own comments"));
    }
    if c.deleted_at.is_some() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "a deleted comment cannot be edited",
        ));
    }
    let mut am: comment::ActiveModel = c.into();
    am.body = Set(body);
    am.edited_at = Set(Some(Utc::now()));
    let c = am.update(db).await?;
    one(db, Some(user), c).await
}

/// Soft delete: the text goes, the row (and so the thread) stays. Authors delete their
/// own comments, administrators any. Deleting twice is not an error.
pub async fn delete(db: &impl ConnectionTrait, user: &AuthUser, id: i64) -> AppResult<()> {
    let c = find_comment(db, id).await?;
    if c.user_id != user.id && !user.is_admin() {
        return Err(AppError::forbidden("you may only delete your own comments"));
    }
    comment::Entity::update_many()
        .col_expr(comment::Column::Body, Expr::value(""))
        .col_expr(comment::Column::DeletedAt, Expr::value(Utc::now()))
        .filter(comment::Column::Id.eq(c.id))
        .filter(comment::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

async fn like_count(db: &impl ConnectionTrait, id: i64) -> AppResult<i32> {
    comment::Entity::find_by_id(id)
        .select_only()
        .column(comment::Column::LikeCount)
        .into_tuple::<i32>()
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("comment"))
}

/// Recompute the stored hot score from the current count (inside the transaction that
/// holds the comment's row lock, so the last writer writes the newest count's score).
async fn refresh_hot(db: &impl ConnectionTrait, c: &comment::Model, count: i32) -> AppResult<()> {
    comment::Entity::update_many()
        .col_expr(
            comment::Column::HotScore,
            Expr::value(domain::hot_score(count, c.created_at)),
        )
        .filter(comment::Column::Id.eq(c.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Like a comment; liking twice counts once.
pub async fn like(db: &DatabaseConnection, user: &AuthUser, id: i64) -> AppResult<LikeResponse> {
    let c = find_comment(db, id).await?;
    if c.deleted_at.is_some() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "a deleted comment cannot be liked",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    // Lock the comment row first (see the module docs); undone below if already liked.
    comment::Entity::update_many()
        .col_expr(
            comment::Column::LikeCount,
            Expr::col(comment::Column::LikeCount).add(1),
        )
        .filter(comment::Column::Id.eq(c.id))
        .exec(&txn)
        .await?;
    let inserted = comment_like::Entity::insert(comment_like::ActiveModel {
        comment_id: Set(c.id),
        user_id: Set(user.id),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(&txn)
    .await;
    match inserted {
        Ok(_) => {
            let count = like_count(&txn, c.id).await?;
            refresh_hot(&txn, &c, count).await?;
            txn.commit().await?;
            Ok(LikeResponse {
                liked: true,
                like_count: count,
            })
        }
        Err(e) if crate::db::is_unique_violation(&e) => {
            // Already liked: nothing changes.
            txn.rollback().await?;
            Ok(LikeResponse {
                liked: true,
                like_count: like_count(db, c.id).await?,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Take one's like back; unliking what one does not like is a no-op.
pub async fn unlike(db: &DatabaseConnection, user: &AuthUser, id: i64) -> AppResult<LikeResponse> {
    let c = find_comment(db, id).await?;
    let txn = crate::db::begin_write(db).await?;
    comment::Entity::update_many()
        .col_expr(
            comment::Column::LikeCount,
            Expr::col(comment::Column::LikeCount).sub(1),
        )
        .filter(comment::Column::Id.eq(c.id))
        .exec(&txn)
        .await?;
    let removed = comment_like::Entity::delete_many()
        .filter(comment_like::Column::CommentId.eq(c.id))
        .filter(comment_like::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?
        .rows_affected;
    if removed == 0 {
        txn.rollback().await?;
        return Ok(LikeResponse {
            liked: false,
            like_count: like_count(db, c.id).await?,
        });
    }
    let count = like_count(&txn, c.id).await?;
    refresh_hot(&txn, &c, count).await?;
    txn.commit().await?;
    Ok(LikeResponse {
        liked: false,
        like_count: count,
    })
}
