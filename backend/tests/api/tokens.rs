//! Hostile access tokens: every one is a 401 problem, never a 500.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, JWT_SECRET, expect_problem, expect_status, spawn_app};

on_all_backends!(
    hostile_tokens_are_refused,
    a_valid_token_for_another_user_is_not_mine
);

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Decode the payload of a real token so forgeries differ from it in one thing only.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

async fn hostile_tokens_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("tok").await;
    let good = payload(&user.access);
    // Sanity: re-signing the genuine claims with the server's secret is accepted.
    let resigned = sign(&good, JWT_SECRET);
    expect_status(app.get("/api/v1/me", Some(&resigned)).await, StatusCode::OK).await;

    let now = chrono::Utc::now().timestamp();
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = good.clone();
        c.as_object_mut().expect("object").remove(key);
        c
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "forged with another key",
            sign(&good, "another-secret-another-secret-0000"),
            "invalid_token",
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&good)
            ),
            "invalid_token",
        ),
        (
            "alg none with the real signature",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&good),
                user.access.split('.').nth(2).expect("sig")
            ),
            "invalid_token",
        ),
        (
            "expired",
            sign(&with("exp", json!(now - 600)), JWT_SECRET),
            "token_expired",
        ),
        (
            "wrong audience",
            sign(&with("aud", json!("someone-else")), JWT_SECRET),
            "invalid_token",
        ),
        (
            "wrong issuer",
            sign(&with("iss", json!("evil")), JWT_SECRET),
            "invalid_token",
        ),
        (
            "string exp",
            sign(&with("exp", json!((now + 600).to_string())), JWT_SECRET),
            "invalid_token",
        ),
        (
            "nbf in the future",
            sign(&with("nbf", json!(now + 600)), JWT_SECRET),
            "invalid_token",
        ),
        ("no exp", sign(&without("exp"), JWT_SECRET), "invalid_token"),
        ("no iat", sign(&without("iat"), JWT_SECRET), "invalid_token"),
        ("no sub", sign(&without("sub"), JWT_SECRET), "invalid_token"),
        ("no aud", sign(&without("aud"), JWT_SECRET), "invalid_token"),
        (
            "non-numeric sub",
            sign(&with("sub", json!("admin")), JWT_SECRET),
            "invalid_token",
        ),
        (
            "unknown session",
            sign(&with("sid", json!("nope")), JWT_SECRET),
            "invalid_token",
        ),
        ("garbage", "not.a.jwt".to_owned(), "invalid_token"),
        ("empty", String::new(), "unauthorized"),
    ];
    for (name, token, code) in cases {
        let res = app
            .client
            .get(app.url("/api/v1/me"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "case {name}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["code"], code, "case {name}: {body}");
    }
    expect_problem(
        app.get("/api/v1/me", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("Basic {}", user.access))
        .send()
        .await
        .expect("request");
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

/// A genuine token whose `sub` is swapped for another user's id, with the first user's
/// session, is refused: the session belongs to someone else.
async fn a_valid_token_for_another_user_is_not_mine(b: Backend) {
    let app = spawn_app(b).await;
    let a = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut claims = payload(&a.access);
    claims["sub"] = json!(bob.id.to_string());
    let token = sign(&claims, JWT_SECRET);
    expect_problem(
        app.get("/api/v1/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}
