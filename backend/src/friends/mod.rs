//! Friends: user search, friend requests with a note, the friends list, blocks
//! (`handlers`, `service`), and friends-only presence across instances (`presence`).
//! Other features ask `service::{are_friends, blocked_between, friend_ids}`.

pub mod domain;
pub mod dto;
pub mod handlers;
pub mod presence;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use handlers::*;
    cfg.service(search_users)
        .service(send_friend_request)
        .service(incoming_requests)
        .service(outgoing_requests)
        .service(accept_request)
        .service(decline_request)
        .service(cancel_request)
        .service(list_friends)
        .service(remove_friend)
        .service(list_blocks)
        .service(block_user)
        .service(unblock_user);
}
