//! Shared application state, handed to every handler as `web::Data<AppState>`.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::auth::cache::AuthCache;
use crate::auth::tokens::JwtKeys;
use crate::config::Settings;
use crate::media::grant::GrantSigner;
use crate::ratelimit::RateLimiter;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub redis: Option<deadpool_redis::Pool>,
    pub jwt: Arc<JwtKeys>,
    pub grants: GrantSigner,
    pub auth_cache: AuthCache,
    pub catalog_cache: crate::movies::cache::CatalogCache,
    pub realtime: crate::realtime::Realtime,
    /// The per-room ordered chat writers.
    pub chat: crate::rooms::pipeline::ChatPipeline,
    pub history: crate::history::coalescer::Coalescer,
    /// Movie durations (for "finished"), so progress reports need no query.
    pub movie_durations: moka::sync::Cache<i64, Option<i64>>,
    pub limiter: RateLimiter,
    /// A bcrypt hash of a random password at the configured cost (see `auth::password`).
    pub dummy_hash: Arc<str>,
}

impl AppState {
    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.settings.redis.timeout_ms)
    }
}
