//! Notifications: friend requests, accepted requests, room invites and mentions. Stored,
//! pushed to every device of the user over the socket (`notification`), listed over REST
//! with the unread count, marked read one by one or all (`notifications_read` tells the
//! user's other devices). Other features create them with [`service::notify`].

pub mod domain;
pub mod dto;
pub mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use handlers::*;
    cfg.service(list_notifications)
        .service(read_all_notifications)
        .service(read_notification);
}
