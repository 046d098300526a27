//! Fixed-window rate limits (login, register). With Redis configured the counters are
//! shared by every instance (`INCR` + `EXPIRE`); without it, or while Redis is
//! unreachable, they live in this process. Failing over to local counters keeps logins
//! possible during a Redis outage while still bounding guessing per instance.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;

use crate::error::AppError;

#[derive(Clone)]
pub struct RateLimiter {
    local: Arc<DashMap<String, (u64, u32)>>,
    redis: Option<(deadpool_redis::Pool, Duration)>,
    prefix: String,
}

/// One limit: at most `max` hits per `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u64,
}

impl RateLimiter {
    pub fn new(redis: Option<(deadpool_redis::Pool, Duration)>, prefix: &str) -> Self {
        Self {
            local: Arc::new(DashMap::new()),
            redis,
            prefix: prefix.to_owned(),
        }
    }

    /// The window a hit at this moment counts in, and the seconds until it ends.
    fn window(limit: Limit) -> (u64, u64) {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        let secs = limit.window_secs.max(1);
        let window = now / secs;
        (window, ((window + 1) * secs - now).max(1))
    }

    /// Count one hit on `bucket/key`; `Err(429)` with `Retry-After` once over the limit.
    pub async fn hit(&self, bucket: &str, key: &str, limit: Limit) -> Result<(), AppError> {
        let (window, retry_after) = Self::window(limit);
        let key = format!("{}rl:{bucket}:{key}", self.prefix);
        let count = match &self.redis {
            Some((pool, timeout)) => {
                match self.hit_redis(pool, *timeout, &key, window, limit).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limiter: Redis unreachable, counting locally");
                        self.hit_local(key, window)
                    }
                }
            }
            None => self.hit_local(key, window),
        };
        if count > limit.max {
            Err(AppError::rate_limited(retry_after))
        } else {
            Ok(())
        }
    }

    /// `Err(429)` when `bucket/key` already has `limit.max` hits in this window; counts
    /// nothing (the hits are counted elsewhere, e.g. only failed logins).
    pub async fn check(&self, bucket: &str, key: &str, limit: Limit) -> Result<(), AppError> {
        let (window, retry_after) = Self::window(limit);
        let key = format!("{}rl:{bucket}:{key}", self.prefix);
        let local = || {
            self.local
                .get(&key)
                .filter(|e| e.0 == window)
                .map_or(0, |e| e.1)
        };
        let count = match &self.redis {
            Some((pool, timeout)) => {
                let fut = async {
                    let mut conn = pool.get().await?;
                    let n: Option<u32> = deadpool_redis::redis::cmd("GET")
                        .arg(format!("{key}:{window}"))
                        .query_async(&mut conn)
                        .await?;
                    anyhow::Ok(n.unwrap_or(0))
                };
                match tokio::time::timeout(*timeout, fut).await {
                    Ok(Ok(n)) => n,
                    _ => local(),
                }
            }
            None => local(),
        };
        if count >= limit.max {
            Err(AppError::rate_limited(retry_after))
        } else {
            Ok(())
        }
    }

    /// At most one action per `ms` for `bucket/key` (exact, unlike the windows above):
    /// `SET NX PX` in Redis, a timestamp map otherwise.
    pub async fn cooldown(&self, bucket: &str, key: &str, ms: u64) -> Result<(), AppError> {
        let key = format!("{}cd:{bucket}:{key}", self.prefix);
        let free = match &self.redis {
            Some((pool, timeout)) => {
                let fut = async {
                    let mut conn = pool.get().await?;
                    let set: Option<String> = deadpool_redis::redis::cmd("SET")
                        .arg(&key)
                        .arg(1)
                        .arg("NX")
                        .arg("PX")
                        .arg(ms)
                        .query_async(&mut conn)
                        .await?;
                    anyhow::Ok(set.is_some())
                };
                match tokio::time::timeout(*timeout, fut).await {
                    Ok(Ok(free)) => free,
                    _ => self.cooldown_local(key, ms),
                }
            }
            None => self.cooldown_local(key, ms),
        };
        if free {
            Ok(())
        } else {
            let mut e = AppError::rate_limited(ms.div_ceil(1000));
            e.detail = "too fast: wait a moment before sending again".to_owned();
            Err(e)
        }
    }

    fn cooldown_local(&self, key: String, ms: u64) -> bool {
        let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let mut entry = self.local.entry(key).or_insert((0, 0));
        // For cooldowns the pair holds (free again at ms, unused).
        if entry.0 > now {
            return false;
        }
        *entry = (now + ms, 0);
        true
    }

    fn hit_local(&self, key: String, window: u64) -> u32 {
        if self.local.len() > 100_000 {
            self.local.retain(|_, (w, _)| *w >= window);
        }
        let mut entry = self.local.entry(key).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }

    async fn hit_redis(
        &self,
        pool: &deadpool_redis::Pool,
        timeout: Duration,
        key: &str,
        window: u64,
        limit: Limit,
    ) -> anyhow::Result<u32> {
        let key = format!("{key}:{window}");
        let fut = async {
            let mut conn = pool.get().await?;
            let (count,): (u32,) = deadpool_redis::redis::pipe()
                .atomic()
                .incr(&key, 1)
                .expire(&key, limit.window_secs as i64 + 1)
                .ignore()
                .query_async(&mut conn)
                .await?;
            anyhow::Ok(count)
        };
        tokio::time::timeout(timeout, fut).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_limit_answers_429_past_max() {
        let rl = RateLimiter::new(None, "t:");
        let limit = Limit {
            max: 3,
            window_secs: 3600,
        };
        for _ in 0..3 {
            rl.hit("login", "1.2.3.4", limit)
                .await
                .expect("under limit");
        }
        let e = rl.hit("login", "1.2.3.4", limit).await.unwrap_err();
        assert_eq!(e.code, crate::error::ErrorCode::RateLimited);
        assert!(e.retry_after.is_some_and(|s| (1..=3600).contains(&s)));
        // Other keys are independent.
        rl.hit("login", "5.6.7.8", limit).await.expect("other key");
        // `check` reads without counting.
        rl.check("login", "5.6.7.8", limit).await.expect("1 of 3");
        rl.hit("login", "5.6.7.8", limit).await.expect("2 of 3");
        rl.hit("login", "5.6.7.8", limit).await.expect("3 of 3");
        assert!(rl.check("login", "5.6.7.8", limit).await.is_err());
    }
}
