//! Room rules and queries: creation, membership, moderation, chat storage.
//!
//! Every action re-reads the caller's membership (no trust in what a connection was
//! allowed to do when it joined): a kicked member's next message is refused.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::dto::*;
use crate::entities::{movie, room, room_ban, room_member, room_message, user};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::paging::{Keyset, Page, PageQuery};
use crate::realtime::protocol::ChatMessage;
use crate::realtime::sync::PlaybackState;
use crate::users::service::{display_name, display_names};

pub const HISTORY_ON_JOIN: u64 = 50;
pub const MAX_TEXT_CHARS: usize = 500;

fn room_not_found() -> AppError {
    AppError::not_found("room")
}

fn invite_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn parse_name(raw: &str) -> AppResult<String> {
    let s = raw.trim();
    let n = s.chars().count();
    if !(1..=64).contains(&n) || s.chars().any(char::is_control) {
        return Err(AppError::validation(
            "name",
            "name must be 1 to 64 characters",
        ));
    }
    Ok(s.to_owned())
}

fn check_capacity(c: Option<i32>) -> AppResult<()> {
    if c.is_some_and(|c| !(2..=5000).contains(&c)) {
        return Err(AppError::validation(
            "capacity",
            "capacity must be 2 to 5000",
        ));
    }
    Ok(())
}

/// A membership row, if any.
pub async fn membership(
    db: &impl ConnectionTrait,
    room_id: i64,
    user_id: i64,
) -> AppResult<Option<room_member::Model>> {
    Ok(room_member::Entity::find_by_id((room_id, user_id))
        .one(db)
        .await?)
}

/// The caller's membership, or 404 (private rooms) / 403 (visible rooms).
pub async fn require_member(
    db: &impl ConnectionTrait,
    room: &room::Model,
    user_id: i64,
) -> AppResult<room_member::Model> {
    membership(db, room.id, user_id)
        .await?
        .ok_or_else(|| not_member(room))
}

/// What a non-member is told: 404 for a private room, 403 for one they may see.
fn not_member(room: &room::Model) -> AppError {
    if room.visibility == Visibility::Private {
        room_not_found()
    } else {
        AppError::forbidden("join the room first")
    }
}

/// The room, the caller's membership and display name in one query (the chat path, once
/// per message); a non-member gets [`require_member`]'s answer.
async fn room_and_member(
    db: &impl ConnectionTrait,
    room_id: i64,
    user_id: i64,
) -> AppResult<(room::Model, room_member::Model, String)> {
    let found = room_member::Entity::find_by_id((room_id, user_id))
        .find_also_related(room::Entity)
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    match found {
        Some((me, Some(r), u)) => Ok((r, me, u.map(display_name).unwrap_or_default())),
        _ => Err(not_member(&find_room(db, room_id).await?)),
    }
}

pub async fn find_room(db: &impl ConnectionTrait, id: i64) -> AppResult<room::Model> {
    room::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(room_not_found)
}

async fn movie_titles(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> AppResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(movie::Entity::find()
        .filter(movie::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.title))
        .collect())
}

fn response(r: room::Model, my_role: Option<RoomRole>, title: Option<String>) -> RoomResponse {
    RoomResponse {
        id: r.id,
        name: r.name,
        visibility: r.visibility,
        capacity: r.capacity,
        control_mode: r.control_mode,
        owner_id: r.owner_id,
        member_count: r.member_count,
        slow_mode_secs: r.slow_mode_secs,
        movie_id: r.movie_id,
        movie_title: title,
        invite_code: my_role.is_some().then_some(r.invite_code),
        my_role,
        last_seq: r.last_seq,
        created_at: r.created_at,
    }
}

pub async fn room_response(
    db: &impl ConnectionTrait,
    r: room::Model,
    user_id: i64,
) -> AppResult<RoomResponse> {
    let role = membership(db, r.id, user_id).await?.map(|m| m.role);
    let titles = movie_titles(db, r.movie_id.into_iter()).await?;
    let title = r.movie_id.and_then(|id| titles.get(&id).cloned());
    Ok(response(r, role, title))
}

pub async fn create(
    db: &DatabaseConnection,
    owner: i64,
    req: CreateRoomRequest,
) -> AppResult<room::Model> {
    let name = parse_name(&req.name)?;
    check_capacity(req.capacity)?;
    if let Some(id) = req.movie_id {
        crate::catalog::find_ready(db, id)
            .await
            .map_err(|_| AppError::validation("movie_id", "no such movie"))?;
    }
    let now = Utc::now();
    let playback = PlaybackState::new(req.movie_id, now.timestamp_millis());
    let txn = crate::db::begin_write(db).await?;
    let r = room::ActiveModel {
        name: Set(name),
        visibility: Set(req.visibility),
        capacity: Set(req.capacity),
        control_mode: Set(req.control_mode),
        owner_id: Set(owner),
        invite_code: Set(invite_code()),
        movie_id: Set(req.movie_id),
        slow_mode_secs: Set(0),
        last_seq: Set(0),
        member_count: Set(1),
        playback: Set(serde_json::to_string(&playback).ok()),
        playback_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    room_member::ActiveModel {
        room_id: Set(r.id),
        user_id: Set(owner),
        role: Set(RoomRole::Owner),
        muted_until: Set(None),
        last_read_seq: Set(0),
        joined_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(r)
}

/// Public rooms (newest first), or the caller's rooms.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: i64,
    mine: bool,
    q: PageQuery,
) -> AppResult<RoomPage> {
    let pager = Keyset::by_id("rooms", room::Column::Id, Order::Desc).page(
        q.cursor.as_deref(),
        q.limit,
        20,
    )?;
    let mut select = room::Entity::find();
    if mine {
        select = select.filter(
            room::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(room_member::Column::RoomId)
                    .from(room_member::Entity)
                    .and_where(room_member::Column::UserId.eq(user_id))
                    .to_owned(),
            ),
        );
    } else {
        select = select.filter(room::Column::Visibility.eq(Visibility::Public));
    }
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    let titles = movie_titles(db, rows.iter().filter_map(|r| r.movie_id)).await?;
    let roles: HashMap<i64, RoomRole> = room_member::Entity::find()
        .filter(room_member::Column::UserId.eq(user_id))
        .filter(room_member::Column::RoomId.is_in(rows.iter().map(|r| r.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.room_id, m.role))
        .collect();
    let items = rows
        .into_iter()
        .map(|r| {
            let title = r.movie_id.and_then(|id| titles.get(&id).cloned());
            let role = roles.get(&r.id).copied();
            response(r, role, title)
        })
        .collect();
    Ok(RoomPage { items, next_cursor })
}

/// A room the caller may see: public and unlisted rooms to anyone, private ones to members.
pub async fn get_visible(
    db: &impl ConnectionTrait,
    id: i64,
    user_id: i64,
) -> AppResult<RoomResponse> {
    let r = find_room(db, id).await?;
    if r.visibility == Visibility::Private {
        require_member(db, &r, user_id).await?;
    }
    room_response(db, r, user_id).await
}

fn require_role(m: &room_member::Model, at_least: RoomRole) -> AppResult<RoomRole> {
    let role = m.role;
    if role >= at_least {
        Ok(role)
    } else {
        Err(AppError::forbidden(format!(
            "only a room {} may do this",
            sea_orm::ActiveEnum::to_value(&at_least)
        )))
    }
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    user_id: i64,
    req: UpdateRoomRequest,
) -> AppResult<room::Model> {
    let r = find_room(db, id).await?;
    let me = require_member(db, &r, user_id).await?;
    let owner_only =
        req.visibility.is_some() || req.capacity.is_some() || req.control_mode.is_some();
    require_role(
        &me,
        if owner_only {
            RoomRole::Owner
        } else {
            RoomRole::Moderator
        },
    )?;
    let mut row: room::ActiveModel = r.into();
    if let Some(n) = &req.name {
        row.name = Set(parse_name(n)?);
    }
    if let Some(v) = req.visibility {
        row.visibility = Set(v);
    }
    if let Some(c) = req.capacity {
        check_capacity(Some(c))?;
        row.capacity = Set(Some(c));
    }
    if let Some(c) = req.control_mode {
        row.control_mode = Set(c);
    }
    if let Some(s) = req.slow_mode_secs {
        if !(0..=300).contains(&s) {
            return Err(AppError::validation(
                "slow_mode_secs",
                "slow mode must be 0 to 300 s",
            ));
        }
        row.slow_mode_secs = Set(s);
    }
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

pub async fn delete(db: &DatabaseConnection, id: i64, user_id: i64) -> AppResult<()> {
    let r = find_room(db, id).await?;
    let me = require_member(db, &r, user_id).await?;
    require_role(&me, RoomRole::Owner)?;
    delete_rows(db, id).await
}

async fn delete_rows(db: &DatabaseConnection, id: i64) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    room_message::Entity::delete_many()
        .filter(room_message::Column::RoomId.eq(id))
        .exec(&txn)
        .await?;
    room_member::Entity::delete_many()
        .filter(room_member::Column::RoomId.eq(id))
        .exec(&txn)
        .await?;
    room_ban::Entity::delete_many()
        .filter(room_ban::Column::RoomId.eq(id))
        .exec(&txn)
        .await?;
    room::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Join a room: by invite code (any visibility), or by id (public and unlisted rooms).
pub async fn join(
    db: &DatabaseConnection,
    user_id: i64,
    by: Result<i64, &str>,
) -> AppResult<room::Model> {
    let r = match by {
        Ok(id) => {
            let r = find_room(db, id).await?;
            if r.visibility == Visibility::Private && membership(db, id, user_id).await?.is_none() {
                return Err(room_not_found());
            }
            r
        }
        Err(code) => room::Entity::find()
            .filter(room::Column::InviteCode.eq(code.trim()))
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("invite code"))?,
    };
    if membership(db, r.id, user_id).await?.is_some() {
        return Ok(r);
    }
    if room_ban::Entity::find_by_id((r.id, user_id))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::new(
            ErrorCode::Banned,
            "you are banned from this room",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    // Count under the transaction so two last-seat joins cannot both succeed.
    let bumped = room::Entity::update_many()
        .col_expr(
            room::Column::MemberCount,
            Expr::col(room::Column::MemberCount).add(1),
        )
        .filter(room::Column::Id.eq(r.id))
        .filter(
            sea_orm::Condition::any()
                .add(room::Column::Capacity.is_null())
                .add(Expr::col(room::Column::MemberCount).lt(Expr::col(room::Column::Capacity))),
        )
        .exec(&txn)
        .await?
        .rows_affected;
    if bumped != 1 {
        return Err(AppError::new(ErrorCode::RoomFull, "the room is full"));
    }
    room_member::ActiveModel {
        room_id: Set(r.id),
        user_id: Set(user_id),
        role: Set(RoomRole::Member),
        muted_until: Set(None),
        last_read_seq: Set(0),
        joined_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    find_room(db, r.id).await
}

async fn remove_member(db: &DatabaseConnection, room_id: i64, user_id: i64) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let gone = room_member::Entity::delete_by_id((room_id, user_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if gone == 1 {
        room::Entity::update_many()
            .col_expr(
                room::Column::MemberCount,
                Expr::col(room::Column::MemberCount).sub(1),
            )
            .filter(room::Column::Id.eq(room_id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Leave; an owner must hand the room over first, unless they are its last member (then
/// the room goes). Returns whether the room was deleted.
pub async fn leave(db: &DatabaseConnection, id: i64, user_id: i64) -> AppResult<bool> {
    let r = find_room(db, id).await?;
    let me = require_member(db, &r, user_id).await?;
    if me.role == RoomRole::Owner {
        if r.member_count <= 1 {
            delete_rows(db, id).await?;
            return Ok(true);
        }
        return Err(AppError::new(
            ErrorCode::OwnerMustTransfer,
            "transfer ownership before leaving",
        ));
    }
    remove_member(db, id, user_id).await?;
    Ok(false)
}

/// Members by user id, a page at a time (a room may have thousands).
pub async fn members(
    db: &impl ConnectionTrait,
    id: i64,
    user_id: i64,
    q: PageQuery,
) -> AppResult<MemberPage> {
    let pager = Keyset::by_id("members", room_member::Column::UserId, Order::Asc).page(
        q.cursor.as_deref(),
        q.limit,
        50,
    )?;
    let r = find_room(db, id).await?;
    require_member(db, &r, user_id).await?;
    let select = room_member::Entity::find().filter(room_member::Column::RoomId.eq(id));
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    let names = display_names(db, rows.iter().map(|m| m.user_id)).await?;
    let items = rows
        .into_iter()
        .map(|m| MemberResponse {
            name: names.get(&m.user_id).cloned().unwrap_or_default(),
            user_id: m.user_id,
            role: m.role,
            muted_until: m.muted_until,
            joined_at: m.joined_at,
        })
        .collect();
    Ok(MemberPage { items, next_cursor })
}

/// The actor may act on the target: a higher role than theirs.
async fn moderate(
    db: &impl ConnectionTrait,
    room_id: i64,
    actor: i64,
    target: i64,
) -> AppResult<(room_member::Model, room_member::Model)> {
    let r = find_room(db, room_id).await?;
    let me = require_member(db, &r, actor).await?;
    require_role(&me, RoomRole::Moderator)?;
    let them = membership(db, room_id, target)
        .await?
        .ok_or_else(|| AppError::not_found("member"))?;
    if them.role >= me.role {
        return Err(AppError::forbidden(
            "you cannot moderate someone of your rank",
        ));
    }
    Ok((me, them))
}

pub async fn kick(db: &DatabaseConnection, room_id: i64, actor: i64, target: i64) -> AppResult<()> {
    moderate(db, room_id, actor, target).await?;
    remove_member(db, room_id, target).await
}

pub async fn ban(db: &DatabaseConnection, room_id: i64, actor: i64, target: i64) -> AppResult<()> {
    moderate(db, room_id, actor, target).await?;
    remove_member(db, room_id, target).await?;
    room_ban::ActiveModel {
        room_id: Set(room_id),
        user_id: Set(target),
        banned_by: Set(actor),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Who is banned (moderators), by user id, a page at a time.
pub async fn bans(
    db: &impl ConnectionTrait,
    room_id: i64,
    actor: i64,
    q: PageQuery,
) -> AppResult<BanPage> {
    let pager = Keyset::by_id("bans", room_ban::Column::UserId, Order::Asc).page(
        q.cursor.as_deref(),
        q.limit,
        50,
    )?;
    let r = find_room(db, room_id).await?;
    let me = require_member(db, &r, actor).await?;
    require_role(&me, RoomRole::Moderator)?;
    let select = room_ban::Entity::find().filter(room_ban::Column::RoomId.eq(room_id));
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    let names = display_names(db, rows.iter().map(|b| b.user_id)).await?;
    let items = rows
        .into_iter()
        .map(|b| BanResponse {
            name: names.get(&b.user_id).cloned().unwrap_or_default(),
            user_id: b.user_id,
            banned_by: b.banned_by,
            created_at: b.created_at,
        })
        .collect();
    Ok(BanPage { items, next_cursor })
}

pub async fn unban(
    db: &impl ConnectionTrait,
    room_id: i64,
    actor: i64,
    target: i64,
) -> AppResult<()> {
    let r = find_room(db, room_id).await?;
    let me = require_member(db, &r, actor).await?;
    require_role(&me, RoomRole::Moderator)?;
    room_ban::Entity::delete_by_id((room_id, target))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn mute(
    db: &impl ConnectionTrait,
    room_id: i64,
    actor: i64,
    target: i64,
    minutes: Option<i64>,
) -> AppResult<Option<DateTime<Utc>>> {
    if minutes.is_some_and(|m| !(1..=10_080).contains(&m)) {
        return Err(AppError::validation(
            "minutes",
            "minutes must be 1 to 10080",
        ));
    }
    let (_, them) = moderate(db, room_id, actor, target).await?;
    let mut row: room_member::ActiveModel = them.into();
    let until = minutes.map(|m| Utc::now() + Duration::minutes(m));
    row.muted_until = Set(until);
    row.update(db).await?;
    Ok(until)
}

pub async fn set_role(
    db: &impl ConnectionTrait,
    room_id: i64,
    actor: i64,
    target: i64,
    role: AssignableRole,
) -> AppResult<()> {
    let r = find_room(db, room_id).await?;
    let me = require_member(db, &r, actor).await?;
    require_role(&me, RoomRole::Owner)?;
    let them = membership(db, room_id, target)
        .await?
        .ok_or_else(|| AppError::not_found("member"))?;
    if them.role == RoomRole::Owner {
        return Err(AppError::forbidden("use transfer to change the owner"));
    }
    let mut row: room_member::ActiveModel = them.into();
    row.role = Set(role.into());
    row.update(db).await?;
    Ok(())
}

pub async fn transfer(
    db: &DatabaseConnection,
    room_id: i64,
    actor: i64,
    target: i64,
) -> AppResult<()> {
    let r = find_room(db, room_id).await?;
    let me = require_member(db, &r, actor).await?;
    require_role(&me, RoomRole::Owner)?;
    let them = membership(db, room_id, target)
        .await?
        .ok_or_else(|| AppError::not_found("member"))?;
    let txn = crate::db::begin_write(db).await?;
    let mut old: room_member::ActiveModel = me.into();
    old.role = Set(RoomRole::Moderator);
    old.update(&txn).await?;
    let mut new: room_member::ActiveModel = them.into();
    new.role = Set(RoomRole::Owner);
    new.update(&txn).await?;
    let mut room_row: room::ActiveModel = r.into();
    room_row.owner_id = Set(target);
    room_row.updated_at = Set(Utc::now());
    room_row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub fn chat_message(m: room_message::Model, names: &HashMap<i64, String>) -> ChatMessage {
    let deleted = m.deleted_at.is_some();
    ChatMessage {
        room_id: m.room_id,
        seq: m.seq,
        sender_name: m.sender_id.and_then(|id| names.get(&id).cloned()),
        sender_id: m.sender_id,
        client_id: m.client_id,
        kind: m.kind,
        text: if deleted { String::new() } else { m.body },
        position_ms: m.position_ms,
        created_at: m.created_at,
        deleted,
    }
}

async fn to_chat(
    db: &impl ConnectionTrait,
    rows: Vec<room_message::Model>,
) -> AppResult<Vec<ChatMessage>> {
    let names = display_names(db, rows.iter().filter_map(|m| m.sender_id)).await?;
    Ok(rows.into_iter().map(|m| chat_message(m, &names)).collect())
}

/// Messages with `seq < before` (or the newest), newest first.
pub async fn messages_before(
    db: &impl ConnectionTrait,
    room_id: i64,
    before: Option<i64>,
    limit: u64,
) -> AppResult<Vec<ChatMessage>> {
    let mut q = room_message::Entity::find().filter(room_message::Column::RoomId.eq(room_id));
    if let Some(b) = before {
        q = q.filter(room_message::Column::Seq.lt(b));
    }
    let rows = q
        .order_by_desc(room_message::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    to_chat(db, rows).await
}

/// Messages with `seq > after`, oldest first, at most `limit`.
pub async fn messages_after(
    db: &impl ConnectionTrait,
    room_id: i64,
    after: i64,
    limit: u64,
) -> AppResult<Vec<ChatMessage>> {
    let rows = room_message::Entity::find()
        .filter(room_message::Column::RoomId.eq(room_id))
        .filter(room_message::Column::Seq.gt(after))
        .order_by_asc(room_message::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    to_chat(db, rows).await
}

pub async fn history(
    db: &impl ConnectionTrait,
    room_id: i64,
    user_id: i64,
    q: MessagesQuery,
) -> AppResult<MessagePage> {
    let limit = crate::paging::limit(q.limit, 50)?;
    let r = find_room(db, room_id).await?;
    require_member(db, &r, user_id).await?;
    let items = messages_before(db, room_id, q.before, limit).await?;
    let next_before = (items.len() as u64 == limit)
        .then(|| items.last().map(|m| m.seq))
        .flatten()
        .filter(|s| *s > 1);
    Ok(MessagePage { items, next_before })
}

pub enum Stored {
    New(ChatMessage),
    /// The same client id was sent before: the original message.
    Duplicate(ChatMessage),
}

/// When a moderator's mute on this member ends, if it still holds.
pub fn muted_until(me: &room_member::Model) -> Option<DateTime<Utc>> {
    me.muted_until.filter(|t| *t > Utc::now())
}

/// A muted member may not send (chat or danmaku).
pub fn check_not_muted(me: &room_member::Model) -> AppResult<()> {
    if muted_until(me).is_some() {
        return Err(AppError::forbidden("you are muted in this room").with_field("muted"));
    }
    Ok(())
}

/// A chat message that passed [`check_chat`].
pub struct CheckedChat {
    /// The text, trimmed.
    pub text: String,
    /// The sender's display name (the writer publishes it with the message).
    pub sender_name: String,
}

/// The checks a chat message passes before it is queued for the room's writer
/// (`pipeline`): length, client id, membership, mute and slow mode. A resend of a stored
/// message passes even when mute or slow mode would refuse it now, so that a client
/// retrying after a reconnect gets its original `chat_ack`.
pub async fn check_chat(
    db: &impl ConnectionTrait,
    room_id: i64,
    sender: i64,
    client_id: &str,
    text: &str,
) -> AppResult<CheckedChat> {
    if client_id.is_empty() || client_id.len() > 64 {
        return Err(AppError::validation(
            "client_id",
            "client_id must be 1 to 64 characters",
        ));
    }
    let text = text.trim();
    let n = text.chars().count();
    if n == 0 || n > MAX_TEXT_CHARS {
        return Err(AppError::validation(
            "text",
            "a message is 1 to 500 characters",
        ));
    }
    let (r, me, sender_name) = room_and_member(db, room_id, sender).await?;
    let refused = match check_not_muted(&me) {
        Err(e) => Some(e),
        Ok(()) => slow_mode(db, &r, &me).await?,
    };
    if let Some(e) = refused {
        let resend = room_message::Entity::find()
            .filter(room_message::Column::RoomId.eq(room_id))
            .filter(room_message::Column::SenderId.eq(sender))
            .filter(room_message::Column::ClientId.eq(client_id))
            .one(db)
            .await?;
        if resend.is_none() {
            return Err(e);
        }
    }
    Ok(CheckedChat {
        text: text.to_owned(),
        sender_name,
    })
}

/// The slow-mode refusal, if the member sent too recently.
async fn slow_mode(
    db: &impl ConnectionTrait,
    r: &room::Model,
    me: &room_member::Model,
) -> AppResult<Option<AppError>> {
    if r.slow_mode_secs <= 0 || me.role != RoomRole::Member {
        return Ok(None);
    }
    let last = room_message::Entity::find()
        .filter(room_message::Column::RoomId.eq(r.id))
        .filter(room_message::Column::SenderId.eq(me.user_id))
        .order_by_desc(room_message::Column::Seq)
        .one(db)
        .await?;
    let now = Utc::now();
    if last.is_some_and(|m| m.created_at > now - Duration::seconds(r.slow_mode_secs.into())) {
        let mut e = AppError::new(
            ErrorCode::RateLimited,
            "slow mode: wait before sending again",
        );
        e.retry_after = Some(r.slow_mode_secs as u64);
        return Ok(Some(e.with_field("slow_mode")));
    }
    Ok(None)
}

/// Delete a message: its author, or a moderator or owner.
pub async fn delete_message(
    db: &impl ConnectionTrait,
    room_id: i64,
    user_id: i64,
    seq: i64,
) -> AppResult<()> {
    let r = find_room(db, room_id).await?;
    let me = require_member(db, &r, user_id).await?;
    let m = room_message::Entity::find()
        .filter(room_message::Column::RoomId.eq(room_id))
        .filter(room_message::Column::Seq.eq(seq))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("message"))?;
    if m.sender_id != Some(user_id) && me.role < RoomRole::Moderator {
        return Err(AppError::forbidden("you may delete only your own messages"));
    }
    let mut row: room_message::ActiveModel = m.into();
    row.deleted_at = Set(Some(Utc::now()));
    row.body = Set(String::new());
    row.update(db).await?;
    Ok(())
}

/// The room's playback anchor.
pub fn playback_of(r: &room::Model) -> PlaybackState {
    r.playback
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_else(|| PlaybackState::new(r.movie_id, r.created_at.timestamp_millis()))
}

/// Write `next` only if the stored version is still `expected` (optimistic concurrency:
/// two simultaneous commands cannot both win). Returns whether it was written.
pub async fn save_playback(
    db: &impl ConnectionTrait,
    room_id: i64,
    expected: i64,
    next: &PlaybackState,
) -> AppResult<bool> {
    let json = serde_json::to_string(next).map_err(AppError::internal)?;
    let mut q = room::Entity::update_many()
        .col_expr(room::Column::Playback, Expr::value(json))
        .col_expr(room::Column::PlaybackVersion, Expr::value(next.version))
        .filter(room::Column::Id.eq(room_id))
        .filter(room::Column::PlaybackVersion.eq(expected));
    if let Some(m) = next.movie_id {
        q = q.col_expr(room::Column::MovieId, Expr::value(m));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}
