//! The movie catalog: browse, search, details, admin edits and playback grants.

pub mod cache;
pub mod domain;
pub mod dto;
pub mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_movies)
        .service(handlers::list_genres)
        .service(handlers::create_movie)
        .service(handlers::get_playback)
        .service(handlers::get_movie)
        .service(handlers::update_movie)
        .service(handlers::delete_movie);
}
