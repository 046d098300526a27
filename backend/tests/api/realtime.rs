//! The WebSocket gateway: authentication, limits, chat delivery, playback sync, presence.

use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Backend, TestApp, TestUser, expect_problem, expect_status, spawn_app};
use crate::ws::try_connect;

on_all_backends!(
    upgrades_need_credentials_and_an_allowed_origin,
    non_members_cannot_read_or_send,
    chat_is_acknowledged_once_and_recovered_after_reconnect,
    a_group_with_a_resend_stores_the_others_once,
    host_controls_playback_and_everyone_gets_the_anchor,
    play_waits_for_buffering_members,
    bad_frames_are_answered_and_big_ones_close,
    removed_members_are_cut_off,
);

/// A room owned by `owner` with `members` joined by invite code; returns its id.
pub async fn room_with(
    app: &TestApp,
    owner: &TestUser,
    members: &[&TestUser],
    control: &str,
) -> i64 {
    let res = app
        .post(
            "/api/v1/rooms",
            &json!({"name": "周五电影夜", "control_mode": control}),
            Some(&owner.access),
        )
        .await;
    let room = expect_status(res, StatusCode::CREATED).await;
    let code = room["invite_code"].as_str().expect("code").to_owned();
    for m in members {
        let res = app
            .post(
                "/api/v1/rooms/join",
                &json!({"invite_code": code}),
                Some(&m.access),
            )
            .await;
        expect_status(res, StatusCode::OK).await;
    }
    room["id"].as_i64().expect("id")
}

async fn upgrades_need_credentials_and_an_allowed_origin(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("wsauth").await;
    let url = app.ws_url();
    assert_eq!(try_connect(&url, None, None).await.err(), Some(401));
    assert_eq!(
        try_connect(&url, Some("garbage"), None).await.err(),
        Some(401)
    );
    assert_eq!(
        try_connect(&format!("{url}?ticket=nope"), None, None)
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        try_connect(&url, Some(&user.access), Some("http://evil.example"))
            .await
            .err(),
        Some(403)
    );
    assert_eq!(
        try_connect(
            &url,
            Some(&user.access),
            Some("http://localhost:8080.evil.example")
        )
        .await
        .err(),
        Some(403)
    );
    assert!(
        try_connect(&url, Some(&user.access), Some("http://localhost:8080"))
            .await
            .is_ok()
    );
    // Tickets work once.
    let t = expect_status(
        app.post("/api/v1/realtime/ticket", &json!({}), Some(&user.access))
            .await,
        StatusCode::OK,
    )
    .await;
    let ticket = t["ticket"].as_str().expect("ticket");
    let ticket_url = format!("{url}?ticket={ticket}");
    let mut ws = try_connect(&ticket_url, None, Some("http://localhost:8080"))
        .await
        .expect("ticket works");
    assert_eq!(ws.recv().await["type"], "welcome");
    assert_eq!(try_connect(&ticket_url, None, None).await.err(), Some(401));
    expect_problem(
        app.post("/api/v1/realtime/ticket", &json!({}), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // A logged-out session cannot connect.
    let (access, _) = app.login(&user.username, crate::helpers::PASSWORD).await;
    expect_status(
        app.post("/api/v1/auth/logout", &json!({}), Some(&access))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        try_connect(&url, Some(&access), None).await.err(),
        Some(401)
    );
}

async fn non_members_cannot_read_or_send(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.register("owner").await;
    let outsider = app.register("outsider").await;
    let room = room_with(&app, &owner, &[], "host").await;
    let mut ws = app.ws(&outsider.access).await;
    ws.send(json!({"type": "join", "room_id": room})).await;
    let e = ws.recv_type("error").await;
    assert_eq!(e["code"], "forbidden", "{e}");
    ws.send(json!({"type": "chat", "room_id": room, "client_id": "x1", "text": "hi"}))
        .await;
    assert_eq!(ws.recv_type("error").await["code"], "forbidden");
    ws.send(json!({"type": "playback", "room_id": room, "action": "play"}))
        .await;
    assert_eq!(ws.recv_type("error").await["code"], "forbidden");
    let res = app
        .get(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&outsider.access),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // Nothing was stored.
    let page = expect_status(
        app.get(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&owner.access),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(page["items"].as_array().expect("items").is_empty());
}

/// The room's writer stores whatever arrived together in one transaction without looking
/// for stored originals first; a group holding a resend breaks the unique client id and is
/// stored again one by one. The resend gets its original, the new messages are stored once,
/// numbered in arrival order, and a duplicate within the group gets the same message.
async fn a_group_with_a_resend_stores_the_others_once(b: Backend) {
    use luojia::rooms::pipeline::ChatPipeline;
    use luojia::rooms::service::{CheckedChat, Stored};
    let app = spawn_app(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = room_with(&app, &alice, &[&bob], "host").await;
    let rt = luojia::realtime::Realtime::start(
        None,
        "group-test",
        std::time::Duration::from_secs(2),
        luojia::realtime::Handlers {
            rooms: std::sync::Arc::new(luojia::rooms::live::SocketRooms),
            conversations: std::sync::Arc::new(luojia::conversations::live::SocketConversations),
        },
    );
    let chat = ChatPipeline::new(app.db.clone(), rt);
    let send = |who: &TestUser, client_id: &'static str, text: &'static str| {
        let (chat, id) = (chat.clone(), who.id);
        async move {
            let checked = CheckedChat {
                text: text.into(),
                sender_name: "x".into(),
            };
            chat.submit(room, id, client_id, checked, None)
                .await
                .expect("stored")
        }
    };
    let seq = |s: &Stored| match s {
        Stored::New(m) => ("new", m.seq),
        Stored::Duplicate(m) => ("duplicate", m.seq),
    };
    assert_eq!(seq(&send(&alice, "a-1", "一").await), ("new", 1));
    // Queued before the writer runs: one group.
    let (resend, b1, a2, b1_again) = tokio::join!(
        send(&alice, "a-1", "一"),
        send(&bob, "b-1", "二"),
        send(&alice, "a-2", "三"),
        send(&bob, "b-1", "二"),
    );
    assert_eq!(seq(&resend), ("duplicate", 1));
    assert_eq!(seq(&b1), ("new", 2));
    assert_eq!(seq(&a2), ("new", 3));
    assert_eq!(seq(&b1_again), ("duplicate", 2));
    let res = app
        .get(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&alice.access),
        )
        .await;
    let page = expect_status(res, StatusCode::OK).await;
    let mut texts: Vec<(i64, String)> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().expect("seq"),
                m["text"].as_str().expect("text").to_owned(),
            )
        })
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        vec![(1, "一".into()), (2, "二".into()), (3, "三".into())]
    );
}

async fn chat_is_acknowledged_once_and_recovered_after_reconnect(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = room_with(&app, &alice, &[&bob], "host").await;
    let (mut a, _) = app.ws_joined(&alice.access, room).await;
    let (mut bws, joined) = app.ws_joined(&bob.access, room).await;
    assert_eq!(joined["last_seq"], 0);

    a.send(json!({"type": "chat", "room_id": room, "client_id": "c-1", "text": "你好", "position_ms": 1234})).await;
    let ack = a.recv_type("chat_ack").await;
    assert_eq!(ack["seq"], 1);
    assert_eq!(ack["message"]["position_ms"], 1234);
    let got = bws.recv_type("chat").await;
    assert_eq!(got["message"]["text"], "你好");
    assert_eq!(got["message"]["sender_id"], alice.id);
    // The same client id again: the original ack, nothing new stored or broadcast.
    a.send(json!({"type": "chat", "room_id": room, "client_id": "c-1", "text": "你好"}))
        .await;
    let again = a.recv_type("chat_ack").await;
    assert_eq!(again["seq"], 1);
    // The room's chat goes out in `seq` order, so Bob's next chat is message 2, not a
    // second copy of 1.
    a.send(json!({"type": "chat", "room_id": room, "client_id": "c-2", "text": "m2"}))
        .await;
    assert_eq!(a.recv_type("chat_ack").await["seq"], 2);
    assert_eq!(bws.recv_type("chat").await["message"]["seq"], 2);

    // Bob drops; Alice sends 4 more; Bob reconnects with last_seq = 1 and gets exactly 2..=6.
    drop(bws);
    for i in 3..=6 {
        a.send(json!({"type": "chat", "room_id": room, "client_id": format!("c-{i}"), "text": format!("m{i}")})).await;
        assert_eq!(a.recv_type("chat_ack").await["seq"], i);
    }
    let mut bws = app.ws(&bob.access).await;
    bws.send(json!({"type": "join", "room_id": room, "last_seq": 1}))
        .await;
    let joined = bws.recv_type("joined").await;
    let seqs: Vec<i64> = joined["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, vec![2, 3, 4, 5, 6]);
    assert_eq!(joined["reload"], false);
    // A fresh join (no last_seq) gets the recent history, oldest first.
    let (_, fresh) = app.ws_joined(&bob.access, room).await;
    let seqs: Vec<i64> = fresh["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    // History over REST, newest first.
    let page = expect_status(
        app.get(
            &format!("/api/v1/rooms/{room}/messages?limit=4"),
            Some(&bob.access),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let seqs: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, vec![6, 5, 4, 3]);
    assert_eq!(page["next_before"], 3);
    // Too long, empty: errors, nothing stored.
    a.send(json!({"type": "chat", "room_id": room, "client_id": "long", "text": "长".repeat(501)}))
        .await;
    assert_eq!(a.recv_type("error").await["code"], "validation_failed");
    a.send(json!({"type": "chat", "room_id": room, "client_id": "empty", "text": "   "}))
        .await;
    assert_eq!(a.recv_type("error").await["code"], "validation_failed");
    // Delete by author.
    a.send(json!({"type": "delete_message", "room_id": room, "seq": 2}))
        .await;
    let del = bws.recv_type("message_deleted").await;
    assert_eq!(del["seq"], 2);
}

async fn host_controls_playback_and_everyone_gets_the_anchor(b: Backend) {
    let app = spawn_app(b).await;
    let host = app.register("host").await;
    let guest = app.register("guest").await;
    let room = room_with(&app, &host, &[&guest], "host").await;
    let (mut h, _) = app.ws_joined(&host.access, room).await;
    let (mut g, joined) = app.ws_joined(&guest.access, room).await;
    let v0 = joined["playback"]["version"].as_i64().expect("version");
    // Clock sync.
    g.send(json!({"type": "time_sync", "client_time": 1234.5}))
        .await;
    let t = g.recv_type("time_sync").await;
    assert_eq!(t["client_time"], 1234.5);
    let now = chrono::Utc::now().timestamp_millis() as f64;
    assert!((t["server_time"].as_f64().expect("server_time") - now).abs() < 5_000.0);
    // Everyone is ready, so play starts at once (slightly in the future).
    for ws in [&mut h, &mut g] {
        ws.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
            .await;
    }
    h.recv_where("presence", |p| {
        p["member"]["user_id"] == guest.id && p["member"]["status"] == "ready"
    })
    .await;
    h.send(json!({"type": "playback", "room_id": room, "action": "play", "req_id": "p1"}))
        .await;
    let hs = h.recv_type("playback_state").await;
    let gs = g.recv_type("playback_state").await;
    assert_eq!(hs["state"], gs["state"]);
    assert_eq!(hs["req_id"], "p1");
    assert_eq!(gs["state"]["playing"], true);
    assert_eq!(gs["state"]["version"], v0 + 1);
    assert!(
        gs["state"]["anchor_time"].as_i64().expect("anchor")
            > chrono::Utc::now().timestamp_millis() - 1000
    );
    // The guest may not seek in a host-controlled room; nothing changes.
    g.send(json!({"type": "playback", "room_id": room, "action": "seek", "position_ms": 60000, "req_id": "s1"})).await;
    let e = g.recv_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["req_id"].as_str()),
        (Some("forbidden"), Some("s1"))
    );
    let (_, late) = app.ws_joined(&guest.access, room).await;
    assert_eq!(late["playback"]["version"], v0 + 1);
    assert_eq!(late["playback"]["playing"], true);
    // The host seeks; invalid values are refused.
    h.send(json!({"type": "playback", "room_id": room, "action": "seek", "position_ms": -5}))
        .await;
    assert_eq!(h.recv_type("error").await["code"], "validation_failed");
    h.send(json!({"type": "playback", "room_id": room, "action": "rate", "rate": 9.0}))
        .await;
    assert_eq!(h.recv_type("error").await["code"], "validation_failed");
    h.send(json!({"type": "playback", "room_id": room, "action": "seek", "position_ms": 60000}))
        .await;
    let s = g.recv_type("playback_state").await;
    assert_eq!(s["state"]["position_ms"], 60000.0);
    assert_eq!(s["by"], host.id);
    // The refused seek changed nothing and sent nothing: the host's next state after the
    // play is this seek, one version on.
    let next = h.recv_type("playback_state").await;
    assert_eq!(next["state"], s["state"]);
    assert_eq!(next["state"]["version"], v0 + 2);
    // In an "everyone" room the guest may.
    let open = room_with(&app, &host, &[&guest], "everyone").await;
    let (mut g2, _) = app.ws_joined(&guest.access, open).await;
    g2.send(json!({"type": "playback", "room_id": open, "action": "pause"}))
        .await;
    assert_eq!(
        g2.recv_type("playback_state").await["state"]["playing"],
        false
    );
}

async fn play_waits_for_buffering_members(b: Backend) {
    let app = spawn_app(b).await;
    let host = app.register("host").await;
    let slow = app.register("slow").await;
    let room = room_with(&app, &host, &[&slow], "host").await;
    let (mut h, _) = app.ws_joined(&host.access, room).await;
    let (mut s, _) = app.ws_joined(&slow.access, room).await;
    h.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
        .await;
    h.recv_where("presence", |p| {
        p["member"]["user_id"] == host.id && p["member"]["status"] == "ready"
    })
    .await;
    s.send(json!({"type": "player_status", "room_id": room, "status": "buffering"}))
        .await;
    let p = h
        .recv_where("presence", |p| {
            p["member"]["user_id"] == slow.id && p["member"]["status"] == "buffering"
        })
        .await;
    assert_eq!(p["member"]["online"], true);
    h.send(json!({"type": "playback", "room_id": room, "action": "play"}))
        .await;
    let w = s.recv_type("waiting").await;
    assert_eq!(w["waiting_for"], json!([slow.id]));
    assert!(w["deadline"].as_i64().expect("deadline") > chrono::Utc::now().timestamp_millis());
    // Nothing plays while the slow member buffers: a chat sent after the wait began
    // reaches the host before any playback state.
    s.send(
        json!({"type": "chat", "room_id": room, "client_id": "still-buffering", "text": "wait"}),
    )
    .await;
    let before = h
        .frames_until("chat", |c| c["message"]["client_id"] == "still-buffering")
        .await;
    assert!(
        before.iter().all(|m| m["type"] != "playback_state"),
        "{before:?}"
    );
    s.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
        .await;
    let st = h.recv_type("playback_state").await;
    assert_eq!(st["state"]["playing"], true);
    let done = s.recv_type("waiting").await;
    assert_eq!(done["waiting_for"], json!([]));
}

async fn bad_frames_are_answered_and_big_ones_close(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("frames").await;
    let room = room_with(&app, &user, &[], "host").await;
    let (mut ws, _) = app.ws_joined(&user.access, room).await;
    for bad in [
        "not json",
        "{}",
        r#"{"type":"nope"}"#,
        r#"{"type":"join"}"#,
        r#"{"type":"chat","room_id":"x"}"#,
        "[1,2]",
    ] {
        ws.send_raw(Message::text(bad)).await;
        let e = ws.recv_type("error").await;
        assert_eq!(e["code"], "invalid_message", "{bad}");
    }
    ws.send_raw(Message::binary(vec![1u8, 2, 3])).await;
    assert_eq!(ws.recv_type("error").await["code"], "invalid_message");
    // Still alive.
    ws.send(json!({"type": "chat", "room_id": room, "client_id": "ok", "text": "still here"}))
        .await;
    assert_eq!(ws.recv_type("chat_ack").await["seq"], 1);
    // A frame over 16 KiB closes the connection with 1009.
    ws.send_raw(Message::text("x".repeat(20 * 1024))).await;
    assert_eq!(ws.closed().await, 1009);
    // Too many frames: rate_limited answers.
    let mut ws = app.ws(&user.access).await;
    for _ in 0..40 {
        ws.send(json!({"type": "time_sync", "client_time": 1.0}))
            .await;
    }
    ws.recv_where("error", |e| e["code"] == "rate_limited")
        .await;
}

async fn removed_members_are_cut_off(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.register("owner").await;
    let member = app.register("member").await;
    let room = room_with(&app, &owner, &[&member], "host").await;
    let (mut o, _) = app.ws_joined(&owner.access, room).await;
    let (mut m, _) = app.ws_joined(&member.access, room).await;
    let online = o
        .recv_where("presence", |p| p["member"]["user_id"] == member.id)
        .await;
    assert_eq!(online["member"]["online"], true);
    let res = app
        .post(
            &format!("/api/v1/rooms/{room}/members/{}/kick", member.id),
            &json!({}),
            Some(&owner.access),
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    let removed = m.recv_type("removed").await;
    assert_eq!(removed["reason"], "kicked");
    // Their next message is refused: membership is checked on every message.
    m.send(json!({"type": "chat", "room_id": room, "client_id": "k", "text": "still?"}))
        .await;
    assert_eq!(m.recv_type("error").await["code"], "forbidden");
    let offline = o
        .recv_where("presence", |p| p["member"]["user_id"] == member.id)
        .await;
    assert_eq!(offline["member"]["online"], false);
    // No further room traffic reaches them. Shown by a later message: both are also in
    // another room; once the owner has seen "bye" go out to the first room, a message
    // in the other room is the next chat the removed member gets (one connection's
    // frames arrive in the order the hub handed them out).
    let other = room_with(&app, &owner, &[&member], "host").await;
    for ws in [&mut o, &mut m] {
        ws.send(json!({"type": "join", "room_id": other})).await;
        ws.recv_type("joined").await;
    }
    o.send(json!({"type": "chat", "room_id": room, "client_id": "after", "text": "bye"}))
        .await;
    o.recv_where("chat", |c| c["message"]["client_id"] == "after")
        .await;
    o.send(json!({"type": "chat", "room_id": other, "client_id": "sentinel", "text": "here"}))
        .await;
    let before = m
        .frames_until("chat", |c| c["message"]["client_id"] == "sentinel")
        .await;
    assert!(before.iter().all(|f| f["type"] != "chat"), "{before:?}");
}
