//! Coalesced progress writes.
//!
//! Players report their position every few seconds; writing each report would cost one
//! database write per viewer per few seconds. Instead the latest report per (user, movie)
//! waits in memory and a flusher writes all of them in batched upserts every
//! `flush_interval`. An acknowledged report is therefore in memory until the next flush:
//! reads on this instance merge the pending entries in (read-your-writes), and a clean
//! shutdown flushes before exiting. A crash loses at most one interval of positions,
//! which only moves a resume point back a few seconds.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use tokio::sync::Mutex;

use crate::entities::watch_history;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pending {
    pub position_ms: i64,
    pub finished: bool,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
pub struct FlushStats {
    /// Reports accepted.
    pub reports: AtomicU64,
    /// Rows written (after coalescing).
    pub rows: AtomicU64,
    /// Statements executed.
    pub statements: AtomicU64,
}

#[derive(Clone)]
pub struct Coalescer {
    pending: Arc<Mutex<HashMap<(i64, i64), Pending>>>,
    /// Held while flushing, and by deletions, so a flush in flight cannot write back a
    /// row that is being deleted.
    writing: Arc<Mutex<()>>,
    db: DatabaseConnection,
    pub stats: Arc<FlushStats>,
}

/// Rows per upsert statement.
const BATCH: usize = 500;

impl Coalescer {
    /// Start the periodic flusher.
    pub fn start(db: DatabaseConnection, every: Duration) -> Self {
        let c = Self {
            pending: Arc::new(Mutex::new(HashMap::new())),
            writing: Arc::new(Mutex::new(())),
            db,
            stats: Arc::new(FlushStats::default()),
        };
        let flusher = c.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = flusher.flush().await {
                    tracing::warn!(error = %e, "history flush failed; will retry");
                }
            }
        });
        c
    }

    pub async fn record(&self, user_id: i64, movie_id: i64, p: Pending) {
        self.stats.reports.fetch_add(1, Ordering::Relaxed);
        self.pending.lock().await.insert((user_id, movie_id), p);
    }

    /// Pending entries of one user (newest state not yet in the database).
    pub async fn pending_for(&self, user_id: i64) -> Vec<(i64, Pending)> {
        self.pending
            .lock()
            .await
            .iter()
            .filter(|((u, _), _)| *u == user_id)
            .map(|((_, m), p)| (*m, *p))
            .collect()
    }

    pub async fn pending_one(&self, user_id: i64, movie_id: i64) -> Option<Pending> {
        self.pending.lock().await.get(&(user_id, movie_id)).copied()
    }

    /// Exclusive with flushing; hold it while deleting history rows.
    pub async fn exclusive(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writing.lock().await
    }

    /// Drop pending entries (deleted history must not come back on the next flush).
    pub async fn forget(&self, user_id: i64, movie_id: Option<i64>) {
        self.pending
            .lock()
            .await
            .retain(|(u, m), _| *u != user_id || movie_id.is_some_and(|id| id != *m));
    }

    /// Write everything pending. Entries that fail to write go back (unless a newer
    /// report replaced them meanwhile).
    pub async fn flush(&self) -> anyhow::Result<usize> {
        let _writing = self.writing.lock().await;
        let taken: Vec<((i64, i64), Pending)> = {
            let mut map = self.pending.lock().await;
            if map.is_empty() {
                return Ok(0);
            }
            std::mem::take(&mut *map).into_iter().collect()
        };
        let total = taken.len();
        for chunk in taken.chunks(BATCH) {
            match self.upsert(chunk).await {
                Ok(()) => {}
                Err(e) if is_unreachable(&e) => {
                    // The database is away: keep everything for the next flush.
                    let mut map = self.pending.lock().await;
                    for (k, p) in chunk {
                        map.entry(*k).or_insert(*p);
                    }
                    return Err(e.into());
                }
                Err(_) => {
                    // A bad row (its movie or user was deleted meanwhile) must not block
                    // the others: write one by one and drop what cannot be written.
                    for one in chunk {
                        if let Err(e) = self.upsert(std::slice::from_ref(one)).await {
                            tracing::warn!(user_id = one.0.0, movie_id = one.0.1, error = %e, "dropping a history entry");
                        }
                    }
                }
            }
        }
        Ok(total)
    }

    async fn upsert(&self, chunk: &[((i64, i64), Pending)]) -> Result<(), sea_orm::DbErr> {
        let rows = chunk.iter().map(|((u, m), p)| watch_history::ActiveModel {
            user_id: Set(*u),
            movie_id: Set(*m),
            position_ms: Set(p.position_ms),
            finished: Set(p.finished),
            updated_at: Set(p.at),
        });
        watch_history::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    watch_history::Column::UserId,
                    watch_history::Column::MovieId,
                ])
                .update_columns([
                    watch_history::Column::PositionMs,
                    watch_history::Column::Finished,
                    watch_history::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        self.stats
            .rows
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        self.stats.statements.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn is_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    matches!(
        e,
        DbErr::ConnectionAcquire(_) | DbErr::Conn(RuntimeErr::SqlxError(_))
    )
}
