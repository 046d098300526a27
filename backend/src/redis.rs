//! The optional Redis pool, with the timeouts deadpool leaves unset by default.

use std::time::Duration;

use anyhow::Context;
use deadpool_redis::{Config, Pool, Runtime};

use crate::config::RedisSettings;

pub fn pool(settings: &RedisSettings) -> anyhow::Result<Pool> {
    let timeout = Some(Duration::from_millis(settings.timeout_ms));
    Config::from_url(settings.url.clone())
        .builder()
        .context("invalid Redis URL")?
        .max_size(settings.pool_size)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(Runtime::Tokio1)
        .build()
        .context("building the Redis pool")
}

/// PING with a deadline.
pub async fn ping(pool: &Pool, timeout: Duration) -> anyhow::Result<()> {
    let fut = async {
        let mut conn = pool.get().await?;
        let _: String = deadpool_redis::redis::cmd("PING")
            .query_async(&mut conn)
            .await?;
        anyhow::Ok(())
    };
    tokio::time::timeout(timeout, fut)
        .await
        .context("Redis did not answer in time")?
}
