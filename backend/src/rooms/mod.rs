//! Watch rooms: settings, membership, moderation and chat history over REST (`handlers`,
//! `service`); the live use cases behind the WebSocket (`live`); the ordered per-room
//! chat writer (`pipeline`). The transport itself is `realtime`.

pub mod domain;
pub mod dto;
pub mod handlers;
pub mod live;
pub mod pipeline;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use handlers::*;
    cfg.service(create_room)
        .service(list_rooms)
        .service(my_rooms)
        .service(join_by_code)
        .service(get_room)
        .service(update_room)
        .service(delete_room)
        .service(join_room)
        .service(leave_room)
        .service(list_members)
        .service(kick_member)
        .service(ban_member)
        .service(list_bans)
        .service(unban_member)
        .service(mute_member)
        .service(unmute_member)
        .service(set_member_role)
        .service(transfer_room)
        .service(list_messages);
}
