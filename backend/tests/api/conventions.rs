//! API-wide conventions: problem+json for every error, body limits, request ids.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, PASSWORD, expect_problem, problem, spawn_app};

on_all_backends!(bad_bodies_get_problems, hostile_requests_never_get_5xx);

async fn bad_bodies_get_problems(b: Backend) {
    let app = spawn_app(b).await;
    let post_raw = |body: Vec<u8>, content_type: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/auth/register"))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("request")
        }
    };
    let json_ct = "application/json";
    expect_problem(
        post_raw(b"{\"username\": ".to_vec(), json_ct).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    expect_problem(
        post_raw(b"not json".to_vec(), json_ct).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    expect_problem(
        post_raw(
            br#"{"username": 5, "email": "a@b.cn", "password": "x"}"#.to_vec(),
            json_ct,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    expect_problem(
        post_raw(br#"{"username": "abc"}"#.to_vec(), json_ct).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    expect_problem(
        post_raw(b"[]".to_vec(), json_ct).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    expect_problem(
        post_raw(b"{}".to_vec(), "text/plain").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    // Over the 64 KiB default limit.
    let big = json!({"username": "big", "email": "big@example.com", "password": PASSWORD, "pad": "x".repeat(100 * 1024)});
    expect_problem(
        post_raw(big.to_string().into_bytes(), json_ct).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    // Unknown route.
    expect_problem(
        app.get("/api/v1/nothing-here", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Validation.
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "a b", "email": "x@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    let p = expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p["field"], "username");
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "valid_name", "email": "nope", "password": PASSWORD}),
            None,
        )
        .await;
    let p = expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p["field"], "email");

    // Request ids: generated when absent, echoed when sane, replaced when not.
    let res = app.get("/healthz", None).await;
    let id = res
        .headers()
        .get("x-request-id")
        .expect("generated id")
        .to_str()
        .expect("ascii");
    assert_eq!(id.len(), 36);
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc_123")
        .send()
        .await
        .expect("req");
    assert_eq!(res.headers()["x-request-id"], "trace-abc_123");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id\twith junk")
        .send()
        .await
        .expect("req");
    assert_ne!(res.headers()["x-request-id"], "bad id\twith junk");
}

/// A burst of malformed and hostile requests: each one answered 4xx with a problem+json
/// body and a code, except the few that are in fact valid (listed below), and the server
/// keeps serving.
async fn hostile_requests_never_get_5xx(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("hostile").await;
    let bodies = [
        "",
        "{",
        "null",
        "[1,2]",
        "\"str\"",
        "{\"login\": null}",
        "{\"login\": [], \"password\": {}}",
        "{\"refresh_token\": 12}",
        "{\"username\": \"\u{0000}\", \"email\": \"\u{0000}@x.cn\", \"password\": \"\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\u{0000}\"}",
        "{\"nickname\": \"\u{202e}evil\"}",
        "{\"bio\": 1e999}",
    ];
    // Logout last: it ends the user's session, and every later request with that token
    // is a 401.
    let paths = [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("PATCH", "/api/v1/me"),
        ("PUT", "/api/v1/me/password"),
        ("DELETE", "/api/v1/me"),
        ("GET", "/api/v1/users/-1"),
        ("GET", "/api/v1/users/99999999999999999999"),
        ("GET", "/api/v1/users/%00"),
        ("GET", "/api/v1/../../etc/passwd"),
        ("POST", "/api/v1/auth/logout"),
    ];
    let tokens = [
        ("anonymous", None),
        ("user", Some(user.access.as_str())),
        ("garbage", Some("garbage")),
    ];
    let mut accepted = Vec::new();
    let mut rejected = 0;
    for (method, path) in paths {
        for body in bodies {
            for (who, token) in tokens {
                let mut req = app
                    .client
                    .request(method.parse().expect("method"), app.url(path))
                    .header("content-type", "application/json")
                    .body(body.to_owned());
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let res = req.send().await.expect("request");
                let status = res.status();
                let what = format!("{method} {path} {body:?} as {who}");
                if status.is_success() {
                    accepted.push(what);
                    continue;
                }
                assert!(status.is_client_error(), "{what}: {status}");
                let body = problem(res).await;
                let code = body["code"].as_str().unwrap_or_default();
                assert!(
                    !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{what}: code {code:?}"
                );
                rejected += 1;
            }
        }
    }
    // The only valid requests in the burst: the logout with the user's token (its body
    // is ignored); after it, the token is refused.
    assert_eq!(
        accepted,
        [format!("POST /api/v1/auth/logout {:?} as user", bodies[0])]
    );
    assert_eq!(rejected, paths.len() * bodies.len() * tokens.len() - 1);
    // Still alive and the user is intact (the burst included a logout, so log in again).
    let (access, _) = app.login(&user.username, PASSWORD).await;
    let res = app.get("/api/v1/me", Some(&access)).await;
    assert_eq!(res.status(), StatusCode::OK);
}
