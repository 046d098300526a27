//! One user can never change or remove another.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, PASSWORD, expect_problem, expect_status, spawn_app};

on_all_backends!(users_cannot_touch_each_other);

/// B's own password, distinct from A's ([`PASSWORD`]).
const BOB_PASSWORD: &str = "bob's very own password";

async fn users_cannot_touch_each_other(b: Backend) {
    let app = spawn_app(b).await;
    let a = app.register("usera").await;
    let bob = app.register_with_password("userb", BOB_PASSWORD).await;
    let bob_path = format!("/api/v1/users/{}", bob.id);

    // No endpoint takes another user's id for a change, whatever password comes along.
    for password in [BOB_PASSWORD, PASSWORD] {
        for method in [Method::PATCH, Method::PUT, Method::DELETE, Method::POST] {
            let res = app
                .send(
                    method.clone(),
                    &bob_path,
                    &json!({"nickname": "pwned", "password": password}),
                    &a.access,
                )
                .await;
            assert!(
                res.status() == StatusCode::NOT_FOUND
                    || res.status() == StatusCode::METHOD_NOT_ALLOWED,
                "{method} {bob_path} answered {}",
                res.status()
            );
        }
    }
    // A's own endpoints act on A only, whatever the body says.
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/me",
            &json!({"nickname": "only-a"}),
            &a.access,
        )
        .await;
    expect_status(res, StatusCode::OK).await;
    // A cannot delete B with B's password, nor with a wrong one: /me is A, and only A's
    // password counts.
    for password in [BOB_PASSWORD, "not anyone's password"] {
        let res = app
            .send(
                Method::DELETE,
                "/api/v1/me",
                &json!({ "password": password }),
                &a.access,
            )
            .await;
        expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    // B is untouched: public profile, own view, and B's password still logs B in.
    let b_public = expect_status(app.get(&bob_path, None).await, StatusCode::OK).await;
    assert_eq!(b_public["nickname"], bob.username);
    let b_me = expect_status(
        app.get("/api/v1/me", Some(&bob.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(b_me["email"], bob.email);
    assert_eq!(b_me["nickname"], bob.username);
    app.login(&bob.username, BOB_PASSWORD).await;
    // A is still there too (the deletes above were refused, not applied to A).
    let a_me = expect_status(app.get("/api/v1/me", Some(&a.access)).await, StatusCode::OK).await;
    assert_eq!(a_me["nickname"], "only-a");
    // Unknown and malformed ids.
    expect_problem(
        app.get("/api/v1/users/999999999", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.get("/api/v1/users/abc", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
