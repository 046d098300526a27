//! Per-worker delivery: the last hop of a broadcast.
//!
//! actix runs each connection on one of its worker threads. When the hub (on another
//! thread) offered a frame to 2,000 outbound queues itself, each `try_send` woke a task
//! on a worker from afar: a cross-thread wake-up, often a syscall, per member per
//! message. Instead, each worker thread has one fan-out task holding that worker's
//! subscriptions; the hub sends a frame once per worker that has members in the room,
//! and the worker's task hands it to its own connections' queues, waking them locally.
//!
//! All changes to a worker's table (add, remove, deliver, a frame for one connection)
//! travel through one FIFO channel, so a connection removed from a room never gets a
//! frame broadcast after its removal, and a `removed` frame precedes the removal.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::{Notify, mpsc};

use super::hub::ConnId;
use super::outbound::{Frame, Outbox, Sent};

/// What a connection subscribes to: a room's broadcasts, or everything addressed to its
/// user (every device of one account, on every instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Room(i64),
    User(i64),
}

pub enum WorkerMsg {
    Add {
        topic: Topic,
        conn_id: ConnId,
        tx: Outbox,
        kick: Arc<Notify>,
    },
    Remove {
        topic: Topic,
        conn_id: ConnId,
    },
    /// To every connection of this worker subscribed to the topic.
    Deliver {
        topic: Topic,
        frame: Frame,
    },
    /// To one connection.
    Direct {
        topic: Topic,
        conn_id: ConnId,
        frame: Frame,
    },
}

/// Counters shared by every worker's task.
#[derive(Default)]
pub struct FanoutStats {
    /// Connections closed because their queue was full.
    pub kicked_slow: AtomicU64,
}

/// The sending end of one worker's fan-out task.
#[derive(Clone)]
pub struct WorkerHandle {
    pub id: usize,
    tx: mpsc::UnboundedSender<WorkerMsg>,
}

impl WorkerHandle {
    pub fn send(&self, msg: WorkerMsg) {
        let _ = self.tx.send(msg);
    }

    /// A handle whose messages the caller applies itself (tests).
    #[cfg(test)]
    pub fn detached(id: usize) -> (Self, mpsc::UnboundedReceiver<WorkerMsg>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { id, tx }, rx)
    }
}

static NEXT_WORKER: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static WORKER: RefCell<Option<WorkerHandle>> = const { RefCell::new(None) };
}

/// This thread's fan-out task, started on first use. Call it from a connection's task
/// (it spawns onto the current thread's local task set).
pub fn this_worker(stats: &Arc<FanoutStats>) -> WorkerHandle {
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        if let Some(h) = w.as_ref().filter(|h| !h.tx.is_closed()) {
            return h.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let h = WorkerHandle {
            id: NEXT_WORKER.fetch_add(1, Ordering::Relaxed),
            tx,
        };
        actix_web::rt::spawn(run(rx, stats.clone()));
        *w = Some(h.clone());
        h
    })
}

async fn run(mut rx: mpsc::UnboundedReceiver<WorkerMsg>, stats: Arc<FanoutStats>) {
    let mut table = Table::default();
    let mut batch = Vec::with_capacity(64);
    while rx.recv_many(&mut batch, 256).await > 0 {
        for msg in batch.drain(..) {
            table.apply(msg, &stats);
        }
    }
}

struct Local {
    conn_id: ConnId,
    tx: Outbox,
    kick: Arc<Notify>,
}

/// One worker's subscriptions: topic → its connections on this worker.
#[derive(Default)]
pub struct Table {
    topics: HashMap<Topic, Vec<Local>>,
}

impl Table {
    pub fn apply(&mut self, msg: WorkerMsg, stats: &FanoutStats) {
        match msg {
            WorkerMsg::Add {
                topic,
                conn_id,
                tx,
                kick,
            } => {
                let conns = self.topics.entry(topic).or_default();
                if !conns.iter().any(|c| c.conn_id == conn_id) {
                    conns.push(Local { conn_id, tx, kick });
                }
            }
            WorkerMsg::Remove { topic, conn_id } => self.remove(topic, conn_id),
            WorkerMsg::Deliver { topic, frame } => {
                let Some(conns) = self.topics.get_mut(&topic) else {
                    return;
                };
                let before = conns.len();
                conns.retain(|c| match c.tx.text(frame.clone()) {
                    Sent::Queued => true,
                    Sent::Full => {
                        // Too slow: its session closes it (1008) and unsubscribes it.
                        c.kick.notify_one();
                        stats.kicked_slow.fetch_add(1, Ordering::Relaxed);
                        false
                    }
                    Sent::Closed => false,
                });
                if conns.is_empty() {
                    self.topics.remove(&topic);
                } else if conns.len() < before / 2 {
                    conns.shrink_to_fit();
                }
            }
            WorkerMsg::Direct {
                topic,
                conn_id,
                frame,
            } => {
                if let Some(c) = self
                    .topics
                    .get(&topic)
                    .and_then(|cs| cs.iter().find(|c| c.conn_id == conn_id))
                {
                    c.tx.text(frame);
                }
            }
        }
    }

    fn remove(&mut self, topic: Topic, conn_id: ConnId) {
        if let Some(conns) = self.topics.get_mut(&topic) {
            conns.retain(|c| c.conn_id != conn_id);
            if conns.is_empty() {
                self.topics.remove(&topic);
                if self.topics.is_empty() {
                    self.topics.shrink_to_fit();
                }
            }
        }
    }
}
