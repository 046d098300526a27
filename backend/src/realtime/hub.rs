//! The room hub: one task per process owns every room's local subscribers, presence,
//! delivery order and "wait for everyone" gate, and takes commands through a channel (no
//! lock over rooms). Its state changes are plain synchronous methods, unit-tested below;
//! it does no I/O of its own beyond handing frames to queues.
//!
//! Fan-out: a frame is serialized once (`ByteString`, cheap to clone) and handed once to
//! each worker thread that has subscribers in the room (`fanout`), whose task offers it to
//! each local subscriber's bounded outbound queue (its [`Outbox`], drained straight into
//! the socket) with `try_send`. A subscriber whose queue is full is too slow: it is
//! closed with 1008 (and recovers by reconnecting with `last_seq`), never buffered
//! without end and never allowed to stall the others.
//!
//! Order: chat frames carry their `seq`. Each room's chat is published in `seq` order by
//! the room's writer on each instance (`rooms::pipeline`), but with several instances
//! the frames of one room come from several writers, through Redis. The hub therefore
//! delivers a room's chat in `seq` order: a frame that arrives ahead of a missing one is
//! held until the missing one arrives or [`GAP_WAIT_MS`] passes; then the held frames go
//! out in order and the client fills the gap by `join` with `last_seq`.
//!
//! Several instances: frames that originate here are also published through
//! [`PubSub`]; envelopes from other instances arrive on their own channel and go to the
//! local subscribers only.
//!
//! The gate: when everyone is ready (or at the deadline) the hub does not apply the
//! waiting play itself; it hands a [`GateOpened`] event to the rooms code, which checks
//! the play again against the room as it is then.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use tokio::sync::{Notify, mpsc, oneshot};

use super::fanout::{FanoutStats, Topic, WorkerHandle, WorkerMsg};
use super::outbound::{Frame, Outbox};
use super::protocol::{MemberPresence, ServerMessage};
use super::pubsub::{Envelope, PubSub};
use crate::rooms::domain::{PresenceStatus, RemovalReason, Standing};

pub type ConnId = u64;

/// At most this many online members are listed in `joined` (the rest are paged over
/// REST): a join costs the same in a room of 20 and of 2,000.
pub const ONLINE_LISTED: usize = 100;
/// How long a chat frame that arrived ahead of a missing `seq` is held.
pub const GAP_WAIT_MS: i64 = 150;

/// A connection as the hub sees it.
#[derive(Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub user_id: i64,
    pub tx: Outbox,
    pub kick: Arc<Notify>,
    /// The fan-out task of the worker thread the connection lives on.
    pub worker: WorkerHandle,
}

/// What a waiting play needs to be checked again when the gate opens.
#[derive(Debug, Clone, PartialEq)]
pub struct GateTicket {
    pub by: i64,
    pub req_id: Option<String>,
    /// The playback version the play was requested over: if it moved meanwhile (a pause
    /// or seek), the later command wins and the play is dropped.
    pub version: i64,
}

/// A user's first connection on this instance opened (`online`), or their last one on
/// this instance closed. Friends' presence (`friends::presence`) listens; the hub knows
/// nothing of friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserEvent {
    pub user_id: i64,
    pub online: bool,
}

/// The gate of `room_id` opened (everyone ready, or the deadline passed).
#[derive(Debug)]
pub struct GateOpened {
    pub room_id: i64,
    pub deadline: i64,
    pub ticket: GateTicket,
}

pub enum HubCmd {
    Join {
        room_id: i64,
        conn: ConnHandle,
        presence: MemberPresence,
        /// Online members (up to [`ONLINE_LISTED`]).
        reply: oneshot::Sender<Vec<MemberPresence>>,
    },
    Leave {
        room_id: i64,
        conn_id: ConnId,
    },
    /// A new connection: subscribed to its user's topic until it disconnects.
    Connect {
        conn: ConnHandle,
    },
    Disconnect {
        conn_id: ConnId,
    },
    /// A frame for every connection of these users, on every instance.
    ToUsers {
        user_ids: Vec<i64>,
        frame: ByteString,
    },
    /// Deliver to local subscribers and publish to other instances. Chat frames carry
    /// their `seq`.
    Broadcast {
        room_id: i64,
        frame: ByteString,
        seq: Option<i64>,
    },
    Status {
        room_id: i64,
        conn_id: ConnId,
        status: PresenceStatus,
        /// Whether this connection had joined the room.
        reply: oneshot::Sender<bool>,
    },
    /// A member's role or mute changed (here or on another instance).
    Standing {
        room_id: i64,
        user_id: i64,
        change: Standing,
    },
    /// Online members of the room who are not ready.
    NotReady {
        room_id: i64,
        reply: oneshot::Sender<Vec<i64>>,
    },
    /// Open a wait gate: when everyone is ready (or at `deadline`), a [`GateOpened`]
    /// goes to the rooms code.
    Gate {
        room_id: i64,
        deadline: i64,
        ticket: GateTicket,
    },
    /// Another playback command was applied: a waiting play is void.
    CancelGate {
        room_id: i64,
    },
    /// Remove a user's (or, with `None`, everyone's) subscriptions to a room.
    Remove {
        room_id: i64,
        user_id: Option<i64>,
        reason: RemovalReason,
    },
    Stats {
        reply: oneshot::Sender<HubStats>,
    },
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct HubStats {
    pub connections: usize,
    pub rooms: usize,
    pub kicked_slow: u64,
    /// Chat frames that arrived ahead of a missing `seq` and were held.
    pub held: u64,
    /// Gaps given up on after `GAP_WAIT_MS` (the clients fill them from the database).
    pub gaps_released: u64,
}

struct Sub {
    user_id: i64,
    worker: usize,
}

/// Delivery order of a room's chat.
#[derive(Default)]
struct Order {
    /// The `seq` expected next; `None` until the first chat frame.
    next: Option<i64>,
    held: BTreeMap<i64, ByteString>,
    /// Server ms when the oldest held frame arrived.
    held_since: Option<i64>,
}

#[derive(Default)]
struct Room {
    subs: HashMap<ConnId, Sub>,
    /// The workers with subscribers here, and how many each has.
    workers: HashMap<usize, (WorkerHandle, usize)>,
    /// Local presence by user (a user may have several tabs).
    presence: HashMap<i64, MemberPresence>,
    /// Members on other instances, as their presence events said.
    remote: HashMap<i64, MemberPresence>,
    gate: Option<Gate>,
    /// Presence changes not yet sent (latest per user), flushed every tick: when 500
    /// members join and report ready together, everyone gets a few batches instead of
    /// a thousand frames each.
    dirty: HashMap<i64, MemberPresence>,
    order: Order,
}

struct Gate {
    deadline: i64,
    ticket: GateTicket,
}

impl Room {
    fn statuses(&self) -> impl Iterator<Item = (i64, PresenceStatus)> {
        self.presence
            .values()
            .chain(self.remote.values())
            .filter(|p| p.online)
            .map(|p| (p.user_id, p.status))
    }

    fn idle(&self) -> bool {
        self.subs.is_empty()
            && self.remote.is_empty()
            && self.gate.is_none()
            && self.dirty.is_empty()
    }
}

pub struct Hub {
    rooms: HashMap<i64, Room>,
    /// Each connected user's connections (the `User` topic) with their worker, and each
    /// connection's user.
    users: HashMap<i64, HashMap<ConnId, WorkerHandle>>,
    conn_users: HashMap<ConnId, i64>,
    /// Which rooms each connection is in.
    conns: HashMap<ConnId, HashSet<i64>>,
    pubsub: PubSub,
    gates: mpsc::UnboundedSender<GateOpened>,
    user_events: mpsc::UnboundedSender<UserEvent>,
    stats: HubStats,
    fanout: Arc<FanoutStats>,
}

/// Up to this many changes in one tick go out as single `presence` messages; more as
/// one `presence_batch`.
const SINGLE_PRESENCE_MAX: usize = 3;

/// Members per `presence_batch` frame at most (about 6 KB): a burst of 2,000 is 32
/// frames, not one 200 KB frame that every member's write buffer would have to hold.
const PRESENCE_BATCH_MAX: usize = 64;

fn presence_frames(room_id: i64, changed: Vec<MemberPresence>) -> Vec<ByteString> {
    if changed.len() <= SINGLE_PRESENCE_MAX {
        changed
            .into_iter()
            .map(|member| ServerMessage::Presence { room_id, member }.to_json().into())
            .collect()
    } else {
        changed
            .chunks(PRESENCE_BATCH_MAX)
            .map(|members| {
                ServerMessage::PresenceBatch {
                    room_id,
                    members: members.to_vec(),
                }
                .to_json()
                .into()
            })
            .collect()
    }
}

pub fn waiting_frame(room_id: i64, waiting_for: Vec<i64>, deadline: i64) -> ServerMessage {
    ServerMessage::Waiting {
        room_id,
        waiting_for,
        deadline,
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Hub {
    pub fn new(
        pubsub: PubSub,
        gates: mpsc::UnboundedSender<GateOpened>,
        user_events: mpsc::UnboundedSender<UserEvent>,
        fanout: Arc<FanoutStats>,
    ) -> Self {
        Hub {
            rooms: HashMap::new(),
            users: HashMap::new(),
            conn_users: HashMap::new(),
            conns: HashMap::new(),
            pubsub,
            gates,
            user_events,
            stats: HubStats::default(),
            fanout,
        }
    }

    /// Run the hub on the current runtime, taking commands from `rx` and other
    /// instances' envelopes from `remote`.
    pub fn start(self, rx: mpsc::Receiver<HubCmd>, remote: Option<mpsc::Receiver<Envelope>>) {
        tokio::spawn(self.run(rx, remote));
    }

    async fn run(
        mut self,
        mut rx: mpsc::Receiver<HubCmd>,
        remote: Option<mpsc::Receiver<Envelope>>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut remote = remote;
        let mut presence_due = 0u8;
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                env = async { remote.as_mut()?.recv().await }, if remote.is_some() => match env {
                    Some(env) => self.remote(env),
                    None => remote = None,
                },
                _ = tick.tick() => {
                    let now = now_ms();
                    self.release_gaps(now);
                    // Presence every 100 ms, gaps and gates every 50 ms.
                    presence_due ^= 1;
                    if presence_due == 0 {
                        self.flush_presence();
                    }
                    self.expire_gates(now);
                }
            }
        }
    }

    pub fn handle(&mut self, cmd: HubCmd) {
        match cmd {
            HubCmd::Join {
                room_id,
                conn,
                presence,
                reply,
            } => {
                let online = self.join(room_id, conn, presence);
                let _ = reply.send(online);
            }
            HubCmd::Leave { room_id, conn_id } => {
                self.unsubscribe(room_id, conn_id);
                self.forget(conn_id, room_id);
            }
            HubCmd::Connect { conn } => self.connect(conn),
            HubCmd::Disconnect { conn_id } => {
                for room_id in self.conns.remove(&conn_id).unwrap_or_default() {
                    self.unsubscribe(room_id, conn_id);
                }
                self.disconnect_user(conn_id);
            }
            HubCmd::ToUsers { user_ids, frame } => {
                let wire = Frame::text(&frame);
                for &user_id in &user_ids {
                    self.to_user(user_id, &wire);
                }
                if self.pubsub.enabled() {
                    self.pubsub.publish(Envelope::Users {
                        user_ids,
                        frame: frame.to_string(),
                    });
                }
            }
            HubCmd::Broadcast {
                room_id,
                frame,
                seq,
            } => {
                if self.pubsub.enabled() {
                    self.pubsub.publish(Envelope::Frame {
                        room_id,
                        frame: frame.to_string(),
                        seq,
                    });
                }
                self.deliver(room_id, frame, seq);
            }
            HubCmd::Status {
                room_id,
                conn_id,
                status,
                reply,
            } => {
                let _ = reply.send(self.status(room_id, conn_id, status));
            }
            HubCmd::Standing {
                room_id,
                user_id,
                change,
            } => {
                self.pubsub.publish(Envelope::Standing {
                    room_id,
                    user_id,
                    change,
                });
                self.set_standing(room_id, user_id, change);
            }
            HubCmd::NotReady { room_id, reply } => {
                let waiting = self
                    .rooms
                    .get(&room_id)
                    .map(|r| super::sync::not_ready(r.statuses()))
                    .unwrap_or_default();
                let _ = reply.send(waiting);
            }
            HubCmd::Gate {
                room_id,
                deadline,
                ticket,
            } => {
                let room = self.rooms.entry(room_id).or_default();
                room.gate = Some(Gate { deadline, ticket });
                let waiting = super::sync::not_ready(room.statuses());
                let frame = waiting_frame(room_id, waiting, deadline);
                self.broadcast(room_id, &frame);
                self.check_gate(room_id);
            }
            HubCmd::CancelGate { room_id } => {
                if let Some(gate) = self.rooms.get_mut(&room_id).and_then(|r| r.gate.take()) {
                    let frame = waiting_frame(room_id, vec![], gate.deadline);
                    self.broadcast(room_id, &frame);
                }
            }
            HubCmd::Remove {
                room_id,
                user_id,
                reason,
            } => {
                self.pubsub.publish(Envelope::Remove {
                    room_id,
                    user_id,
                    reason,
                });
                self.remove(room_id, user_id, reason);
            }
            HubCmd::Stats { reply } => {
                let mut s = self.stats.clone();
                s.kicked_slow = self
                    .fanout
                    .kicked_slow
                    .load(std::sync::atomic::Ordering::Relaxed);
                s.connections = self.conn_users.len();
                s.rooms = self.rooms.len();
                let _ = reply.send(s);
            }
        }
    }

    fn join(
        &mut self,
        room_id: i64,
        conn: ConnHandle,
        presence: MemberPresence,
    ) -> Vec<MemberPresence> {
        let room = self.rooms.entry(room_id).or_default();
        let fresh = room
            .subs
            .insert(
                conn.id,
                Sub {
                    user_id: conn.user_id,
                    worker: conn.worker.id,
                },
            )
            .is_none();
        if fresh {
            room.workers
                .entry(conn.worker.id)
                .or_insert_with(|| (conn.worker.clone(), 0))
                .1 += 1;
            conn.worker.send(WorkerMsg::Add {
                topic: Topic::Room(room_id),
                conn_id: conn.id,
                tx: conn.tx,
                kick: conn.kick,
            });
        }
        self.conns.entry(conn.id).or_default().insert(room_id);
        let already = room
            .presence
            .get(&presence.user_id)
            .is_some_and(|p| p.online);
        let p = room
            .presence
            .entry(presence.user_id)
            .or_insert_with(|| presence.clone());
        p.online = true;
        p.role = presence.role;
        if !already {
            p.status = presence.status;
            let changed = p.clone();
            room.dirty.insert(changed.user_id, changed);
        }
        room.presence
            .values()
            .chain(
                room.remote
                    .values()
                    .filter(|r| !room.presence.contains_key(&r.user_id)),
            )
            .filter(|p| p.online)
            .take(ONLINE_LISTED)
            .cloned()
            .collect()
    }

    /// A connection's player status; false when it has not joined the room.
    fn status(&mut self, room_id: i64, conn_id: ConnId, status: PresenceStatus) -> bool {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return false;
        };
        let Some(user_id) = room.subs.get(&conn_id).map(|s| s.user_id) else {
            return false;
        };
        if let Some(p) = room.presence.get_mut(&user_id)
            && p.status != status
        {
            p.status = status;
            let changed = p.clone();
            room.dirty.insert(changed.user_id, changed);
            self.check_gate(room_id);
        }
        true
    }

    fn set_standing(&mut self, room_id: i64, user_id: i64, change: Standing) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let Some(p) = room.presence.get_mut(&user_id) else {
            return;
        };
        let before = (p.role, p.muted_until);
        match change {
            Standing::Role(role) => p.role = role,
            Standing::MutedUntil(until) => p.muted_until = until,
        }
        if before != (p.role, p.muted_until) {
            let changed = p.clone();
            room.dirty.insert(user_id, changed);
        }
    }

    /// An envelope from another instance.
    pub fn remote(&mut self, env: Envelope) {
        match env {
            Envelope::Frame {
                room_id,
                frame,
                seq,
            } => {
                if seq.is_none() {
                    self.track_remote_presence(room_id, &frame);
                }
                self.deliver(room_id, frame.into(), seq);
            }
            Envelope::Remove {
                room_id,
                user_id,
                reason,
            } => self.remove(room_id, user_id, reason),
            Envelope::Standing {
                room_id,
                user_id,
                change,
            } => self.set_standing(room_id, user_id, change),
            Envelope::Users { user_ids, frame } => {
                let wire = Frame::text(&frame);
                for user_id in user_ids {
                    self.to_user(user_id, &wire);
                }
            }
            Envelope::Probe => {}
        }
    }

    fn connect(&mut self, conn: ConnHandle) {
        conn.worker.send(WorkerMsg::Add {
            topic: Topic::User(conn.user_id),
            conn_id: conn.id,
            tx: conn.tx,
            kick: conn.kick,
        });
        self.conn_users.insert(conn.id, conn.user_id);
        let user = self.users.entry(conn.user_id).or_default();
        if user.is_empty() {
            let _ = self.user_events.send(UserEvent {
                user_id: conn.user_id,
                online: true,
            });
        }
        user.insert(conn.id, conn.worker);
    }

    fn disconnect_user(&mut self, conn_id: ConnId) {
        let Some(user_id) = self.conn_users.remove(&conn_id) else {
            return;
        };
        let Some(user) = self.users.get_mut(&user_id) else {
            return;
        };
        if let Some(w) = user.remove(&conn_id) {
            w.send(WorkerMsg::Remove {
                topic: Topic::User(user_id),
                conn_id,
            });
        }
        if user.is_empty() {
            self.users.remove(&user_id);
            let _ = self.user_events.send(UserEvent {
                user_id,
                online: false,
            });
            if self.users.is_empty() {
                self.users.shrink_to_fit();
                self.conn_users.shrink_to_fit();
            }
        }
    }

    /// Deliver to this user's local connections: once per worker that has any.
    fn to_user(&self, user_id: i64, frame: &Frame) {
        let Some(user) = self.users.get(&user_id) else {
            return;
        };
        let mut seen: Vec<usize> = Vec::with_capacity(2);
        for w in user.values() {
            if !seen.contains(&w.id) {
                seen.push(w.id);
                w.send(WorkerMsg::Deliver {
                    topic: Topic::User(user_id),
                    frame: frame.clone(),
                });
            }
        }
    }

    /// Keep the remote presence map current from the presence frames themselves.
    fn track_remote_presence(&mut self, room_id: i64, frame: &str) {
        if !frame.contains("\"type\":\"presence") {
            return;
        }
        let members = match serde_json::from_str::<ServerMessage>(frame) {
            Ok(ServerMessage::Presence { member, .. }) => vec![member],
            Ok(ServerMessage::PresenceBatch { members, .. }) => members,
            _ => return,
        };
        let room = self.rooms.entry(room_id).or_default();
        for member in members {
            if member.online {
                room.remote.insert(member.user_id, member);
            } else {
                room.remote.remove(&member.user_id);
            }
        }
        self.check_gate(room_id);
    }

    fn remove(&mut self, room_id: i64, user_id: Option<i64>, reason: RemovalReason) {
        let frame = Frame::text(&ServerMessage::Removed { room_id, reason }.to_json());
        if let Some(user_id) = user_id {
            // Every device of the user learns it, joined to the room here or not; it
            // travels the same worker queues ahead of the unsubscriptions below, so a
            // joined tab gets `removed` before the room's frames stop.
            self.to_user(user_id, &frame);
        }
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let gone: Vec<ConnId> = room
            .subs
            .iter()
            .filter(|(_, s)| user_id.is_none_or(|u| s.user_id == u))
            .map(|(id, _)| *id)
            .collect();
        if user_id.is_none() {
            // A deleted room: everyone joined to it is told (through the room).
            for conn_id in &gone {
                if let Some(w) = room
                    .subs
                    .get(conn_id)
                    .and_then(|sub| room.workers.get(&sub.worker))
                {
                    w.0.send(WorkerMsg::Direct {
                        topic: Topic::Room(room_id),
                        conn_id: *conn_id,
                        frame: frame.clone(),
                    });
                }
            }
        }
        for conn_id in gone {
            self.unsubscribe(room_id, conn_id);
            self.forget(conn_id, room_id);
        }
        if user_id.is_none() {
            self.rooms.remove(&room_id);
        }
    }

    /// The connection is no longer in the room (and no longer tracked once in none).
    fn forget(&mut self, conn_id: ConnId, room_id: i64) {
        if let Some(rooms) = self.conns.get_mut(&conn_id) {
            rooms.remove(&room_id);
            if rooms.is_empty() {
                self.conns.remove(&conn_id);
            }
        }
    }

    fn unsubscribe(&mut self, room_id: i64, conn_id: ConnId) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let Some(sub) = room.subs.remove(&conn_id) else {
            return;
        };
        if let Some((w, n)) = room.workers.get_mut(&sub.worker) {
            w.send(WorkerMsg::Remove {
                topic: Topic::Room(room_id),
                conn_id,
            });
            *n -= 1;
            if *n == 0 {
                room.workers.remove(&sub.worker);
            }
        }
        let still_here = room.subs.values().any(|s| s.user_id == sub.user_id);
        if !still_here && let Some(mut p) = room.presence.remove(&sub.user_id) {
            p.online = false;
            p.status = PresenceStatus::Offline;
            room.dirty.insert(p.user_id, p);
        }
        if room.subs.is_empty() && !room.dirty.is_empty() {
            // Nobody here to tell; other instances still need to know.
            let changed: Vec<MemberPresence> = room.dirty.drain().map(|(_, m)| m).collect();
            for f in presence_frames(room_id, changed) {
                self.pubsub.publish(Envelope::Frame {
                    room_id,
                    frame: f.to_string(),
                    seq: None,
                });
            }
        }
        if !still_here {
            self.check_gate(room_id);
        }
        if self.rooms.get(&room_id).is_some_and(Room::idle) {
            self.rooms.remove(&room_id);
        }
        if self.rooms.is_empty() {
            // A wave of members left: give the memory of the maps back.
            self.rooms.shrink_to_fit();
            self.conns.shrink_to_fit();
        }
    }

    /// Serialize once, publish, deliver locally.
    fn broadcast(&mut self, room_id: i64, msg: &ServerMessage) {
        self.handle(HubCmd::Broadcast {
            room_id,
            frame: msg.to_json().into(),
            seq: None,
        });
    }

    /// Deliver to local subscribers, chat frames in `seq` order.
    fn deliver(&mut self, room_id: i64, frame: ByteString, seq: Option<i64>) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let Some(seq) = seq else {
            self.fan_out(room_id, &frame);
            return;
        };
        let order = &mut room.order;
        match order.next {
            Some(next) if seq > next => {
                order.held.insert(seq, frame);
                order.held_since.get_or_insert_with(now_ms);
                self.stats.held += 1;
            }
            // In order, the first one seen, or late (after its gap was given up on: the
            // client already asked the database, and keeps messages by `seq`).
            _ => {
                if order.next.is_none_or(|n| seq >= n) {
                    order.next = Some(seq + 1);
                }
                self.fan_out(room_id, &frame);
                self.drain_held(room_id);
            }
        }
    }

    /// Deliver held frames that are next in line.
    fn drain_held(&mut self, room_id: i64) {
        loop {
            let Some(room) = self.rooms.get_mut(&room_id) else {
                return;
            };
            let order = &mut room.order;
            let Some(next) = order.next else { return };
            let Some(frame) = order.held.remove(&next) else {
                if order.held.is_empty() {
                    order.held_since = None;
                }
                return;
            };
            order.next = Some(next + 1);
            self.fan_out(room_id, &frame);
        }
    }

    /// Give up on gaps older than `GAP_WAIT_MS`: deliver what is held, in order.
    fn release_gaps(&mut self, now: i64) {
        let due: Vec<i64> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.order.held_since.is_some_and(|t| now - t >= GAP_WAIT_MS))
            .map(|(id, _)| *id)
            .collect();
        for room_id in due {
            let Some(room) = self.rooms.get_mut(&room_id) else {
                continue;
            };
            let held = std::mem::take(&mut room.order.held);
            room.order.held_since = None;
            if let Some((&last, _)) = held.last_key_value() {
                room.order.next = Some(last + 1);
            }
            self.stats.gaps_released += 1;
            for frame in held.into_values() {
                self.fan_out(room_id, &frame);
            }
        }
    }

    /// One message per worker with subscribers in the room (see `fanout`).
    fn fan_out(&mut self, room_id: i64, frame: &ByteString) {
        let Some(room) = self.rooms.get(&room_id) else {
            return;
        };
        if room.workers.is_empty() {
            return;
        }
        // Encoded for the wire once; every member's queue shares the bytes.
        let wire = Frame::text(frame);
        for (w, _) in room.workers.values() {
            w.send(WorkerMsg::Deliver {
                topic: Topic::Room(room_id),
                frame: wire.clone(),
            });
        }
    }

    fn flush_presence(&mut self) {
        let due: Vec<(i64, Vec<MemberPresence>)> = self
            .rooms
            .iter_mut()
            .filter(|(_, r)| !r.dirty.is_empty())
            .map(|(id, r)| (*id, r.dirty.drain().map(|(_, m)| m).collect()))
            .collect();
        for (room_id, changed) in due {
            for frame in presence_frames(room_id, changed) {
                self.handle(HubCmd::Broadcast {
                    room_id,
                    frame,
                    seq: None,
                });
            }
        }
    }

    fn check_gate(&mut self, room_id: i64) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        if room.gate.is_some() && super::sync::not_ready(room.statuses()).is_empty() {
            self.open_gate(room_id);
        }
    }

    /// Hand the gate to the rooms code, which applies (or drops) the play and then
    /// announces that the wait is over.
    fn open_gate(&mut self, room_id: i64) {
        if let Some(gate) = self.rooms.get_mut(&room_id).and_then(|r| r.gate.take()) {
            let _ = self.gates.send(GateOpened {
                room_id,
                deadline: gate.deadline,
                ticket: gate.ticket,
            });
        }
    }

    fn expire_gates(&mut self, now: i64) {
        let due: Vec<i64> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.gate.as_ref().is_some_and(|g| g.deadline <= now))
            .map(|(id, _)| *id)
            .collect();
        for room_id in due {
            self.open_gate(room_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::fanout::Table;
    use crate::realtime::outbound::{Out, TestReceiver, test_outbox};
    use crate::rooms::domain::RoomRole;

    fn member(id: i64) -> MemberPresence {
        MemberPresence {
            user_id: id,
            name: format!("u{id}"),
            role: RoomRole::Member,
            online: true,
            status: PresenceStatus::Ready,
            muted_until: None,
        }
    }

    thread_local! {
        /// The test's one worker: its handle, queue and table.
        static WORKER: (WorkerHandle, std::cell::RefCell<(mpsc::UnboundedReceiver<WorkerMsg>, Table)>) = {
            let (h, rx) = WorkerHandle::detached(0);
            (h, std::cell::RefCell::new((rx, Table::default())))
        };
    }

    fn worker() -> WorkerHandle {
        WORKER.with(|w| w.0.clone())
    }

    /// Apply what the hub sent to the worker, as its task would.
    fn pump() {
        WORKER.with(|w| {
            let (rx, table) = &mut *w.1.borrow_mut();
            while let Ok(m) = rx.try_recv() {
                table.apply(m, &FanoutStats::default());
            }
        });
    }

    fn hub() -> (Hub, mpsc::UnboundedReceiver<GateOpened>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Hub::new(
                PubSub::local(),
                tx,
                mpsc::unbounded_channel().0,
                Arc::default(),
            ),
            rx,
        )
    }

    struct Client {
        rx: TestReceiver,
    }

    impl Client {
        fn texts(&mut self) -> Vec<String> {
            pump();
            let mut out = Vec::new();
            while let Some(m) = self.rx.try_recv() {
                if let Out::Text(t) = m {
                    out.push(String::from_utf8_lossy(t.payload()).into_owned());
                }
            }
            out
        }
    }

    fn join(hub: &mut Hub, room: i64, conn: ConnId, user: i64, status: PresenceStatus) -> Client {
        let (tx, rx) = test_outbox(64);
        let mut p = member(user);
        p.status = status;
        hub.join(
            room,
            ConnHandle {
                id: conn,
                user_id: user,
                tx,
                kick: Arc::new(Notify::new()),
                worker: worker(),
            },
            p,
        );
        Client { rx }
    }

    #[test]
    fn few_changes_go_out_singly_a_burst_as_one_batch() {
        let few = presence_frames(7, (1..=3).map(member).collect());
        assert_eq!(few.len(), 3);
        assert!(few.iter().all(|f| f.contains(r#""type":"presence""#)));
        let burst = presence_frames(7, (1..=500).map(member).collect());
        assert_eq!(burst.len(), 500_usize.div_ceil(PRESENCE_BATCH_MAX));
        assert!(
            burst
                .iter()
                .all(|f| f.contains(r#""type":"presence_batch""#) && f.len() < 8 * 1024)
        );
    }

    #[test]
    fn chat_is_delivered_in_seq_order_and_gaps_are_released() {
        let (mut hub, _) = hub();
        let mut c = join(&mut hub, 1, 1, 10, PresenceStatus::Ready);
        hub.deliver(1, "s5".into(), Some(5));
        hub.deliver(1, "s7".into(), Some(7));
        hub.deliver(1, "s8".into(), Some(8));
        assert_eq!(c.texts(), ["s5"], "7 and 8 wait for 6");
        hub.deliver(1, "s6".into(), Some(6));
        assert_eq!(c.texts(), ["s6", "s7", "s8"]);
        hub.deliver(1, "s10".into(), Some(10));
        hub.release_gaps(now_ms() + GAP_WAIT_MS - 10);
        assert!(c.texts().is_empty(), "held while the gap is young");
        hub.release_gaps(now_ms() + GAP_WAIT_MS + 1);
        assert_eq!(c.texts(), ["s10"]);
        assert_eq!(hub.stats.gaps_released, 1);
        // 9 arrives late: delivered (the client keeps messages by seq), order goes on.
        hub.deliver(1, "s9".into(), Some(9));
        hub.deliver(1, "s11".into(), Some(11));
        assert_eq!(c.texts(), ["s9", "s11"]);
    }

    #[test]
    fn join_lists_online_members_up_to_the_cap() {
        let (mut hub, _) = hub();
        let mut clients = Vec::new();
        for u in 0..(ONLINE_LISTED as i64 + 20) {
            clients.push(join(&mut hub, 1, u as u64, u, PresenceStatus::Ready));
        }
        let (tx, _rx) = test_outbox(8);
        let listed = hub.join(
            1,
            ConnHandle {
                id: 999,
                user_id: 999,
                tx,
                kick: Arc::new(Notify::new()),
                worker: worker(),
            },
            member(999),
        );
        assert_eq!(listed.len(), ONLINE_LISTED);
    }

    #[test]
    fn leaving_frees_the_room() {
        let (mut hub, _) = hub();
        let _a = join(&mut hub, 1, 1, 10, PresenceStatus::Ready);
        let _b = join(&mut hub, 1, 2, 11, PresenceStatus::Ready);
        hub.handle(HubCmd::Leave {
            room_id: 1,
            conn_id: 1,
        });
        assert_eq!(hub.rooms.len(), 1);
        hub.handle(HubCmd::Disconnect { conn_id: 2 });
        assert!(hub.rooms.is_empty() && hub.conns.is_empty());
    }

    #[test]
    fn a_gate_opens_as_an_event_when_everyone_is_ready() {
        let (mut hub, mut gates) = hub();
        let mut a = join(&mut hub, 1, 1, 10, PresenceStatus::Ready);
        let _b = join(&mut hub, 1, 2, 11, PresenceStatus::Buffering);
        let ticket = GateTicket {
            by: 10,
            req_id: Some("r1".into()),
            version: 3,
        };
        hub.handle(HubCmd::Gate {
            room_id: 1,
            deadline: now_ms() + 8_000,
            ticket: ticket.clone(),
        });
        assert!(
            a.texts()
                .iter()
                .any(|t| t.contains(r#""waiting_for":[11]"#))
        );
        assert!(gates.try_recv().is_err());
        let (reply, _) = oneshot::channel();
        hub.handle(HubCmd::Status {
            room_id: 1,
            conn_id: 2,
            status: PresenceStatus::Ready,
            reply,
        });
        let opened = gates.try_recv().expect("gate opened");
        assert_eq!(opened.ticket, ticket);
        // The hub does not announce the end of the wait itself: the rooms code does,
        // after the play.
        assert!(!a.texts().iter().any(|t| t.contains(r#""waiting_for":[]"#)));
    }

    #[test]
    fn a_cancelled_gate_never_opens() {
        let (mut hub, mut gates) = hub();
        let mut a = join(&mut hub, 1, 1, 10, PresenceStatus::Buffering);
        hub.handle(HubCmd::Gate {
            room_id: 1,
            deadline: now_ms() + 8_000,
            ticket: GateTicket {
                by: 10,
                req_id: None,
                version: 1,
            },
        });
        hub.handle(HubCmd::CancelGate { room_id: 1 });
        assert!(a.texts().iter().any(|t| t.contains(r#""waiting_for":[]"#)));
        hub.expire_gates(now_ms() + 60_000);
        assert!(gates.try_recv().is_err());
    }

    #[test]
    fn status_from_a_connection_that_did_not_join_is_refused() {
        let (mut hub, _) = hub();
        let _a = join(&mut hub, 1, 1, 10, PresenceStatus::Ready);
        assert!(hub.status(1, 1, PresenceStatus::Buffering));
        assert!(!hub.status(1, 2, PresenceStatus::Buffering));
        assert!(!hub.status(2, 1, PresenceStatus::Buffering));
    }

    #[test]
    fn role_and_mute_changes_are_announced() {
        let (mut hub, _) = hub();
        let _a = join(&mut hub, 1, 1, 10, PresenceStatus::Ready);
        hub.rooms.get_mut(&1).expect("room").dirty.clear();
        hub.set_standing(1, 10, Standing::Role(RoomRole::Moderator));
        assert_eq!(hub.rooms[&1].dirty[&10].role, RoomRole::Moderator);
        hub.rooms.get_mut(&1).expect("room").dirty.clear();
        let until = chrono::Utc::now() + chrono::Duration::minutes(5);
        hub.set_standing(1, 10, Standing::MutedUntil(Some(until)));
        assert_eq!(hub.rooms[&1].dirty[&10].muted_until, Some(until));
        hub.rooms.get_mut(&1).expect("room").dirty.clear();
        // The same standing again is no news.
        hub.set_standing(1, 10, Standing::MutedUntil(Some(until)));
        assert!(hub.rooms[&1].dirty.is_empty());
    }

    /// A connection as the session makes it: connected (its user's topic) first.
    fn connect(hub: &mut Hub, conn: ConnId, user: i64) -> (ConnHandle, Client) {
        let (tx, rx) = test_outbox(64);
        let handle = ConnHandle {
            id: conn,
            user_id: user,
            tx,
            kick: Arc::new(Notify::new()),
            worker: worker(),
        };
        hub.handle(HubCmd::Connect {
            conn: handle.clone(),
        });
        (handle, Client { rx })
    }

    #[test]
    fn a_users_first_connection_and_last_disconnection_are_reported_once() {
        let (users_tx, mut events) = mpsc::unbounded_channel();
        let (gates, _) = mpsc::unbounded_channel();
        let mut hub = Hub::new(PubSub::local(), gates, users_tx, Arc::default());
        let _a = connect(&mut hub, 1, 10);
        let _b = connect(&mut hub, 2, 10);
        let _c = connect(&mut hub, 3, 11);
        hub.handle(HubCmd::Disconnect { conn_id: 1 });
        hub.handle(HubCmd::Disconnect { conn_id: 2 });
        hub.handle(HubCmd::Disconnect { conn_id: 2 });
        let got: Vec<(i64, bool)> = std::iter::from_fn(|| events.try_recv().ok())
            .map(|e| (e.user_id, e.online))
            .collect();
        assert_eq!(got, [(10, true), (11, true), (10, false)]);
    }

    #[test]
    fn a_user_topic_reaches_every_device_of_that_user_and_a_kick_tells_them_all_once() {
        let (mut hub, _) = hub();
        let (joined_tab, mut tab1) = connect(&mut hub, 1, 10);
        let (_, mut tab2) = connect(&mut hub, 2, 10);
        let (other, mut them) = connect(&mut hub, 3, 11);
        hub.join(1, joined_tab, member(10));
        hub.join(1, other, member(11));
        hub.flush_presence();
        let _ = (tab1.texts(), tab2.texts(), them.texts());

        hub.handle(HubCmd::ToUsers {
            user_ids: vec![10],
            frame: "to-10".into(),
        });
        assert_eq!(tab1.texts(), ["to-10"]);
        assert_eq!(tab2.texts(), ["to-10"]);
        assert!(them.texts().is_empty());

        hub.handle(HubCmd::Remove {
            room_id: 1,
            user_id: Some(10),
            reason: RemovalReason::Kicked,
        });
        hub.handle(HubCmd::Broadcast {
            room_id: 1,
            frame: "after".into(),
            seq: None,
        });
        let removed = r#"{"type":"removed","room_id":1,"reason":"kicked"}"#;
        assert_eq!(
            tab1.texts(),
            [removed],
            "the joined tab: removed once, then nothing"
        );
        assert_eq!(tab2.texts(), [removed], "the other tab learns it too");
        assert_eq!(them.texts(), ["after"]);

        hub.handle(HubCmd::Disconnect { conn_id: 2 });
        hub.handle(HubCmd::ToUsers {
            user_ids: vec![10, 12],
            frame: "again".into(),
        });
        assert_eq!(tab1.texts(), ["again"]);
        assert!(tab2.texts().is_empty());
        hub.handle(HubCmd::Disconnect { conn_id: 1 });
        hub.handle(HubCmd::Disconnect { conn_id: 3 });
        assert!(hub.users.is_empty() && hub.conn_users.is_empty() && hub.rooms.is_empty());
    }
}
