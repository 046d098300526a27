//! HTTP layer of `/me/history`, `/me/continue-watching` and `/me/watchlist`.

use actix_web::{HttpResponse, delete, get, put, web};

use super::dto::*;
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::paging::PageQuery;
use crate::state::AppState;

/// Report the playback position (send every few seconds while playing).
///
/// Cheap by design: reports are coalesced in memory and written in batches.
#[utoipa::path(tag = "history", security(("bearer" = [])), params(("movie_id" = i64, Path)), request_body = ProgressRequest,
    responses((status = 204, description = "Recorded (or ignored while history is paused)"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/me/history/{movie_id}")]
pub async fn report_progress(
    state: web::Data<AppState>,
    me: AuthUser,
    movie_id: web::Path<i64>,
    body: web::Json<ProgressRequest>,
) -> AppResult<HttpResponse> {
    service::report(
        &state.db,
        &state.movie_durations,
        &state.auth_cache,
        &state.history,
        me.id,
        *movie_id,
        body.position_ms,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Watch history, most recent first.
#[utoipa::path(tag = "history", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = HistoryPage), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/history")]
pub async fn list_history(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<HistoryPage>> {
    Ok(web::Json(
        service::list(&state.db, &state.history, me.id, q.into_inner(), false).await?,
    ))
}

/// Movies started and not finished (finished = past 90 %), most recent first.
#[utoipa::path(tag = "history", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = HistoryPage), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/continue-watching")]
pub async fn continue_watching(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<HistoryPage>> {
    Ok(web::Json(
        service::list(&state.db, &state.history, me.id, q.into_inner(), true).await?,
    ))
}

/// Remove one movie from the history.
#[utoipa::path(tag = "history", security(("bearer" = [])), params(("movie_id" = i64, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/history/{movie_id}")]
pub async fn delete_history_entry(
    state: web::Data<AppState>,
    me: AuthUser,
    movie_id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    service::delete(&state.db, &state.history, me.id, Some(*movie_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Clear the whole history.
#[utoipa::path(tag = "history", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/history")]
pub async fn clear_history(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    service::delete(&state.db, &state.history, me.id, None).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whether history recording is paused.
#[utoipa::path(tag = "history", security(("bearer" = [])),
    responses((status = 200, body = HistorySettings), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/history-settings")]
pub async fn get_history_settings(
    state: web::Data<AppState>,
    me: AuthUser,
) -> AppResult<web::Json<HistorySettings>> {
    Ok(web::Json(HistorySettings {
        paused: service::is_paused(&state.db, &state.auth_cache, me.id).await?,
    }))
}

/// Pause or resume history recording. Pausing also drops reports not yet written.
#[utoipa::path(tag = "history", security(("bearer" = [])), request_body = HistorySettings,
    responses((status = 200, body = HistorySettings), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[put("/me/history-settings")]
pub async fn set_history_settings(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<HistorySettings>,
) -> AppResult<web::Json<HistorySettings>> {
    service::set_paused(
        &state.db,
        &state.auth_cache,
        &state.history,
        me.id,
        body.paused,
    )
    .await?;
    Ok(web::Json(HistorySettings {
        paused: body.paused,
    }))
}

/// Want to watch: add a movie (idempotent).
#[utoipa::path(tag = "history", security(("bearer" = [])), params(("movie_id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/me/watchlist/{movie_id}")]
pub async fn add_to_watchlist(
    state: web::Data<AppState>,
    me: AuthUser,
    movie_id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    service::watchlist_add(&state.db, me.id, *movie_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a movie from the watchlist (idempotent).
#[utoipa::path(tag = "history", security(("bearer" = [])), params(("movie_id" = i64, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/watchlist/{movie_id}")]
pub async fn remove_from_watchlist(
    state: web::Data<AppState>,
    me: AuthUser,
    movie_id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    service::watchlist_remove(&state.db, me.id, *movie_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The watchlist, most recently added first.
#[utoipa::path(tag = "history", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = WatchlistPage), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/watchlist")]
pub async fn list_watchlist(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<WatchlistPage>> {
    Ok(web::Json(
        service::watchlist(&state.db, me.id, q.into_inner()).await?,
    ))
}
