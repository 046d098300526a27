//! Several instances: one room whose members sit on different backends sharing MariaDB
//! and Redis, and the Redis outage they must survive.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp, expect_status, spawn_app, spawn_app_with, spawn_peer};
use crate::realtime::room_with;
use crate::ws::Ws;

#[tokio::test]
#[cfg_attr(
    not(all(luojia_test_mysql, luojia_test_redis)),
    ignore = "set TEST_MYSQL_URL and TEST_REDIS_URL (make test does)"
)]
async fn a_room_spans_two_instances() {
    let a = spawn_app(Backend::Mysql).await;
    assert!(
        a.settings.redis_url().is_some(),
        "TEST_REDIS_URL is not set"
    );
    let b = spawn_peer(&a, |_| {}).await;
    let host = a.register("host").await;
    let guest = a.register("guest").await;
    let room = room_with(&a, &host, &[&guest], "host").await;
    let (mut h, _) = a.ws_joined(&host.access, room).await;
    let (mut g, _) = b.ws_joined(&guest.access, room).await;
    // The guest's second device, on A, has not opened the room.
    let mut g2 = a.ws(&guest.access).await;
    // Presence crosses over.
    h.recv_where("presence", |p| p["member"]["user_id"] == guest.id)
        .await;
    // Chat both ways.
    h.send(json!({"type": "chat", "room_id": room, "client_id": "a1", "text": "from A"}))
        .await;
    assert_eq!(g.recv_type("chat").await["message"]["text"], "from A");
    g.send(json!({"type": "chat", "room_id": room, "client_id": "b1", "text": "from B"}))
        .await;
    assert_eq!(
        h.recv_where("chat", |c| c["message"]["text"] == "from B")
            .await["message"]["seq"],
        2
    );
    // Sync: the host on A plays; the guest on B gets the same anchor.
    for ws in [&mut h, &mut g] {
        ws.send(json!({"type": "player_status", "room_id": room, "status": "ready"}))
            .await;
    }
    h.recv_where("presence", |p| {
        p["member"]["user_id"] == guest.id && p["member"]["status"] == "ready"
    })
    .await;
    h.send(json!({"type": "playback", "room_id": room, "action": "play"}))
        .await;
    let mine = h.recv_type("playback_state").await;
    let theirs = g.recv_type("playback_state").await;
    assert_eq!(mine["state"], theirs["state"]);
    // A kick issued on A reaches the guest's socket on B.
    let res = a
        .post(
            &format!("/api/v1/rooms/{room}/members/{}/kick", guest.id),
            &json!({}),
            Some(&host.access),
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    assert_eq!(g.recv_type("removed").await["reason"], "kicked");
    // Every device of the guest learns it (the user's topic), once.
    assert_eq!(g2.recv_type("removed").await["room_id"], room);
    h.send(json!({"type": "chat", "room_id": room, "client_id": "a2", "text": "after"}))
        .await;
    h.recv_where("chat", |c| c["message"]["text"] == "after")
        .await;
    g2.send(json!({"type": "time_sync", "client_time": 1.0}))
        .await;
    let next = g2.recv().await;
    assert_eq!(next["type"], "time_sync", "nothing else came first: {next}");
}

/// A private redis-server on a free port, stopped (by PID) on drop.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start_on(port: u16) -> Child {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        Self {
            port,
            child: Some(Self::start_on(port)),
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }

    fn restart(&mut self) {
        self.stop();
        self.child = Some(Self::start_on(self.port));
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn chat(ws: &mut Ws, room: i64, id: &str) -> i64 {
    ws.send(json!({"type": "chat", "room_id": room, "client_id": id, "text": id}))
        .await;
    ws.recv_where("chat_ack", |a| a["client_id"] == id).await["seq"]
        .as_i64()
        .expect("seq")
}

async fn all_seqs(app: &TestApp, token: &str, room: i64) -> BTreeSet<i64> {
    let page = expect_status(
        app.get(
            &format!("/api/v1/rooms/{room}/messages?limit=100"),
            Some(token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect()
}

/// Runs its own `redis-server` on a free port; needs MariaDB only.
#[tokio::test]
#[cfg_attr(not(luojia_test_mysql), ignore = "set TEST_MYSQL_URL (make test does)")]
async fn instances_survive_a_redis_outage() {
    let mut redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let a = spawn_app_with(
        Backend::Mysql,
        &[("APP_REDIS__URL", &url), ("APP_REDIS__TIMEOUT_MS", "300")],
    )
    .await;
    let b = spawn_peer(&a, |_| {}).await;
    let users = [
        a.register("ua1").await,
        a.register("ua2").await,
        a.register("ub1").await,
        a.register("ub2").await,
    ];
    let room = room_with(&a, &users[0], &[&users[1], &users[2], &users[3]], "host").await;
    let (mut a1, _) = a.ws_joined(&users[0].access, room).await;
    let (mut a2, _) = a.ws_joined(&users[1].access, room).await;
    let (mut b1, _) = b.ws_joined(&users[2].access, room).await;
    let (mut b2, _) = b.ws_joined(&users[3].access, room).await;
    let s = chat(&mut a1, room, "before").await;
    assert_eq!(
        b1.recv_where("chat", |c| c["message"]["seq"] == s).await["message"]["text"],
        "before"
    );

    redis.stop();
    // Each instance keeps serving its own members.
    let s_a = chat(&mut a1, room, "during-a").await;
    a2.recv_where("chat", |c| c["message"]["seq"] == s_a).await;
    let s_b = chat(&mut b1, room, "during-b").await;
    b2.recv_where("chat", |c| c["message"]["seq"] == s_b).await;

    redis.restart();
    // Cross-instance delivery comes back by itself within 10 s.
    let back = Instant::now();
    let mut n = 0;
    loop {
        n += 1;
        let id = format!("after-{n}");
        let s = chat(&mut a1, room, &id).await;
        if b1
            .try_recv_where(
                "chat",
                |c| c["message"]["seq"] == s,
                Duration::from_millis(500),
            )
            .await
            .is_some()
        {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "cross-instance delivery did not resume within 10 s"
        );
    }
    // A reconnecting member recovers exactly what it missed: its final message set
    // equals the database's.
    let last_seen = s;
    let mut b1 = b.ws(&users[2].access).await;
    b1.send(json!({"type": "join", "room_id": room, "last_seq": last_seen}))
        .await;
    let joined = b1.recv_type("joined").await;
    let mut have: BTreeSet<i64> = (1..=last_seen).collect();
    for m in joined["messages"].as_array().expect("messages") {
        assert!(
            have.insert(m["seq"].as_i64().expect("seq")),
            "duplicate {m}"
        );
    }
    assert_eq!(have, all_seqs(&a, &users[2].access, room).await);
}
