//! HTTP layer of `/movies/{id}/comments` and `/comments/{id}`.

use actix_web::{HttpResponse, delete, get, patch, post, web};

use super::dto::*;
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::state::AppState;

/// Top-level comments of a movie, `new` or `hot` first.
///
/// Cursor pagination: pass `next_cursor` back as `cursor` (with the same `sort`) for the
/// next page. With a token, `liked_by_me` tells which comments the caller likes.
#[utoipa::path(
    tag = "comments",
    security((), ("bearer" = [])),
    params(("id" = i64, Path, description = "Movie id"), ListCommentsQuery),
    responses(
        (status = 200, body = CommentPage),
        (status = 400, description = "`invalid_query` (bad sort, limit or cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such movie, or not released", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/movies/{id}/comments")]
pub async fn list_comments(
    state: web::Data<AppState>,
    caller: Option<AuthUser>,
    id: web::Path<i64>,
    query: web::Query<ListCommentsQuery>,
) -> AppResult<web::Json<CommentPage>> {
    Ok(web::Json(
        service::list(
            &state.db,
            caller.as_ref(),
            id.into_inner(),
            query.into_inner(),
        )
        .await?,
    ))
}

/// Comment on a movie, or reply to one of its top-level comments.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Movie id")),
    request_body = CreateCommentRequest,
    responses(
        (status = 201, body = CommentResponse),
        (status = 400, description = "`validation_failed` on `body` or `parent_id` (unknown parent, other movie, or a reply)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such movie, or not released", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/movies/{id}/comments")]
pub async fn create_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: web::Json<CreateCommentRequest>,
) -> AppResult<HttpResponse> {
    let c = service::create(&state.db, &user, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(c))
}

/// Replies to a top-level comment, oldest first.
#[utoipa::path(
    tag = "comments",
    security((), ("bearer" = [])),
    params(("id" = i64, Path, description = "Comment id"), ListRepliesQuery),
    responses(
        (status = 200, body = CommentPage),
        (status = 400, description = "`invalid_query` (bad limit or cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/comments/{id}/replies")]
pub async fn list_replies(
    state: web::Data<AppState>,
    caller: Option<AuthUser>,
    id: web::Path<i64>,
    query: web::Query<ListRepliesQuery>,
) -> AppResult<web::Json<CommentPage>> {
    Ok(web::Json(
        service::replies(
            &state.db,
            caller.as_ref(),
            id.into_inner(),
            query.into_inner(),
        )
        .await?,
    ))
}

/// Edit one's own comment (marks it edited).
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Comment id")),
    request_body = UpdateCommentRequest,
    responses(
        (status = 200, body = CommentResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's comment", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The comment was deleted", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/comments/{id}")]
pub async fn update_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: web::Json<UpdateCommentRequest>,
) -> AppResult<web::Json<CommentResponse>> {
    Ok(web::Json(
        service::update(&state.db, &user, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Delete a comment: one's own, or any as an administrator.
///
/// The comment stays in its thread as a placeholder (`deleted: true`, empty `body`), so
/// its replies are still listed.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Comment id")),
    responses(
        (status = 204, description = "Deleted (also when it already was)"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's comment and not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/comments/{id}")]
pub async fn delete_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    service::delete(&state.db, &user, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Like a comment. Idempotent: liking twice counts once.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Comment id")),
    responses(
        (status = 200, body = LikeResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The comment was deleted", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/comments/{id}/like")]
pub async fn like_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<LikeResponse>> {
    Ok(web::Json(
        service::like(&state.db, &user, id.into_inner()).await?,
    ))
}

/// Take a like back. Idempotent.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Comment id")),
    responses(
        (status = 200, body = LikeResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/comments/{id}/like")]
pub async fn unlike_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<LikeResponse>> {
    Ok(web::Json(
        service::unlike(&state.db, &user, id.into_inner()).await?,
    ))
}
