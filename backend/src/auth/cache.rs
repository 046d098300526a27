//! In-process cache of open sessions and user rows, so that an authenticated read such
//! as `GET /me` costs a JWT check and two hash lookups instead of two database queries.
//!
//! Correctness: every change (logout, password change, refresh-token reuse, deletion,
//! profile edit) evicts the affected entries before answering, so this instance never
//! serves a revoked session. With Redis, each eviction is also published on the auth
//! channel (`{key_prefix}auth:evict`, separate from the room traffic) and every instance
//! applies it on arrival, so a session revoked on one instance stops working on all of
//! them within about a millisecond. An instance whose subscription breaks empties its
//! session and user caches when it re-subscribes (it may have missed evictions), and
//! entries expire after `auth.session_cache_ttl_secs` in any case.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::tokens::Claims;
use crate::entities::user;

/// One eviction, as published to the other instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "evict", rename_all = "snake_case")]
enum Eviction {
    Session { sid: String },
    UserSessions { user_id: i64, keep: Option<String> },
    User { user_id: i64 },
}

#[derive(Clone)]
pub struct AuthCache {
    /// Where evictions go to be published (set once Redis is connected).
    publish: Arc<OnceLock<mpsc::UnboundedSender<Eviction>>>,
    /// Access tokens already verified → their claims (expiry is re-checked on every use).
    tokens: Cache<String, Arc<Claims>>,
    /// Open session id → its user id.
    sessions: Cache<String, i64>,
    users: Cache<i64, Arc<user::Model>>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            publish: Arc::new(OnceLock::new()),
            tokens: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(15 * 60))
                .build(),
            sessions: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            users: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// Claims of a token verified earlier, if it has not expired since.
    pub fn verified(&self, token: &str, now: i64) -> Option<Arc<Claims>> {
        self.tokens.get(token).filter(|c| c.exp > now)
    }

    pub fn remember_verified(&self, token: String, claims: Arc<Claims>) {
        // Long strings are forged garbage or worse; they were verified, but don't keep them.
        if token.len() <= 2048 {
            self.tokens.insert(token, claims);
        }
    }

    pub fn session_user(&self, sid: &str) -> Option<i64> {
        self.sessions.get(sid)
    }

    pub fn remember_session(&self, sid: String, user_id: i64) {
        self.sessions.insert(sid, user_id);
    }

    pub fn forget_session(&self, sid: &str) {
        self.evict(Eviction::Session {
            sid: sid.to_owned(),
        });
    }

    /// Forget every session of `user_id` except `keep`.
    pub fn forget_user_sessions(&self, user_id: i64, keep: Option<&str>) {
        self.evict(Eviction::UserSessions {
            user_id,
            keep: keep.map(str::to_owned),
        });
    }

    pub fn user(&self, id: i64) -> Option<Arc<user::Model>> {
        self.users.get(&id)
    }

    pub fn remember_user(&self, user: user::Model) -> Arc<user::Model> {
        let user = Arc::new(user);
        self.users.insert(user.id, user.clone());
        user
    }

    pub fn forget_user(&self, id: i64) {
        self.evict(Eviction::User { user_id: id });
    }

    /// Apply here, and publish to the other instances when connected.
    fn evict(&self, e: Eviction) {
        self.apply(&e);
        if let Some(tx) = self.publish.get() {
            let _ = tx.send(e);
        }
    }

    fn apply(&self, e: &Eviction) {
        match e {
            Eviction::Session { sid } => self.sessions.invalidate(sid),
            Eviction::UserSessions { user_id, keep } => {
                let (user_id, keep) = (*user_id, keep.clone());
                let result = self.sessions.invalidate_entries_if(move |sid, uid| {
                    *uid == user_id && keep.as_deref() != Some(sid)
                });
                if result.is_err() {
                    // Only possible when closures are not enabled, which `new` always does.
                    self.sessions.invalidate_all();
                }
            }
            Eviction::User { user_id } => self.users.invalidate(user_id),
        }
    }

    /// Share evictions with the other instances through Redis: a publisher task (pooled
    /// connections) and a subscriber task (its own connection, re-subscribing with backoff).
    pub fn connect_redis(&self, pool: deadpool_redis::Pool, url: String, prefix: &str) {
        let (tx, rx) = mpsc::unbounded_channel();
        if self.publish.set(tx).is_err() {
            return;
        }
        let channel = format!("{prefix}auth:evict");
        tokio::spawn(publisher(pool, channel.clone(), rx));
        tokio::spawn(subscriber(self.clone(), url, channel));
    }
}

async fn publisher(
    pool: deadpool_redis::Pool,
    channel: String,
    mut rx: mpsc::UnboundedReceiver<Eviction>,
) {
    while let Some(e) = rx.recv().await {
        let Ok(payload) = serde_json::to_string(&e) else {
            continue;
        };
        let sent = async {
            let mut conn = pool.get().await?;
            let _: i64 = deadpool_redis::redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(payload)
                .query_async(&mut conn)
                .await?;
            anyhow::Ok(())
        };
        if let Err(err) = tokio::time::timeout(Duration::from_secs(2), sent)
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r)
        {
            // The others fall back to their cache TTL for this one.
            tracing::warn!(error = %err, "publishing a session eviction failed");
        }
    }
}

async fn subscriber(cache: AuthCache, url: String, channel: String) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match subscribe_once(&cache, &url, &channel).await {
            Ok(()) => backoff = Duration::from_millis(200),
            Err(e) => tracing::warn!(error = %e, "auth eviction subscription lost; re-subscribing"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

async fn subscribe_once(cache: &AuthCache, url: &str, channel: &str) -> anyhow::Result<()> {
    let client = deadpool_redis::redis::Client::open(url)?;
    let mut ps = tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub()).await??;
    tokio::time::timeout(Duration::from_secs(2), ps.subscribe(channel)).await??;
    // Evictions published while unsubscribed are lost: forget what may be stale.
    cache.sessions.invalidate_all();
    cache.users.invalidate_all();
    let mut stream = ps.into_on_message();
    while let Some(msg) = stream.next().await {
        let payload: String = msg.get_payload()?;
        if let Ok(e) = serde_json::from_str::<Eviction>(&payload) {
            cache.apply(&e);
        }
    }
    anyhow::bail!("subscription closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_user_eviction_keeps_the_current_session() {
        let c = AuthCache::new(Duration::from_secs(60));
        c.remember_session("a".into(), 1);
        c.remember_session("b".into(), 1);
        c.remember_session("c".into(), 2);
        c.forget_user_sessions(1, Some("a"));
        assert_eq!(c.session_user("a"), Some(1));
        assert_eq!(c.session_user("b"), None);
        assert_eq!(c.session_user("c"), Some(2));
        c.forget_session("a");
        assert_eq!(c.session_user("a"), None);
    }

    #[test]
    fn evictions_round_trip_as_json() {
        for e in [
            Eviction::Session { sid: "s".into() },
            Eviction::UserSessions {
                user_id: 7,
                keep: Some("k".into()),
            },
            Eviction::User { user_id: 7 },
        ] {
            let json = serde_json::to_string(&e).expect("json");
            assert_eq!(serde_json::from_str::<Eviction>(&json).expect("back"), e);
        }
    }
}
