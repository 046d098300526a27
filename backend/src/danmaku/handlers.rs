//! HTTP layer of danmaku.

use actix_web::{HttpResponse, delete, get, post, web};

use super::dto::*;
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::state::AppState;

/// Send a danmaku at a position of the movie.
#[utoipa::path(tag = "danmaku", security(("bearer" = [])), params(("id" = i64, Path, description = "Movie id")), request_body = CreateDanmakuRequest,
    responses((status = 201, body = DanmakuResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Cooldown (3 s between sends)", body = Problem, content_type = "application/problem+json")))]
#[post("/movies/{id}/danmaku")]
pub async fn create_danmaku(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
    body: web::Json<CreateDanmakuRequest>,
) -> AppResult<HttpResponse> {
    let (d, _) = service::create(
        &state.db,
        &state.limiter,
        me.id,
        *id,
        None,
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created().json(d))
}

/// Danmaku in a window of the movie (at most 6 minutes, at most 1000 items).
///
/// Public: those sent on the movie page, and those sent live in rooms that are `public`
/// now. Danmaku sent in an `unlisted` or `private` room stay in that room.
#[utoipa::path(tag = "danmaku", params(("id" = i64, Path, description = "Movie id"), WindowQuery),
    responses((status = 200, body = DanmakuWindow),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/movies/{id}/danmaku")]
pub async fn list_danmaku(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<WindowQuery>,
) -> AppResult<web::Json<DanmakuWindow>> {
    Ok(web::Json(
        service::window(&state.db, *id, q.into_inner()).await?,
    ))
}

/// Delete a danmaku: your own within two minutes, or any as an admin.
#[utoipa::path(tag = "danmaku", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/danmaku/{id}")]
pub async fn delete_danmaku(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    service::delete(&state.db, &me, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
