//! Danmaku over REST and live in a watch room.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, expect_problem, expect_status, spawn_app};

on_all_backends!(
    danmaku_rules_windows_and_deletion,
    live_danmaku_reaches_the_room_and_is_stored_once
);

async fn danmaku_rules_windows_and_deletion(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let a = app.register("dm_a").await;
    let c = app.register("dm_c").await;
    let m = app
        .ready_movie(&admin, json!({"title": "弹幕测试", "duration_ms": 600_000}))
        .await;
    let path = format!("/api/v1/movies/{m}/danmaku");
    let res = app.post(&path, &json!({"position_ms": 5000, "text": "前方高能", "mode": "top", "color": "#FFCC00", "client_id": "d1"}), Some(&a.access)).await;
    let d = expect_status(res, StatusCode::CREATED).await;
    assert_eq!(
        (d["mode"].as_str(), d["color"].as_str()),
        (Some("top"), Some("#ffcc00"))
    );
    // Cooldown: a second send at once is refused with Retry-After; a retry of the same
    // client id is not a second send.
    let res = app
        .post(
            &path,
            &json!({"position_ms": 6000, "text": "again"}),
            Some(&a.access),
        )
        .await;
    assert!(res.headers().contains_key("retry-after"));
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let res = app
        .post(
            &path,
            &json!({"position_ms": 5000, "text": "前方高能", "client_id": "d1"}),
            Some(&a.access),
        )
        .await;
    assert_eq!(expect_status(res, StatusCode::CREATED).await["id"], d["id"]);
    // Rules.
    for (body, code) in [
        (json!({"position_ms": 1, "text": ""}), "validation_failed"),
        (
            json!({"position_ms": 1, "text": "长".repeat(101)}),
            "validation_failed",
        ),
        (
            json!({"position_ms": 1, "text": "x", "color": "red"}),
            "validation_failed",
        ),
        (json!({"position_ms": -1, "text": "x"}), "validation_failed"),
        (
            json!({"position_ms": 700_000, "text": "x"}),
            "validation_failed",
        ),
        (
            json!({"position_ms": 1, "text": "x", "mode": "sideways"}),
            "invalid_body",
        ),
    ] {
        expect_problem(
            app.post(&path, &body, Some(&c.access)).await,
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
    }
    expect_problem(
        app.post(&path, &json!({"position_ms": 1, "text": "x"}), None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // Windows.
    let w = expect_status(
        app.get(&format!("{path}?from_ms=0&to_ms=360000"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(w["items"].as_array().expect("items").len(), 1);
    assert_eq!(w["truncated"], false);
    let w = expect_status(
        app.get(&format!("{path}?from_ms=6000&to_ms=10000"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(w["items"].as_array().expect("items").is_empty());
    expect_problem(
        app.get(&format!("{path}?from_ms=0&to_ms=360001"), None)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    expect_problem(
        app.get(&format!("{path}?from_ms=10&to_ms=5"), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    expect_problem(
        app.get(&format!("{path}?from_ms=0"), None).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    expect_problem(
        app.get("/api/v1/movies/99999/danmaku?from_ms=0&to_ms=1", None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Deletion: not someone else's; the author's own; an admin's any.
    let id = d["id"].as_i64().expect("id");
    expect_problem(
        app.send(
            Method::DELETE,
            &format!("/api/v1/danmaku/{id}"),
            &json!({}),
            &c.access,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/danmaku/{id}"),
            &json!({}),
            &a.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let res = app
        .post(
            &path,
            &json!({"position_ms": 9000, "text": "by c"}),
            Some(&c.access),
        )
        .await;
    let other = expect_status(res, StatusCode::CREATED).await["id"]
        .as_i64()
        .expect("id");
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/danmaku/{other}"),
            &json!({}),
            &admin.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let w = expect_status(
        app.get(&format!("{path}?from_ms=0&to_ms=360000"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(w["items"].as_array().expect("items").is_empty());
}

async fn live_danmaku_reaches_the_room_and_is_stored_once(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let host = app.register("dm_host").await;
    let guest = app.register("dm_guest").await;
    let m = app
        .ready_movie(&admin, json!({"title": "一起看", "duration_ms": 600_000}))
        .await;
    let res = app
        .post(
            "/api/v1/rooms",
            &json!({"name": "弹幕房", "movie_id": m}),
            Some(&host.access),
        )
        .await;
    let room = expect_status(res, StatusCode::CREATED).await;
    let room_id = room["id"].as_i64().expect("id");
    let code = room["invite_code"].as_str().expect("code");
    expect_status(
        app.post(
            "/api/v1/rooms/join",
            &json!({"invite_code": code}),
            Some(&guest.access),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (mut h, _) = app.ws_joined(&host.access, room_id).await;
    let (mut g, _) = app.ws_joined(&guest.access, room_id).await;
    h.send(json!({"type": "danmaku", "room_id": room_id, "client_id": "live-1", "position_ms": 12_000, "text": "哈哈哈"})).await;
    let mine = h.recv_type("danmaku").await;
    let theirs = g.recv_type("danmaku").await;
    assert_eq!(mine["danmaku"], theirs["danmaku"]);
    assert_eq!(theirs["danmaku"]["room_id"], room_id);
    // A retry (same client id) answers the sender only, and stores nothing new: the
    // guest's next danmaku is the one it sends itself afterwards, not the retry.
    h.send(json!({"type": "danmaku", "room_id": room_id, "client_id": "live-1", "position_ms": 12_000, "text": "哈哈哈"})).await;
    assert_eq!(
        h.recv_type("danmaku").await["danmaku"]["id"],
        mine["danmaku"]["id"]
    );
    g.send(json!({"type": "danmaku", "room_id": room_id, "client_id": "live-g", "position_ms": 13_000, "text": "再来"})).await;
    let next = g.recv_type("danmaku").await;
    assert_eq!(next["danmaku"]["client_id"], "live-g", "{next}");
    // The room is unlisted (the default): what is sent in it stays in it. It shows in the
    // movie's public list only while the room is public.
    let public_count = || async {
        let w = expect_status(
            app.get(
                &format!("/api/v1/movies/{m}/danmaku?from_ms=0&to_ms=60000"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        w["items"].as_array().expect("items").len()
    };
    assert_eq!(public_count().await, 0);
    for (visibility, listed) in [("public", 2), ("private", 0), ("unlisted", 0)] {
        let res = app
            .send(
                Method::PATCH,
                &format!("/api/v1/rooms/{room_id}"),
                &json!({ "visibility": visibility }),
                &host.access,
            )
            .await;
        expect_status(res, StatusCode::OK).await;
        assert_eq!(public_count().await, listed, "room {visibility}");
    }
    // Outsiders cannot.
    let outsider = app.register("dm_out").await;
    let mut o = app.ws(&outsider.access).await;
    o.send(json!({"type": "danmaku", "room_id": room_id, "client_id": "x", "position_ms": 1, "text": "spam"})).await;
    assert_eq!(o.recv_type("error").await["code"], "forbidden");
}
