//! Conversations over REST and the socket: who is in them, what they may do, and the
//! messages, read positions and unread counts. Sending goes through the ordered writer
//! (`pipeline`); everything else is here.
//!
//! Rules: only members see a conversation (anyone else gets 404, as if it did not
//! exist); a direct conversation is between two friends, and neither may send once they
//! are not friends any more or one blocked the other (`not_friends`, the same answer
//! either way, so a blocked person does not learn it); a group member sees the messages
//! after the one that was last when they joined.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};

use super::domain::*;
use super::dto::*;
use crate::entities::{
    conversation, conversation_hidden, conversation_member, conversation_message, upload, user,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::paging::{KeyKind, Keyset, PageQuery};
use crate::realtime::Realtime;
use crate::realtime::protocol::ServerMessage;
use crate::uploads::domain::UploadKind;
use crate::uploads::sign::UploadSigner;

type Conv = conversation::Model;
type Member = conversation_member::Model;

pub fn not_found() -> AppError {
    AppError::not_found("conversation")
}

fn not_friends() -> AppError {
    AppError::new(
        ErrorCode::NotFriends,
        "you can send messages to friends only",
    )
}

fn invite_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn group_name(raw: &str) -> AppResult<String> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(AppError::validation(
            "name",
            format!("a group name has 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(s.to_owned())
}

/// The conversation and the caller's membership, or 404.
pub async fn membership(db: &impl ConnectionTrait, id: i64, me: i64) -> AppResult<(Conv, Member)> {
    let member = conversation_member::Entity::find_by_id((id, me))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let conv = conversation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    Ok((conv, member))
}

/// Members' user ids.
pub async fn member_ids(db: &impl ConnectionTrait, id: i64) -> AppResult<Vec<i64>> {
    Ok(conversation_member::Entity::find()
        .select_only()
        .column(conversation_member::Column::UserId)
        .filter(conversation_member::Column::ConversationId.eq(id))
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// The other person of a direct conversation.
async fn peer_of(db: &impl ConnectionTrait, conv: &Conv, me: i64) -> AppResult<Option<i64>> {
    if conv.kind != ConversationKind::Direct {
        return Ok(None);
    }
    Ok(member_ids(db, conv.id)
        .await?
        .into_iter()
        .find(|&u| u != me))
}

/// May `me` send in `conv` now? (Members of a group may; a direct conversation needs
/// the two to be friends, neither blocking the other.)
pub async fn may_send(db: &impl ConnectionTrait, conv: &Conv, me: i64) -> AppResult<()> {
    if let Some(peer) = peer_of(db, conv, me).await? {
        if crate::friends::service::blocked_between(db, me, peer).await?
            || !crate::friends::service::are_friends(db, me, peer).await?
        {
            return Err(not_friends());
        }
    } else if conv.kind == ConversationKind::Direct {
        return Err(not_friends());
    }
    Ok(())
}

async fn users(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, ConversationUser>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, conversation_user(&u)))
        .collect())
}

fn conversation_user(u: &user::Model) -> ConversationUser {
    let username = u.username.clone().unwrap_or_default();
    let deleted = u.deleted_at.is_some();
    ConversationUser {
        id: u.id,
        nickname: if deleted {
            "已注销用户".to_owned()
        } else {
            u.nickname.clone().unwrap_or_else(|| username.clone())
        },
        username: if deleted { String::new() } else { username },
        avatar_url: if deleted { None } else { u.avatar_url.clone() },
    }
}

// ---------------------------------------------------------------- rendering messages

/// Messages as clients see them: senders' names, and content only while not recalled.
///
/// With `signer`, attachments come with short-lived URLs: pass it only for readers who
/// are members (every caller here checked that). Without it (list previews, system
/// messages, recalls) attachments are left out.
pub async fn render(
    db: &impl ConnectionTrait,
    signer: Option<&UploadSigner>,
    rows: Vec<conversation_message::Model>,
) -> AppResult<Vec<ConversationMessage>> {
    let mut attachments: HashMap<i64, Attachment> = HashMap::new();
    if let Some(signer) = signer {
        let ids: Vec<i64> = rows
            .iter()
            .filter(|m| m.recalled_at.is_none())
            .filter_map(|m| payload_of(m).upload_id)
            .collect();
        if !ids.is_empty() {
            let now = Utc::now().timestamp();
            for u in upload::Entity::find()
                .filter(upload::Column::Id.is_in(ids))
                .all(db)
                .await?
            {
                let urls = crate::uploads::service::signed(&u, signer, now);
                attachments.insert(
                    u.id,
                    Attachment {
                        upload_id: u.id,
                        content_type: u.content_type.clone(),
                        bytes: u.bytes,
                        width: u.width,
                        height: u.height,
                        duration_ms: u.duration_ms.map(i64::from),
                        url: urls.url,
                        thumb_url: urls.thumbnail_url,
                    },
                );
            }
        }
    }
    let names =
        crate::users::service::display_names(db, rows.iter().filter_map(|m| m.sender_id)).await?;
    Ok(rows
        .into_iter()
        .map(|m| render_one(m, &names, &attachments))
        .collect())
}

fn payload_of(m: &conversation_message::Model) -> Payload {
    m.payload
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

fn render_one(
    m: conversation_message::Model,
    names: &HashMap<i64, String>,
    attachments: &HashMap<i64, Attachment>,
) -> ConversationMessage {
    let recalled = m.recalled_at.is_some();
    let p = payload_of(&m);
    let p = if recalled { Payload::default() } else { p };
    ConversationMessage {
        conversation_id: m.conversation_id,
        seq: m.seq,
        sender_name: m.sender_id.and_then(|s| names.get(&s).cloned()),
        sender_id: m.sender_id,
        client_id: m.client_id,
        kind: m.kind,
        text: if recalled {
            String::new()
        } else {
            m.body.unwrap_or_default()
        },
        sticker: p.sticker,
        attachment: p.upload_id.and_then(|id| attachments.get(&id).cloned()),
        room: match (p.room_id, p.room_name, p.invite_code) {
            (Some(room_id), Some(name), Some(invite_code)) => Some(RoomInvite {
                room_id,
                name,
                invite_code,
            }),
            _ => None,
        },
        movie: match (p.movie_id, p.movie_title) {
            (Some(movie_id), Some(title)) => Some(MovieShare {
                movie_id,
                title,
                poster_url: p.poster_url,
            }),
            _ => None,
        },
        event: p.event,
        target_user_id: p.target_user_id,
        recalled,
        created_at: m.created_at,
    }
}

// ---------------------------------------------------------------- sending

/// A message checked and ready for the writer: its kind, text and payload.
pub struct Content {
    pub kind: ConversationMessageKind,
    pub body: Option<String>,
    pub payload: Option<Payload>,
}

/// Check a message against the rules of its kind and resolve what it refers to.
pub async fn content(db: &impl ConnectionTrait, me: i64, m: &NewMessage) -> AppResult<Content> {
    let cid = m.client_id.trim();
    if cid.is_empty() || cid.len() > MAX_CLIENT_ID {
        return Err(AppError::validation(
            "client_id",
            format!("a client id has 1 to {MAX_CLIENT_ID} bytes"),
        ));
    }
    let only = |kind: &str, allowed: &[&str]| -> AppResult<()> {
        let given = [
            ("text", m.text.is_some()),
            ("sticker", m.sticker.is_some()),
            ("upload_id", m.upload_id.is_some()),
            ("room_id", m.room_id.is_some()),
            ("movie_id", m.movie_id.is_some()),
        ];
        for (field, set) in given {
            if set && !allowed.contains(&field) {
                return Err(AppError::validation(
                    field,
                    format!("a {kind} message has no {field}"),
                ));
            }
        }
        Ok(())
    };
    let mut payload = Payload::default();
    let kind = m.kind;
    let body = match kind {
        ConversationMessageKind::Text => {
            only("text", &["text"])?;
            let text = m.text.as_deref().unwrap_or("");
            let n = text.chars().count();
            if text.trim().is_empty() || n > MAX_TEXT_CHARS {
                return Err(AppError::validation(
                    "text",
                    format!("a message has 1 to {MAX_TEXT_CHARS} characters"),
                ));
            }
            Some(text.to_owned())
        }
        ConversationMessageKind::Sticker => {
            only("sticker", &["sticker", "upload_id"])?;
            match (&m.sticker, m.upload_id) {
                (Some(s), None) if crate::uploads::stickers::builtin(s).is_some() => {
                    payload.sticker = Some(s.clone())
                }
                (None, Some(id)) => {
                    payload.upload_id = Some(
                        attachable(db, me, id, &[UploadKind::Sticker, UploadKind::Image]).await?,
                    )
                }
                _ => {
                    return Err(AppError::validation(
                        "sticker",
                        "a sticker message has a built-in sticker (builtin:<pack>/<id>) or an upload_id",
                    ));
                }
            }
            None
        }
        ConversationMessageKind::Image | ConversationMessageKind::Voice => {
            only("attachment", &["upload_id"])?;
            let id = m.upload_id.ok_or_else(|| {
                AppError::validation("upload_id", "upload the file first (POST /api/v1/media)")
            })?;
            let fits = if kind == ConversationMessageKind::Image {
                UploadKind::Image
            } else {
                UploadKind::Voice
            };
            payload.upload_id = Some(attachable(db, me, id, &[fits]).await?);
            None
        }
        ConversationMessageKind::RoomInvite => {
            only("room invite", &["room_id"])?;
            let room_id = m
                .room_id
                .ok_or_else(|| AppError::validation("room_id", "which room?"))?;
            // Only a member may invite (and so hand out the room's code).
            let room = crate::rooms::service::find_room(db, room_id).await?;
            crate::rooms::service::require_member(db, &room, me).await?;
            payload.room_id = Some(room.id);
            payload.room_name = Some(room.name);
            payload.invite_code = Some(room.invite_code);
            None
        }
        ConversationMessageKind::MovieShare => {
            only("movie share", &["movie_id"])?;
            let movie_id = m
                .movie_id
                .ok_or_else(|| AppError::validation("movie_id", "which movie?"))?;
            let movie = crate::catalog::find_ready(db, movie_id).await?;
            payload.movie_id = Some(movie.id);
            payload.poster_url =
                crate::media::layout::public_url(movie.id, movie.poster_path.as_deref());
            payload.movie_title = Some(movie.title);
            None
        }
        ConversationMessageKind::System => {
            return Err(AppError::validation(
                "kind",
                "system messages are written by the server",
            ));
        }
    };
    Ok(Content {
        kind,
        body,
        payload: (payload != Payload::default()).then_some(payload),
    })
}

/// An upload the caller may attach (their own, of a kind that fits the message).
async fn attachable(
    db: &impl ConnectionTrait,
    me: i64,
    id: i64,
    fits: &[UploadKind],
) -> AppResult<i64> {
    let u = crate::uploads::service::owned_upload(db, me, id).await?;
    if !fits.contains(&u.kind) {
        return Err(AppError::validation(
            "upload_id",
            format!("a {} upload does not fit this message", u.kind.as_str()),
        ));
    }
    crate::uploads::service::attach(db, &u).await?;
    Ok(u.id)
}

/// Send `m` to conversation `id` as `me`: checked here, then numbered, stored,
/// acknowledged and delivered to every device of every member by the writer. Returns
/// the stored message and whether it is a duplicate of an earlier send.
pub async fn send(
    db: &DatabaseConnection,
    rt: &Realtime,
    writer: &super::pipeline::MessageWriter,
    me: i64,
    id: i64,
    m: &NewMessage,
) -> AppResult<(ConversationMessage, bool)> {
    let (conv, _) = membership(db, id, me).await?;
    may_send(db, &conv, me).await?;
    let c = content(db, me, m).await?;
    let (stored, duplicate) = writer
        .submit(super::pipeline::Job::new(id, me, m.client_id.trim(), c))
        .await?;
    if !duplicate {
        notify_about(db, rt, me, &conv, &stored).await;
    }
    Ok((stored, duplicate))
}

/// The notifications a new message causes: a room invite in a direct conversation tells
/// the invited friend; an `@name` in a group tells each member named. A failure is only
/// logged: the message is stored and delivered already.
async fn notify_about(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    conv: &Conv,
    m: &ConversationMessage,
) {
    use crate::notifications::domain::{NewNotification, NotificationKind, NotificationPayload};
    let result = async {
        let mut to: Vec<(i64, NewNotification)> = Vec::new();
        if let (Some(room), Some(peer)) = (&m.room, peer_of(db, conv, me).await?) {
            to.push((
                peer,
                NewNotification {
                    kind: NotificationKind::RoomInvite,
                    actor_id: Some(me),
                    payload: NotificationPayload {
                        room_id: Some(room.room_id),
                        code: Some(room.invite_code.clone()),
                        ..Default::default()
                    },
                },
            ));
        }
        if conv.kind == ConversationKind::Group && m.text.contains('@') {
            let members: HashSet<i64> = member_ids(db, conv.id).await?.into_iter().collect();
            for u in crate::notifications::service::mentioned_users(db, me, &m.text).await? {
                if members.contains(&u) {
                    to.push((
                        u,
                        NewNotification {
                            kind: NotificationKind::Mention,
                            actor_id: Some(me),
                            payload: NotificationPayload {
                                conversation_id: Some(conv.id),
                                excerpt: Some(m.text.chars().take(80).collect()),
                                ..Default::default()
                            },
                        },
                    ));
                }
            }
        }
        for (user, n) in to {
            crate::notifications::service::notify(db, rt, user, n).await?;
        }
        Ok::<(), AppError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e.detail, conversation = conv.id, "notifications for a message");
    }
}

// ---------------------------------------------------------------- reading

/// A page of messages the caller can see (after their `joined_seq`, not deleted for
/// them), oldest first.
pub async fn messages(
    db: &impl ConnectionTrait,
    signer: &UploadSigner,
    me: i64,
    id: i64,
    q: MessagesQuery,
) -> AppResult<ConversationMessagePage> {
    let (conv, member) = membership(db, id, me).await?;
    let limit = crate::paging::limit(q.limit, 50)?;
    use conversation_message::Column as C;
    let hidden = conversation_hidden::Entity::find()
        .select_only()
        .column(conversation_hidden::Column::MessageId)
        .filter(conversation_hidden::Column::UserId.eq(me))
        .into_query();
    let mut select = conversation_message::Entity::find()
        .filter(C::ConversationId.eq(id))
        .filter(C::Seq.gt(member.joined_seq))
        .filter(C::Id.not_in_subquery(hidden));
    let ascending = match (q.before_seq, q.after_seq) {
        (Some(_), Some(_)) => {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
                "give before_seq or after_seq, not both",
            ));
        }
        (_, Some(after)) => {
            select = select.filter(C::Seq.gt(after));
            true
        }
        (before, None) => {
            if let Some(before) = before {
                select = select.filter(C::Seq.lt(before));
            }
            false
        }
    };
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 100 {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
                "search for at most 100 characters",
            )
            .with_field("q"));
        }
        if ascending {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
                "search pages go backwards (before_seq)",
            )
            .with_field("q"));
        }
        select = select
            .filter(C::Kind.eq(ConversationMessageKind::Text))
            .filter(C::RecalledAt.is_null())
            .filter(
                Expr::expr(Func::lower(Expr::col(C::Body))).like(
                    LikeExpr::new(format!(
                        "%{}%",
                        crate::db::escape_like(&text.to_lowercase())
                    ))
                    .escape('\\'),
                ),
            );
    }
    let mut rows = select
        .order_by(C::Seq, if ascending { Order::Asc } else { Order::Desc })
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if !ascending {
        rows.reverse();
    }
    Ok(ConversationMessagePage {
        messages: render(db, Some(signer), rows).await?,
        more,
        last_seq: conv.last_seq,
    })
}

fn unread(conv: &Conv, member: &Member) -> i64 {
    Ord::max(
        conv.last_seq - Ord::max(member.last_read_seq, member.joined_seq),
        0,
    )
}

/// The caller's conversations, most recently active first.
pub async fn list(
    db: &impl ConnectionTrait,
    me: i64,
    page: PageQuery,
) -> AppResult<ConversationPage> {
    use conversation::Column as C;
    let mine = conversation_member::Entity::find()
        .select_only()
        .column(conversation_member::Column::ConversationId)
        .filter(conversation_member::Column::UserId.eq(me))
        .into_query();
    let p = Keyset::by_key(
        "conversations",
        C::LastActivityAt,
        KeyKind::Time,
        C::Id,
        Order::Desc,
    )
    .page(page.cursor.as_deref(), page.limit, 30)?
    .fetch(
        db,
        conversation::Entity::find().filter(C::Id.in_subquery(mine)),
    )
    .await?;
    Ok(ConversationPage {
        items: responses(db, me, p.rows).await?,
        next_cursor: p.next_cursor,
    })
}

/// One conversation of the caller's.
pub async fn get(db: &impl ConnectionTrait, me: i64, id: i64) -> AppResult<ConversationResponse> {
    let (conv, _) = membership(db, id, me).await?;
    responses(db, me, vec![conv])
        .await?
        .pop()
        .ok_or_else(not_found)
}

/// List entries for `convs`, reading members, peers and last messages for all at once.
async fn responses(
    db: &impl ConnectionTrait,
    me: i64,
    convs: Vec<Conv>,
) -> AppResult<Vec<ConversationResponse>> {
    if convs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = convs.iter().map(|c| c.id).collect();
    let direct: HashSet<i64> = convs
        .iter()
        .filter(|c| c.kind == ConversationKind::Direct)
        .map(|c| c.id)
        .collect();
    // My memberships, and the other member of each direct conversation.
    let members = conversation_member::Entity::find()
        .filter(conversation_member::Column::ConversationId.is_in(ids.clone()))
        .filter(
            Condition::any()
                .add(conversation_member::Column::UserId.eq(me))
                .add(conversation_member::Column::ConversationId.is_in(direct.iter().copied())),
        )
        .all(db)
        .await?;
    let mut mine: HashMap<i64, Member> = HashMap::new();
    let mut peers: HashMap<i64, Member> = HashMap::new();
    for m in members {
        if m.user_id == me {
            mine.insert(m.conversation_id, m);
        } else {
            peers.insert(m.conversation_id, m);
        }
    }
    let peer_users = users(db, &peers.values().map(|m| m.user_id).collect::<Vec<_>>()).await?;
    // The newest message of each (one query).
    let mut last = Condition::any();
    for c in convs.iter().filter(|c| c.last_seq > 0) {
        last = last.add(
            Condition::all()
                .add(conversation_message::Column::ConversationId.eq(c.id))
                .add(conversation_message::Column::Seq.eq(c.last_seq)),
        );
    }
    let last_rows = if convs.iter().any(|c| c.last_seq > 0) {
        conversation_message::Entity::find()
            .filter(last)
            .all(db)
            .await?
    } else {
        Vec::new()
    };
    let mut last_messages: HashMap<i64, ConversationMessage> = render(db, None, last_rows)
        .await?
        .into_iter()
        .map(|m| (m.conversation_id, m))
        .collect();
    let mut out = Vec::with_capacity(convs.len());
    for c in convs {
        let Some(member) = mine.remove(&c.id) else {
            continue;
        };
        let peer_member = peers.get(&c.id);
        let peer = peer_member.and_then(|m| peer_users.get(&m.user_id).cloned());
        let last_message = last_messages
            .remove(&c.id)
            .filter(|m| m.seq > member.joined_seq);
        let admin = member.role >= MemberRole::Admin;
        out.push(ConversationResponse {
            id: c.id,
            kind: c.kind,
            name: match (&c.name, &peer) {
                (Some(n), _) => n.clone(),
                (None, Some(p)) => p.nickname.clone(),
                (None, None) => String::new(),
            },
            avatar_url: match c.kind {
                ConversationKind::Direct => peer.as_ref().and_then(|p| p.avatar_url.clone()),
                ConversationKind::Group => c.avatar_url.clone(),
            },
            peer,
            member_count: c.member_count,
            my_role: member.role,
            muted: member.muted,
            last_seq: c.last_seq,
            last_read_seq: Ord::max(member.last_read_seq, member.joined_seq),
            unread: unread(&c, &member),
            peer_last_read_seq: peer_member.map(|m| m.last_read_seq),
            joined_seq: member.joined_seq,
            last_message,
            last_activity_at: c.last_activity_at,
            invite_code: if c.kind == ConversationKind::Group && admin {
                c.invite_code.clone()
            } else {
                None
            },
            created_at: c.created_at,
        });
    }
    Ok(out)
}

/// Unread messages over every conversation the caller has not muted.
pub async fn unread_total(db: &impl ConnectionTrait, me: i64) -> AppResult<i64> {
    let members = conversation_member::Entity::find()
        .filter(conversation_member::Column::UserId.eq(me))
        .filter(conversation_member::Column::Muted.eq(false))
        .all(db)
        .await?;
    if members.is_empty() {
        return Ok(0);
    }
    let last: HashMap<i64, i64> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .column(conversation::Column::LastSeq)
        .filter(conversation::Column::Id.is_in(members.iter().map(|m| m.conversation_id)))
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(members
        .iter()
        .map(|m| {
            let l = last.get(&m.conversation_id).copied().unwrap_or(0);
            Ord::max(l - Ord::max(m.last_read_seq, m.joined_seq), 0)
        })
        .sum())
}

/// Mark messages up to `seq` read. Tells the caller's other devices (their badges
/// clear) and, in a direct conversation, the other person (read receipts).
pub async fn read(
    db: &impl ConnectionTrait,
    rt: &Realtime,
    me: i64,
    id: i64,
    seq: i64,
) -> AppResult<ReadResponse> {
    let (conv, member) = membership(db, id, me).await?;
    let seq = seq.clamp(0, conv.last_seq);
    let last_read_seq = if seq > member.last_read_seq {
        conversation_member::Entity::update_many()
            .col_expr(conversation_member::Column::LastReadSeq, Expr::value(seq))
            .filter(conversation_member::Column::ConversationId.eq(id))
            .filter(conversation_member::Column::UserId.eq(me))
            .filter(conversation_member::Column::LastReadSeq.lt(seq))
            .exec(db)
            .await?;
        let mut to = vec![me];
        if let Some(peer) = peer_of(db, &conv, me).await? {
            to.push(peer);
        }
        rt.send_to_users(
            &to,
            &ServerMessage::MessageRead {
                conversation_id: id,
                user_id: me,
                seq,
            },
        )
        .await;
        seq
    } else {
        member.last_read_seq
    };
    Ok(ReadResponse {
        last_read_seq,
        unread_total: unread_total(db, me).await?,
    })
}

/// "Someone is typing": to the other members' devices, never stored.
pub async fn typing(
    db: &impl ConnectionTrait,
    rt: &Realtime,
    me: i64,
    name: &str,
    id: i64,
) -> AppResult<()> {
    let (conv, _) = membership(db, id, me).await?;
    may_send(db, &conv, me).await?;
    let others: Vec<i64> = member_ids(db, id)
        .await?
        .into_iter()
        .filter(|&u| u != me)
        .collect();
    rt.send_to_users(
        &others,
        &ServerMessage::Typing {
            conversation_id: id,
            user_id: me,
            name: name.to_owned(),
        },
    )
    .await;
    Ok(())
}

/// Recall one's own message within [`RECALL_WINDOW_SECS`]: its content is gone for
/// everyone, and every member is told.
pub async fn recall(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    id: i64,
    seq: i64,
) -> AppResult<ConversationMessage> {
    membership(db, id, me).await?;
    let m = conversation_message::Entity::find()
        .filter(conversation_message::Column::ConversationId.eq(id))
        .filter(conversation_message::Column::Seq.eq(seq))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("message"))?;
    if m.sender_id != Some(me) {
        return Err(AppError::forbidden("only its sender recalls a message"));
    }
    if m.recalled_at.is_none() {
        if (Utc::now() - m.created_at).num_seconds() > RECALL_WINDOW_SECS {
            return Err(AppError::new(
                ErrorCode::RecallExpired,
                format!(
                    "a message can be recalled within {} minutes of sending",
                    RECALL_WINDOW_SECS / 60
                ),
            ));
        }
        conversation_message::Entity::update_many()
            .col_expr(
                conversation_message::Column::RecalledAt,
                Expr::value(Utc::now()),
            )
            .col_expr(
                conversation_message::Column::Body,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                conversation_message::Column::Payload,
                Expr::value(Option::<String>::None),
            )
            .filter(conversation_message::Column::Id.eq(m.id))
            .exec(db)
            .await?;
        rt.send_to_users(
            &member_ids(db, id).await?,
            &ServerMessage::MessageRecalled {
                conversation_id: id,
                seq,
            },
        )
        .await;
    }
    let m = conversation_message::Entity::find_by_id(m.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("message"))?;
    Ok(render(db, None, vec![m]).await?.remove(0))
}

/// Delete a message for the caller only.
pub async fn hide(db: &impl ConnectionTrait, me: i64, id: i64, seq: i64) -> AppResult<()> {
    let (_, member) = membership(db, id, me).await?;
    let m = conversation_message::Entity::find()
        .filter(conversation_message::Column::ConversationId.eq(id))
        .filter(conversation_message::Column::Seq.eq(seq))
        .filter(conversation_message::Column::Seq.gt(member.joined_seq))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("message"))?;
    let exists = conversation_hidden::Entity::find_by_id((me, m.id))
        .one(db)
        .await?
        .is_some();
    if !exists {
        let r = conversation_hidden::ActiveModel {
            user_id: Set(me),
            message_id: Set(m.id),
        }
        .insert(db)
        .await;
        match r {
            Err(e) if !crate::db::is_unique_violation(&e) => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// Mute or unmute a conversation for the caller.
pub async fn mute(db: &impl ConnectionTrait, me: i64, id: i64, muted: bool) -> AppResult<()> {
    membership(db, id, me).await?;
    conversation_member::Entity::update_many()
        .col_expr(conversation_member::Column::Muted, Expr::value(muted))
        .filter(conversation_member::Column::ConversationId.eq(id))
        .filter(conversation_member::Column::UserId.eq(me))
        .exec(db)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- direct conversations

/// The direct conversation with a friend, created on first use.
pub async fn open_direct(db: &DatabaseConnection, me: i64, other: i64) -> AppResult<(Conv, bool)> {
    if other == me {
        return Err(AppError::validation("user_id", "that is you"));
    }
    let exists = user::Entity::find_by_id(other)
        .filter(user::Column::DeletedAt.is_null())
        .count(db)
        .await?
        > 0;
    if !exists {
        return Err(AppError::not_found("user"));
    }
    if crate::friends::service::blocked_between(db, me, other).await?
        || !crate::friends::service::are_friends(db, me, other).await?
    {
        return Err(not_friends());
    }
    let key = direct_key(me, other);
    let find =
        || conversation::Entity::find().filter(conversation::Column::DirectKey.eq(key.clone()));
    if let Some(c) = find().one(db).await? {
        return Ok((c, false));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let created = conversation::ActiveModel {
        kind: Set(ConversationKind::Direct),
        direct_key: Set(Some(key.clone())),
        member_count: Set(2),
        last_seq: Set(0),
        last_activity_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let c = match created {
        Ok(c) => c,
        Err(e) if crate::db::is_unique_violation(&e) => {
            // Both opened it at once: the other's row is the one.
            drop(txn);
            return Ok((find().one(db).await?.ok_or_else(not_found)?, false));
        }
        Err(e) => return Err(e.into()),
    };
    conversation_member::Entity::insert_many([me, other].map(|u| {
        conversation_member::ActiveModel {
            conversation_id: Set(c.id),
            user_id: Set(u),
            role: Set(MemberRole::Member),
            last_read_seq: Set(0),
            joined_seq: Set(0),
            muted: Set(false),
            joined_at: Set(now),
        }
    }))
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok((c, true))
}

// ---------------------------------------------------------------- groups

async fn require_friends(db: &impl ConnectionTrait, me: i64, ids: &[i64]) -> AppResult<()> {
    let friends: HashSet<i64> = crate::friends::service::friend_ids(db, me)
        .await?
        .into_iter()
        .collect();
    if let Some(&stranger) = ids.iter().find(|u| !friends.contains(u)) {
        return Err(AppError::new(
            ErrorCode::NotFriends,
            format!("user {stranger} is not your friend: add friends only"),
        )
        .with_field("user_ids"));
    }
    Ok(())
}

fn distinct_others(me: i64, ids: &[i64]) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.iter()
        .copied()
        .filter(|&u| u != me && seen.insert(u))
        .collect()
}

/// Write a system message inside `txn` (numbered from the conversation's counter) and
/// return it for delivery after the commit.
async fn system_message(
    txn: &impl ConnectionTrait,
    id: i64,
    event: &str,
    actor: i64,
    target: Option<i64>,
) -> AppResult<conversation_message::Model> {
    let now = Utc::now();
    conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            // i64 like the writer's `+ k`: the two render the same SQL, and PostgreSQL's
            // cached statement must get the same parameter type from both.
            Expr::col(conversation::Column::LastSeq).add(1i64),
        )
        .col_expr(conversation::Column::LastActivityAt, Expr::value(now))
        .filter(conversation::Column::Id.eq(id))
        .exec(txn)
        .await?;
    let conv = conversation::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    let payload = Payload {
        event: Some(event.to_owned()),
        target_user_id: target,
        ..Default::default()
    };
    Ok(conversation_message::ActiveModel {
        conversation_id: Set(id),
        seq: Set(conv.last_seq),
        sender_id: Set(Some(actor)),
        client_id: Set(None),
        kind: Set(ConversationMessageKind::System),
        body: Set(None),
        payload: Set(serde_json::to_string(&payload).ok()),
        recalled_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// Tell members about system messages and a changed conversation after a commit.
async fn announce(
    db: &impl ConnectionTrait,
    rt: &Realtime,
    id: i64,
    system: Vec<conversation_message::Model>,
) -> AppResult<()> {
    let members = member_ids(db, id).await?;
    for message in render(db, None, system).await? {
        rt.send_to_users(&members, &ServerMessage::Message { message })
            .await;
    }
    rt.send_to_users(
        &members,
        &ServerMessage::ConversationChanged {
            conversation_id: id,
        },
    )
    .await;
    Ok(())
}

fn new_member(
    id: i64,
    user_id: i64,
    role: MemberRole,
    joined_seq: i64,
) -> conversation_member::ActiveModel {
    conversation_member::ActiveModel {
        conversation_id: Set(id),
        user_id: Set(user_id),
        role: Set(role),
        last_read_seq: Set(joined_seq),
        joined_seq: Set(joined_seq),
        muted: Set(false),
        joined_at: Set(Utc::now()),
    }
}

/// Create a group with friends; the caller owns it.
pub async fn create_group(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    req: CreateGroupRequest,
) -> AppResult<Conv> {
    let name = group_name(&req.name)?;
    let others = distinct_others(me, &req.member_ids);
    if others.len() as i32 + 1 > MAX_GROUP_MEMBERS {
        return Err(AppError::new(
            ErrorCode::GroupFull,
            format!("a group has at most {MAX_GROUP_MEMBERS} members"),
        ));
    }
    require_friends(db, me, &others).await?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let c = conversation::ActiveModel {
        kind: Set(ConversationKind::Group),
        name: Set(Some(name)),
        owner_id: Set(Some(me)),
        invite_code: Set(Some(invite_code())),
        member_count: Set(others.len() as i32 + 1),
        last_seq: Set(0),
        last_activity_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut rows = vec![new_member(c.id, me, MemberRole::Owner, 0)];
    rows.extend(
        others
            .iter()
            .map(|&u| new_member(c.id, u, MemberRole::Member, 0)),
    );
    conversation_member::Entity::insert_many(rows)
        .exec(&txn)
        .await?;
    let created = system_message(&txn, c.id, "created", me, None).await?;
    txn.commit().await?;
    announce(db, rt, c.id, vec![created]).await?;
    conversation::Entity::find_by_id(c.id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// The caller's membership of group `id`, with at least `role`.
async fn group_member(
    db: &impl ConnectionTrait,
    id: i64,
    me: i64,
    role: MemberRole,
) -> AppResult<(Conv, Member)> {
    let (conv, member) = membership(db, id, me).await?;
    group_only(&conv)?;
    at_least(&member, role)?;
    Ok((conv, member))
}

fn group_only(conv: &Conv) -> AppResult<()> {
    if conv.kind != ConversationKind::Group {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "a direct conversation has no such setting",
        ));
    }
    Ok(())
}

fn at_least(member: &Member, role: MemberRole) -> AppResult<()> {
    if member.role < role {
        return Err(AppError::forbidden(match role {
            MemberRole::Owner => "only the group's owner may do that",
            _ => "only the group's owner and admins may do that",
        }));
    }
    Ok(())
}

/// Rename a group or change its avatar (owner and admins).
pub async fn update_group(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    id: i64,
    req: UpdateGroupRequest,
) -> AppResult<()> {
    let (conv, _) = group_member(db, id, me, MemberRole::Admin).await?;
    let name = req.name.as_deref().map(group_name).transpose()?;
    let avatar = match req.avatar_upload_id {
        Some(upload) => Some(group_avatar(db, me, upload).await?),
        None => None,
    };
    let txn = crate::db::begin_write(db).await?;
    let mut system = Vec::new();
    let mut row: conversation::ActiveModel = conv.clone().into();
    if let Some(name) = name.filter(|n| Some(n) != conv.name.as_ref()) {
        row.name = Set(Some(name));
        row.clone().update(&txn).await?;
        system.push(system_message(&txn, id, "renamed", me, None).await?);
    }
    if let Some(url) = avatar {
        conversation::Entity::update_many()
            .col_expr(conversation::Column::AvatarUrl, Expr::value(url))
            .filter(conversation::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    announce(db, rt, id, system).await
}

async fn group_avatar(db: &impl ConnectionTrait, me: i64, upload: i64) -> AppResult<String> {
    let u = crate::uploads::service::owned_upload(db, me, upload).await?;
    let url = crate::uploads::service::public_avatar_url(&u).ok_or_else(|| {
        AppError::validation("avatar_upload_id", "upload the picture with purpose avatar")
    })?;
    crate::uploads::service::attach(db, &u).await?;
    Ok(url)
}

/// Add friends to a group (owner and admins).
pub async fn add_members(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    id: i64,
    ids: &[i64],
) -> AppResult<()> {
    group_member(db, id, me, MemberRole::Admin).await?;
    let current: HashSet<i64> = member_ids(db, id).await?.into_iter().collect();
    let new: Vec<i64> = distinct_others(me, ids)
        .into_iter()
        .filter(|u| !current.contains(u))
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    require_friends(db, me, &new).await?;
    join_users(db, rt, id, me, &new).await
}

/// Put `users` into group `id` (capacity checked inside the transaction).
async fn join_users(
    db: &DatabaseConnection,
    rt: &Realtime,
    id: i64,
    actor: i64,
    users: &[i64],
) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let n = users.len() as i32;
    let grown = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::MemberCount,
            Expr::col(conversation::Column::MemberCount).add(n),
        )
        .filter(conversation::Column::Id.eq(id))
        .filter(conversation::Column::MemberCount.lte(MAX_GROUP_MEMBERS - n))
        .exec(&txn)
        .await?;
    if grown.rows_affected == 0 {
        return Err(AppError::new(
            ErrorCode::GroupFull,
            format!("a group has at most {MAX_GROUP_MEMBERS} members"),
        ));
    }
    let conv = conversation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    conversation_member::Entity::insert_many(
        users
            .iter()
            .map(|&u| new_member(id, u, MemberRole::Member, conv.last_seq)),
    )
    .exec(&txn)
    .await?;
    let mut system = Vec::new();
    for &u in users {
        system.push(system_message(&txn, id, "joined", actor, Some(u)).await?);
    }
    // They have seen their own arrival.
    if let Some(last) = system.last() {
        conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::LastReadSeq,
                Expr::value(last.seq),
            )
            .filter(conversation_member::Column::ConversationId.eq(id))
            .filter(conversation_member::Column::UserId.is_in(users.iter().copied()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    announce(db, rt, id, system).await
}

/// Remove someone (owner and admins, over members of a lower role) or leave (any
/// member; an owner who leaves hands the group to the longest-standing admin, else
/// member; the last one out deletes it).
pub async fn remove_member(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    id: i64,
    target: i64,
) -> AppResult<()> {
    let (conv, member) = membership(db, id, me).await?;
    group_only(&conv)?;
    let leaving = target == me;
    let them = if leaving {
        member.clone()
    } else {
        at_least(&member, MemberRole::Admin)?;
        let them = conversation_member::Entity::find_by_id((id, target))
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("member"))?;
        if them.role >= member.role {
            return Err(AppError::forbidden(
                "you may remove members of a lower role only",
            ));
        }
        them
    };
    let txn = crate::db::begin_write(db).await?;
    conversation_member::Entity::delete_by_id((id, target))
        .exec(&txn)
        .await?;
    conversation::Entity::update_many()
        .col_expr(
            conversation::Column::MemberCount,
            Expr::col(conversation::Column::MemberCount).sub(1),
        )
        .filter(conversation::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let rest = conversation_member::Entity::find()
        .filter(conversation_member::Column::ConversationId.eq(id))
        .order_by_asc(conversation_member::Column::JoinedAt)
        .all(&txn)
        .await?;
    if rest.is_empty() {
        conversation::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        rt.send_to_users(
            &[target],
            &ServerMessage::ConversationRemoved {
                conversation_id: id,
            },
        )
        .await;
        return Ok(());
    }
    let mut system = vec![
        system_message(
            &txn,
            id,
            if leaving { "left" } else { "removed" },
            me,
            Some(target),
        )
        .await?,
    ];
    if them.role == MemberRole::Owner {
        // The highest role, and among those the longest-standing member.
        let heir = rest
            .iter()
            .max_by_key(|m| (m.role, std::cmp::Reverse(m.joined_at)))
            .map(|m| m.user_id)
            .unwrap_or(rest[0].user_id);
        set_owner(&txn, id, heir).await?;
        system.push(system_message(&txn, id, "owner", target, Some(heir)).await?);
    }
    txn.commit().await?;
    rt.send_to_users(
        &[target],
        &ServerMessage::ConversationRemoved {
            conversation_id: id,
        },
    )
    .await;
    announce(db, rt, id, system).await
}

async fn set_owner(txn: &impl ConnectionTrait, id: i64, user_id: i64) -> AppResult<()> {
    conversation_member::Entity::update_many()
        .col_expr(
            conversation_member::Column::Role,
            Expr::value(MemberRole::Owner),
        )
        .filter(conversation_member::Column::ConversationId.eq(id))
        .filter(conversation_member::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    conversation::Entity::update_many()
        .col_expr(conversation::Column::OwnerId, Expr::value(user_id))
        .filter(conversation::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Make a member an admin or a plain member again (owner).
pub async fn set_role(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    id: i64,
    target: i64,
    role: AssignableMemberRole,
) -> AppResult<()> {
    group_member(db, id, me, MemberRole::Owner).await?;
    if target == me {
        return Err(AppError::new(
            ErrorCode::OwnerMustTransfer,
            "transfer the group to step down",
        ));
    }
    let done = conversation_member::Entity::update_many()
        .col_expr(
            conversation_member::Column::Role,
            Expr::value(MemberRole::from(role)),
        )
        .filter(conversation_member::Column::ConversationId.eq(id))
        .filter(conversation_member::Column::UserId.eq(target))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::not_found("member"));
    }
    announce(db, rt, id, Vec::new()).await
}

/// Hand the group to another member (owner); the old owner becomes an admin.
pub async fn transfer(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    id: i64,
    to: i64,
) -> AppResult<()> {
    group_member(db, id, me, MemberRole::Owner).await?;
    if to == me {
        return Ok(());
    }
    conversation_member::Entity::find_by_id((id, to))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("member"))?;
    let txn = crate::db::begin_write(db).await?;
    set_owner(&txn, id, to).await?;
    conversation_member::Entity::update_many()
        .col_expr(
            conversation_member::Column::Role,
            Expr::value(MemberRole::Admin),
        )
        .filter(conversation_member::Column::ConversationId.eq(id))
        .filter(conversation_member::Column::UserId.eq(me))
        .exec(&txn)
        .await?;
    let system = system_message(&txn, id, "owner", me, Some(to)).await?;
    txn.commit().await?;
    announce(db, rt, id, vec![system]).await
}

/// A new invite link (owner): the old one stops working.
pub async fn reset_invite(db: &impl ConnectionTrait, me: i64, id: i64) -> AppResult<String> {
    group_member(db, id, me, MemberRole::Owner).await?;
    let code = invite_code();
    conversation::Entity::update_many()
        .col_expr(conversation::Column::InviteCode, Expr::value(code.clone()))
        .filter(conversation::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(code)
}

async fn by_code(db: &impl ConnectionTrait, code: &str) -> AppResult<Conv> {
    if code.is_empty() || code.len() > 24 {
        return Err(AppError::not_found("invite"));
    }
    conversation::Entity::find()
        .filter(conversation::Column::InviteCode.eq(code))
        .filter(conversation::Column::Kind.eq(ConversationKind::Group))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("invite"))
}

/// What an invite link leads to.
pub async fn preview(db: &impl ConnectionTrait, me: i64, code: &str) -> AppResult<GroupPreview> {
    let c = by_code(db, code).await?;
    let member = conversation_member::Entity::find_by_id((c.id, me))
        .one(db)
        .await?
        .is_some();
    Ok(GroupPreview {
        id: c.id,
        name: c.name.unwrap_or_default(),
        avatar_url: c.avatar_url,
        member_count: c.member_count,
        member,
    })
}

/// Join a group by its invite link.
pub async fn join_by_code(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    code: &str,
) -> AppResult<i64> {
    let c = by_code(db, code).await?;
    if conversation_member::Entity::find_by_id((c.id, me))
        .one(db)
        .await?
        .is_none()
    {
        join_users(db, rt, c.id, me, &[me]).await?;
    }
    Ok(c.id)
}

/// The members of a conversation, owner and admins first.
pub async fn members(
    db: &impl ConnectionTrait,
    me: i64,
    id: i64,
    page: PageQuery,
) -> AppResult<ConversationMemberPage> {
    membership(db, id, me).await?;
    let p = Keyset::by_id(
        "conversation-members",
        conversation_member::Column::UserId,
        Order::Asc,
    )
    .page(page.cursor.as_deref(), page.limit, 100)?
    .fetch(
        db,
        conversation_member::Entity::find()
            .filter(conversation_member::Column::ConversationId.eq(id)),
    )
    .await?;
    let who = users(db, &p.rows.iter().map(|m| m.user_id).collect::<Vec<_>>()).await?;
    Ok(ConversationMemberPage {
        items: p
            .rows
            .into_iter()
            .filter_map(|m| {
                Some(ConversationMember {
                    user: who.get(&m.user_id)?.clone(),
                    role: m.role,
                    joined_at: m.joined_at,
                })
            })
            .collect(),
        next_cursor: p.next_cursor,
    })
}
