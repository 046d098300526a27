//! Watch history, continue watching, the watchlist: each private to its owner.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, expect_problem, expect_status, spawn_app};

on_all_backends!(
    history_is_recorded_coalesced_and_private,
    watchlist_is_private_and_idempotent,
    history_pages_are_complete
);

async fn report(app: &TestApp, user: &TestUser, movie: i64, pos: i64) -> StatusCode {
    app.send(
        Method::PUT,
        &format!("/api/v1/me/history/{movie}"),
        &json!({"position_ms": pos}),
        &user.access,
    )
    .await
    .status()
}

fn movie_ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["movie"]["id"].as_i64().expect("id"))
        .collect()
}

async fn history_is_recorded_coalesced_and_private(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let a = app.register("viewer_a").await;
    let bob = app.register("viewer_b").await;
    let m1 = app
        .ready_movie(&admin, json!({"title": "One", "duration_ms": 100_000}))
        .await;
    let m2 = app
        .ready_movie(&admin, json!({"title": "Two", "duration_ms": 100_000}))
        .await;
    // Many reports, one entry: the latest wins.
    for pos in [1_000, 5_000, 12_000] {
        assert_eq!(report(&app, &a, m1, pos).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(report(&app, &a, m2, 95_000).await, StatusCode::NO_CONTENT);
    let h = expect_status(
        app.get("/api/v1/me/history", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(movie_ids(&h), vec![m2, m1]);
    assert_eq!(h["items"][1]["position_ms"], 12_000);
    assert_eq!(h["items"][0]["finished"], true);
    // Continue watching: started, not finished.
    let c = expect_status(
        app.get("/api/v1/me/continue-watching", Some(&a.access))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(movie_ids(&c), vec![m1]);
    // The movie shows the caller's resume position (and nobody else's).
    let d = expect_status(
        app.get(&format!("/api/v1/movies/{m1}"), Some(&a.access))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["resume_position_ms"], 12_000);
    let d = expect_status(
        app.get(&format!("/api/v1/movies/{m1}"), Some(&bob.access))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(d["resume_position_ms"].is_null());
    // Bob sees none of it and cannot delete it.
    let hb = expect_status(
        app.get("/api/v1/me/history", Some(&bob.access)).await,
        StatusCode::OK,
    )
    .await;
    assert!(movie_ids(&hb).is_empty());
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/me/history/{m1}"),
            &json!({}),
            &bob.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_status(
        app.send(
            Method::DELETE,
            "/api/v1/me/history",
            &json!({}),
            &bob.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let h = expect_status(
        app.get("/api/v1/me/history", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(movie_ids(&h).len(), 2);
    // Delete one, then pause: nothing new is recorded; then clear all.
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/me/history/{m2}"),
            &json!({}),
            &a.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let res = app
        .send(
            Method::PUT,
            "/api/v1/me/history-settings",
            &json!({"paused": true}),
            &a.access,
        )
        .await;
    assert_eq!(expect_status(res, StatusCode::OK).await["paused"], true);
    assert_eq!(report(&app, &a, m2, 3_000).await, StatusCode::NO_CONTENT);
    let h = expect_status(
        app.get("/api/v1/me/history", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(movie_ids(&h), vec![m1]);
    app.send(
        Method::PUT,
        "/api/v1/me/history-settings",
        &json!({"paused": false}),
        &a.access,
    )
    .await;
    expect_status(
        app.send(Method::DELETE, "/api/v1/me/history", &json!({}), &a.access)
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let h = expect_status(
        app.get("/api/v1/me/history", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert!(movie_ids(&h).is_empty());
    // Bad input.
    let res = app
        .send(
            Method::PUT,
            &format!("/api/v1/me/history/{m1}"),
            &json!({"position_ms": -1}),
            &a.access,
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    let res = app
        .send(
            Method::PUT,
            "/api/v1/me/history/999999",
            &json!({"position_ms": 1}),
            &a.access,
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .send(
            Method::PUT,
            &format!("/api/v1/me/history/{m1}"),
            &json!({"position_ms": "x"}),
            &a.access,
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_body").await;
    expect_problem(
        app.get("/api/v1/me/history", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    expect_problem(
        app.get("/api/v1/me/history?cursor=zzz", Some(&a.access))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

async fn watchlist_is_private_and_idempotent(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let a = app.register("wl_a").await;
    let bob = app.register("wl_b").await;
    let m = app.ready_movie(&admin, json!({"title": "想看"})).await;
    for _ in 0..2 {
        expect_status(
            app.send(
                Method::PUT,
                &format!("/api/v1/me/watchlist/{m}"),
                &json!({}),
                &a.access,
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
    }
    let w = expect_status(
        app.get("/api/v1/me/watchlist", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(movie_ids(&w), vec![m]);
    // The movie page knows: on Alice's list, not on Bob's, unknown to anonymous callers.
    let path = format!("/api/v1/movies/{m}");
    let d = expect_status(app.get(&path, Some(&a.access)).await, StatusCode::OK).await;
    assert_eq!(d["in_watchlist"], true);
    let d = expect_status(app.get(&path, Some(&bob.access)).await, StatusCode::OK).await;
    assert_eq!(d["in_watchlist"], false);
    let d = expect_status(app.get(&path, None).await, StatusCode::OK).await;
    assert!(d["in_watchlist"].is_null());
    let wb = expect_status(
        app.get("/api/v1/me/watchlist", Some(&bob.access)).await,
        StatusCode::OK,
    )
    .await;
    assert!(movie_ids(&wb).is_empty());
    // Bob removing "it" removes nothing of Alice's.
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/me/watchlist/{m}"),
            &json!({}),
            &bob.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let w = expect_status(
        app.get("/api/v1/me/watchlist", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(movie_ids(&w), vec![m]);
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/me/watchlist/{m}"),
            &json!({}),
            &a.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let w = expect_status(
        app.get("/api/v1/me/watchlist", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert!(movie_ids(&w).is_empty());
    expect_problem(
        app.send(
            Method::PUT,
            "/api/v1/me/watchlist/424242",
            &json!({}),
            &a.access,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn history_pages_are_complete(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let a = app.register("pager").await;
    let mut all = HashSet::new();
    for i in 0..23 {
        let m = app
            .ready_movie(
                &admin,
                json!({"title": format!("M{i}"), "duration_ms": 1_000_000}),
            )
            .await;
        assert_eq!(report(&app, &a, m, 1000 + i).await, StatusCode::NO_CONTENT);
        expect_status(
            app.send(
                Method::PUT,
                &format!("/api/v1/me/watchlist/{m}"),
                &json!({}),
                &a.access,
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        all.insert(m);
    }
    for path in [
        "/api/v1/me/history",
        "/api/v1/me/watchlist",
        "/api/v1/me/continue-watching",
    ] {
        let pages = app
            .all_pages(&format!("{path}?limit=5"), Some(&a.access))
            .await;
        let seen: Vec<i64> = pages
            .iter()
            .flatten()
            .map(|e| e["movie"]["id"].as_i64().expect("id"))
            .collect();
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{path} repeated items");
        assert_eq!(unique, all, "{path} lost items");
    }
}

/// Fifty reports for one movie cost one row write.
#[tokio::test]
async fn reports_are_coalesced_into_one_write() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let a = app.register("coalesce").await;
    let m = app
        .ready_movie(&admin, json!({"title": "Often", "duration_ms": 1_000_000}))
        .await;
    for pos in 0..50 {
        assert_eq!(
            report(&app, &a, m, pos * 1000).await,
            StatusCode::NO_CONTENT
        );
    }
    let h = expect_status(
        app.get("/api/v1/me/history", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(h["items"][0]["position_ms"], 49_000);
    let stats = expect_status(app.get("/internal/stats", None).await, StatusCode::OK).await;
    assert_eq!(stats["history"]["reports"], 50);
    assert_eq!(stats["history"]["rows_written"], 1);
}
