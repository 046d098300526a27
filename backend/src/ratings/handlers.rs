//! HTTP layer of `/movies/{id}/rating`.

use actix_web::{delete, get, put, web};

use super::dto::*;
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::state::AppState;

/// Rate a movie from 1 to 10, or change one's score.
///
/// The movie's average, count and damped score are updated in the same transaction.
#[utoipa::path(
    tag = "ratings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Movie id")),
    request_body = RateRequest,
    responses(
        (status = 200, body = RatingResponse),
        (status = 400, description = "`validation_failed` on `score`", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such movie, or not released", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/movies/{id}/rating")]
pub async fn rate_movie(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: web::Json<RateRequest>,
) -> AppResult<web::Json<RatingResponse>> {
    let r = service::put(&state.db, &user, id.into_inner(), body.into_inner()).await?;
    // Anonymous catalog pages show averages: drop this instance's cached pages.
    state.catalog_cache.clear();
    Ok(web::Json(r))
}

/// The caller's own score for a movie.
#[utoipa::path(
    tag = "ratings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Movie id")),
    responses(
        (status = 200, body = RatingResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such movie, or the caller has not rated it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/movies/{id}/rating")]
pub async fn get_my_rating(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<RatingResponse>> {
    Ok(web::Json(
        service::get(&state.db, &user, id.into_inner()).await?,
    ))
}

/// Remove one's score. Idempotent; answers with the movie's figures afterwards.
#[utoipa::path(
    tag = "ratings",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Movie id")),
    responses(
        (status = 200, body = MovieRatingStats),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such movie, or not released", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/movies/{id}/rating")]
pub async fn delete_my_rating(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> AppResult<web::Json<MovieRatingStats>> {
    let stats = service::delete(&state.db, &user, id.into_inner()).await?;
    state.catalog_cache.clear();
    Ok(web::Json(stats))
}
