//! A room's ordered chat pipeline: on each instance, every chat message of a room goes
//! through one writer task for that room, which assigns `seq`, commits in groups and
//! publishes in `seq` order.
//!
//! Why one writer per room: when every connection committed its own message and then
//! handed the broadcast to the hub, two senders could commit 33 and 34 and hand them
//! over as 34, 33, so members saw swaps, the documented gap rule fired and every member
//! re-joined. Here the order in which messages are published is the order of their
//! commits, by construction.
//!
//! Group commit: whatever arrives while a commit runs goes into the next transaction
//! (one `UPDATE rooms SET last_seq = last_seq + k RETURNING last_seq` and one multi-row
//! insert for `k` messages), so twenty senders cost a handful of commits a second, not one
//! each. The senders' display names come with the jobs (`check_chat` reads them with the
//! membership), so publishing needs no query.
//!
//! Rules that need no ordering (membership, mute, slow mode, length) are checked by the
//! caller before a message is queued, concurrently; the writer only deduplicates by
//! `(room, sender, client_id)`, numbers, stores, acknowledges and publishes. Across
//! instances the database hands out the numbers (the `last_seq` row is updated inside
//! each group's transaction), and receivers put frames from several instances back in
//! order (see `realtime::hub`).
//!
//! A writer with nothing to do for [`IDLE`] ends; the next message starts a new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, Set,
};
use tokio::sync::{mpsc, oneshot};

use super::domain::MessageKind;
use super::service::{CheckedChat, Stored, chat_message};
use crate::db::is_unique_violation;
use crate::entities::{room, room_message};
use crate::error::{AppError, AppResult};
use crate::realtime::Realtime;
use crate::realtime::protocol::{ChatMessage, ServerMessage};

/// How long a room's writer waits for work before it ends.
const IDLE: Duration = Duration::from_secs(30);
/// The most messages one transaction takes.
const MAX_GROUP: usize = 256;

/// One message to store, checked already (see the module docs).
pub struct ChatJob {
    pub sender: i64,
    pub sender_name: String,
    pub client_id: String,
    pub text: String,
    pub position_ms: Option<i64>,
    pub reply: oneshot::Sender<AppResult<Stored>>,
}

/// The per-room writers of this instance.
#[derive(Clone)]
pub struct ChatPipeline {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    rt: Realtime,
    writers: Mutex<HashMap<i64, mpsc::UnboundedSender<ChatJob>>>,
}

impl ChatPipeline {
    pub fn new(db: DatabaseConnection, rt: Realtime) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                rt,
                writers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Store `job`'s message in the room's order; resolves after its commit (the
    /// broadcast to the room follows in `seq` order).
    pub async fn submit(
        &self,
        room_id: i64,
        sender: i64,
        client_id: &str,
        checked: CheckedChat,
        position_ms: Option<i64>,
    ) -> AppResult<Stored> {
        let (reply, rx) = oneshot::channel();
        self.enqueue(
            room_id,
            ChatJob {
                sender,
                sender_name: checked.sender_name,
                client_id: client_id.to_owned(),
                text: checked.text,
                position_ms,
                reply,
            },
        );
        rx.await
            .map_err(|_| AppError::internal(anyhow::anyhow!("room writer stopped")))?
    }

    fn enqueue(&self, room_id: i64, job: ChatJob) {
        let mut writers = self
            .inner
            .writers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let job = match writers.get(&room_id) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        // An unbounded queue: each connection waits for its answer before it reads its
        // next frame, so at most one job per connection (and per REST call) is queued.
        let _ = tx.send(job);
        writers.insert(room_id, tx);
        tokio::spawn(writer(self.inner.clone(), room_id, rx));
    }

    /// Rooms with a running writer (for stats and tests).
    pub fn active_writers(&self) -> usize {
        self.inner
            .writers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

async fn writer(inner: Arc<Inner>, room_id: i64, mut rx: mpsc::UnboundedReceiver<ChatJob>) {
    let mut batch = Vec::with_capacity(64);
    loop {
        match tokio::time::timeout(IDLE, rx.recv_many(&mut batch, MAX_GROUP)).await {
            Ok(0) => return,
            Ok(_) => commit_group(&inner, room_id, std::mem::take(&mut batch)).await,
            Err(_) => {
                // Idle: leave, unless a job slipped in. Under the lock nobody can send.
                let mut writers = inner.writers.lock().unwrap_or_else(PoisonError::into_inner);
                if rx.is_empty() {
                    writers.remove(&room_id);
                    return;
                }
            }
        }
    }
}

/// Store a group, answer each job, then publish the new messages in `seq` order.
async fn commit_group(inner: &Inner, room_id: i64, jobs: Vec<ChatJob>) {
    let results = match store_group(&inner.db, room_id, &jobs, false).await {
        Ok(r) => r,
        Err(e) if is_unique_violation(&e) => {
            // A resend of a stored message (a client retrying after a reconnect), or a
            // client id that raced in on another instance: store one by one, looking for
            // the originals first, so only the duplicate is answered with its original and
            // the others are not held up.
            let mut out = Vec::with_capacity(jobs.len());
            for job in &jobs {
                out.push(
                    match store_group(&inner.db, room_id, std::slice::from_ref(job), true).await {
                        Ok(mut r) => r.pop().unwrap_or_else(|| Err(lost())),
                        Err(e) => Err(e.into()),
                    },
                );
            }
            out
        }
        Err(e) => {
            // The cause is logged once (with the first answer); the others say the same.
            let first = AppError::from(e);
            let mut out: Vec<AppResult<Stored>> = (1..jobs.len())
                .map(|_| {
                    let mut e = AppError::new(first.code, first.detail.clone());
                    e.retry_after = first.retry_after;
                    Err(e)
                })
                .collect();
            out.insert(0, Err(first));
            out
        }
    };
    let mut published = Vec::new();
    for (job, result) in jobs.into_iter().zip(results) {
        if let Ok(Stored::New(m)) = &result {
            published.push(m.clone());
        }
        let _ = job.reply.send(result);
    }
    for message in published {
        let seq = message.seq;
        inner
            .rt
            .broadcast_seq(room_id, seq, &ServerMessage::Chat { message })
            .await;
    }
}

fn lost() -> AppError {
    AppError::internal(anyhow::anyhow!("lost message"))
}

/// One transaction for the group: duplicates answered with their originals, the rest
/// numbered `last_seq + 1 …` in arrival order and inserted together.
///
/// Statements: `BEGIN`, the `UPDATE … RETURNING last_seq` (an update and a select on
/// MySQL, which has no `UPDATE … RETURNING`), the insert and `COMMIT`. Stored originals are
/// looked for only with `find_existing`: a group that resends one fails on the unique
/// `(room_id, sender_id, client_id)` instead, and is stored again one by one with it
/// (`commit_group`), so the usual group does not pay a query for the rare resend.
async fn store_group(
    db: &DatabaseConnection,
    room_id: i64,
    jobs: &[ChatJob],
    find_existing: bool,
) -> Result<Vec<AppResult<Stored>>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let existing: HashMap<(i64, String), room_message::Model> = if find_existing {
        room_message::Entity::find()
            .filter(room_message::Column::RoomId.eq(room_id))
            .filter(room_message::Column::ClientId.is_in(jobs.iter().map(|j| j.client_id.clone())))
            .all(&txn)
            .await?
            .into_iter()
            .filter_map(|m| Some(((m.sender_id?, m.client_id.clone()?), m)))
            .collect()
    } else {
        HashMap::new()
    };
    // Which job stores each (sender, client id): the first; later ones in the same group
    // are duplicates of it.
    enum Plan {
        Old(room_message::Model),
        New(usize),
        SameAs(usize),
    }
    let mut first: HashMap<(i64, &str), usize> = HashMap::new();
    let mut fresh = Vec::new();
    let plan: Vec<Plan> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            if let Some(m) = existing.get(&(j.sender, j.client_id.clone())) {
                return Plan::Old(m.clone());
            }
            match first.get(&(j.sender, j.client_id.as_str())) {
                Some(&k) => Plan::SameAs(k),
                None => {
                    first.insert((j.sender, j.client_id.as_str()), fresh.len());
                    fresh.push(i);
                    Plan::New(fresh.len() - 1)
                }
            }
        })
        .collect();
    let now = Utc::now();
    let mut stored: Vec<room_message::Model> = Vec::with_capacity(fresh.len());
    if !fresh.is_empty() {
        let k = fresh.len() as i64;
        let Some(last_seq) = add_to_last_seq(&txn, room_id, k).await? else {
            drop(txn);
            return Ok(jobs
                .iter()
                .map(|_| Err(AppError::not_found("room")))
                .collect());
        };
        let base = last_seq - k;
        let rows: Vec<room_message::ActiveModel> = fresh
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                let j = &jobs[i];
                room_message::ActiveModel {
                    room_id: Set(room_id),
                    seq: Set(base + 1 + n as i64),
                    sender_id: Set(Some(j.sender)),
                    client_id: Set(Some(j.client_id.clone())),
                    kind: Set(MessageKind::Text),
                    body: Set(j.text.clone()),
                    position_ms: Set(j.position_ms.filter(|p| *p >= 0)),
                    created_at: Set(now),
                    deleted_at: Set(None),
                    ..Default::default()
                }
            })
            .collect();
        stored = rows
            .iter()
            .map(|r| room_message::Model {
                id: 0,
                room_id,
                seq: *r.seq.as_ref(),
                sender_id: *r.sender_id.as_ref(),
                client_id: r.client_id.as_ref().clone(),
                kind: MessageKind::Text,
                body: r.body.as_ref().clone(),
                position_ms: *r.position_ms.as_ref(),
                created_at: now,
                deleted_at: None,
            })
            .collect();
        room_message::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    let names: HashMap<i64, String> = jobs
        .iter()
        .map(|j| (j.sender, j.sender_name.clone()))
        .collect();
    let new: Vec<ChatMessage> = stored
        .into_iter()
        .map(|m| chat_message(m, &names))
        .collect();
    Ok(plan
        .into_iter()
        .map(|p| match p {
            Plan::Old(m) => Ok(Stored::Duplicate(chat_message(m, &names))),
            Plan::New(n) => Ok(Stored::New(new[n].clone())),
            Plan::SameAs(n) => Ok(Stored::Duplicate(new[n].clone())),
        })
        .collect())
}

/// `last_seq += k` for the room; its new value, or `None` if the room is gone.
async fn add_to_last_seq(
    txn: &DatabaseTransaction,
    room_id: i64,
    k: i64,
) -> Result<Option<i64>, DbErr> {
    let mut update = Query::update();
    update
        .table(room::Entity)
        .value(
            room::Column::LastSeq,
            Expr::col(room::Column::LastSeq).add(k),
        )
        .and_where(room::Column::Id.eq(room_id));
    let backend = txn.get_database_backend();
    // SQLite (bundled, ≥ 3.35) and PostgreSQL have `UPDATE … RETURNING`; MySQL and MariaDB not.
    if backend != DbBackend::MySql {
        update.returning_col(room::Column::LastSeq);
        return match txn.query_one(&update).await? {
            Some(row) => Ok(Some(row.try_get("", "last_seq")?)),
            None => Ok(None),
        };
    }
    txn.execute(&update).await?;
    Ok(room::Entity::find_by_id(room_id)
        .one(txn)
        .await?
        .map(|r| r.last_seq))
}
