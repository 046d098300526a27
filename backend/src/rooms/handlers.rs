//! HTTP layer of `/rooms`.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};

use super::domain::{RemovalReason, Standing};
use super::dto::*;
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::paging::PageQuery;
use crate::state::AppState;

type Id = web::Path<i64>;
type MemberPath = web::Path<(i64, i64)>;

/// Create a room; the caller becomes its owner.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), request_body = CreateRoomRequest,
    responses((status = 201, body = RoomResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[post("/rooms")]
pub async fn create_room(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateRoomRequest>,
) -> AppResult<HttpResponse> {
    let r = service::create(&state.db, me.id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(service::room_response(&state.db, r, me.id).await?))
}

/// Public rooms, newest first, with member counts and what is playing.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = RoomPage), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/rooms")]
pub async fn list_rooms(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<RoomPage>> {
    Ok(web::Json(
        service::list(&state.db, me.id, false, q.into_inner()).await?,
    ))
}

/// Rooms the caller is a member of (they double as group chats).
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = RoomPage), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/rooms")]
pub async fn my_rooms(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<RoomPage>> {
    Ok(web::Json(
        service::list(&state.db, me.id, true, q.into_inner()).await?,
    ))
}

/// One room. Private rooms are visible to their members only (404 otherwise).
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = RoomResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/rooms/{id}")]
pub async fn get_room(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<web::Json<RoomResponse>> {
    Ok(web::Json(
        service::get_visible(&state.db, *id, me.id).await?,
    ))
}

/// Change settings: name and slow mode (moderators), visibility, capacity and control
/// mode (owner).
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateRoomRequest,
    responses((status = 200, body = RoomResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
#[patch("/rooms/{id}")]
pub async fn update_room(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    body: web::Json<UpdateRoomRequest>,
) -> AppResult<web::Json<RoomResponse>> {
    let r = service::update(&state.db, *id, me.id, body.into_inner()).await?;
    Ok(web::Json(
        service::room_response(&state.db, r, me.id).await?,
    ))
}

/// Delete the room (owner). Connected members are told and removed.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/rooms/{id}")]
pub async fn delete_room(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<HttpResponse> {
    service::delete(&state.db, *id, me.id).await?;
    state
        .realtime
        .remove(*id, None, RemovalReason::RoomDeleted)
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Join by invite code.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), request_body = JoinRequest,
    responses((status = 200, body = RoomResponse),
        (status = 403, description = "`banned`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`room_full`", body = Problem, content_type = "application/problem+json")))]
#[post("/rooms/join")]
pub async fn join_by_code(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<JoinRequest>,
) -> AppResult<web::Json<RoomResponse>> {
    let r = service::join(&state.db, me.id, Err(&body.invite_code)).await?;
    super::live::announce_member_count(&state, r.id).await?;
    Ok(web::Json(
        service::room_response(&state.db, r, me.id).await?,
    ))
}

/// Join a public or unlisted room by id.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = RoomResponse),
        (status = 403, description = "`banned`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`room_full`", body = Problem, content_type = "application/problem+json")))]
#[post("/rooms/{id}/join")]
pub async fn join_room(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<web::Json<RoomResponse>> {
    let r = service::join(&state.db, me.id, Ok(*id)).await?;
    super::live::announce_member_count(&state, r.id).await?;
    Ok(web::Json(
        service::room_response(&state.db, r, me.id).await?,
    ))
}

/// Leave the room. The owner must transfer ownership first (`owner_must_transfer`),
/// unless they are the last member, in which case the room is deleted.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/rooms/{id}/leave")]
pub async fn leave_room(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<HttpResponse> {
    let deleted = service::leave(&state.db, *id, me.id).await?;
    let reason = if deleted {
        RemovalReason::RoomDeleted
    } else {
        RemovalReason::Left
    };
    state
        .realtime
        .remove(*id, (!deleted).then_some(me.id), reason)
        .await;
    if !deleted {
        super::live::announce_member_count(&state, *id).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Members with their roles, by user id, a page at a time (`joined` over the WebSocket
/// lists only the online ones).
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = MemberPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/rooms/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<MemberPage>> {
    Ok(web::Json(
        service::members(&state.db, *id, me.id, q.into_inner()).await?,
    ))
}

/// Remove a member (moderators, over lower roles). They may join again.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[post("/rooms/{id}/members/{user_id}/kick")]
pub async fn kick_member(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MemberPath,
) -> AppResult<HttpResponse> {
    let (room, user) = path.into_inner();
    service::kick(&state.db, room, me.id, user).await?;
    state
        .realtime
        .remove(room, Some(user), RemovalReason::Kicked)
        .await;
    super::live::announce_member_count(&state, room).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a member and keep them out.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[post("/rooms/{id}/members/{user_id}/ban")]
pub async fn ban_member(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MemberPath,
) -> AppResult<HttpResponse> {
    let (room, user) = path.into_inner();
    service::ban(&state.db, room, me.id, user).await?;
    state
        .realtime
        .remove(room, Some(user), RemovalReason::Banned)
        .await;
    super::live::announce_member_count(&state, room).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who is banned from the room (moderators), a page at a time.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = BanPage), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/rooms/{id}/bans")]
pub async fn list_bans(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<BanPage>> {
    Ok(web::Json(
        service::bans(&state.db, *id, me.id, q.into_inner()).await?,
    ))
}

/// Lift a ban.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[delete("/rooms/{id}/bans/{user_id}")]
pub async fn unban_member(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MemberPath,
) -> AppResult<HttpResponse> {
    let (room, user) = path.into_inner();
    service::unban(&state.db, room, me.id, user).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mute a member's chat for a while.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = MuteRequest,
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[post("/rooms/{id}/members/{user_id}/mute")]
pub async fn mute_member(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MemberPath,
    body: web::Json<MuteRequest>,
) -> AppResult<HttpResponse> {
    set_mute(&state, me.id, path, Some(body.minutes)).await
}

/// Lift a mute.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[delete("/rooms/{id}/members/{user_id}/mute")]
pub async fn unmute_member(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MemberPath,
) -> AppResult<HttpResponse> {
    set_mute(&state, me.id, path, None).await
}

/// Mute for `minutes` (or lift the mute), and tell the room on every instance.
async fn set_mute(
    state: &AppState,
    actor: i64,
    path: MemberPath,
    minutes: Option<i64>,
) -> AppResult<HttpResponse> {
    let (room, user) = path.into_inner();
    let until = service::mute(&state.db, room, actor, user, minutes).await?;
    state
        .realtime
        .set_standing(room, user, Standing::MutedUntil(until))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Make a member a moderator, or back (owner).
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = RoleRequest,
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[put("/rooms/{id}/members/{user_id}/role")]
pub async fn set_member_role(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MemberPath,
    body: web::Json<RoleRequest>,
) -> AppResult<HttpResponse> {
    let (room, user) = path.into_inner();
    service::set_role(&state.db, room, me.id, user, body.role).await?;
    state
        .realtime
        .set_standing(room, user, Standing::Role(body.role.into()))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Hand the room to another member (owner).
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path)), request_body = TransferRequest,
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/rooms/{id}/transfer")]
pub async fn transfer_room(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    body: web::Json<TransferRequest>,
) -> AppResult<HttpResponse> {
    service::transfer(&state.db, *id, me.id, body.user_id).await?;
    state
        .realtime
        .set_standing(*id, me.id, Standing::Role(RoomRole::Moderator))
        .await;
    state
        .realtime
        .set_standing(*id, body.user_id, Standing::Role(RoomRole::Owner))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Chat history, newest first; page back with `before`.
#[utoipa::path(tag = "rooms", security(("bearer" = [])), params(("id" = i64, Path), MessagesQuery),
    responses((status = 200, body = MessagePage), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/rooms/{id}/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    q: web::Query<MessagesQuery>,
) -> AppResult<web::Json<MessagePage>> {
    Ok(web::Json(
        service::history(&state.db, *id, me.id, q.into_inner()).await?,
    ))
}
