//! Friends' presence: who is online (any connection on any instance), told to online
//! friends only, once per change and per friend connection.
//!
//! The realtime hub reports a user's first connection and last disconnection on this
//! instance ([`UserEvent`]); this module turns those into "online anywhere" with Redis:
//!
//! - `<prefix>presence:user:<id>`: the set of instances where the user has a connection;
//!   the user is online while it is not empty. Adding to it and counting it is one
//!   MULTI, so of two instances connecting the same user at once exactly one sees the
//!   count go 0 → 1 (and of two disconnecting, one sees 1 → 0).
//! - `<prefix>presence:inst:<instance>`: the users of one instance, for cleaning up after
//!   it.
//! - `<prefix>presence:alive`: a sorted set of instances by their last heartbeat (every
//!   `presence_heartbeat_ms`). Every instance sweeps it: an instance silent for
//!   `presence_ttl_ms` is dead; the first to remove it from the set takes its users off
//!   their sets, stores their last seen (the dead instance's last heartbeat) and tells
//!   friends of those now offline. An instance that finds itself swept (its heartbeat
//!   re-adds it) registers its users again.
//!
//! Without Redis the instance is the whole deployment and the local set is the truth.
//! If Redis fails, the instance falls back to its own view (a change may then be told
//! twice, never left untold).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use crate::realtime::Realtime;
use crate::realtime::hub::UserEvent;
use crate::realtime::protocol::ServerMessage;

#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

struct Inner {
    redis: Option<Shared>,
    /// Users with a connection on this instance.
    local: Mutex<HashSet<i64>>,
}

struct Shared {
    pool: deadpool_redis::Pool,
    prefix: String,
    instance: String,
    timeout: Duration,
    ttl_ms: i64,
}

impl Shared {
    fn user_key(&self, user: i64) -> String {
        format!("{}presence:user:{user}", self.prefix)
    }
    fn inst_key(&self, inst: &str) -> String {
        format!("{}presence:inst:{inst}", self.prefix)
    }
    fn alive_key(&self) -> String {
        format!("{}presence:alive", self.prefix)
    }

    async fn conn(&self) -> anyhow::Result<deadpool_redis::Connection> {
        Ok(tokio::time::timeout(self.timeout, self.pool.get()).await??)
    }

    async fn run<T: redis::FromRedisValue>(&self, p: &redis::Pipeline) -> anyhow::Result<T> {
        let mut conn = self.conn().await?;
        Ok(tokio::time::timeout(self.timeout, p.query_async(&mut conn)).await??)
    }

    /// Add or remove this instance from the user's set; whether that was the first
    /// (online) or the last (offline) instance.
    async fn set(&self, user: i64, online: bool) -> anyhow::Result<bool> {
        let (ukey, ikey) = (self.user_key(user), self.inst_key(&self.instance));
        let mut p = redis::pipe();
        p.atomic();
        if online {
            p.sadd(&ukey, &self.instance)
                .ignore()
                .sadd(&ikey, user)
                .ignore();
        } else {
            p.srem(&ukey, &self.instance)
                .ignore()
                .srem(&ikey, user)
                .ignore();
        }
        p.scard(&ukey);
        let (n,): (u64,) = self.run(&p).await?;
        Ok(if online { n == 1 } else { n == 0 })
    }

    async fn online_of(&self, ids: &[i64]) -> anyhow::Result<HashSet<i64>> {
        let mut p = redis::pipe();
        for id in ids {
            p.scard(self.user_key(*id));
        }
        let counts: Vec<u64> = self.run(&p).await?;
        Ok(ids
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(id, _)| *id)
            .collect())
    }

    /// Say this instance is alive; true when it was not in the set (first beat, or it
    /// was swept as dead meanwhile).
    async fn heartbeat(&self) -> anyhow::Result<bool> {
        let mut p = redis::pipe();
        p.zadd(self.alive_key(), &self.instance, now_ms());
        let (added,): (u64,) = self.run(&p).await?;
        Ok(added == 1)
    }

    /// Take dead instances' users offline: those with no other instance left, with the
    /// time they were last seen.
    async fn sweep(&self) -> anyhow::Result<Vec<(i64, DateTime<Utc>)>> {
        let mut p = redis::pipe();
        p.cmd("ZRANGEBYSCORE")
            .arg(self.alive_key())
            .arg("-inf")
            .arg(now_ms() - self.ttl_ms)
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(16);
        let (dead,): (Vec<(String, i64)>,) = self.run(&p).await?;
        let mut offline = Vec::new();
        for (inst, last_beat) in dead {
            if inst == self.instance {
                continue;
            }
            let mut p = redis::pipe();
            p.zrem(self.alive_key(), &inst)
                .smembers(self.inst_key(&inst));
            let (claimed, users): (u64, Vec<i64>) = self.run(&p).await?;
            if claimed == 0 {
                continue; // another instance is sweeping it
            }
            let seen = DateTime::from_timestamp_millis(last_beat).unwrap_or_else(Utc::now);
            for user in users {
                let mut p = redis::pipe();
                p.atomic()
                    .srem(self.user_key(user), &inst)
                    .ignore()
                    .scard(self.user_key(user));
                let (n,): (u64,) = self.run(&p).await?;
                if n == 0 {
                    offline.push((user, seen));
                }
            }
            let mut p = redis::pipe();
            p.del(self.inst_key(&inst)).ignore();
            self.run::<()>(&p).await?;
            tracing::info!(instance = %inst, "presence: swept a dead instance");
        }
        Ok(offline)
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Presence {
    /// `redis`: the pool and key prefix shared by the deployment's instances.
    pub fn new(
        redis: Option<(deadpool_redis::Pool, String)>,
        timeout: Duration,
        ttl_ms: u64,
    ) -> Self {
        let redis = redis.map(|(pool, prefix)| Shared {
            pool,
            prefix,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            timeout,
            ttl_ms: ttl_ms as i64,
        });
        Self {
            inner: Arc::new(Inner {
                redis,
                local: Mutex::new(HashSet::new()),
            }),
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.inner
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Which of `ids` are online (on any instance).
    pub async fn online_of(&self, ids: &[i64]) -> HashSet<i64> {
        if ids.is_empty() {
            return HashSet::new();
        }
        if let Some(r) = &self.inner.redis {
            match r.online_of(ids).await {
                Ok(s) => return s,
                Err(e) => tracing::warn!(error = %e, "presence: Redis unavailable, local view"),
            }
        }
        let local = self.local();
        ids.iter()
            .copied()
            .filter(|id| local.contains(id))
            .collect()
    }

    /// Record this instance's change; whether the user's presence changed anywhere.
    async fn set(&self, user: i64, online: bool) -> bool {
        let changed_here = if online {
            self.local().insert(user)
        } else {
            self.local().remove(&user)
        };
        if !changed_here {
            return false;
        }
        match &self.inner.redis {
            Some(r) => r.set(user, online).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "presence: Redis unavailable, local view");
                true
            }),
            None => true,
        }
    }
}

/// Tell `user`'s online friends (each of their connections, once) that `user` came
/// online or went offline.
async fn announce(
    db: &DatabaseConnection,
    rt: &Realtime,
    presence: &Presence,
    user: i64,
    online: bool,
    last_seen: Option<DateTime<Utc>>,
) -> crate::error::AppResult<()> {
    let friends = super::service::friend_ids(db, user).await?;
    let msg = ServerMessage::FriendPresence {
        user_id: user,
        online,
        last_seen,
    };
    for friend in presence.online_of(&friends).await {
        rt.send_to_user(friend, &msg).await;
    }
    Ok(())
}

async fn went_offline(
    db: &DatabaseConnection,
    rt: &Realtime,
    presence: &Presence,
    user: i64,
    at: DateTime<Utc>,
) -> crate::error::AppResult<()> {
    super::service::store_last_seen(db, user, at).await?;
    announce(db, rt, presence, user, false, Some(at)).await
}

/// Follow the hub's user events (and, with Redis, beat and sweep) until the hub stops.
pub fn start(
    db: DatabaseConnection,
    rt: Realtime,
    presence: Presence,
    mut events: mpsc::UnboundedReceiver<UserEvent>,
    heartbeat: Duration,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(heartbeat.max(Duration::from_millis(50)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                ev = events.recv() => {
                    let Some(UserEvent { user_id, online }) = ev else { return };
                    if presence.set(user_id, online).await {
                        let done = if online {
                            announce(&db, &rt, &presence, user_id, true, None).await
                        } else {
                            went_offline(&db, &rt, &presence, user_id, Utc::now()).await
                        };
                        if let Err(e) = done {
                            tracing::warn!(error = ?e, user_id, "presence: not announced");
                        }
                    }
                }
                _ = tick.tick(), if presence.inner.redis.is_some() => {
                    if let Err(e) = beat(&db, &rt, &presence).await {
                        tracing::warn!(error = %e, "presence: heartbeat failed");
                    }
                }
            }
        }
    });
}

async fn beat(db: &DatabaseConnection, rt: &Realtime, presence: &Presence) -> anyhow::Result<()> {
    let Some(r) = &presence.inner.redis else {
        return Ok(());
    };
    if r.heartbeat().await? {
        // Swept while alive (Redis was away): register our users again.
        let users: Vec<i64> = presence.local().iter().copied().collect();
        for user in users {
            if r.set(user, true).await? {
                announce(db, rt, presence, user, true, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            }
        }
    }
    for (user, seen) in r.sweep().await? {
        went_offline(db, rt, presence, user, seen)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    Ok(())
}
