//! Storing, pushing, listing and reading notifications.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait,
    QueryFilter, Set,
};

use super::domain::{MAX_PAYLOAD, NewNotification, Notification, NotificationActor};
use super::dto::NotificationPage;
use crate::entities::{notification, user};
use crate::error::{AppError, AppResult};
use crate::paging::{Keyset, Page, PageQuery};
use crate::realtime::Realtime;
use crate::realtime::protocol::ServerMessage;

/// The users `text` mentions by `@nickname` or `@username` (at most 10), the actor left
/// out. The caller keeps those who are members of the room or conversation.
pub async fn mentioned_users(
    db: &impl ConnectionTrait,
    actor: i64,
    text: &str,
) -> AppResult<Vec<i64>> {
    let names = super::domain::mentioned_names(text);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    use sea_orm::{Condition, QuerySelect};
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::DeletedAt.is_null())
        .filter(user::Column::Id.ne(actor))
        .filter(
            Condition::any()
                .add(user::Column::Nickname.is_in(names.clone()))
                .add(user::Column::Username.is_in(names)),
        )
        .limit(10)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// Store a notification for `user_id` and push it to every device of the user, on every
/// instance. Call it after the change it reports is committed: the push goes out at once.
pub async fn notify(
    db: &impl ConnectionTrait,
    rt: &Realtime,
    user_id: i64,
    n: NewNotification,
) -> AppResult<()> {
    let payload = serde_json::to_string(&n.payload).map_err(AppError::internal)?;
    if payload.len() > MAX_PAYLOAD {
        return Err(AppError::internal(anyhow::anyhow!(
            "notification payload over {MAX_PAYLOAD} bytes"
        )));
    }
    let row = notification::ActiveModel {
        user_id: Set(user_id),
        kind: Set(n.kind),
        actor_id: Set(n.actor_id),
        payload: Set(payload),
        read_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if let Some(notification) = views(db, vec![row]).await?.pop() {
        rt.send_to_user(user_id, &ServerMessage::Notification { notification })
            .await;
    }
    Ok(())
}

async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<notification::Model>,
) -> AppResult<Vec<Notification>> {
    let actor_ids: Vec<i64> = rows.iter().filter_map(|r| r.actor_id).collect();
    let actors: HashMap<i64, NotificationActor> = if actor_ids.is_empty() {
        HashMap::new()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(actor_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| {
                let deleted = u.deleted_at.is_some();
                let actor = NotificationActor {
                    id: u.id,
                    name: if deleted {
                        "已注销用户".to_owned()
                    } else {
                        u.nickname.or(u.username).unwrap_or_default()
                    },
                    avatar_url: if deleted { None } else { u.avatar_url },
                };
                (u.id, actor)
            })
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| Notification {
            id: r.id,
            kind: r.kind,
            actor: r.actor_id.and_then(|a| actors.get(&a).cloned()),
            payload: serde_json::from_str(&r.payload).unwrap_or_default(),
            read: r.read_at.is_some(),
            created_at: r.created_at,
        })
        .collect())
}

pub async fn unread_count(db: &impl ConnectionTrait, user_id: i64) -> AppResult<u64> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// The caller's notifications, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: i64,
    q: PageQuery,
) -> AppResult<NotificationPage> {
    let pager = Keyset::by_id("notifications", notification::Column::Id, Order::Desc).page(
        q.cursor.as_deref(),
        q.limit,
        20,
    )?;
    let select = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    let Page { rows, next_cursor } = pager.fetch(db, select).await?;
    Ok(NotificationPage {
        items: views(db, rows).await?,
        next_cursor,
        unread_count: unread_count(db, user_id).await?,
    })
}

/// Mark one of the caller's notifications read (again is fine); the user's devices learn
/// it. Someone else's notification is `not_found`.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    rt: &Realtime,
    user_id: i64,
    id: i64,
) -> AppResult<()> {
    let mine = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("notification"))?;
    if mine.read_at.is_none() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(db)
            .await?;
    }
    told_read(db, rt, user_id, Some(id)).await
}

/// Mark all of the caller's notifications read.
pub async fn mark_all_read(
    db: &impl ConnectionTrait,
    rt: &Realtime,
    user_id: i64,
) -> AppResult<()> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    told_read(db, rt, user_id, None).await
}

async fn told_read(
    db: &impl ConnectionTrait,
    rt: &Realtime,
    user_id: i64,
    id: Option<i64>,
) -> AppResult<()> {
    let unread_count = unread_count(db, user_id).await?;
    rt.send_to_user(
        user_id,
        &ServerMessage::NotificationsRead { id, unread_count },
    )
    .await;
    Ok(())
}
