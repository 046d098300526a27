//! Comments on movies: one level of replies, likes, `new` and `hot` orders.

pub mod domain;
pub mod dto;
pub mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_comments)
        .service(handlers::create_comment)
        .service(handlers::list_replies)
        .service(handlers::update_comment)
        .service(handlers::delete_comment)
        .service(handlers::like_comment)
        .service(handlers::unlike_comment);
}
