//! Real-time: the WebSocket gateway at `/ws`, room chat, synchronized playback and
//! presence. See `docs/realtime.md` for the protocol.
//!
//! - `protocol`: the tagged JSON messages, both directions;
//! - `gateway`: authentication before the upgrade (ticket or bearer), Origin allowlist;
//! - `session`: one connection's loop and limits;
//! - `hub`: the per-process owner of room subscriptions, presence and wait gates;
//! - `pubsub`: room traffic between instances through Redis;
//! - `sync`: the playback state machine (pure functions).

pub mod gateway;
pub mod hub;
pub mod outbound;
pub mod protocol;
pub mod pubsub;
pub mod session;
pub mod sync;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytestring::ByteString;
use tokio::sync::{mpsc, watch};

use hub::{Hub, HubCmd};
use protocol::ServerMessage;
use pubsub::PubSub;

#[derive(Clone)]
pub struct Realtime {
    pub hub: mpsc::Sender<HubCmd>,
    pub pubsub: PubSub,
    pub tickets: gateway::Tickets,
    next_conn: Arc<AtomicU64>,
    shutdown: Arc<watch::Sender<bool>>,
}

impl Realtime {
    /// Start the hub (and, with Redis, the pub/sub tasks).
    pub fn start(
        redis: Option<(deadpool_redis::Pool, String)>,
        prefix: &str,
        timeout: std::time::Duration,
    ) -> Self {
        let (hub_tx, hub_rx) = mpsc::channel(65_536);
        let pubsub = match &redis {
            Some((pool, url)) => {
                PubSub::redis(pool.clone(), url.clone(), prefix, hub_tx.clone(), timeout)
            }
            None => PubSub::local(),
        };
        Hub::start(pubsub.clone(), hub_rx);
        let tickets = gateway::Tickets::new(redis.map(|(p, _)| p), prefix, timeout);
        Self {
            hub: hub_tx,
            pubsub,
            tickets,
            next_conn: Arc::new(AtomicU64::new(1)),
            shutdown: Arc::new(watch::channel(false).0),
        }
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Tell every connection to go away (close 1001) before the server stops.
    pub fn shut_down(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Send a message to everyone in the room, on every instance.
    pub async fn broadcast(&self, room_id: i64, msg: &ServerMessage) {
        let frame: ByteString = msg.to_json().into();
        let _ = self.hub.send(HubCmd::Broadcast { room_id, frame }).await;
    }

    /// End subscriptions to a room: one user's (kick, ban, leave) or everyone's (deleted).
    pub async fn remove(&self, room_id: i64, user_id: Option<i64>, reason: &str) {
        let _ = self
            .hub
            .send(HubCmd::Remove {
                room_id,
                user_id,
                reason: reason.to_owned(),
                local_only: false,
            })
            .await;
    }
}
