//! Input hygiene (issue 10, point 1): control characters are refused at the edge with a
//! 400 `control_character` problem on every database, for every string input of every
//! operation the spec lists: each query parameter, each path parameter and each string
//! field (nested ones too) of each request body.

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::helpers::{Backend, expect_problem, expect_status, spawn_app};

on_all_backends!(
    nul_in_every_input_is_a_400,
    forged_cursor_with_nul_is_a_400,
    integral_numbers_are_integers_and_bodies_are_objects
);

const NUL: &str = "a\u{0}b";

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            &spec["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn allows_string(schema: &Value) -> bool {
    match &schema["type"] {
        Value::String(t) => t == "string",
        Value::Array(ts) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// One body per string field of `schema`, that field holding NUL (nested objects and
/// arrays are built around it).
fn poisoned_bodies(spec: &Value, schema: &Value, depth: usize) -> Vec<Value> {
    let schema = resolve(spec, schema);
    if depth > 4 {
        return vec![];
    }
    let mut out = Vec::new();
    if allows_string(schema) || schema["enum"].is_array() {
        out.push(json!(NUL));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for s in schema[key].as_array().into_iter().flatten() {
            out.extend(poisoned_bodies(spec, s, depth + 1));
        }
    }
    if !schema["items"].is_null() {
        out.extend(
            poisoned_bodies(spec, &schema["items"], depth + 1)
                .into_iter()
                .map(|v| json!([v])),
        );
    }
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        for v in poisoned_bodies(spec, prop, depth + 1) {
            let mut obj = Map::new();
            obj.insert(name.clone(), v);
            out.push(Value::Object(obj));
        }
    }
    out
}

async fn nul_in_every_input_is_a_400(b: Backend) {
    let app = spawn_app(b).await;
    // With an administrator's token, so that a check made later than the edge (in a
    // handler, after authentication) would be reached and the test would see it.
    let admin = app.admin().await;
    let spec = serde_json::to_value(luojia::openapi::spec()).expect("spec");
    let mut cases = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            // Every path parameter at 1, then each in turn poisoned.
            let fill = |poisoned: Option<&str>| {
                let mut p = path.clone();
                for param in params.iter().filter(|p| p["in"] == "path") {
                    let name = param["name"].as_str().unwrap_or_default();
                    let value = if poisoned == Some(name) { "1%00" } else { "1" };
                    p = p.replace(&format!("{{{name}}}"), value);
                }
                p
            };
            let mut urls = Vec::new();
            for param in &params {
                let name = param["name"].as_str().unwrap_or_default();
                match param["in"].as_str() {
                    Some("path") => urls.push(fill(Some(name))),
                    Some("query") => urls.push(format!("{}?{name}=a%00b", fill(None))),
                    _ => {}
                }
            }
            for url in urls {
                let res = app
                    .client
                    .request(method.clone(), app.url(&url))
                    .bearer_auth(&admin.access)
                    .send()
                    .await
                    .expect("request");
                expect_problem(res, StatusCode::BAD_REQUEST, "control_character").await;
                cases += 1;
            }
            let body_schema = &op["requestBody"]["content"]["application/json"]["schema"];
            if body_schema.is_null() {
                continue;
            }
            for body in poisoned_bodies(&spec, body_schema, 0) {
                let res = app
                    .send(method.clone(), &fill(None), &body, &admin.access)
                    .await;
                let got = expect_problem(res, StatusCode::BAD_REQUEST, "control_character").await;
                assert_eq!(got["field"], "body", "{method} {path} {body}");
                cases += 1;
            }
        }
    }
    assert!(cases > 60, "only {cases} poisoned inputs were found");

    // Lines and tabs stay allowed in free text; a raw C1 character does not.
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/me",
            &json!({"bio": "line one\nline two\tend"}),
            &admin.access,
        )
        .await;
    let me = expect_status(res, StatusCode::OK).await;
    assert_eq!(me["bio"], "line one\nline two\tend");
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/me",
            &json!({"bio": "next\u{85}line"}),
            &admin.access,
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "control_character").await;
    // Without a token the edge answers the same (login is public).
    let res = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": NUL, "password": "whatever1"}),
            None,
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "control_character").await;
}

async fn forged_cursor_with_nul_is_a_400(b: Backend) {
    use base64::Engine;
    let app = spawn_app(b).await;
    for raw in [
        json!({"s": "title", "k": NUL, "id": 1}),
        json!({"s": "title", "k": [NUL], "id": 1}),
    ] {
        let cursor =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.to_string().as_bytes());
        let res = app
            .get(&format!("/api/v1/movies?sort=title&cursor={cursor}"), None)
            .await;
        expect_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
}

/// `8.0` is an integer in JSON Schema (OpenAPI 3.1), so the server takes it; a real
/// fraction is still refused; a body must be an object even where serde would take an
/// array.
async fn integral_numbers_are_integers_and_bodies_are_objects(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let m = app
        .ready_movie(&admin, json!({"title": "整数", "duration_ms": 600_000}))
        .await;
    let rate = |score: Value| {
        let app = &app;
        let token = admin.access.clone();
        async move {
            app.send(
                Method::PUT,
                &format!("/api/v1/movies/{m}/rating"),
                &json!({ "score": score }),
                &token,
            )
            .await
        }
    };
    let got = expect_status(rate(json!(8.0)).await, StatusCode::OK).await;
    assert_eq!(got["score"], 8, "{got}");
    expect_status(rate(json!(7e0)).await, StatusCode::OK).await;
    expect_problem(
        rate(json!(7.5)).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/me",
            &json!([null, null]),
            &admin.access,
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_body").await;
}
