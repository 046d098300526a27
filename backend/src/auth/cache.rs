//! In-process cache of open sessions and user rows, so that an authenticated read such
//! as `GET /me` costs a JWT check and two hash lookups instead of two database queries.
//!
//! Correctness: every local change (logout, password change, deletion, profile edit)
//! evicts the affected entries before answering, so this instance never serves a
//! revoked session. Another instance may still accept a session revoked elsewhere for
//! at most `auth.session_cache_ttl_secs` (entries expire and are re-read).

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::tokens::Claims;
use crate::entities::user;

#[derive(Clone)]
pub struct AuthCache {
    /// Access tokens already verified → their claims (expiry is re-checked on every use).
    tokens: Cache<String, Arc<Claims>>,
    /// Open session id → its user id.
    sessions: Cache<String, i64>,
    users: Cache<i64, Arc<user::Model>>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
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
        self.sessions.invalidate(sid);
    }

    /// Forget every session of `user_id` except `keep`.
    pub fn forget_user_sessions(&self, user_id: i64, keep: Option<&str>) {
        let keep = keep.map(str::to_owned);
        let result = self
            .sessions
            .invalidate_entries_if(move |sid, uid| *uid == user_id && keep.as_deref() != Some(sid));
        if result.is_err() {
            // Only possible when closures are not enabled, which `new` always does.
            self.sessions.invalidate_all();
        }
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
        self.users.invalidate(&id);
    }
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
}
