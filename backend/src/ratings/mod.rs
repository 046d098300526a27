//! Ratings: one 1-to-10 score per user per movie; the movie's average, count and damped
//! (Bayesian) score follow.

pub mod domain;
pub mod dto;
pub mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::rate_movie)
        .service(handlers::get_my_rating)
        .service(handlers::delete_my_rating);
}
