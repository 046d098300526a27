//! Notifications: pushed to every device, listed with the unread count, read one by one
//! or all, and the other devices told.

use reqwest::StatusCode;
use serde_json::json;

use crate::friends::request;
use crate::helpers::{Backend, expect_problem, expect_status, spawn_app};

on_all_backends!(notifications_are_pushed_listed_and_read);

async fn notifications_are_pushed_listed_and_read(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut phone = app.ws(&alice.access).await;
    let mut laptop = app.ws(&alice.access).await;

    request(&app, &bob, &alice, "你好").await;
    let pushed = phone.recv_type("notification").await;
    assert_eq!(laptop.recv_type("notification").await, pushed);
    let n = &pushed["notification"];
    assert_eq!(n["kind"], "friend_request");
    assert_eq!(n["read"], false);
    assert_eq!(n["actor"]["id"], bob.id);
    let first = n["id"].as_i64().expect("id");

    request(&app, &carol, &alice, "").await;
    let second = phone.recv_type("notification").await["notification"]["id"]
        .as_i64()
        .expect("id");
    let page = expect_status(
        app.get("/api/v1/notifications", Some(&alice.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["unread_count"], 2);
    let listed: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(listed, vec![second, first], "newest first");
    // Pages of one.
    let pages = app
        .all_pages("/api/v1/notifications?limit=1", Some(&alice.access))
        .await;
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 2);

    // Read one on the phone: the laptop hears it.
    let res = app
        .post(
            &format!("/api/v1/notifications/{first}/read"),
            &json!({}),
            Some(&alice.access),
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    let read = laptop.recv_type("notifications_read").await;
    assert_eq!(read["id"], first);
    assert_eq!(read["unread_count"], 1);
    // Someone else's notification: 404, and nothing changes.
    let res = app
        .post(
            &format!("/api/v1/notifications/{second}/read"),
            &json!({}),
            Some(&bob.access),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post(
            "/api/v1/notifications/999999999/read",
            &json!({}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // All read.
    let res = app
        .post(
            "/api/v1/notifications/read-all",
            &json!({}),
            Some(&alice.access),
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    let read = phone
        .recv_where("notifications_read", |r| r["id"].is_null())
        .await;
    assert_eq!(read["unread_count"], 0);
    let page = expect_status(
        app.get("/api/v1/notifications", Some(&alice.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["unread_count"], 0);
    assert!(
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|n| n["read"] == true)
    );
    // Bob has none of Alice's.
    let page = expect_status(
        app.get("/api/v1/notifications", Some(&bob.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["unread_count"], 0);
    assert!(page["items"].as_array().expect("items").is_empty());
    let res = app
        .get("/api/v1/notifications?cursor=x", Some(&alice.access))
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let res = app.get("/api/v1/notifications", None).await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}
