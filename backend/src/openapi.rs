//! The OpenAPI document: collected from the route registrations themselves
//! (utoipa-actix-web), so a handler cannot be served without being documented.
//! `openapi.yaml` at the repository root is this document; `make openapi` rewrites it
//! and a test fails when the two differ.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{ErrorCode, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Luojia Cinema API",
        description = "珞珈在线影院: watch movies together. JSON over HTTP under `/api/v1`; every error is `application/problem+json` with a stable `code`.",
        license(name = "MIT"),
    ),
    modifiers(&BearerAuth),
    components(schemas(
        Problem,
        ErrorCode,
        crate::realtime::protocol::ClientMessage,
        crate::realtime::protocol::ServerMessage
    )),
    tags(
        (name = "auth", description = "Register, log in, refresh and log out"),
        (name = "users", description = "Your account and public profiles"),
        (name = "movies", description = "The catalog and playback grants"),
        (name = "comments", description = "Comments, replies and likes"),
        (name = "ratings", description = "Scores from 1 to 10"),
        (name = "history", description = "Watch history, continue watching and the watchlist"),
        (name = "danmaku", description = "Time-synced comments over the video"),
        (name = "rooms", description = "Watch rooms: settings, members, moderation, chat history"),
        (name = "realtime", description = "WebSocket tickets; the protocol itself is in the ClientMessage and ServerMessage schemas and docs/realtime.md"),
        (name = "operations", description = "Health probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from login, register or refresh"))
                    .build(),
            ),
        );
    }
}

/// The document, built from the same registration function the server uses.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::startup::api_services)
        .split_for_parts();
    api
}

pub fn yaml() -> anyhow::Result<String> {
    Ok(spec().to_yaml()?)
}
