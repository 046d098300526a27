//! The OpenAPI document: collected from the route registrations themselves
//! (utoipa-actix-web), so a handler cannot be served without being documented.
//! `openapi.yaml` at the repository root is this document; `make openapi` rewrites it
//! and a test fails when the two differ.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
        (name = "conversations", description = "Direct messages between friends and group chats: members, messages, read positions"),
        (name = "friends", description = "User search, friend requests, friends with presence, blocks"),
        (name = "notifications", description = "Friend requests, accepted requests, room invites and mentions"),
        (name = "uploads", description = "Pictures, voice notes, avatars and stickers: upload, signed URLs, sticker packs"),
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

/// The document, built from the same registration the server uses.
pub fn spec() -> utoipa::openapi::OpenApi {
    crate::routes::documented(App::new()).1
}

const PROBLEM_REF: &str = "#/components/responses/Problem";

/// The edge's control-character rule (`crate::edge`) as JSON Schema patterns: none at all
/// in parameters, none but tab, LF and CR in body text.
const NO_CONTROL_PARAM: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
const NO_CONTROL_TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

fn is_string(schema: &serde_json::Value) -> bool {
    match &schema["type"] {
        serde_json::Value::String(t) => t == "string",
        serde_json::Value::Array(ts) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// Give every free-text string under `schema` the control-character pattern. (Only
/// `get_mut` below: indexing a `Value` mutably inserts the keys it looks for.)
fn add_text_patterns(schema: &mut serde_json::Value, pattern: &str) {
    if is_string(schema) && schema.get("pattern").is_none() && schema.get("enum").is_none() {
        schema["pattern"] = pattern.into();
    }
    if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for p in props.values_mut() {
            add_text_patterns(p, pattern);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = schema.get_mut(key).filter(|v| v.is_object()) {
            add_text_patterns(inner, pattern);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = schema.get_mut(key).and_then(|v| v.as_array_mut()) {
            for s in list {
                add_text_patterns(s, pattern);
            }
        }
    }
}

/// Every error code answered with `status`, as Markdown (`a`, `b`).
fn codes_for(status: u16) -> String {
    ErrorCode::ALL
        .iter()
        .filter(|c| c.status().as_u16() == status)
        .map(|c| format!("`{}`", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Statuses the server answers for every operation of a kind, whatever its handler
/// says, because they come from layers every request passes through: the edge
/// (control characters), the extractors (bad JSON, wrong content type, body limit, a
/// path that does not parse, a missing or bad token) and the database (503 while it
/// is unreachable). Each pair is (status, why).
fn implied_statuses(op: &serde_json::Value, path: &str) -> Vec<(u16, String)> {
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let has = |kind: &str| params.iter().any(|p| p["in"] == kind);
    let mut bad = vec!["`control_character` (in the path or query string)".to_owned()];
    if has("query") {
        bad.push("`invalid_query` (a parameter out of range or of the wrong type)".into());
    }
    let body = !op["requestBody"].is_null();
    if body {
        bad.push(
            "`malformed_json`, `invalid_body`, `control_character` (in the body), \
             `validation_failed` (a value breaks a rule)"
                .into(),
        );
    }
    let mut out = vec![(400, bad.join("; "))];
    if !op["security"].is_null() {
        out.push((
            401,
            "`unauthorized` (no token), `invalid_token` or `token_expired`: log in or refresh"
                .into(),
        ));
    }
    if has("path") {
        out.push((
            404,
            "`not_found`: no such resource (or the id does not parse)".into(),
        ));
    }
    if body {
        out.push((
            413,
            "`payload_too_large`: the body is over the limit".into(),
        ));
        out.push((
            415,
            "`unsupported_media_type`: send `Content-Type: application/json`".into(),
        ));
    }
    if path != "/healthz" {
        out.push((
            503,
            "`service_unavailable`: the database or Redis is unreachable; retry after `Retry-After`"
                .into(),
        ));
    }
    out
}

/// Finish the collected document: one reusable problem response instead of a copy per
/// operation, every status the layers above the handler can answer, and a description on
/// every response (OpenAPI 3.1 requires one).
pub fn complete(api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let Ok(mut doc) = serde_json::to_value(&api) else {
        return api;
    };
    doc["components"]["responses"]["Problem"] = serde_json::json!({
        "description": "A problem (RFC 9457) with a stable `code`",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    });
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            // The WebSocket frames are not requests through the edge.
            if name != "ClientMessage" && name != "ServerMessage" {
                add_text_patterns(schema, NO_CONTROL_TEXT);
            }
        }
    }
    let Some(paths) = doc["paths"].as_object_mut() else {
        return api;
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for op in ops.values_mut() {
            let params = op.get_mut("parameters").and_then(|p| p.as_array_mut());
            for param in params.into_iter().flatten() {
                // The shared paging rules (`crate::paging`), wherever a listing takes them.
                match param["name"].as_str() {
                    Some("limit") => {
                        param["schema"]["minimum"] = 1.into();
                        param["schema"]["maximum"] = crate::paging::MAX_LIMIT.into();
                    }
                    Some("cursor") => {
                        param["schema"]["minLength"] = 1.into();
                        param["schema"]["maxLength"] = crate::paging::MAX_CURSOR.into();
                    }
                    _ => {}
                }
                add_text_patterns(&mut param["schema"], NO_CONTROL_PARAM);
            }
            let implied = implied_statuses(op, path);
            let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            for (status, why) in implied {
                let entry = responses
                    .entry(status.to_string())
                    .or_insert_with(|| serde_json::json!({"$ref": PROBLEM_REF}));
                let described = entry["description"].as_str().unwrap_or_default();
                let codes_named = why
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .all(|code| described.contains(code));
                if described.is_empty() {
                    entry["description"] = why.into();
                } else if !codes_named {
                    entry["description"] = format!("{described}. Also {why}").into();
                }
            }
            for (status, response) in responses.iter_mut() {
                let code: u16 = status.parse().unwrap_or_default();
                let problem = !response["content"]["application/problem+json"].is_null()
                    || response["$ref"] == PROBLEM_REF;
                let described = response["description"]
                    .as_str()
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned);
                if problem {
                    let description =
                        described.unwrap_or_else(|| format!("Problem: {}", codes_for(code)));
                    *response =
                        serde_json::json!({"$ref": PROBLEM_REF, "description": description});
                } else if described.is_none() {
                    let reason = actix_web::http::StatusCode::from_u16(code)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Success");
                    response["description"] = reason.into();
                }
            }
        }
    }
    match serde_json::from_value(doc) {
        Ok(done) => done,
        Err(e) => {
            // A bug in the pass above; the test comparing openapi.yaml catches it.
            tracing::error!(error = %e, "completing the OpenAPI document failed");
            eprintln!("completing the OpenAPI document failed: {e}");
            api
        }
    }
}

pub fn yaml() -> anyhow::Result<String> {
    Ok(spec().to_yaml()?)
}
