//! HTTP layer of `/movies` and `/genres`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use super::dto::*;
use super::service::{self, require_admin};
use crate::auth::AuthUser;
use crate::auth::extractor::{authenticate, bearer_token};
use crate::error::{AppResult, Problem};
use crate::state::AppState;

/// Browse and search the catalog.
///
/// Cursor pagination: pass `next_cursor` back as `cursor` (with the same `sort` and
/// filters) for the next page. Non-admins see only `ready` movies.
#[utoipa::path(
    tag = "movies",
    params(ListMoviesQuery),
    responses(
        (status = 200, body = MoviePage),
        (status = 400, description = "`invalid_query` (bad parameter or cursor) or `validation_failed` (unknown genre)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`status` filter by a non-admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/movies")]
pub async fn list_movies(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    // The busiest read of the site: a visitor without a token gets the cached page before
    // anything else (token check, query parsing) runs.
    let anonymous = bearer_token(&req).is_none();
    if anonymous && let Some(body) = state.catalog_cache.get(req.query_string()) {
        return Ok(json_body(body));
    }
    // Boxed: actix moves the handler's future into a box on every request, and the query's
    // future is large, so keeping it out makes the cached path cheaper.
    Box::pin(list_uncached(state, req)).await
}

async fn list_uncached(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    // A token that does not verify browses like a visitor (as `Option<AuthUser>` would).
    let caller = match bearer_token(&req) {
        Some(token) => authenticate(&state, token).await.ok(),
        None => None,
    };
    let query = web::Query::<ListMoviesQuery>::from_query(req.query_string())
        .map_err(crate::error::invalid_query)?;
    // Everyone but admins sees the same pages: share them through the short-lived cache.
    let shared = !caller.as_ref().is_some_and(AuthUser::is_admin);
    let key = req.query_string();
    if shared && let Some(body) = state.catalog_cache.get(key) {
        return Ok(json_body(body));
    }
    let page = service::list(&state.db, caller.as_ref(), query.into_inner()).await?;
    let body =
        web::Bytes::from(serde_json::to_vec(&page).map_err(crate::error::AppError::internal)?);
    if shared {
        state.catalog_cache.put(key, body.clone());
    }
    Ok(json_body(body))
}

fn json_body(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

/// One movie with its cast, subtitles and renditions.
#[utoipa::path(
    tag = "movies",
    params(("id" = i64, Path, description = "Movie id")),
    responses(
        (status = 200, body = MovieDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/movies/{id}")]
pub async fn get_movie(
    state: web::Data<AppState>,
    caller: Option<AuthUser>,
    id: web::Path<i64>,
) -> AppResult<web::Json<MovieDetail>> {
    let mut detail = service::detail(&state.db, caller.as_ref(), *id).await?;
    if let Some(me) = &caller {
        detail.resume_position_ms =
            crate::history::service::resume_position(&state.db, &state.history, me.id, *id).await?;
        detail.my_score = crate::ratings::service::own_score(&state.db, me.id, *id).await?;
        detail.in_watchlist =
            Some(crate::history::service::in_watchlist(&state.db, me.id, *id).await?);
    }
    Ok(web::Json(detail))
}

/// Every genre, with Chinese and English names.
#[utoipa::path(tag = "movies", responses((status = 200, body = Vec<GenreResponse>)))]
#[get("/genres")]
pub async fn list_genres(state: web::Data<AppState>) -> AppResult<web::Json<Vec<GenreResponse>>> {
    Ok(web::Json(service::genres(&state.db).await?))
}

/// Admin: add a movie's metadata. Media is attached by `luojia ingest --movie-id`.
#[utoipa::path(
    tag = "movies",
    security(("bearer" = [])),
    request_body = CreateMovieRequest,
    responses(
        (status = 201, body = MovieDetail),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/movies")]
pub async fn create_movie(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<CreateMovieRequest>,
) -> AppResult<HttpResponse> {
    require_admin(&user)?;
    let m = service::create(&state.db, body.into_inner()).await?;
    state.catalog_cache.clear();
    Ok(HttpResponse::Created().json(service::detail_of(&state.db, m).await?))
}

/// Admin: change a movie's metadata.
#[utoipa::path(
    tag = "movies",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Movie id")),
    request_body = UpdateMovieRequest,
    responses(
        (status = 200, body = MovieDetail),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/movies/{id}")]
pub async fn update_movie(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: web::Json<UpdateMovieRequest>,
) -> AppResult<web::Json<MovieDetail>> {
    require_admin(&user)?;
    let m = service::update(&state.db, id.into_inner(), body.into_inner()).await?;
    state.catalog_cache.clear();
    Ok(web::Json(service::detail_of(&state.db, m).await?))
}

/// Admin: delete a movie and its media files.
#[utoipa::path(
    tag = "movies",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Movie id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/movies/{id}")]
pub async fn delete_movie(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    require_admin(&user)?;
    service::delete(&state.db, &state.settings, id.into_inner()).await?;
    state.catalog_cache.clear();
    Ok(HttpResponse::NoContent().finish())
}

/// A playback grant: the HLS URL for this user and movie, valid for a few hours.
#[utoipa::path(
    tag = "movies",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Movie id")),
    responses(
        (status = 200, body = PlaybackGrant),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not playable yet (admins only see such movies)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/movies/{id}/playback")]
pub async fn get_playback(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<PlaybackGrant>> {
    Ok(web::Json(
        service::playback(&state.db, &state.grants, &user, id.into_inner()).await?,
    ))
}
