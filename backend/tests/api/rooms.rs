//! Rooms over REST: settings, membership and moderation rules.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, expect_problem, expect_status, spawn_app};
use crate::realtime::room_with;

on_all_backends!(room_life_cycle_and_moderation, visibility_capacity_and_bans);

async fn room_life_cycle_and_moderation(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.register("owner").await;
    let moder = app.register("moder").await;
    let member = app.register("member").await;
    let room = room_with(&app, &owner, &[&moder, &member], "host").await;
    let path = format!("/api/v1/rooms/{room}");
    // Roles: only the owner appoints moderators.
    let res = app
        .send(
            Method::PUT,
            &format!("{path}/members/{}/role", moder.id),
            &json!({"role": "moderator"}),
            &member.access,
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .send(
            Method::PUT,
            &format!("{path}/members/{}/role", moder.id),
            &json!({"role": "moderator"}),
            &owner.access,
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    // A moderator renames and mutes, but may not change visibility or act on the owner.
    expect_status(
        app.send(
            Method::PATCH,
            &path,
            &json!({"name": "新名字", "slow_mode_secs": 0}),
            &moder.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_problem(
        app.send(
            Method::PATCH,
            &path,
            &json!({"visibility": "public"}),
            &moder.access,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.post(
            &format!("{path}/members/{}/kick", owner.id),
            &json!({}),
            Some(&moder.access),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_status(
        app.post(
            &format!("{path}/members/{}/mute", member.id),
            &json!({"minutes": 10}),
            Some(&moder.access),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    // A muted member cannot chat.
    let (mut ws, _) = app.ws_joined(&member.access, room).await;
    ws.send(json!({"type": "chat", "room_id": room, "client_id": "m1", "text": "hello?"}))
        .await;
    assert_eq!(ws.recv_type("error").await["code"], "forbidden");
    expect_status(
        app.send(
            Method::DELETE,
            &format!("{path}/members/{}/mute", member.id),
            &json!({}),
            &moder.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    ws.send(json!({"type": "chat", "room_id": room, "client_id": "m2", "text": "now I can"}))
        .await;
    assert_eq!(ws.recv_type("chat_ack").await["seq"], 1);
    // Members list, a page at a time; my rooms.
    let pages = app
        .all_pages(&format!("{path}/members?limit=2"), Some(&member.access))
        .await;
    assert_eq!(pages.len(), 2);
    let ids: Vec<i64> = pages
        .iter()
        .flatten()
        .map(|m| m["user_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "by user id: {ids:?}");
    let mine = expect_status(
        app.get("/api/v1/me/rooms", Some(&member.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"][0]["id"], room);
    assert_eq!(mine["items"][0]["my_role"], "member");
    // The owner must transfer before leaving; then leaves.
    expect_problem(
        app.post(&format!("{path}/leave"), &json!({}), Some(&owner.access))
            .await,
        StatusCode::CONFLICT,
        "owner_must_transfer",
    )
    .await;
    expect_status(
        app.post(
            &format!("{path}/transfer"),
            &json!({"user_id": moder.id}),
            Some(&owner.access),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_status(
        app.post(&format!("{path}/leave"), &json!({}), Some(&owner.access))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let r = expect_status(app.get(&path, Some(&moder.access)).await, StatusCode::OK).await;
    assert_eq!(r["owner_id"], moder.id);
    assert_eq!(r["member_count"], 2);
    // Only the (new) owner deletes; members are told.
    expect_problem(
        app.send(Method::DELETE, &path, &json!({}), &member.access)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_status(
        app.send(Method::DELETE, &path, &json!({}), &moder.access)
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(ws.recv_type("removed").await["reason"], "room_deleted");
    expect_problem(
        app.get(&path, Some(&moder.access)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn visibility_capacity_and_bans(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.register("owner").await;
    let a = app.register("aaa").await;
    let c = app.register("ccc").await;
    let res = app
        .post(
            "/api/v1/rooms",
            &json!({"name": "秘密", "visibility": "private", "capacity": 2}),
            Some(&owner.access),
        )
        .await;
    let private = expect_status(res, StatusCode::CREATED).await;
    let id = private["id"].as_i64().expect("id");
    let code = private["invite_code"].as_str().expect("code").to_owned();
    // Private: invisible to outsiders, unlisted, joinable by code only.
    expect_problem(
        app.get(&format!("/api/v1/rooms/{id}"), Some(&a.access))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.post(
            &format!("/api/v1/rooms/{id}/join"),
            &json!({}),
            Some(&a.access),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let public = expect_status(
        app.get("/api/v1/rooms", Some(&a.access)).await,
        StatusCode::OK,
    )
    .await;
    assert!(public["items"].as_array().expect("items").is_empty());
    let joined = expect_status(
        app.post(
            "/api/v1/rooms/join",
            &json!({"invite_code": code}),
            Some(&a.access),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(joined["member_count"], 2);
    // Full.
    expect_problem(
        app.post(
            "/api/v1/rooms/join",
            &json!({"invite_code": code}),
            Some(&c.access),
        )
        .await,
        StatusCode::CONFLICT,
        "room_full",
    )
    .await;
    // Ban: removed and kept out.
    expect_status(
        app.post(
            &format!("/api/v1/rooms/{id}/members/{}/ban", a.id),
            &json!({}),
            Some(&owner.access),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_problem(
        app.post(
            "/api/v1/rooms/join",
            &json!({"invite_code": code}),
            Some(&a.access),
        )
        .await,
        StatusCode::FORBIDDEN,
        "banned",
    )
    .await;
    // The moderators' list of bans (others may not read it; this private room is not
    // even visible to an outsider).
    let bans = expect_status(
        app.get(&format!("/api/v1/rooms/{id}/bans"), Some(&owner.access))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bans["items"].as_array().map(Vec::len), Some(1), "{bans}");
    assert_eq!(bans["items"][0]["user_id"], a.id);
    assert_eq!(bans["items"][0]["banned_by"], owner.id);
    assert_eq!(bans["items"][0]["name"], a.username.as_str());
    expect_problem(
        app.get(&format!("/api/v1/rooms/{id}/bans"), Some(&c.access))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/rooms/{id}/bans/{}", a.id),
            &json!({}),
            &owner.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_status(
        app.post(
            "/api/v1/rooms/join",
            &json!({"invite_code": code}),
            Some(&a.access),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // Public rooms are listed with member counts.
    let res = app
        .post(
            "/api/v1/rooms",
            &json!({"name": "大厅", "visibility": "public"}),
            Some(&owner.access),
        )
        .await;
    let hall = expect_status(res, StatusCode::CREATED).await;
    let listed = expect_status(
        app.get("/api/v1/rooms", Some(&c.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["items"][0]["id"], hall["id"]);
    assert!(listed["items"][0]["invite_code"].is_null());
    // Bad input.
    for body in [
        json!({"name": ""}),
        json!({"name": "x", "capacity": 1}),
        json!({"name": "x", "movie_id": 999}),
    ] {
        expect_problem(
            app.post("/api/v1/rooms", &body, Some(&owner.access)).await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
    }
    expect_problem(
        app.post(
            "/api/v1/rooms",
            &json!({"name": "x", "visibility": "secret"}),
            Some(&owner.access),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
}
