//! Profiles: the caller's own account (`/me`) and public profiles (`/users/{id}`).

pub mod dto;
pub mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::get_me)
        .service(handlers::update_me)
        .service(handlers::change_password)
        .service(handlers::delete_me)
        .service(handlers::get_user);
}
