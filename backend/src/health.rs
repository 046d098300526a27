//! Liveness and readiness probes.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorCode, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `ok`
    pub database: &'static str,
    /// `ok`, or `disabled` when no Redis is configured.
    pub redis: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness: the database and (when configured) Redis answer within 2 s.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "A dependency is down", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let deadline = Duration::from_secs(2);
    let down = |what: &str| {
        let mut e = AppError::new(
            ErrorCode::ServiceUnavailable,
            format!("{what} is unreachable"),
        );
        e.retry_after = Some(1);
        e
    };
    match tokio::time::timeout(deadline, state.db.ping()).await {
        Ok(Ok(())) => {}
        _ => return Err(down("database")),
    }
    let redis = match &state.redis {
        Some(pool) => {
            crate::redis::ping(pool, deadline)
                .await
                .map_err(|_| down("redis"))?;
            "ok"
        }
        None => "disabled",
    };
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        database: "ok",
        redis,
    }))
}

/// Who may read `/internal/stats`: an administrator's token, or a direct connection from
/// this machine (a loopback peer that no proxy forwarded: the benchmarks, an operator's
/// curl). Everyone else is told there is no such route.
async fn may_read_stats(state: &AppState, req: &HttpRequest) -> bool {
    let forwarded = req.headers().contains_key("x-forwarded-for")
        || req
            .headers()
            .contains_key(actix_web::http::header::FORWARDED);
    let local = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    if local && !forwarded {
        return true;
    }
    match crate::auth::extractor::bearer_token(req) {
        Some(token) => crate::auth::extractor::authenticate(state, token)
            .await
            .is_ok_and(|u| u.is_admin()),
        None => false,
    }
}

/// `GET /internal/stats`: counters for benchmarks and operators. Never reachable through
/// nginx (404 for `/internal/`); on the backend port only for [`may_read_stats`].
pub async fn internal_stats(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    use std::sync::atomic::Ordering::Relaxed;
    if !may_read_stats(&state, &req).await {
        return Err(AppError::new(ErrorCode::NotFound, "no such route"));
    }
    let hub = state.realtime.hub_stats().await;
    let h = &state.history.stats;
    let p = state.realtime.pubsub_stats();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "history": {
            "reports": h.reports.load(Relaxed),
            "rows_written": h.rows.load(Relaxed),
            "statements": h.statements.load(Relaxed),
        },
        "realtime": hub,
        "pubsub": {
            "published": p.published.load(Relaxed),
            "dropped": p.dropped.load(Relaxed),
            "received": p.received.load(Relaxed),
            "resubscribes": p.resubscribes.load(Relaxed),
            "healthy": p.healthy.load(Relaxed),
        },
    })))
}
