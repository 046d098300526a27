//! The realtime core's guarantees: chat in `seq` order under concurrent senders, the
//! wait gate checked again when it opens, joins that list only who is online, and the
//! connection limits (idle close on time, strikes that decay, close codes).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, expect_status, spawn_app, spawn_app_with};
use crate::realtime::room_with;
use crate::ws::Ws;

on_all_backends!(
    concurrent_senders_are_delivered_in_seq_order,
    a_pause_during_the_wait_wins_over_the_waiting_play,
    a_gated_play_carries_its_req_id_before_the_wait_ends,
    a_demoted_requester_gets_nothing_applied_and_the_room_sees_the_role,
    joined_lists_who_is_online_and_counts_everyone,
    room_rules_on_the_socket,
);

/// Ten senders, five messages each back to back, at once: every member sees 1..=50 in
/// order, each once.
async fn concurrent_senders_are_delivered_in_seq_order(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.register("ord_own").await;
    let mut users = Vec::new();
    for i in 0..12 {
        users.push(app.register(&format!("ord{i}")).await);
    }
    let refs: Vec<&TestUser> = users.iter().collect();
    let room = room_with(&app, &owner, &refs, "everyone").await;
    let mut receivers = Vec::new();
    for u in &users[10..] {
        receivers.push(app.ws_joined(&u.access, room).await.0);
    }
    let (owner_ws, _) = app.ws_joined(&owner.access, room).await;
    receivers.push(owner_ws);
    let mut senders = Vec::new();
    for u in &users[..10] {
        senders.push(app.ws_joined(&u.access, room).await.0);
    }
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            tokio::spawn(async move {
                // Sent without waiting for the acks: a burst per sender.
                for k in 0..5 {
                    ws.send(json!({"type": "chat", "room_id": room, "client_id": format!("{i}-{k}"), "text": format!("{i}/{k}")}))
                        .await;
                }
                let mut acks = 0;
                while acks < 5 {
                    if ws.recv().await["type"] == "chat_ack" {
                        acks += 1;
                    }
                }
                ws
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    for ws in &mut receivers {
        let mut seqs = Vec::new();
        while seqs.len() < 50 {
            let m = ws.recv_type("chat").await;
            seqs.push(m["message"]["seq"].as_i64().expect("seq"));
        }
        assert_eq!(seqs, (1..=50).collect::<Vec<i64>>(), "order on one member");
    }
}

/// Host and a buffering guest; the host asks to play and the room waits.
async fn waiting_room(app: &TestApp, control: &str) -> (TestUser, TestUser, i64, Ws, Ws) {
    let host = app.register("gate_h").await;
    let guest = app.register("gate_g").await;
    let room = room_with(app, &host, &[&guest], control).await;
    let (mut h, _) = app.ws_joined(&host.access, room).await;
    let (mut g, _) = app.ws_joined(&guest.access, room).await;
    h.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
        .await;
    g.send(json!({"type": "player_status", "room_id": room, "status": "buffering"}))
        .await;
    // Both statuses seen (in either order, possibly in one batch).
    let (mut host_ready, mut guest_buffering) = (false, false);
    while !(host_ready && guest_buffering) {
        let m = h.recv().await;
        let members = match m["type"].as_str() {
            Some("presence") => vec![m["member"].clone()],
            Some("presence_batch") => m["members"].as_array().cloned().unwrap_or_default(),
            _ => continue,
        };
        for p in members {
            host_ready |= p["user_id"] == host.id && p["status"] == "ready";
            guest_buffering |= p["user_id"] == guest.id && p["status"] == "buffering";
        }
    }
    (host, guest, room, h, g)
}

async fn a_pause_during_the_wait_wins_over_the_waiting_play(b: Backend) {
    let app = spawn_app(b).await;
    let (_host, _guest, room, mut h, mut g) = waiting_room(&app, "host").await;
    h.send(json!({"type": "playback", "room_id": room, "action": "play", "req_id": "p"}))
        .await;
    assert_eq!(
        g.recv_type("waiting").await["waiting_for"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    h.send(json!({"type": "playback", "room_id": room, "action": "pause", "req_id": "stop"}))
        .await;
    let paused = h.recv_type("playback_state").await;
    assert_eq!(paused["req_id"], "stop");
    // The pause ends the wait at once.
    h.recv_where("waiting", |w| w["waiting_for"] == json!([]))
        .await;
    g.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
        .await;
    // The next state anyone sees is the seek below, never the voided play.
    h.send(json!({"type": "playback", "room_id": room, "action": "seek", "position_ms": 5000, "req_id": "s"}))
        .await;
    let next = g.recv_type("playback_state").await;
    assert_eq!(next["req_id"], "stop", "the pause first");
    let next = g.recv_type("playback_state").await;
    assert_eq!(next["req_id"], "s");
    assert_eq!(next["state"]["playing"], false);
}

async fn a_gated_play_carries_its_req_id_before_the_wait_ends(b: Backend) {
    let app = spawn_app(b).await;
    let (_host, _guest, room, mut h, mut g) = waiting_room(&app, "host").await;
    h.send(json!({"type": "playback", "room_id": room, "action": "play", "req_id": "r9"}))
        .await;
    g.recv_type("waiting").await;
    h.recv_type("waiting").await;
    g.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
        .await;
    let first = next_of(&mut h, &["playback_state", "waiting"]).await;
    assert_eq!(first["type"], "playback_state", "{first}");
    assert_eq!(first["req_id"], "r9");
    assert_eq!(first["state"]["playing"], true);
    let done = h.recv_type("waiting").await;
    assert_eq!(done["waiting_for"], json!([]));
}

async fn a_demoted_requester_gets_nothing_applied_and_the_room_sees_the_role(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.register("dem_own").await;
    let moder = app.register("dem_mod").await;
    let slow = app.register("dem_slow").await;
    let room = room_with(&app, &owner, &[&moder, &slow], "host").await;
    let role = |r: &str| json!({"role": r});
    let path = format!("/api/v1/rooms/{room}/members/{}/role", moder.id);
    expect_status(
        app.send(
            reqwest::Method::PUT,
            &path,
            &role("moderator"),
            &owner.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let (mut o, _) = app.ws_joined(&owner.access, room).await;
    let (mut m, _) = app.ws_joined(&moder.access, room).await;
    let (mut s, _) = app.ws_joined(&slow.access, room).await;
    for ws in [&mut o, &mut m] {
        ws.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
            .await;
    }
    s.send(json!({"type": "player_status", "room_id": room, "status": "buffering"}))
        .await;
    o.recv_where("presence", |p| {
        p["member"]["user_id"] == slow.id && p["member"]["status"] == "buffering"
    })
    .await;
    m.send(json!({"type": "playback", "room_id": room, "action": "play", "req_id": "mp"}))
        .await;
    s.recv_type("waiting").await;
    // Demoted while the room waits: the room is told the new role.
    expect_status(
        app.send(reqwest::Method::PUT, &path, &role("member"), &owner.access)
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let p = s
        .recv_where("presence", |p| {
            p["member"]["user_id"] == moder.id && p["member"]["role"] == "member"
        })
        .await;
    assert_eq!(p["member"]["online"], true);
    s.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
        .await;
    // The wait ends without the play; the owner's seek is the next state.
    o.recv_where("waiting", |w| w["waiting_for"] == json!([]))
        .await;
    o.send(json!({"type": "playback", "room_id": room, "action": "seek", "position_ms": 1000, "req_id": "own"}))
        .await;
    let next = s.recv_type("playback_state").await;
    assert_eq!(next["req_id"], "own", "{next}");
    assert_eq!(next["state"]["playing"], false);
}

/// `joined` lists the online members and counts everyone; `member_count` tells the room
/// when the count changes.
async fn joined_lists_who_is_online_and_counts_everyone(b: Backend) {
    let app = spawn_app(b).await;
    let a = app.register("on_a").await;
    let b2 = app.register("on_b").await;
    let c = app.register("on_c").await;
    let room = room_with(&app, &a, &[&b2, &c], "host").await;
    let (mut wa, _) = app.ws_joined(&a.access, room).await;
    let (mut wb, joined) = app.ws_joined(&b2.access, room).await;
    assert_eq!(joined["member_count"], 3);
    let mut online: Vec<i64> = joined["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["user_id"].as_i64().expect("id"))
        .collect();
    online.sort_unstable();
    assert_eq!(online, vec![a.id, b2.id], "only who is online");

    // Joining, leaving and being kicked change the count, and the room is told.
    let d = app.register("on_d").await;
    let res = app
        .post(
            &format!("/api/v1/rooms/{room}/join"),
            &json!({}),
            Some(&d.access),
        )
        .await;
    expect_status(res, StatusCode::OK).await;
    let count = |v: &Value| v["member_count"].as_i64();
    let m = wa.recv_type("member_count").await;
    assert_eq!((m["room_id"].as_i64(), count(&m)), (Some(room), Some(4)));
    let res = app
        .post(
            &format!("/api/v1/rooms/{room}/members/{}/kick", c.id),
            &json!({}),
            Some(&a.access),
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    assert_eq!(count(&wa.recv_type("member_count").await), Some(3));
    let res = app
        .post(
            &format!("/api/v1/rooms/{room}/leave"),
            &json!({}),
            Some(&d.access),
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    let mut counts = Vec::new();
    for _ in 0..3 {
        counts.push(count(&wb.recv_type("member_count").await));
    }
    assert_eq!(
        counts,
        [Some(4), Some(3), Some(2)],
        "join, kick, leave in order"
    );
}

/// Player status needs a join on this connection; `last_seq` ahead of the room reloads;
/// muted members send no live danmaku, and the room sees the mute come and go; error
/// codes are the REST codes.
async fn room_rules_on_the_socket(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let host = app.register("rr_host").await;
    let guest = app.register("rr_guest").await;
    let movie = app
        .ready_movie(&admin, json!({"title": "规则", "duration_ms": 600_000}))
        .await;
    let created = expect_status(
        app.post(
            "/api/v1/rooms",
            &json!({"name": "规则房", "movie_id": movie}),
            Some(&host.access),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let room = created["id"].as_i64().expect("id");
    expect_status(
        app.post(
            "/api/v1/rooms/join",
            &json!({"invite_code": created["invite_code"]}),
            Some(&guest.access),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // A member's socket that has not joined: status refused with the REST code.
    let mut g = app.ws(&guest.access).await;
    g.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
        .await;
    let e = g.recv_type("error").await;
    assert_eq!(e["code"], "not_joined");
    assert_eq!(e["room_id"], room);
    // A last_seq from the future: reload.
    g.send(json!({"type": "join", "room_id": room, "last_seq": 99}))
        .await;
    let joined = g.recv_type("joined").await;
    assert_eq!(joined["reload"], true);
    assert_eq!(joined["last_seq"], 0);
    // Muted: no chat and no live danmaku.
    expect_status(
        app.post(
            &format!("/api/v1/rooms/{room}/members/{}/mute", guest.id),
            &json!({"minutes": 5}),
            Some(&host.access),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    g.send(json!({"type": "danmaku", "room_id": room, "client_id": "d1", "position_ms": 1000, "text": "看我"}))
        .await;
    g.send(json!({"type": "chat", "room_id": room, "client_id": "c1", "text": "看我"}))
        .await;
    // Both refused, and the room is told of the mute (the moderators' menus offer the
    // way back). The presence frame may come before or after the refusals.
    let got = g
        .recv_each(&[
            ("error", &|e: &Value| e["req_id"] == "d1"),
            ("error", &|e: &Value| e["req_id"] == "c1"),
            ("presence", &|p: &Value| {
                p["member"]["user_id"] == guest.id && p["member"]["muted_until"].is_string()
            }),
        ])
        .await;
    assert_eq!(got[0]["code"], "forbidden");
    assert_eq!(got[1]["code"], "forbidden");
    // A late joiner sees the mute too.
    let (_, joined) = app.ws_joined(&guest.access, room).await;
    let me = joined["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user_id"] == guest.id)
        .cloned()
        .expect("listed");
    assert!(me["muted_until"].is_string(), "{me}");
    expect_status(
        app.send(
            reqwest::Method::DELETE,
            &format!("/api/v1/rooms/{room}/members/{}/mute", guest.id),
            &json!({}),
            &host.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let p = g
        .recv_where("presence", |p| {
            p["member"]["user_id"] == guest.id && p["member"].get("muted_until").is_none()
        })
        .await;
    assert_eq!(p["member"]["online"], true);
    // Not JSON: the REST-style code.
    g.send_raw(tokio_tungstenite::tungstenite::Message::text("{nope"))
        .await;
    assert_eq!(g.recv_type("error").await["code"], "invalid_message");
}

/// The next message of one of `kinds`.
async fn next_of(ws: &mut Ws, kinds: &[&str]) -> Value {
    for _ in 0..200 {
        let m = ws.recv().await;
        if kinds.iter().any(|k| m["type"] == *k) {
            return m;
        }
    }
    panic!("none of {kinds:?}");
}

/// A client that sends nothing is closed at the idle timeout, not at the next ping tick.
#[tokio::test]
async fn idle_connections_close_at_the_timeout() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("APP_REALTIME__IDLE_TIMEOUT_MS", "1000"),
            ("APP_REALTIME__PING_INTERVAL_MS", "5000"),
        ],
    )
    .await;
    let u = app.register("idle").await;
    let mut ws = app.ws(&u.access).await;
    // The idle deadline started before the welcome arrived; the next ping tick (which
    // used to be when idleness was noticed) is 5 s away.
    let started = Instant::now();
    assert_eq!(ws.closed().await, 1000);
    let took = started.elapsed();
    assert!(took < Duration::from_millis(3000), "closed after {took:?}");
    assert!(took >= Duration::from_millis(500), "closed after {took:?}");
}
