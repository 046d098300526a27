//! The ordered message writer: every conversation message sent on this instance goes
//! through one writer task, which numbers, stores, acknowledges and then delivers in
//! commit order.
//!
//! Group commit across conversations: whatever arrives while a commit runs goes into the
//! next transaction, so a thousand pairs chatting at once cost a few commits a second,
//! not one each. In a group, each conversation's counter is advanced once
//! (`last_seq + k`), conversations in ascending id order (two instances lock rows in the
//! same order, so they cannot deadlock), and all rows are inserted at once.
//!
//! Duplicates: `(conversation, sender, client_id)` is unique. A resend answers with the
//! original and stores nothing. Across instances a race on the same client id breaks the
//! unique index; the group is then stored one by one so only the duplicate is answered
//! with the original.
//!
//! Delivery: after the commit, each new message goes to every device of every member
//! (`Realtime::send_to_users`, across instances through Redis); the sender's device
//! gets `message_ack` first. Within an instance a conversation's messages are delivered
//! in `seq` order; frames from two instances may interleave, and clients put them in
//! order by `seq` and fetch any gap (`GET …/messages?after_seq=`), see docs/realtime.md.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};
use tokio::sync::{mpsc, oneshot};

use super::domain::ConversationMessage;
use super::service::{Content, render};
use crate::db::is_unique_violation;
use crate::entities::{conversation, conversation_member, conversation_message};
use crate::error::{AppError, AppResult};
use crate::realtime::Realtime;
use crate::realtime::protocol::ServerMessage;

/// The most messages one transaction takes.
const MAX_GROUP: usize = 512;

/// One checked message for the writer.
pub struct Job {
    conversation_id: i64,
    sender: i64,
    client_id: String,
    content: Content,
    reply: Option<oneshot::Sender<AppResult<(ConversationMessage, bool)>>>,
}

impl Job {
    pub fn new(conversation_id: i64, sender: i64, client_id: &str, content: Content) -> Self {
        Self {
            conversation_id,
            sender,
            client_id: client_id.to_owned(),
            content,
            reply: None,
        }
    }
}

/// This instance's message writer.
#[derive(Clone)]
pub struct MessageWriter {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    rt: Realtime,
    signer: crate::uploads::sign::UploadSigner,
    tx: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

impl MessageWriter {
    /// `signer` signs the attachments' URLs in delivered messages (members only).
    pub fn new(
        db: DatabaseConnection,
        rt: Realtime,
        signer: crate::uploads::sign::UploadSigner,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                rt,
                signer,
                tx: Mutex::new(None),
            }),
        }
    }

    /// Store the message; resolves after its commit with the stored message and whether
    /// it was a duplicate. Delivery to the members follows in commit order.
    pub async fn submit(&self, mut job: Job) -> AppResult<(ConversationMessage, bool)> {
        let (reply, rx) = oneshot::channel();
        job.reply = Some(reply);
        self.enqueue(job);
        rx.await
            .map_err(|_| AppError::internal(anyhow::anyhow!("message writer stopped")))?
    }

    fn enqueue(&self, job: Job) {
        let mut tx = self.inner.tx.lock().unwrap_or_else(PoisonError::into_inner);
        let job = match tx.as_ref() {
            Some(t) => match t.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        // Started on first use, inside the runtime. Unbounded: each connection waits for
        // its answer before it reads its next frame, so at most one job per connection
        // (and per REST call) is queued.
        let (t, rx) = mpsc::unbounded_channel();
        let _ = t.send(job);
        *tx = Some(t);
        tokio::spawn(writer(self.inner.clone(), rx));
    }
}

async fn writer(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::with_capacity(64);
    while rx.recv_many(&mut batch, MAX_GROUP).await > 0 {
        commit_group(&inner, std::mem::take(&mut batch)).await;
    }
}

type Stored = Result<(conversation_message::Model, bool), AppError>;

async fn commit_group(inner: &Inner, mut jobs: Vec<Job>) {
    let results: Vec<Stored> = match store_group(&inner.db, &jobs).await {
        Ok(r) => r,
        Err(e) if is_unique_violation(&e) => {
            let mut out = Vec::with_capacity(jobs.len());
            for job in &jobs {
                out.push(
                    match store_group(&inner.db, std::slice::from_ref(job)).await {
                        Ok(mut r) => r.pop().unwrap_or_else(|| Err(lost())),
                        Err(e) => Err(e.into()),
                    },
                );
            }
            out
        }
        Err(e) => {
            let first = AppError::from(e);
            let mut out: Vec<Stored> = (1..jobs.len())
                .map(|_| Err(AppError::new(first.code, first.detail.clone())))
                .collect();
            out.insert(0, Err(first));
            out
        }
    };
    // Render every stored message once (names in one query), then answer and deliver.
    let rows: Vec<conversation_message::Model> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(m, _)| m.clone()))
        .collect();
    let rendered = match render(&inner.db, Some(&inner.signer), rows).await {
        Ok(r) => r,
        Err(e) => {
            for job in &mut jobs {
                if let Some(reply) = job.reply.take() {
                    let _ = reply.send(Err(AppError::new(e.code, e.detail.clone())));
                }
            }
            return;
        }
    };
    let mut rendered = rendered.into_iter();
    let mut fresh: Vec<ConversationMessage> = Vec::new();
    for (job, result) in jobs.iter_mut().zip(results) {
        // `rendered` holds one message per stored result, in order.
        let answer = result.and_then(|(_, duplicate)| {
            let m = rendered.next().ok_or_else(lost)?;
            if !duplicate {
                fresh.push(m.clone());
            }
            Ok((m, duplicate))
        });
        if let Some(reply) = job.reply.take() {
            let _ = reply.send(answer);
        }
    }
    deliver(inner, fresh).await;
}

/// Hand new messages to every member's devices, in commit order.
async fn deliver(inner: &Inner, messages: Vec<ConversationMessage>) {
    if messages.is_empty() {
        return;
    }
    let mut ids: Vec<i64> = messages.iter().map(|m| m.conversation_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let members = conversation_member::Entity::find()
        .select_only()
        .column(conversation_member::Column::ConversationId)
        .column(conversation_member::Column::UserId)
        .filter(conversation_member::Column::ConversationId.is_in(ids))
        .into_tuple::<(i64, i64)>()
        .all(&inner.db)
        .await;
    let mut by_conv: HashMap<i64, Vec<i64>> = HashMap::new();
    match members {
        Ok(rows) => {
            for (c, u) in rows {
                by_conv.entry(c).or_default().push(u);
            }
        }
        Err(e) => {
            // Stored and acknowledged: clients catch up by `after_seq`.
            tracing::warn!(error = %e, "members for delivery");
            return;
        }
    }
    for message in messages {
        let Some(to) = by_conv.get(&message.conversation_id) else {
            continue;
        };
        inner
            .rt
            .send_to_users(to, &ServerMessage::Message { message })
            .await;
    }
}

fn lost() -> AppError {
    AppError::internal(anyhow::anyhow!("lost message"))
}

/// One transaction for the group: duplicates answered with their originals, the rest
/// numbered per conversation in arrival order and inserted together. The results are in
/// the jobs' order: each the stored row and whether it was there before.
async fn store_group(db: &DatabaseConnection, jobs: &[Job]) -> Result<Vec<Stored>, DbErr> {
    use conversation_message::Column as M;
    let txn = crate::db::begin_write(db).await?;
    let key = |j: &Job| (j.conversation_id, j.sender, j.client_id.clone());
    let existing: HashMap<(i64, i64, String), conversation_message::Model> =
        conversation_message::Entity::find()
            .filter(M::ConversationId.is_in(jobs.iter().map(|j| j.conversation_id)))
            .filter(M::ClientId.is_in(jobs.iter().map(|j| j.client_id.clone())))
            .all(&txn)
            .await?
            .into_iter()
            .filter_map(|m| Some(((m.conversation_id, m.sender_id?, m.client_id.clone()?), m)))
            .collect();
    // For each job: an old row, or the index of the fresh row it stores or repeats.
    enum Plan {
        Old(Box<conversation_message::Model>),
        New(usize),
        SameAs(usize),
    }
    let mut first: HashMap<(i64, i64, String), usize> = HashMap::new();
    let mut fresh: Vec<usize> = Vec::new();
    let plan: Vec<Plan> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            if let Some(m) = existing.get(&key(j)) {
                return Plan::Old(Box::new(m.clone()));
            }
            match first.get(&key(j)) {
                Some(&k) => Plan::SameAs(k),
                None => {
                    first.insert(key(j), fresh.len());
                    fresh.push(i);
                    Plan::New(fresh.len() - 1)
                }
            }
        })
        .collect();
    let now = Utc::now();
    // Per conversation (ascending ids): how many new messages.
    let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
    for &i in &fresh {
        *counts.entry(jobs[i].conversation_id).or_default() += 1;
    }
    for (&id, &k) in &counts {
        conversation::Entity::update_many()
            .col_expr(
                conversation::Column::LastSeq,
                Expr::col(conversation::Column::LastSeq).add(k),
            )
            .col_expr(conversation::Column::LastActivityAt, Expr::value(now))
            .filter(conversation::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    let mut next: HashMap<i64, i64> = HashMap::new();
    if !counts.is_empty() {
        let lasts: Vec<(i64, i64)> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .column(conversation::Column::LastSeq)
            .filter(conversation::Column::Id.is_in(counts.keys().copied()))
            .into_tuple()
            .all(&txn)
            .await?;
        for (id, last) in lasts {
            next.insert(id, last - counts[&id] + 1);
        }
    }
    let mut stored: Vec<conversation_message::Model> = Vec::with_capacity(fresh.len());
    for &i in &fresh {
        let j = &jobs[i];
        let Some(seq) = next.get_mut(&j.conversation_id) else {
            // The conversation is gone (deleted meanwhile).
            drop(txn);
            return Ok(jobs
                .iter()
                .map(|_| Err(super::service::not_found()))
                .collect());
        };
        stored.push(conversation_message::Model {
            id: 0,
            conversation_id: j.conversation_id,
            seq: *seq,
            sender_id: Some(j.sender),
            client_id: Some(j.client_id.clone()),
            kind: j.content.kind,
            body: j.content.body.clone(),
            payload: j
                .content
                .payload
                .as_ref()
                .and_then(|p| serde_json::to_string(p).ok()),
            recalled_at: None,
            created_at: now,
        });
        *seq += 1;
    }
    if !stored.is_empty() {
        conversation_message::Entity::insert_many(stored.iter().map(|m| {
            conversation_message::ActiveModel {
                conversation_id: Set(m.conversation_id),
                seq: Set(m.seq),
                sender_id: Set(m.sender_id),
                client_id: Set(m.client_id.clone()),
                kind: Set(m.kind),
                body: Set(m.body.clone()),
                payload: Set(m.payload.clone()),
                recalled_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
        }))
        .exec(&txn)
        .await?;
        // A sender has read what they sent.
        let mut read: BTreeMap<(i64, i64), i64> = BTreeMap::new();
        for m in &stored {
            if let Some(s) = m.sender_id {
                let e = read.entry((m.conversation_id, s)).or_default();
                *e = Ord::max(*e, m.seq);
            }
        }
        for ((c, u), seq) in read {
            conversation_member::Entity::update_many()
                .col_expr(conversation_member::Column::LastReadSeq, Expr::value(seq))
                .filter(conversation_member::Column::ConversationId.eq(c))
                .filter(conversation_member::Column::UserId.eq(u))
                .filter(conversation_member::Column::LastReadSeq.lt(seq))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(plan
        .into_iter()
        .map(|p| match p {
            Plan::Old(m) => Ok((*m, true)),
            Plan::New(n) => Ok((stored[n].clone(), false)),
            Plan::SameAs(n) => Ok((stored[n].clone(), true)),
        })
        .collect())
}
