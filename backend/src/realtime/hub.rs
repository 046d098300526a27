//! The room hub: one task per process owns every room's local subscribers, presence and
//! "wait for everyone" gate, and takes commands through a channel (no lock over rooms).
//!
//! Fan-out: a frame is serialized once (`ByteString`, cheap to clone) and offered to each
//! local subscriber's bounded outbound queue (its [`Outbox`], drained straight into the
//! socket) with `try_send`. A subscriber whose queue is full is
//! too slow: it is kicked (and recovers by reconnecting with `last_seq`), never buffered
//! without end and never allowed to stall the others.
//!
//! Several instances: frames that originate here are also published through
//! [`PubSub`]; frames from other instances arrive as [`HubCmd::Remote`] and go to the
//! local subscribers only.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use tokio::sync::{Notify, mpsc, oneshot};

use super::outbound::{Outbox, Sent};
use super::protocol::{MemberPresence, ServerMessage};
use super::pubsub::{Envelope, PubSub};

pub type ConnId = u64;

/// A connection as the hub sees it.
#[derive(Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub user_id: i64,
    pub tx: Outbox,
    pub kick: Arc<Notify>,
}

pub enum HubCmd {
    Join {
        room_id: i64,
        conn: ConnHandle,
        presence: MemberPresence,
        reply: oneshot::Sender<Vec<MemberPresence>>,
    },
    Leave {
        room_id: i64,
        conn_id: ConnId,
    },
    Disconnect {
        conn_id: ConnId,
    },
    /// Deliver to local subscribers and publish to other instances.
    Broadcast {
        room_id: i64,
        frame: ByteString,
    },
    /// From another instance: deliver locally only.
    Remote(Envelope),
    Status {
        room_id: i64,
        conn_id: ConnId,
        status: String,
    },
    /// Online members of the room who are not ready.
    NotReady {
        room_id: i64,
        reply: oneshot::Sender<Vec<i64>>,
    },
    /// Open a wait gate: when everyone is ready (or at `deadline`), `on_open` runs.
    Gate {
        room_id: i64,
        deadline: i64,
        on_open: Box<dyn FnOnce() + Send>,
    },
    /// Remove a user's (or, with `None`, everyone's) subscriptions to a room.
    Remove {
        room_id: i64,
        user_id: Option<i64>,
        reason: String,
        local_only: bool,
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
}

struct Sub {
    user_id: i64,
    tx: Outbox,
    kick: Arc<Notify>,
}

#[derive(Default)]
struct Room {
    subs: HashMap<ConnId, Sub>,
    /// Local presence by user (a user may have several tabs).
    presence: HashMap<i64, MemberPresence>,
    /// Members on other instances, as their presence events said.
    remote: HashMap<i64, MemberPresence>,
    gate: Option<Gate>,
    /// Presence changes not yet sent (latest per user), flushed every tick: when 500
    /// members join and report ready together, everyone gets a few batches instead of
    /// a thousand frames each.
    dirty: HashMap<i64, MemberPresence>,
}

struct Gate {
    deadline: i64,
    on_open: Box<dyn FnOnce() + Send>,
}

impl Room {
    fn statuses(&self) -> impl Iterator<Item = (i64, &str)> {
        self.presence
            .values()
            .chain(self.remote.values())
            .filter(|p| p.online)
            .map(|p| (p.user_id, p.status.as_str()))
    }
}

pub struct Hub {
    rooms: HashMap<i64, Room>,
    /// Which rooms each connection is in.
    conns: HashMap<ConnId, HashSet<i64>>,
    pubsub: PubSub,
    kicked_slow: u64,
}

/// Up to this many changes in one tick go out as single `presence` messages; more as
/// one `presence_batch`.
const SINGLE_PRESENCE_MAX: usize = 3;

fn presence_frames(room_id: i64, changed: Vec<MemberPresence>) -> Vec<ByteString> {
    if changed.len() <= SINGLE_PRESENCE_MAX {
        changed
            .into_iter()
            .map(|member| ServerMessage::Presence { room_id, member }.to_json().into())
            .collect()
    } else {
        vec![
            ServerMessage::PresenceBatch {
                room_id,
                members: changed,
            }
            .to_json()
            .into(),
        ]
    }
}

fn waiting_frame(room_id: i64, waiting_for: Vec<i64>, deadline: i64) -> ByteString {
    ServerMessage::Waiting {
        room_id,
        waiting_for,
        deadline,
    }
    .to_json()
    .into()
}

impl Hub {
    /// Run the hub on the current runtime, taking commands from `rx`.
    pub fn start(pubsub: PubSub, rx: mpsc::Receiver<HubCmd>) {
        let hub = Hub {
            rooms: HashMap::new(),
            conns: HashMap::new(),
            pubsub,
            kicked_slow: 0,
        };
        tokio::spawn(hub.run(rx));
    }

    async fn run(mut self, mut rx: mpsc::Receiver<HubCmd>) {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                _ = tick.tick() => {
                    self.flush_presence();
                    self.expire_gates();
                }
            }
        }
    }

    fn handle(&mut self, cmd: HubCmd) {
        match cmd {
            HubCmd::Join {
                room_id,
                conn,
                presence,
                reply,
            } => {
                let room = self.rooms.entry(room_id).or_default();
                room.subs.insert(
                    conn.id,
                    Sub {
                        user_id: conn.user_id,
                        tx: conn.tx,
                        kick: conn.kick,
                    },
                );
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
                if !already {
                    p.status = presence.status.clone();
                }
                let changed = p.clone();
                let snapshot: Vec<MemberPresence> = room
                    .presence
                    .values()
                    .chain(
                        room.remote
                            .values()
                            .filter(|r| !room.presence.contains_key(&r.user_id)),
                    )
                    .cloned()
                    .collect();
                let _ = reply.send(snapshot);
                if !already {
                    room.dirty.insert(changed.user_id, changed);
                }
            }
            HubCmd::Leave { room_id, conn_id } => {
                self.unsubscribe(room_id, conn_id);
                if let Some(rooms) = self.conns.get_mut(&conn_id) {
                    rooms.remove(&room_id);
                }
            }
            HubCmd::Disconnect { conn_id } => {
                for room_id in self.conns.remove(&conn_id).unwrap_or_default() {
                    self.unsubscribe(room_id, conn_id);
                }
            }
            HubCmd::Broadcast { room_id, frame } => self.broadcast(room_id, frame, true),
            HubCmd::Remote(env) => self.remote(env),
            HubCmd::Status {
                room_id,
                conn_id,
                status,
            } => {
                let Some(room) = self.rooms.get_mut(&room_id) else {
                    return;
                };
                let Some(user_id) = room.subs.get(&conn_id).map(|s| s.user_id) else {
                    return;
                };
                let Some(p) = room.presence.get_mut(&user_id) else {
                    return;
                };
                if p.status == status {
                    return;
                }
                p.status = status;
                let changed = p.clone();
                room.dirty.insert(changed.user_id, changed);
                self.check_gate(room_id);
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
                on_open,
            } => {
                let room = self.rooms.entry(room_id).or_default();
                room.gate = Some(Gate { deadline, on_open });
                let waiting = super::sync::not_ready(room.statuses());
                let frame = waiting_frame(room_id, waiting, deadline);
                self.broadcast(room_id, frame, true);
                self.check_gate(room_id);
            }
            HubCmd::Remove {
                room_id,
                user_id,
                reason,
                local_only,
            } => {
                if !local_only {
                    self.pubsub
                        .publish(Envelope::remove(room_id, user_id, &reason));
                }
                self.remove(room_id, user_id, &reason);
            }
            HubCmd::Stats { reply } => {
                let _ = reply.send(HubStats {
                    connections: self.conns.len(),
                    rooms: self.rooms.len(),
                    kicked_slow: self.kicked_slow,
                });
            }
        }
    }

    fn remote(&mut self, env: Envelope) {
        if let Some(reason) = &env.remove_reason {
            self.remove(env.room_id, env.user_id, reason);
            return;
        }
        // Keep the remote presence map current from the presence frames themselves.
        let members = match serde_json::from_str::<ServerMessage>(&env.frame) {
            Ok(ServerMessage::Presence { member, .. }) => vec![member],
            Ok(ServerMessage::PresenceBatch { members, .. }) => members,
            _ => vec![],
        };
        if !members.is_empty() {
            let room = self.rooms.entry(env.room_id).or_default();
            for member in members {
                if member.online {
                    room.remote.insert(member.user_id, member);
                } else {
                    room.remote.remove(&member.user_id);
                }
            }
            self.check_gate(env.room_id);
        }
        self.broadcast(env.room_id, env.frame.into(), false);
    }

    fn remove(&mut self, room_id: i64, user_id: Option<i64>, reason: &str) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let frame: ByteString = ServerMessage::Removed {
            room_id,
            reason: reason.to_owned(),
        }
        .to_json()
        .into();
        let gone: Vec<ConnId> = room
            .subs
            .iter()
            .filter(|(_, s)| user_id.is_none_or(|u| s.user_id == u))
            .map(|(id, _)| *id)
            .collect();
        for conn_id in &gone {
            if let Some(sub) = room.subs.get(conn_id) {
                sub.tx.text(frame.clone());
            }
        }
        for conn_id in gone {
            self.unsubscribe(room_id, conn_id);
            if let Some(rooms) = self.conns.get_mut(&conn_id) {
                rooms.remove(&room_id);
            }
        }
        if user_id.is_none() {
            self.rooms.remove(&room_id);
        }
    }

    fn unsubscribe(&mut self, room_id: i64, conn_id: ConnId) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let Some(sub) = room.subs.remove(&conn_id) else {
            return;
        };
        let still_here = room.subs.values().any(|s| s.user_id == sub.user_id);
        if !still_here && let Some(mut p) = room.presence.remove(&sub.user_id) {
            p.online = false;
            p.status = "offline".to_owned();
            if room.subs.is_empty() {
                // Nobody here to tell; other instances still need to know.
                let frames = presence_frames(room_id, vec![p]);
                for f in frames {
                    self.pubsub.publish(Envelope::frame(room_id, f.to_string()));
                }
            } else {
                room.dirty.insert(p.user_id, p);
            }
            self.check_gate(room_id);
        }
        if let Some(room) = self.rooms.get(&room_id)
            && room.subs.is_empty()
            && room.remote.is_empty()
            && room.gate.is_none()
            && room.dirty.is_empty()
        {
            self.rooms.remove(&room_id);
        }
    }

    fn broadcast(&mut self, room_id: i64, frame: ByteString, local_origin: bool) {
        if local_origin {
            self.pubsub
                .publish(Envelope::frame(room_id, frame.to_string()));
        }
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let mut slow = Vec::new();
        for (id, sub) in &room.subs {
            match sub.tx.text(frame.clone()) {
                Sent::Queued => {}
                Sent::Full => {
                    sub.kick.notify_one();
                    slow.push(*id);
                }
                Sent::Closed => slow.push(*id),
            }
        }
        self.kicked_slow += slow.len() as u64;
        for id in slow {
            self.unsubscribe(room_id, id);
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
                self.broadcast(room_id, frame, true);
            }
        }
    }

    fn check_gate(&mut self, room_id: i64) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        let Some(gate) = &room.gate else { return };
        let waiting = super::sync::not_ready(room.statuses());
        if waiting.is_empty() {
            let deadline = gate.deadline;
            if let Some(gate) = room.gate.take() {
                (gate.on_open)();
            }
            let frame = waiting_frame(room_id, vec![], deadline);
            self.broadcast(room_id, frame, true);
        }
    }

    fn expire_gates(&mut self) {
        let now = chrono::Utc::now().timestamp_millis();
        let due: Vec<i64> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.gate.as_ref().is_some_and(|g| g.deadline <= now))
            .map(|(id, _)| *id)
            .collect();
        for room_id in due {
            if let Some(gate) = self.rooms.get_mut(&room_id).and_then(|r| r.gate.take()) {
                (gate.on_open)();
                let frame = waiting_frame(room_id, vec![], gate.deadline);
                self.broadcast(room_id, frame, true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64) -> MemberPresence {
        MemberPresence {
            user_id: id,
            name: format!("u{id}"),
            role: "member".into(),
            online: true,
            status: "ready".into(),
        }
    }

    #[test]
    fn few_changes_go_out_singly_a_burst_as_one_batch() {
        let few = presence_frames(7, (1..=3).map(member).collect());
        assert_eq!(few.len(), 3);
        assert!(few.iter().all(|f| f.contains(r#""type":"presence""#)));
        let burst = presence_frames(7, (1..=500).map(member).collect());
        assert_eq!(burst.len(), 1);
        assert!(burst[0].contains(r#""type":"presence_batch""#));
    }
}
