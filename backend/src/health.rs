//! Liveness and readiness probes.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
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

/// `GET /internal/stats`: counters for benchmarks and operators (never reachable through
/// nginx, which answers 404 for `/internal/`).
pub async fn internal_stats(state: web::Data<AppState>) -> HttpResponse {
    use std::sync::atomic::Ordering::Relaxed;
    let hub = state.realtime.hub_stats().await;
    let h = &state.history.stats;
    let p = state.realtime.pubsub_stats();
    HttpResponse::Ok().json(serde_json::json!({
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
    }))
}
