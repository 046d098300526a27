//! Every route of the server, in one place: the documented API (the OpenAPI document is
//! collected from its registration, so a handler cannot be served undocumented) and the
//! few routes outside it (internal, the WebSocket, file delivery). `startup` mounts them
//! and `openapi::spec` reads the same registration.

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{App, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope, service_config::ServiceConfig};

use crate::openapi::ApiDoc;
use crate::{
    auth, comments, conversations, danmaku, friends, health, history, media, movies, notifications,
    ratings, realtime, rooms, uploads, users,
};

/// Every documented route.
fn api(cfg: &mut ServiceConfig) {
    cfg.service(
        // Routes are matched in order: the catalog, the busiest read, comes first.
        scope("/api/v1")
            .configure(movies::configure)
            .configure(auth::configure)
            // Before `users`: `/users/search` is not `/users/{id}`.
            .configure(friends::configure)
            .configure(users::configure)
            .configure(rooms::configure)
            .configure(conversations::configure)
            .configure(comments::configure)
            .configure(ratings::configure)
            .configure(history::configure)
            .configure(danmaku::configure)
            .configure(notifications::configure)
            .configure(uploads::configure)
            .service(realtime::gateway::create_ticket),
    )
    .service(health::healthz)
    .service(health::readyz);
}

/// The documented API mounted on `app`, and its OpenAPI document.
pub fn documented<T>(app: App<T>) -> (App<T>, utoipa::openapi::OpenApi)
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let (app, doc) = app
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(api)
        .split_for_parts();
    (app, crate::openapi::complete(doc))
}

/// The routes outside the API document: the nginx auth hook and stats, the WebSocket
/// and, when the server delivers media itself, HLS and the public movie files.
pub fn undocumented<T>(app: App<T>, serve_files: bool) -> App<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let app = app
        .route("/internal/hls-auth", web::get().to(media::serve::hls_auth))
        .route("/internal/stats", web::get().to(health::internal_stats))
        .route("/ws", web::get().to(realtime::gateway::upgrade));
    if serve_files {
        app.route("/hls/{tail:.*}", web::get().to(media::serve::serve_hls))
            .route(
                "/static/movies/{id}/{file}",
                web::get().to(media::serve::serve_static),
            )
    } else {
        app
    }
}
