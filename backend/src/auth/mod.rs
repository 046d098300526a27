//! Accounts and authentication: register, login, refresh, logout.

pub mod cache;
pub mod domain;
pub mod dto;
pub mod extractor;
pub mod handlers;
pub mod password;
pub mod service;
pub mod tokens;

pub use extractor::AuthUser;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::register)
        .service(handlers::login)
        .service(handlers::refresh)
        .service(handlers::logout);
}
