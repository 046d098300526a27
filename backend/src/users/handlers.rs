//! HTTP layer of `/me` and `/users`.

use actix_web::{HttpResponse, delete, get, patch, put, web};

use super::dto::{ChangePasswordRequest, DeleteMeRequest, MeResponse, PublicUser, UpdateMeRequest};
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::state::AppState;

/// The caller's own account.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MeResponse),
        (status = 401, description = "Missing, invalid or expired token, or ended session", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, me: AuthUser) -> AppResult<web::Json<MeResponse>> {
    let user = service::find_active_cached(&state.db, &state.auth_cache, me.id).await?;
    Ok(web::Json(MeResponse::from(user.as_ref())))
}

/// Update nickname and bio.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, body = MeResponse),
        (status = 400, description = "`validation_failed` or unknown field (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<UpdateMeRequest>,
) -> AppResult<web::Json<MeResponse>> {
    Ok(web::Json(
        service::update_me(&state.db, &state.auth_cache, &me, body.into_inner())
            .await?
            .into(),
    ))
}

/// Change the password. Every other session of this account ends; this one stays.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "New password invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Current password wrong (`invalid_credentials`) or not logged in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<ChangePasswordRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    service::change_password(
        &state.db,
        &state.auth_cache,
        &state.passwords,
        &me,
        body.current_password,
        body.new_password,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Delete the account. Needs the password. Personal data is erased at once.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = DeleteMeRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Wrong password or not logged in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me")]
pub async fn delete_me(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<DeleteMeRequest>,
) -> AppResult<HttpResponse> {
    service::delete_me(
        &state.db,
        &state.auth_cache,
        &state.passwords,
        &me,
        body.into_inner().password,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A user's public profile.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, body = PublicUser),
        (status = 404, description = "No such user, or deleted", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<web::Json<PublicUser>> {
    let user = service::find_active_cached(&state.db, &state.auth_cache, id.into_inner()).await?;
    Ok(web::Json(PublicUser::from(user.as_ref())))
}
