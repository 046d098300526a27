//! HTTP layer of `/conversations`.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};

use super::domain::{ConversationMessage, NewMessage};
use super::dto::*;
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::paging::PageQuery;
use crate::state::AppState;

type Id = web::Path<i64>;
type MessagePath = web::Path<(i64, i64)>;

/// The caller's conversations, most recently active first, with the last message and
/// unread count of each.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = ConversationPage), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/conversations")]
pub async fn list_conversations(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<ConversationPage>> {
    Ok(web::Json(
        service::list(&state.db, me.id, q.into_inner()).await?,
    ))
}

/// Unread messages over all conversations that are not muted (the badge in the nav).
#[utoipa::path(tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = UnreadResponse), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/conversations/unread")]
pub async fn unread_total(
    state: web::Data<AppState>,
    me: AuthUser,
) -> AppResult<web::Json<UnreadResponse>> {
    Ok(web::Json(UnreadResponse {
        total: service::unread_total(&state.db, me.id).await?,
    }))
}

/// The direct conversation with a friend (created on first use: 201, else 200).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), request_body = OpenDirectRequest,
    responses((status = 200, body = ConversationResponse), (status = 201, body = ConversationResponse),
        (status = 403, description = "`not_friends`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/conversations/direct")]
pub async fn open_direct(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<OpenDirectRequest>,
) -> AppResult<HttpResponse> {
    let (c, created) = service::open_direct(&state.db, me.id, body.user_id).await?;
    let r = service::get(&state.db, me.id, c.id).await?;
    Ok(if created {
        HttpResponse::Created().json(r)
    } else {
        HttpResponse::Ok().json(r)
    })
}

/// Create a group with friends; the caller owns it.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), request_body = CreateGroupRequest,
    responses((status = 201, body = ConversationResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_friends`: someone is not the caller's friend", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`group_full`", body = Problem, content_type = "application/problem+json")))]
#[post("/conversations/groups")]
pub async fn create_group(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateGroupRequest>,
) -> AppResult<HttpResponse> {
    let c = service::create_group(&state.db, &state.realtime, me.id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(service::get(&state.db, me.id, c.id).await?))
}

/// What a group invite link leads to.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = GroupPreview), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/conversation-invites/{code}")]
pub async fn preview_invite(
    state: web::Data<AppState>,
    me: AuthUser,
    code: web::Path<String>,
) -> AppResult<web::Json<GroupPreview>> {
    Ok(web::Json(service::preview(&state.db, me.id, &code).await?))
}

/// Join a group by its invite link.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = ConversationResponse), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`group_full`", body = Problem, content_type = "application/problem+json")))]
#[post("/conversation-invites/{code}")]
pub async fn join_by_invite(
    state: web::Data<AppState>,
    me: AuthUser,
    code: web::Path<String>,
) -> AppResult<web::Json<ConversationResponse>> {
    let id = service::join_by_code(&state.db, &state.realtime, me.id, &code).await?;
    Ok(web::Json(service::get(&state.db, me.id, id).await?))
}

/// One of the caller's conversations (404 for anyone else).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ConversationResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/conversations/{id}")]
pub async fn get_conversation(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<web::Json<ConversationResponse>> {
    Ok(web::Json(service::get(&state.db, me.id, *id).await?))
}

/// Rename a group or set its avatar (owner and admins).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateGroupRequest,
    responses((status = 200, body = ConversationResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: a direct conversation has no group settings; `owner_must_transfer`", body = Problem, content_type = "application/problem+json")))]
#[patch("/conversations/{id}")]
pub async fn update_group(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    body: web::Json<UpdateGroupRequest>,
) -> AppResult<web::Json<ConversationResponse>> {
    service::update_group(&state.db, &state.realtime, me.id, *id, body.into_inner()).await?;
    Ok(web::Json(service::get(&state.db, me.id, *id).await?))
}

/// Mute or unmute a conversation for the caller (it leaves the total unread count).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ConversationMuteRequest,
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/conversations/{id}/mute")]
pub async fn mute_conversation(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    body: web::Json<ConversationMuteRequest>,
) -> AppResult<HttpResponse> {
    service::mute(&state.db, me.id, *id, body.muted).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Members of a conversation.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = ConversationMemberPage), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/conversations/{id}/members")]
pub async fn list_conversation_members(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<ConversationMemberPage>> {
    Ok(web::Json(
        service::members(&state.db, me.id, *id, q.into_inner()).await?,
    ))
}

/// Add friends to a group (owner and admins).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = AddMembersRequest,
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`group_full`", body = Problem, content_type = "application/problem+json")))]
#[post("/conversations/{id}/members")]
pub async fn add_members(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    body: web::Json<AddMembersRequest>,
) -> AppResult<HttpResponse> {
    service::add_members(&state.db, &state.realtime, me.id, *id, &body.user_ids).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a member (owner and admins, over lower roles), or leave with your own id.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: a direct conversation has no group settings; `owner_must_transfer`", body = Problem, content_type = "application/problem+json")))]
#[delete("/conversations/{id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MessagePath,
) -> AppResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    service::remove_member(&state.db, &state.realtime, me.id, id, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Make a member an admin, or a member again (owner).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = MemberRoleRequest,
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: a direct conversation has no group settings; `owner_must_transfer`", body = Problem, content_type = "application/problem+json")))]
#[put("/conversations/{id}/members/{user_id}/role")]
pub async fn set_group_member_role(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MessagePath,
    body: web::Json<MemberRoleRequest>,
) -> AppResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    service::set_role(&state.db, &state.realtime, me.id, id, user_id, body.role).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Hand the group to another member (owner); the caller becomes an admin.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = GroupTransferRequest,
    responses((status = 204), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: a direct conversation has no group settings; `owner_must_transfer`", body = Problem, content_type = "application/problem+json")))]
#[post("/conversations/{id}/transfer")]
pub async fn transfer_group(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    body: web::Json<GroupTransferRequest>,
) -> AppResult<HttpResponse> {
    service::transfer(&state.db, &state.realtime, me.id, *id, body.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new invite link (owner): the old one stops working.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ConversationResponse), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: a direct conversation has no group settings; `owner_must_transfer`", body = Problem, content_type = "application/problem+json")))]
#[post("/conversations/{id}/invite")]
pub async fn reset_invite(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<web::Json<ConversationResponse>> {
    service::reset_invite(&state.db, me.id, *id).await?;
    Ok(web::Json(service::get(&state.db, me.id, *id).await?))
}

/// A page of messages, oldest first: the newest (no cursor), older (`before_seq`), newer
/// (`after_seq`, to catch up after a reconnect), or a search (`q`).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path), MessagesQuery),
    responses((status = 200, body = ConversationMessagePage), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/conversations/{id}/messages")]
pub async fn list_conversation_messages(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    q: web::Query<MessagesQuery>,
) -> AppResult<web::Json<ConversationMessagePage>> {
    Ok(web::Json(
        service::messages(&state.db, &state.uploads.signer, me.id, *id, q.into_inner()).await?,
    ))
}

/// Send a message (for clients without the socket; the socket's `message_send` is the
/// same). 201 with the stored message; 200 with the original when `client_id` was used.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = NewMessage,
    responses((status = 201, body = SendMessageResponse), (status = 200, body = SendMessageResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`not_friends`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/conversations/{id}/messages")]
pub async fn send_message(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    body: web::Json<NewMessage>,
) -> AppResult<HttpResponse> {
    let (message, duplicate) = service::send(
        &state.db,
        &state.realtime,
        &state.messages,
        me.id,
        *id,
        &body,
    )
    .await?;
    let r = SendMessageResponse { message, duplicate };
    Ok(if duplicate {
        HttpResponse::Ok().json(r)
    } else {
        HttpResponse::Created().json(r)
    })
}

/// Mark the conversation read up to `seq` (other devices and, in a direct conversation,
/// the other person are told).
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ReadRequest,
    responses((status = 200, body = ReadResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/conversations/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
    body: web::Json<ReadRequest>,
) -> AppResult<web::Json<ReadResponse>> {
    Ok(web::Json(
        service::read(&state.db, &state.realtime, me.id, *id, body.seq).await?,
    ))
}

/// Recall your own message within 2 minutes: everyone sees it as recalled.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path), ("seq" = i64, Path)),
    responses((status = 200, body = ConversationMessage), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`recall_expired`", body = Problem, content_type = "application/problem+json")))]
#[post("/conversations/{id}/messages/{seq}/recall")]
pub async fn recall_message(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MessagePath,
) -> AppResult<web::Json<ConversationMessage>> {
    let (id, seq) = path.into_inner();
    Ok(web::Json(
        service::recall(&state.db, &state.realtime, me.id, id, seq).await?,
    ))
}

/// Delete a message for yourself only.
#[utoipa::path(tag = "conversations", security(("bearer" = [])), params(("id" = i64, Path), ("seq" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/conversations/{id}/messages/{seq}")]
pub async fn hide_message(
    state: web::Data<AppState>,
    me: AuthUser,
    path: MessagePath,
) -> AppResult<HttpResponse> {
    let (id, seq) = path.into_inner();
    service::hide(&state.db, me.id, id, seq).await?;
    Ok(HttpResponse::NoContent().finish())
}
