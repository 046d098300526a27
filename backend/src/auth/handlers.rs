//! HTTP layer of `/auth`: extract, call the service, map to a response.

use actix_web::{HttpRequest, HttpResponse, post, web};

use super::AuthUser;
use super::dto::{
    AuthResponse, LoginRequest, MeResponse, RefreshRequest, RegisterRequest, TokenPair,
};
use super::service;
use crate::client_ip::{client_ip, user_agent};
use crate::error::{AppResult, Problem};
use crate::state::AppState;

fn ip(req: &HttpRequest, state: &AppState) -> String {
    client_ip(req, &state.settings.server.trusted_proxies)
}

/// Create an account and log in.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the caller is logged in", body = AuthResponse),
        (status = 400, description = "Invalid username, email or password (`validation_failed`, `password_too_long`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`username_taken` or `email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
) -> AppResult<HttpResponse> {
    let (user, tokens) = service::register(
        &state,
        body.into_inner(),
        &ip(&req, &state),
        user_agent(&req),
    )
    .await?;
    Ok(HttpResponse::Created().json(AuthResponse {
        user: MeResponse::from(user),
        tokens,
    }))
}

/// Log in with username or email and password.
///
/// An unknown user and a wrong password get the same answer.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = AuthResponse),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this address or account; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let (user, tokens) = service::login(
        &state,
        body.into_inner(),
        &ip(&req, &state),
        user_agent(&req),
    )
    .await?;
    Ok(HttpResponse::Ok().json(AuthResponse {
        user: MeResponse::from(user),
        tokens,
    }))
}

/// Exchange a refresh token for a new token pair.
///
/// Each refresh token works once. Presenting one that was already used ends the whole
/// session (`refresh_token_reused`): somebody else may hold a copy.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair; the old refresh token is now spent", body = TokenPair),
        (status = 401, description = "`invalid_token` or `refresh_token_reused`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> AppResult<web::Json<TokenPair>> {
    let (_, tokens) = service::refresh(
        &state.db,
        &state.jwt,
        &state.auth_cache,
        &body.refresh_token,
    )
    .await?;
    Ok(web::Json(tokens))
}

/// End the current session (this device). Its access and refresh tokens stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    service::revoke_sessions(&state.db, user.id, Some(&user.session_id), None).await?;
    state.auth_cache.forget_session(&user.session_id);
    Ok(HttpResponse::NoContent().finish())
}
