//! The upgrade: `GET /ws`, authenticated *before* switching protocols (a bad or missing
//! credential is a 401 problem, never a 101), with an exact Origin allowlist.
//!
//! Browsers cannot set headers on a WebSocket, and long-lived tokens must not appear in
//! URLs (nginx logs them), so a browser first asks `POST /api/v1/realtime/ticket` for a
//! single-use ticket valid 30 s and connects to `/ws?ticket=…`. Other clients may send
//! `Authorization: Bearer <access token>` on the upgrade request instead. Tickets live in
//! Redis when configured (the upgrade may land on another instance), else in process.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, post, web};
use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::auth::extractor::bearer_token;
use crate::error::{AppError, AppResult, ErrorCode, Problem};
use crate::state::AppState;

const TICKET_TTL_SECS: u64 = 30;

#[derive(Clone)]
pub struct Tickets {
    local: Cache<String, String>,
    redis: Option<(deadpool_redis::Pool, Duration)>,
    prefix: String,
}

impl Tickets {
    pub fn new(redis: Option<deadpool_redis::Pool>, prefix: &str, timeout: Duration) -> Self {
        Self {
            local: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(TICKET_TTL_SECS))
                .build(),
            redis: redis.map(|p| (p, timeout)),
            prefix: prefix.to_owned(),
        }
    }

    fn key(&self, ticket: &str) -> String {
        format!(
            "{}ticket:{}",
            self.prefix,
            crate::auth::tokens::hash_token(ticket)
        )
    }

    async fn issue(&self, value: String) -> AppResult<String> {
        let ticket = crate::auth::tokens::random_token();
        // The issue time travels with the value: a ticket is refused after
        // `TICKET_TTL_SECS` whatever the store's own expiry does (the in-process cache
        // expires lazily and coarsely).
        let value = format!("{}|{value}", chrono::Utc::now().timestamp_millis());
        match &self.redis {
            Some((pool, timeout)) => {
                let key = self.key(&ticket);
                let fut = async {
                    let mut conn = pool.get().await?;
                    deadpool_redis::redis::cmd("SET")
                        .arg(&key)
                        .arg(&value)
                        .arg("EX")
                        .arg(TICKET_TTL_SECS)
                        .query_async::<()>(&mut conn)
                        .await?;
                    anyhow::Ok(())
                };
                tokio::time::timeout(*timeout, fut)
                    .await
                    .map_err(AppError::unavailable)?
                    .map_err(AppError::unavailable)?;
            }
            None => self.local.insert(self.key(&ticket), value),
        }
        Ok(ticket)
    }

    /// Redeem once: the ticket is gone afterwards. `None` for an unknown, used or
    /// expired ticket.
    async fn redeem(&self, ticket: &str) -> AppResult<Option<String>> {
        let stored = self.take(ticket).await?;
        Ok(stored.and_then(|v| fresh_value(&v, chrono::Utc::now().timestamp_millis())))
    }

    async fn take(&self, ticket: &str) -> AppResult<Option<String>> {
        let key = self.key(ticket);
        match &self.redis {
            Some((pool, timeout)) => {
                let fut = async {
                    let mut conn = pool.get().await?;
                    let v: Option<String> = deadpool_redis::redis::cmd("GETDEL")
                        .arg(&key)
                        .query_async(&mut conn)
                        .await?;
                    anyhow::Ok(v)
                };
                tokio::time::timeout(*timeout, fut)
                    .await
                    .map_err(AppError::unavailable)?
                    .map_err(AppError::unavailable)
            }
            None => Ok(self.local.remove(&key)),
        }
    }
}

/// The value of a stored ticket if it was issued at most `TICKET_TTL_SECS` before `now`.
fn fresh_value(stored: &str, now_ms: i64) -> Option<String> {
    let (issued, value) = stored.split_once('|')?;
    let age = now_ms - issued.parse::<i64>().ok()?;
    ((0..=TICKET_TTL_SECS as i64 * 1000).contains(&age)).then(|| value.to_owned())
}

#[derive(Serialize, ToSchema)]
pub struct TicketResponse {
    /// Connect to `/ws?ticket=<ticket>` within `expires_in` seconds. Works once.
    pub ticket: String,
    pub expires_in: u64,
}

/// A single-use ticket for opening the WebSocket (`/ws?ticket=…`) from a browser.
#[utoipa::path(tag = "realtime", security(("bearer" = [])),
    responses((status = 200, body = TicketResponse), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[post("/realtime/ticket")]
pub async fn create_ticket(
    state: web::Data<AppState>,
    me: AuthUser,
) -> AppResult<web::Json<TicketResponse>> {
    let ticket = state
        .realtime
        .tickets
        .issue(format!("{}:{}", me.id, me.session_id))
        .await?;
    Ok(web::Json(TicketResponse {
        ticket,
        expires_in: TICKET_TTL_SECS,
    }))
}

#[derive(Deserialize)]
pub struct WsQuery {
    ticket: Option<String>,
}

fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    match req.headers().get("origin").and_then(|v| v.to_str().ok()) {
        // Not a browser: Origin protects browsers from cross-site sockets only.
        None => true,
        Some(origin) => allowed.iter().any(|a| a == origin),
    }
}

async fn authenticate(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    ticket: Option<&str>,
) -> AppResult<i64> {
    let unauthorized =
        || AppError::unauthorized("a ticket (?ticket=) or a bearer token is required");
    if let Some(t) = ticket {
        let value = state.realtime.tickets.redeem(t).await?.ok_or_else(|| {
            AppError::new(ErrorCode::InvalidToken, "invalid, used or expired ticket")
        })?;
        let (user, sid) = value.split_once(':').ok_or_else(unauthorized)?;
        let user_id: i64 = user.parse().map_err(|_| unauthorized())?;
        // The session may have ended since the ticket was issued.
        crate::auth::extractor::check_session(state, sid, user_id).await?;
        return Ok(user_id);
    }
    let token = bearer_token(req).ok_or_else(unauthorized)?.to_owned();
    let user = crate::auth::extractor::authenticate(state, &token).await?;
    Ok(user.id)
}

/// `GET /ws`: upgrade to the real-time protocol.
pub async fn upgrade(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<WsQuery>,
) -> AppResult<HttpResponse> {
    if !origin_allowed(&req, &state.settings.server.allowed_origins) {
        return Err(AppError::forbidden(
            "this origin may not open a WebSocket here",
        ));
    }
    let user_id = authenticate(&state, &req, query.ticket.as_deref()).await?;
    let user =
        crate::users::service::find_active_cached(&state.db, &state.auth_cache, user_id).await?;
    let name = user
        .nickname
        .clone()
        .or_else(|| user.username.clone())
        .unwrap_or_default();
    // actix-ws answers the handshake and reads frames; frames out go through our own
    // queue (see `outbound`), so its `Session` is not used.
    let (res, _session, stream) = actix_ws::handle(&req, body).map_err(|e| {
        AppError::new(
            ErrorCode::ValidationFailed,
            format!("not a WebSocket upgrade: {e}"),
        )
    })?;
    let (res, outbox) = super::outbound::attach(res, super::session::QUEUE);
    actix_web::rt::spawn(super::session::run(
        state,
        super::session::Identity { user_id, name },
        outbox,
        stream,
    ));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::fresh_value;

    #[test]
    fn tickets_expire_after_thirty_seconds() {
        let issued = 1_000_000_i64;
        let stored = format!("{issued}|7:abc");
        assert_eq!(fresh_value(&stored, issued).as_deref(), Some("7:abc"));
        assert_eq!(
            fresh_value(&stored, issued + 30_000).as_deref(),
            Some("7:abc")
        );
        assert_eq!(fresh_value(&stored, issued + 31_000), None);
        assert_eq!(fresh_value(&stored, issued + 100_000), None);
        assert_eq!(fresh_value("7:abc", issued), None, "no issue time: refused");
    }
}
