//! The movie-duration cache.

use std::time::Duration;

use moka::sync::Cache;
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::entities::movie;
use crate::error::AppResult;

/// Movie durations (for "finished" and for a room's playback bounds), kept a minute so
/// that progress reports and room commands need no query. Not cleared on edits: a
/// duration only changes on a re-ingest, and a minute of the old one is harmless.
#[derive(Clone)]
pub struct MovieDurations {
    by_movie: Cache<i64, Option<i64>>,
}

impl Default for MovieDurations {
    fn default() -> Self {
        Self {
            by_movie: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }
}

impl MovieDurations {
    /// The duration of a ready movie (`not_found` otherwise, unless it is cached).
    pub async fn of_ready(&self, db: &impl ConnectionTrait, id: i64) -> AppResult<Option<i64>> {
        self.cached(id, async {
            Ok(super::find_ready(db, id).await?.duration_ms)
        })
        .await
    }

    /// The duration of any movie; `None` when unknown or when there is no such movie.
    pub async fn of(&self, db: &impl ConnectionTrait, id: i64) -> AppResult<Option<i64>> {
        self.cached(id, async {
            Ok(movie::Entity::find_by_id(id)
                .one(db)
                .await?
                .and_then(|m| m.duration_ms))
        })
        .await
    }

    /// The cached duration, else `load`'s (which is then cached).
    async fn cached(
        &self,
        id: i64,
        load: impl Future<Output = AppResult<Option<i64>>>,
    ) -> AppResult<Option<i64>> {
        if let Some(d) = self.by_movie.get(&id) {
            return Ok(d);
        }
        let d = load.await?;
        self.by_movie.insert(id, d);
        Ok(d)
    }
}
