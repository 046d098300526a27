//! HTTP layer of `/users/search`, `/friends` and `/blocks`.

use actix_web::{HttpResponse, delete, get, post, put, web};

use super::dto::*;
use super::service;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::paging::PageQuery;
use crate::state::AppState;

type Id = web::Path<i64>;

/// Find users by the start of their username or nickname. Never the caller, deleted
/// accounts, or anyone who blocks the caller.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(SearchQuery),
    responses((status = 200, body = UserSearchPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/users/search")]
pub async fn search_users(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<SearchQuery>,
) -> AppResult<web::Json<UserSearchPage>> {
    Ok(web::Json(
        service::search(&state.db, me.id, q.into_inner()).await?,
    ))
}

/// Ask someone to be friends, with a note. If they already asked you, you are friends
/// at once (`relationship: friend`). Sending again changes the note.
#[utoipa::path(tag = "friends", security(("bearer" = [])), request_body = SendFriendRequest,
    responses((status = 201, body = SendFriendRequestResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_friends`, `user_blocked` (you block them), `friend_request_limit`, `friend_limit`", body = Problem, content_type = "application/problem+json")))]
#[post("/friends/requests")]
pub async fn send_friend_request(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<SendFriendRequest>,
) -> AppResult<HttpResponse> {
    let out = service::send_request(&state.db, &state.realtime, me.id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(out))
}

/// Requests to the caller, newest first.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = FriendRequestPage),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/friends/requests/incoming")]
pub async fn incoming_requests(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<FriendRequestPage>> {
    Ok(web::Json(
        service::list_requests(&state.db, me.id, true, q.into_inner()).await?,
    ))
}

/// The caller's requests waiting for an answer, newest first.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = FriendRequestPage),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/friends/requests/outgoing")]
pub async fn outgoing_requests(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<FriendRequestPage>> {
    Ok(web::Json(
        service::list_requests(&state.db, me.id, false, q.into_inner()).await?,
    ))
}

/// Accept a request to the caller; the sender is notified.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = FriendView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`friend_limit`", body = Problem, content_type = "application/problem+json")))]
#[post("/friends/requests/{id}/accept")]
pub async fn accept_request(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<web::Json<FriendView>> {
    Ok(web::Json(
        service::accept(&state.db, &state.realtime, &state.presence, me.id, *id).await?,
    ))
}

/// Decline a request to the caller (the sender is not told).
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "Declined"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/friends/requests/{id}/decline")]
pub async fn decline_request(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<HttpResponse> {
    service::decline(&state.db, me.id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Withdraw one of the caller's requests.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "Cancelled"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/friends/requests/{id}")]
pub async fn cancel_request(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Id,
) -> AppResult<HttpResponse> {
    service::cancel(&state.db, me.id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's friends by user id, with online state and last seen.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = FriendPage),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/friends")]
pub async fn list_friends(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<FriendPage>> {
    Ok(web::Json(
        service::list_friends(&state.db, &state.presence, me.id, q.into_inner()).await?,
    ))
}

/// End a friendship.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(("user_id" = i64, Path)),
    responses((status = 204, description = "Removed"),
        (status = 404, description = "Not a friend", body = Problem, content_type = "application/problem+json")))]
#[delete("/friends/{user_id}")]
pub async fn remove_friend(
    state: web::Data<AppState>,
    me: AuthUser,
    user_id: Id,
) -> AppResult<HttpResponse> {
    service::remove_friend(&state.db, me.id, *user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whom the caller blocks.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = BlockPage),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/blocks")]
pub async fn list_blocks(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<web::Json<BlockPage>> {
    Ok(web::Json(
        service::list_blocks(&state.db, me.id, q.into_inner()).await?,
    ))
}

/// Block a user: the friendship and requests both ways end; they cannot request,
/// message, invite or see your presence, and are not told.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(("user_id" = i64, Path)),
    responses((status = 204, description = "Blocked"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/blocks/{user_id}")]
pub async fn block_user(
    state: web::Data<AppState>,
    me: AuthUser,
    user_id: Id,
) -> AppResult<HttpResponse> {
    service::block(&state.db, me.id, *user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Unblock a user.
#[utoipa::path(tag = "friends", security(("bearer" = [])), params(("user_id" = i64, Path)),
    responses((status = 204, description = "Unblocked"),
        (status = 404, description = "Not blocked", body = Problem, content_type = "application/problem+json")))]
#[delete("/blocks/{user_id}")]
pub async fn unblock_user(
    state: web::Data<AppState>,
    me: AuthUser,
    user_id: Id,
) -> AppResult<HttpResponse> {
    service::unblock(&state.db, me.id, *user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
