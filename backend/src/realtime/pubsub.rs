//! Room traffic between instances.
//!
//! Without Redis there is one instance and nothing to carry: `publish` does nothing. With
//! Redis, every instance publishes the frames that originate on it to one channel and
//! subscribes to it on a dedicated connection (SUBSCRIBE cannot share a pooled one).
//!
//! Failure handling, because a silently dead subscription is the classic outage:
//! - publishing goes through a bounded queue and a task; while Redis is down batches are
//!   dropped (local members were already served, and remote ones recover missed chat by
//!   sequence number when they notice the gap or reconnect);
//! - the subscriber re-connects with backoff whenever its connection ends;
//! - a probe is published every 2 s and must come back on the subscription; if none has
//!   for 6 s, the subscription is torn down and re-established.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// What instances tell each other about rooms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Envelope {
    /// A frame for the room's members; chat frames carry their `seq` (delivered in order).
    Frame {
        room_id: i64,
        frame: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<i64>,
    },
    /// End a user's (or, with `None`, everyone's) subscriptions to the room.
    Remove {
        room_id: i64,
        user_id: Option<i64>,
        reason: crate::rooms::domain::RemovalReason,
    },
    /// A member's role or mute changed.
    Standing {
        room_id: i64,
        user_id: i64,
        change: crate::rooms::domain::Standing,
    },
    /// A frame for every connection of these users (their `User` topics), serialized
    /// once for all of them.
    Users { user_ids: Vec<i64>, frame: String },
    /// A publisher's health check: it must come back on its own subscription.
    Probe,
}

/// An envelope on the wire, with the instance that published it.
#[derive(Serialize, Deserialize)]
struct Wire {
    origin: String,
    #[serde(flatten)]
    env: Envelope,
}

#[derive(Default)]
pub struct PubSubStats {
    pub published: AtomicU64,
    pub dropped: AtomicU64,
    pub received: AtomicU64,
    pub resubscribes: AtomicU64,
    /// Whether the subscription is currently believed healthy.
    pub healthy: AtomicBool,
    pub last_probe_ms: AtomicI64,
}

#[derive(Clone)]
pub struct PubSub {
    tx: Option<mpsc::Sender<Envelope>>,
    pub stats: Arc<PubSubStats>,
}

impl PubSub {
    /// In-process only.
    pub fn local() -> Self {
        Self {
            tx: None,
            stats: Arc::new(PubSubStats::default()),
        }
    }

    /// Whether other instances listen (with Redis); without, there is nothing to publish.
    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queue an envelope for the other instances. Never blocks.
    pub fn publish(&self, env: Envelope) {
        let Some(tx) = &self.tx else { return };
        if tx.try_send(env).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Start the publisher and subscriber tasks for `redis_url`; envelopes from other
    /// instances come out of the returned receiver. The channel is `<prefix>rt`.
    pub fn redis(
        pool: deadpool_redis::Pool,
        redis_url: String,
        prefix: &str,
        timeout: Duration,
    ) -> (Self, mpsc::Receiver<Envelope>) {
        let (hub, remote) = mpsc::channel(65_536);
        let (tx, rx) = mpsc::channel(65_536);
        let stats = Arc::new(PubSubStats::default());
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let channel = format!("{prefix}rt");
        tokio::spawn(publisher(
            pool,
            rx,
            channel.clone(),
            instance.clone(),
            stats.clone(),
            timeout,
        ));
        tokio::spawn(subscriber(redis_url, channel, instance, hub, stats.clone()));
        (
            Self {
                tx: Some(tx),
                stats,
            },
            remote,
        )
    }
}

async fn publisher(
    pool: deadpool_redis::Pool,
    mut rx: mpsc::Receiver<Envelope>,
    channel: String,
    instance: String,
    stats: Arc<PubSubStats>,
    timeout: Duration,
) {
    let mut probe = tokio::time::interval(Duration::from_secs(2));
    let mut batch: Vec<Envelope> = Vec::with_capacity(256);
    let mut failing = false;
    loop {
        tokio::select! {
            got = rx.recv_many(&mut batch, 256) => {
                if got == 0 {
                    return;
                }
            }
            _ = probe.tick() => batch.push(Envelope::Probe),
        }
        let n = batch.len() as u64;
        let mut pipe = deadpool_redis::redis::pipe();
        for env in batch.drain(..) {
            let wire = Wire {
                origin: instance.clone(),
                env,
            };
            if let Ok(json) = serde_json::to_string(&wire) {
                pipe.publish(&channel, json).ignore();
            }
        }
        let sent = tokio::time::timeout(timeout, async {
            let mut conn = pool.get().await?;
            pipe.query_async::<()>(&mut conn).await?;
            anyhow::Ok(())
        })
        .await;
        match sent {
            Ok(Ok(())) => {
                stats.published.fetch_add(n, Ordering::Relaxed);
                if failing {
                    tracing::info!("Redis publishing works again");
                    failing = false;
                }
            }
            Ok(Err(e)) => {
                stats.dropped.fetch_add(n, Ordering::Relaxed);
                if !failing {
                    tracing::warn!(error = %e, "Redis publish failed; serving local members only");
                    failing = true;
                }
            }
            Err(_) => {
                stats.dropped.fetch_add(n, Ordering::Relaxed);
                if !failing {
                    tracing::warn!("Redis publish timed out; serving local members only");
                    failing = true;
                }
            }
        }
    }
}

async fn subscriber(
    url: String,
    channel: String,
    instance: String,
    hub: mpsc::Sender<Envelope>,
    stats: Arc<PubSubStats>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match subscribe_once(&url, &channel, &instance, &hub, &stats).await {
            Ok(()) => return, // the hub is gone: the process is stopping
            Err(e) => {
                stats.healthy.store(false, Ordering::Relaxed);
                tracing::warn!(error = %e, "Redis subscription lost; re-subscribing");
            }
        }
        stats.resubscribes.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
        if stats.healthy.load(Ordering::Relaxed) {
            backoff = Duration::from_millis(200);
        }
    }
}

async fn subscribe_once(
    url: &str,
    channel: &str,
    instance: &str,
    hub: &mpsc::Sender<Envelope>,
    stats: &PubSubStats,
) -> anyhow::Result<()> {
    let client = deadpool_redis::redis::Client::open(url)?;
    let mut ps = tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub()).await??;
    tokio::time::timeout(Duration::from_secs(2), ps.subscribe(channel)).await??;
    let mut stream = ps.into_on_message();
    let mut last_probe = tokio::time::Instant::now();
    let mut check = tokio::time::interval(Duration::from_secs(1));
    stats.healthy.store(true, Ordering::Relaxed);
    tracing::info!(channel, "subscribed to room traffic");
    loop {
        tokio::select! {
            msg = stream.next() => {
                let Some(msg) = msg else { anyhow::bail!("subscription closed") };
                let payload: String = msg.get_payload()?;
                let Ok(wire) = serde_json::from_str::<Wire>(&payload) else { continue };
                if wire.origin == instance {
                    if wire.env == Envelope::Probe {
                        last_probe = tokio::time::Instant::now();
                        stats.last_probe_ms.store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
                    }
                    continue;
                }
                if wire.env == Envelope::Probe {
                    continue;
                }
                stats.received.fetch_add(1, Ordering::Relaxed);
                if hub.send(wire.env).await.is_err() {
                    return Ok(());
                }
            }
            _ = check.tick() => {
                if last_probe.elapsed() > Duration::from_secs(6) {
                    anyhow::bail!("no probe came back for 6 s");
                }
            }
        }
    }
}
