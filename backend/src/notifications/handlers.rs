//! HTTP layer of `/notifications`.

use actix_web::{HttpResponse, get, post, web};

use super::dto::*;
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::paging::PageQuery;
use crate::state::AppState;

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = NotificationPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<NotificationPage>> {
    Ok(web::Json(
        service::list(&state.db, me.id, q.into_inner()).await?,
    ))
}

/// Mark every notification read; the caller's other devices get `notifications_read`.
#[utoipa::path(tag = "notifications", security(("bearer" = [])),
    responses((status = 204, description = "All read"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[post("/notifications/read-all")]
pub async fn read_all_notifications(
    state: web::Data<AppState>,
    me: AuthUser,
) -> AppResult<HttpResponse> {
    service::mark_all_read(&state.db, &state.realtime, me.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark one notification read; the caller's other devices get `notifications_read`.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "Read"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's", body = Problem, content_type = "application/problem+json")))]
#[post("/notifications/{id}/read")]
pub async fn read_notification(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    service::mark_read(&state.db, &state.realtime, me.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
