//! Real-time: the WebSocket gateway at `/ws`, room chat, synchronized playback and
//! presence. See `docs/realtime.md` for the protocol.
//!
//! - `protocol`: the tagged JSON messages, both directions;
//! - `gateway`: authentication before the upgrade (ticket or bearer), Origin allowlist;
//! - `session`: one connection's loop and limits;
//! - `hub`: the per-process owner of room subscriptions, presence and wait gates;
//! - `pubsub`: room traffic between instances through Redis;
//! - `sync`: the playback state machine (pure functions).

pub mod fanout;
pub mod gateway;
pub mod hub;
pub mod outbound;
pub mod protocol;
pub mod pubsub;
pub mod session;
pub mod sync;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytestring::ByteString;
use tokio::sync::{mpsc, oneshot, watch};

use hub::{ConnHandle, ConnId, GateOpened, GateTicket, Hub, HubCmd, HubStats, UserEvent};
use protocol::{MemberPresence, ServerMessage};
use pubsub::{PubSub, PubSubStats};

/// A feature's messages of the socket, handed over by the session decoded. The
/// features provide them at start-up ([`Handlers`], an argument of [`Realtime::start`]):
/// the transport decodes, dispatches and encodes, and knows no feature's rule.
pub trait SocketMessages: Send + Sync {
    /// The answer to send this connection, if any (an error goes out as `error`).
    fn handle<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        conn: &'a ConnHandle,
        name: &'a str,
        msg: protocol::ClientMessage,
    ) -> futures_util::future::BoxFuture<'a, crate::error::AppResult<Option<ServerMessage>>>;
}

/// Who handles which socket messages.
pub struct Handlers {
    /// `join`, `chat`, `delete_message`, `playback`, `danmaku` (`rooms::live`).
    pub rooms: Arc<dyn SocketMessages>,
    /// `message_send`, `message_read`, `typing` (`conversations::live`).
    pub conversations: Arc<dyn SocketMessages>,
}

/// The realtime layer as the rest of the server sees it: room subscriptions, broadcasts
/// and presence, on every instance. Everything goes through the hub's channel.
#[derive(Clone)]
pub struct Realtime {
    hub: mpsc::Sender<HubCmd>,
    pubsub: PubSub,
    pub tickets: gateway::Tickets,
    next_conn: Arc<AtomicU64>,
    shutdown: Arc<watch::Sender<bool>>,
    gates: Arc<Mutex<Option<mpsc::UnboundedReceiver<GateOpened>>>>,
    user_events: Arc<Mutex<Option<mpsc::UnboundedReceiver<UserEvent>>>>,
    fanout: Arc<fanout::FanoutStats>,
    handlers: Arc<Handlers>,
}

impl Realtime {
    /// Start the hub (and, with Redis, the pub/sub tasks); `handlers` take the socket's
    /// feature messages.
    pub fn start(
        redis: Option<(deadpool_redis::Pool, String)>,
        prefix: &str,
        timeout: std::time::Duration,
        handlers: Handlers,
    ) -> Self {
        let (hub_tx, hub_rx) = mpsc::channel(65_536);
        let (pubsub, remote) = match &redis {
            Some((pool, url)) => {
                let (p, remote) = PubSub::redis(pool.clone(), url.clone(), prefix, timeout);
                (p, Some(remote))
            }
            None => (PubSub::local(), None),
        };
        let (gates_tx, gates_rx) = mpsc::unbounded_channel();
        let fanout = Arc::new(fanout::FanoutStats::default());
        let (users_tx, users_rx) = mpsc::unbounded_channel();
        Hub::new(pubsub.clone(), gates_tx, users_tx, fanout.clone()).start(hub_rx, remote);
        let tickets = gateway::Tickets::new(redis.map(|(p, _)| p), prefix, timeout);
        Self {
            hub: hub_tx,
            pubsub,
            tickets,
            next_conn: Arc::new(AtomicU64::new(1)),
            shutdown: Arc::new(watch::channel(false).0),
            gates: Arc::new(Mutex::new(Some(gates_rx))),
            user_events: Arc::new(Mutex::new(Some(users_rx))),
            fanout,
            handlers: Arc::new(handlers),
        }
    }

    /// The stream of opened wait gates, for the rooms code (taken once).
    pub fn take_gate_events(&self) -> Option<mpsc::UnboundedReceiver<GateOpened>> {
        self.gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// The stream of users' first connections and last disconnections on this instance,
    /// for friends' presence (taken once).
    pub fn take_user_events(&self) -> Option<mpsc::UnboundedReceiver<UserEvent>> {
        self.user_events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// The fan-out task of the calling worker thread (started on first use).
    pub fn this_worker(&self) -> fanout::WorkerHandle {
        fanout::this_worker(&self.fanout)
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

    async fn cmd(&self, cmd: HubCmd) {
        let _ = self.hub.send(cmd).await;
    }

    /// A new connection: it receives what is sent to its user ([`Self::send_to_user`])
    /// until it disconnects.
    pub async fn connect(&self, conn: ConnHandle) {
        self.cmd(HubCmd::Connect { conn }).await;
    }

    /// Deliver to every connection of `user_id`, on every instance (direct messages,
    /// notifications, anything addressed to a person rather than a room).
    pub async fn send_to_user(&self, user_id: i64, msg: &ServerMessage) {
        self.send_to_users(&[user_id], msg).await;
    }

    /// Deliver to every connection of each of `user_ids`, on every instance: the frame is
    /// serialized once and crosses Redis once (a group's message to its 500 members is
    /// one publish).
    pub async fn send_to_users(&self, user_ids: &[i64], msg: &ServerMessage) {
        if user_ids.is_empty() {
            return;
        }
        let frame: ByteString = msg.to_json().into();
        self.cmd(HubCmd::ToUsers {
            user_ids: user_ids.to_vec(),
            frame,
        })
        .await;
    }

    /// Subscribe a connection to a room; answers the online members (up to
    /// [`hub::ONLINE_LISTED`]).
    pub async fn join(
        &self,
        room_id: i64,
        conn: ConnHandle,
        presence: MemberPresence,
    ) -> Vec<MemberPresence> {
        let (reply, rx) = oneshot::channel();
        self.cmd(HubCmd::Join {
            room_id,
            conn,
            presence,
            reply,
        })
        .await;
        rx.await.unwrap_or_default()
    }

    pub async fn leave(&self, room_id: i64, conn_id: ConnId) {
        self.cmd(HubCmd::Leave { room_id, conn_id }).await;
    }

    pub async fn disconnect(&self, conn_id: ConnId) {
        self.cmd(HubCmd::Disconnect { conn_id }).await;
    }

    /// A connection's player status; false when the connection has not joined the room.
    pub async fn set_status(
        &self,
        room_id: i64,
        conn_id: ConnId,
        status: crate::rooms::domain::PresenceStatus,
    ) -> bool {
        let (reply, rx) = oneshot::channel();
        self.cmd(HubCmd::Status {
            room_id,
            conn_id,
            status,
            reply,
        })
        .await;
        rx.await.unwrap_or(false)
    }

    /// Online members of the room who are not ready.
    pub async fn not_ready(&self, room_id: i64) -> Vec<i64> {
        let (reply, rx) = oneshot::channel();
        self.cmd(HubCmd::NotReady { room_id, reply }).await;
        rx.await.unwrap_or_default()
    }

    pub async fn open_gate(&self, room_id: i64, deadline: i64, ticket: GateTicket) {
        self.cmd(HubCmd::Gate {
            room_id,
            deadline,
            ticket,
        })
        .await;
    }

    pub async fn cancel_gate(&self, room_id: i64) {
        self.cmd(HubCmd::CancelGate { room_id }).await;
    }

    /// Send a message to everyone in the room, on every instance.
    pub async fn broadcast(&self, room_id: i64, msg: &ServerMessage) {
        let frame: ByteString = msg.to_json().into();
        self.cmd(HubCmd::Broadcast {
            room_id,
            frame,
            seq: None,
        })
        .await;
    }

    /// A chat message, delivered in `seq` order on every instance.
    pub async fn broadcast_seq(&self, room_id: i64, seq: i64, msg: &ServerMessage) {
        let frame: ByteString = msg.to_json().into();
        self.cmd(HubCmd::Broadcast {
            room_id,
            frame,
            seq: Some(seq),
        })
        .await;
    }

    /// End subscriptions to a room: one user's (kick, ban, leave) or everyone's (deleted).
    pub async fn remove(
        &self,
        room_id: i64,
        user_id: Option<i64>,
        reason: crate::rooms::domain::RemovalReason,
    ) {
        self.cmd(HubCmd::Remove {
            room_id,
            user_id,
            reason,
        })
        .await;
    }

    /// A member's role or mute changed: their presence says so to the room, on every
    /// instance.
    pub async fn set_standing(
        &self,
        room_id: i64,
        user_id: i64,
        change: crate::rooms::domain::Standing,
    ) {
        self.cmd(HubCmd::Standing {
            room_id,
            user_id,
            change,
        })
        .await;
    }

    pub async fn hub_stats(&self) -> HubStats {
        let (reply, rx) = oneshot::channel();
        self.cmd(HubCmd::Stats { reply }).await;
        rx.await.unwrap_or_default()
    }

    pub fn pubsub_stats(&self) -> &PubSubStats {
        &self.pubsub.stats
    }
}
