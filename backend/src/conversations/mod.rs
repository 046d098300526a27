//! Conversations: direct messages between friends and group chats. REST in
//! `handlers`/`service`, the socket's messages in `live`, the ordered writer in
//! `pipeline`. Watch rooms keep their own chat (`rooms`); a room invite is a message
//! kind here.

pub mod domain;
pub mod dto;
pub mod handlers;
pub mod live;
pub mod pipeline;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use handlers::*;
    cfg.service(list_conversations)
        .service(unread_total)
        .service(open_direct)
        .service(create_group)
        .service(preview_invite)
        .service(join_by_invite)
        .service(get_conversation)
        .service(update_group)
        .service(mute_conversation)
        .service(list_conversation_members)
        .service(add_members)
        .service(remove_member)
        .service(set_group_member_role)
        .service(transfer_group)
        .service(reset_invite)
        .service(list_conversation_messages)
        .service(send_message)
        .service(mark_read)
        .service(recall_message)
        .service(hide_message);
}
