//! Sessions across instances (issue 10, point 4): a session ended on one instance stops
//! working on the others within a second (Redis carries the eviction), for each way a
//! session ends: logout, refresh-token reuse, password change, account deletion.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    Backend, PASSWORD, TestApp, expect_problem, expect_status, spawn_app, spawn_peer,
};

on_shared_backends!(revocation_reaches_every_instance_within_a_second);

/// Warm `app`'s cache with `token` (200), then return once it answers 401; the time taken.
async fn warm(app: &TestApp, token: &str) {
    expect_status(app.get("/api/v1/me", Some(token)).await, StatusCode::OK).await;
}

async fn rejected_within(app: &TestApp, token: &str, since: Instant) -> Duration {
    loop {
        let res = app.get("/api/v1/me", Some(token)).await;
        if res.status() == StatusCode::UNAUTHORIZED {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "the other instance still accepts a revoked session"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn revocation_reaches_every_instance_within_a_second(b: Backend) {
    let a = spawn_app(b).await;
    assert!(
        a.settings.redis_url().is_some(),
        "TEST_REDIS_URL is not set"
    );
    let peer = spawn_peer(&a, |_| {}).await;
    let user = a.register("revoke").await;
    let mut worst = Duration::ZERO;

    // Logout on A.
    warm(&peer, &user.access).await;
    let t = Instant::now();
    expect_status(
        a.post("/api/v1/auth/logout", &json!({}), Some(&user.access))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    worst = worst.max(rejected_within(&peer, &user.access, t).await);

    // Refresh-token reuse on A ends that session.
    let (access, refresh) = a.login(&user.username, PASSWORD).await;
    warm(&peer, &access).await;
    expect_status(
        a.post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh}),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let t = Instant::now();
    expect_problem(
        a.post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh}),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_reused",
    )
    .await;
    worst = worst.max(rejected_within(&peer, &access, t).await);

    // A password change on A ends the other sessions.
    let (current, _) = a.login(&user.username, PASSWORD).await;
    let (other, _) = a.login(&user.username, PASSWORD).await;
    warm(&peer, &other).await;
    warm(&peer, &current).await;
    let t = Instant::now();
    let new_password = "another horse battery";
    expect_status(
        a.send(
            Method::PUT,
            "/api/v1/me/password",
            &json!({"current_password": PASSWORD, "new_password": new_password}),
            &current,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    worst = worst.max(rejected_within(&peer, &other, t).await);
    warm(&peer, &current).await;

    // Deleting the account on A ends the last one.
    let t = Instant::now();
    expect_status(
        a.send(
            Method::DELETE,
            "/api/v1/me",
            &json!({"password": new_password}),
            &current,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    worst = worst.max(rejected_within(&peer, &current, t).await);
    eprintln!("{b:?}: slowest cross-instance revocation {worst:?}");
    assert!(worst < Duration::from_secs(1), "took {worst:?}");
}
