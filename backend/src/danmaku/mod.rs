//! Danmaku (弹幕): time-synced comments that fly over the video. Sent over REST while
//! watching alone, or over the WebSocket in a watch room (broadcast live to the room and
//! stored for the movie).

pub mod dto;
pub mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::create_danmaku)
        .service(handlers::list_danmaku)
        .service(handlers::delete_danmaku);
}
