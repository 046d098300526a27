//! Friends' use cases: search, requests, the friends list, blocks; and what other
//! features ask of friendships (`are_friends`, `blocked_between`, `friend_ids`).
//!
//! A block is invisible to the blocked user: their requests are answered as usual and
//! kept (`hidden`) but never shown or notified, they do not find the blocker in search,
//! and they get no presence (a block ends the friendship, and presence goes to friends
//! only).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    Order, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

use super::domain::{self, MAX_FRIENDS, MAX_PENDING_OUT, Relationship};
use super::dto::*;
use super::presence::Presence;
use crate::entities::{friend_request, friendship, user, user_block, user_presence};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::notifications::domain::{NewNotification, NotificationKind, NotificationPayload};
use crate::paging::{Keyset, Page, PageQuery};
use crate::realtime::Realtime;
use crate::users::dto::PublicUser;

/// Whether `a` and `b` are friends.
pub async fn are_friends(db: &impl ConnectionTrait, a: i64, b: i64) -> AppResult<bool> {
    Ok(friendship::Entity::find_by_id((a, b))
        .one(db)
        .await?
        .is_some())
}

/// Whether either of `a` and `b` blocks the other.
pub async fn blocked_between(db: &impl ConnectionTrait, a: i64, b: i64) -> AppResult<bool> {
    Ok(user_block::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(user_block::Column::BlockerId.eq(a))
                        .add(user_block::Column::BlockedId.eq(b)),
                )
                .add(
                    Condition::all()
                        .add(user_block::Column::BlockerId.eq(b))
                        .add(user_block::Column::BlockedId.eq(a)),
                ),
        )
        .count(db)
        .await?
        > 0)
}

/// Every friend of `user`.
pub async fn friend_ids(db: &impl ConnectionTrait, user: i64) -> AppResult<Vec<i64>> {
    Ok(friendship::Entity::find()
        .select_only()
        .column(friendship::Column::FriendId)
        .filter(friendship::Column::UserId.eq(user))
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

async fn blocks(db: &impl ConnectionTrait, blocker: i64, blocked: i64) -> AppResult<bool> {
    Ok(user_block::Entity::find_by_id((blocker, blocked))
        .one(db)
        .await?
        .is_some())
}

/// Users by id (deleted ones included), as the public sees them.
async fn public_users(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, PublicUser>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(|u| (u.id, PublicUser::from(u)))
        .collect())
}

/// An account that exists and is not deleted, else `not_found`.
async fn active_user(db: &impl ConnectionTrait, id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

/// How `me` stands with each of `others`.
async fn relationships(
    db: &impl ConnectionTrait,
    me: i64,
    others: &[i64],
) -> AppResult<HashMap<i64, Relationship>> {
    let mut out: HashMap<i64, Relationship> = HashMap::new();
    if others.is_empty() {
        return Ok(out);
    }
    let ids = others.to_vec();
    for r in friend_request::Entity::find()
        .filter(friend_request::Column::FromId.eq(me))
        .filter(friend_request::Column::ToId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        out.insert(r.to_id, Relationship::RequestSent);
    }
    for r in friend_request::Entity::find()
        .filter(friend_request::Column::ToId.eq(me))
        .filter(friend_request::Column::Hidden.eq(false))
        .filter(friend_request::Column::FromId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        out.insert(r.from_id, Relationship::RequestReceived);
    }
    for f in friendship::Entity::find()
        .filter(friendship::Column::UserId.eq(me))
        .filter(friendship::Column::FriendId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        out.insert(f.friend_id, Relationship::Friend);
    }
    for b in user_block::Entity::find()
        .filter(user_block::Column::BlockerId.eq(me))
        .filter(user_block::Column::BlockedId.is_in(ids))
        .all(db)
        .await?
    {
        out.insert(b.blocked_id, Relationship::BlockedByMe);
    }
    Ok(out)
}

/// Users whose username or nickname starts with `q`: never the caller, deleted accounts
/// or anyone who blocks the caller.
pub async fn search(
    db: &impl ConnectionTrait,
    me: i64,
    q: SearchQuery,
) -> AppResult<UserSearchPage> {
    let pattern = domain::search_prefix(&q.q)?;
    let pager = Keyset::by_id("user_search", user::Column::Id, Order::Asc).page(
        q.cursor.as_deref(),
        q.limit,
        20,
    )?;
    // Plain `LIKE 'q%'` on each column, so an index on it can serve the prefix; SQLite
    // and MariaDB compare case-insensitively, usernames are lower-case everywhere.
    let like = |col: user::Column| {
        Expr::col((user::Entity, col)).like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    let raw_nick = domain::search_prefix_raw(&q.q);
    let select = user::Entity::find()
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::Id.ne(me))
        .filter(
            Condition::any()
                .add(like(user::Column::Username))
                .add(like(user::Column::Nickname))
                .add(
                    Expr::col((user::Entity, user::Column::Nickname))
                        .like(LikeExpr::new(raw_nick).escape('\\')),
                ),
        )
        .filter(
            user::Column::Id.not_in_subquery(
                Query::select()
                    .column(user_block::Column::BlockerId)
                    .from(user_block::Entity)
                    .and_where(user_block::Column::BlockedId.eq(me))
                    .to_owned(),
            ),
        );
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
    let rel = relationships(db, me, &ids).await?;
    Ok(UserSearchPage {
        items: rows
            .iter()
            .map(|u| UserHit {
                user: PublicUser::from(u),
                relationship: rel.get(&u.id).copied().unwrap_or(Relationship::None),
            })
            .collect(),
        next_cursor,
    })
}

fn request_view(r: &friend_request::Model, other: PublicUser) -> FriendRequestView {
    FriendRequestView {
        id: r.id,
        user: other,
        note: r.note.clone(),
        created_at: r.created_at,
    }
}

/// Both directions of a friendship, unless the list of either is full. Pending requests
/// between the two go.
async fn befriend(db: &impl ConnectionTrait, a: i64, b: i64) -> AppResult<()> {
    for u in [a, b] {
        let n = friendship::Entity::find()
            .filter(friendship::Column::UserId.eq(u))
            .count(db)
            .await?;
        if n >= MAX_FRIENDS {
            return Err(AppError::new(
                ErrorCode::FriendLimit,
                format!("a friends list holds at most {MAX_FRIENDS} people"),
            ));
        }
    }
    let now = Utc::now();
    friendship::Entity::insert_many([
        friendship::ActiveModel {
            user_id: Set(a),
            friend_id: Set(b),
            created_at: Set(now),
        },
        friendship::ActiveModel {
            user_id: Set(b),
            friend_id: Set(a),
            created_at: Set(now),
        },
    ])
    .on_conflict(
        // (`do_nothing_on`: MariaDB has no `DO NOTHING`; it writes `col = col`.)
        OnConflict::columns([friendship::Column::UserId, friendship::Column::FriendId])
            .do_nothing_on([friendship::Column::UserId])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    delete_requests_between(db, a, b).await
}

async fn delete_requests_between(db: &impl ConnectionTrait, a: i64, b: i64) -> AppResult<()> {
    friend_request::Entity::delete_many()
        .filter(between(
            friend_request::Column::FromId,
            friend_request::Column::ToId,
            a,
            b,
        ))
        .exec(db)
        .await?;
    Ok(())
}

/// `(x = a and y = b) or (x = b and y = a)`.
fn between<C: ColumnTrait>(x: C, y: C, a: i64, b: i64) -> Condition {
    Condition::any()
        .add(Condition::all().add(x.eq(a)).add(y.eq(b)))
        .add(Condition::all().add(x.eq(b)).add(y.eq(a)))
}

/// Ask `to` to be friends. If they already asked the caller, both are accepted. A
/// request to someone who blocks the caller is answered the same way and kept, but never
/// shown to them.
/// Serialize what two people do to each other: lock both user rows, lower id first (so
/// two transactions cannot deadlock). Without it, A → B and B → A sent at the same moment
/// on MariaDB or PostgreSQL each missed the other's request and both stayed pending
/// instead of making them friends. (SQLite's write transactions are serial already.)
async fn lock_pair(txn: &impl ConnectionTrait, a: i64, b: i64) -> AppResult<()> {
    use sea_orm::QueryOrder;
    if txn.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
        user::Entity::find()
            .filter(user::Column::Id.is_in([a, b]))
            .order_by(user::Column::Id, sea_orm::Order::Asc)
            .lock_exclusive()
            .all(txn)
            .await?;
    }
    Ok(())
}

pub async fn send_request(
    db: &DatabaseConnection,
    rt: &Realtime,
    me: i64,
    body: SendFriendRequest,
) -> AppResult<SendFriendRequestResponse> {
    let note = domain::note(body.note.as_deref())?;
    let to = body.user_id;
    if to == me {
        return Err(AppError::validation(
            "user_id",
            "you cannot befriend yourself",
        ));
    }
    let target = active_user(db, to).await?;
    let txn = crate::db::begin_write(db).await?;
    lock_pair(&txn, me, to).await?;
    if blocks(&txn, me, to).await? {
        return Err(AppError::new(
            ErrorCode::UserBlocked,
            "you block this user: unblock them first",
        ));
    }
    if are_friends(&txn, me, to).await? {
        return Err(AppError::new(
            ErrorCode::AlreadyFriends,
            "you are already friends",
        ));
    }
    let hidden = blocks(&txn, to, me).await?;
    let theirs = friend_request::Entity::find()
        .filter(friend_request::Column::FromId.eq(to))
        .filter(friend_request::Column::ToId.eq(me))
        .one(&txn)
        .await?;
    if !hidden && theirs.is_some() {
        befriend(&txn, me, to).await?;
        txn.commit().await?;
        accepted(db, rt, to, me).await?;
        return Ok(SendFriendRequestResponse {
            relationship: Relationship::Friend,
            request: None,
        });
    }
    let existing = friend_request::Entity::find()
        .filter(friend_request::Column::FromId.eq(me))
        .filter(friend_request::Column::ToId.eq(to))
        .one(&txn)
        .await?;
    let (row, fresh) = match existing {
        // A resend changes the note and notifies nobody again.
        Some(r) => {
            let mut am: friend_request::ActiveModel = r.into();
            am.note = Set(note);
            (am.update(&txn).await?, false)
        }
        None => {
            let pending = friend_request::Entity::find()
                .filter(friend_request::Column::FromId.eq(me))
                .count(&txn)
                .await?;
            if pending >= MAX_PENDING_OUT {
                return Err(AppError::new(
                    ErrorCode::FriendRequestLimit,
                    format!(
                        "at most {MAX_PENDING_OUT} friend requests may wait for an answer: cancel some first"
                    ),
                ));
            }
            let row = friend_request::ActiveModel {
                from_id: Set(me),
                to_id: Set(to),
                note: Set(note),
                hidden: Set(hidden),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            (row, true)
        }
    };
    txn.commit().await?;
    if fresh && !row.hidden {
        crate::notifications::service::notify(
            db,
            rt,
            to,
            NewNotification {
                kind: NotificationKind::FriendRequest,
                actor_id: Some(me),
                payload: NotificationPayload {
                    request_id: Some(row.id),
                    note: Some(row.note.clone()),
                    ..Default::default()
                },
            },
        )
        .await?;
    }
    Ok(SendFriendRequestResponse {
        relationship: Relationship::RequestSent,
        request: Some(request_view(&row, PublicUser::from(&target))),
    })
}

/// Tell `requester` that `accepter` accepted.
async fn accepted(
    db: &impl ConnectionTrait,
    rt: &Realtime,
    requester: i64,
    accepter: i64,
) -> AppResult<()> {
    crate::notifications::service::notify(
        db,
        rt,
        requester,
        NewNotification {
            kind: NotificationKind::FriendAccepted,
            actor_id: Some(accepter),
            payload: NotificationPayload::default(),
        },
    )
    .await
}

/// A visible request to the caller, else `not_found`.
async fn incoming(db: &impl ConnectionTrait, me: i64, id: i64) -> AppResult<friend_request::Model> {
    friend_request::Entity::find_by_id(id)
        .filter(friend_request::Column::ToId.eq(me))
        .filter(friend_request::Column::Hidden.eq(false))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("friend request"))
}

/// Accept a request to the caller: they are friends now; the requester is told.
pub async fn accept(
    db: &DatabaseConnection,
    rt: &Realtime,
    presence: &Presence,
    me: i64,
    id: i64,
) -> AppResult<FriendView> {
    let txn = crate::db::begin_write(db).await?;
    let r = incoming(&txn, me, id).await?;
    befriend(&txn, me, r.from_id).await?;
    txn.commit().await?;
    accepted(db, rt, r.from_id, me).await?;
    friend_views(db, presence, me, vec![r.from_id])
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("user"))
}

/// Decline a request to the caller (the sender is not told).
pub async fn decline(db: &impl ConnectionTrait, me: i64, id: i64) -> AppResult<()> {
    let r = incoming(db, me, id).await?;
    friend_request::Entity::delete_by_id(r.id).exec(db).await?;
    Ok(())
}

/// Withdraw one of the caller's requests.
pub async fn cancel(db: &impl ConnectionTrait, me: i64, id: i64) -> AppResult<()> {
    let done = friend_request::Entity::delete_many()
        .filter(friend_request::Column::Id.eq(id))
        .filter(friend_request::Column::FromId.eq(me))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::not_found("friend request"));
    }
    Ok(())
}

/// Requests to the caller (`incoming`) or from the caller, newest first.
pub async fn list_requests(
    db: &impl ConnectionTrait,
    me: i64,
    incoming: bool,
    q: PageQuery,
) -> AppResult<FriendRequestPage> {
    use friend_request::Column as C;
    let listing = if incoming {
        "requests_in"
    } else {
        "requests_out"
    };
    let pager =
        Keyset::by_id(listing, C::Id, Order::Desc).page(q.cursor.as_deref(), q.limit, 20)?;
    let select = if incoming {
        friend_request::Entity::find()
            .filter(C::ToId.eq(me))
            .filter(C::Hidden.eq(false))
    } else {
        friend_request::Entity::find().filter(C::FromId.eq(me))
    };
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    let other = |r: &friend_request::Model| if incoming { r.from_id } else { r.to_id };
    let mut users = public_users(db, rows.iter().map(other)).await?;
    Ok(FriendRequestPage {
        items: rows
            .iter()
            .filter_map(|r| users.remove(&other(r)).map(|u| request_view(r, u)))
            .collect(),
        next_cursor,
    })
}

/// The friends `ids` of `me` with their presence, in the order given.
async fn friend_views(
    db: &impl ConnectionTrait,
    presence: &Presence,
    me: i64,
    ids: Vec<i64>,
) -> AppResult<Vec<FriendView>> {
    let since: HashMap<i64, chrono::DateTime<Utc>> = friendship::Entity::find()
        .filter(friendship::Column::UserId.eq(me))
        .filter(friendship::Column::FriendId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.friend_id, f.created_at))
        .collect();
    let mut users = public_users(db, ids.iter().copied()).await?;
    let online: HashSet<i64> = presence.online_of(&ids).await;
    let seen = last_seen(db, &ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            let user = users.remove(id)?;
            let is_online = online.contains(id);
            Some(FriendView {
                user,
                online: is_online,
                last_seen: if is_online {
                    None
                } else {
                    seen.get(id).copied()
                },
                since: *since.get(id)?,
            })
        })
        .collect())
}

/// When each of `ids` was last seen.
pub async fn last_seen(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, chrono::DateTime<Utc>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user_presence::Entity::find()
        .filter(user_presence::Column::UserId.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.user_id, p.last_seen_at))
        .collect())
}

/// The caller's friends (deleted accounts left out), by user id, with online state and
/// last seen.
pub async fn list_friends(
    db: &impl ConnectionTrait,
    presence: &Presence,
    me: i64,
    q: PageQuery,
) -> AppResult<FriendPage> {
    let pager = Keyset::by_id("friends", friendship::Column::FriendId, Order::Asc).page(
        q.cursor.as_deref(),
        q.limit,
        50,
    )?;
    let select = friendship::Entity::find()
        .filter(friendship::Column::UserId.eq(me))
        .filter(
            friendship::Column::FriendId.in_subquery(
                Query::select()
                    .column(user::Column::Id)
                    .from(user::Entity)
                    .and_where(user::Column::DeletedAt.is_null())
                    .to_owned(),
            ),
        );
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    Ok(FriendPage {
        items: friend_views(db, presence, me, rows.iter().map(|f| f.friend_id).collect()).await?,
        next_cursor,
    })
}

/// End a friendship (both sides).
pub async fn remove_friend(db: &impl ConnectionTrait, me: i64, other: i64) -> AppResult<()> {
    let done = friendship::Entity::delete_many()
        .filter(between(
            friendship::Column::UserId,
            friendship::Column::FriendId,
            me,
            other,
        ))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::not_found("friend"));
    }
    Ok(())
}

/// Block `other`: the friendship and pending requests both ways go, in one transaction.
/// Blocking again is fine.
pub async fn block(db: &DatabaseConnection, me: i64, other: i64) -> AppResult<()> {
    if other == me {
        return Err(AppError::validation("user_id", "you cannot block yourself"));
    }
    user::Entity::find_by_id(other)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let txn = crate::db::begin_write(db).await?;
    user_block::Entity::insert(user_block::ActiveModel {
        blocker_id: Set(me),
        blocked_id: Set(other),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([user_block::Column::BlockerId, user_block::Column::BlockedId])
            .do_nothing_on([user_block::Column::BlockerId])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    friendship::Entity::delete_many()
        .filter(between(
            friendship::Column::UserId,
            friendship::Column::FriendId,
            me,
            other,
        ))
        .exec(&txn)
        .await?;
    delete_requests_between(&txn, me, other).await?;
    txn.commit().await?;
    Ok(())
}

/// Unblock `other`; the requests they sent while blocked go (as if declined).
pub async fn unblock(db: &DatabaseConnection, me: i64, other: i64) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let done = user_block::Entity::delete_by_id((me, other))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::not_found("block"));
    }
    friend_request::Entity::delete_many()
        .filter(friend_request::Column::FromId.eq(other))
        .filter(friend_request::Column::ToId.eq(me))
        .filter(friend_request::Column::Hidden.eq(true))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Whom the caller blocks, by user id.
pub async fn list_blocks(db: &impl ConnectionTrait, me: i64, q: PageQuery) -> AppResult<BlockPage> {
    let pager = Keyset::by_id("blocks", user_block::Column::BlockedId, Order::Asc).page(
        q.cursor.as_deref(),
        q.limit,
        50,
    )?;
    let select = user_block::Entity::find().filter(user_block::Column::BlockerId.eq(me));
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    let mut users = public_users(db, rows.iter().map(|b| b.blocked_id)).await?;
    Ok(BlockPage {
        items: rows
            .iter()
            .filter_map(|b| {
                users.remove(&b.blocked_id).map(|user| BlockedUser {
                    user,
                    blocked_at: b.created_at,
                })
            })
            .collect(),
        next_cursor,
    })
}

/// Store when `user` was last seen (their last connection closed).
pub async fn store_last_seen(
    db: &impl ConnectionTrait,
    user: i64,
    at: chrono::DateTime<Utc>,
) -> AppResult<()> {
    user_presence::Entity::insert(user_presence::ActiveModel {
        user_id: Set(user),
        last_seen_at: Set(at),
    })
    .on_conflict(
        OnConflict::column(user_presence::Column::UserId)
            .update_column(user_presence::Column::LastSeenAt)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
