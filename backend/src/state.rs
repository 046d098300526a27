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
    /// The ordered writer of conversation messages.
    pub messages: crate::conversations::pipeline::MessageWriter,
    pub history: crate::history::coalescer::Coalescer,
    pub movie_durations: crate::catalog::MovieDurations,
    pub limiter: RateLimiter,
    pub passwords: crate::auth::password::Passwords,
    /// Friends' presence (who is online, on any instance).
    pub presence: crate::friends::presence::Presence,
    /// Uploaded media: the store, the URL signer, the caps.
    pub uploads: crate::uploads::Uploads,
}

impl AppState {
    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.settings.redis.timeout_ms)
    }
}
