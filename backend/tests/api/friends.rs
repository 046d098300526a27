//! Friends: search, requests (mutual ones accept both), the friends list, blocks that
//! the blocked user cannot notice, and presence that reaches online friends only, once
//! per connection, across instances, and not forever from a dead instance.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestUser, expect_problem, expect_status, spawn_app, spawn_app_with,
    spawn_peer,
};
use crate::ws::Ws;

on_all_backends!(
    search_requests_and_friends,
    blocks_are_silent,
    presence_reaches_online_friends_once_per_connection,
);
on_shared_backends!(
    presence_spans_instances,
    a_dead_instance_does_not_keep_users_online
);

pub async fn request(app: &TestApp, from: &TestUser, to: &TestUser, note: &str) -> Value {
    let res = app
        .post(
            "/api/v1/friends/requests",
            &json!({"user_id": to.id, "note": note}),
            Some(&from.access),
        )
        .await;
    expect_status(res, StatusCode::CREATED).await
}

/// Make `a` and `b` friends (a asks, b accepts).
pub async fn befriend(app: &TestApp, a: &TestUser, b: &TestUser) {
    let sent = request(app, a, b, "").await;
    let id = sent["request"]["id"].as_i64().expect("request id");
    let res = app
        .post(
            &format!("/api/v1/friends/requests/{id}/accept"),
            &json!({}),
            Some(&b.access),
        )
        .await;
    expect_status(res, StatusCode::OK).await;
}

/// A bodiless call as `who`.
async fn act(app: &TestApp, method: Method, path: &str, who: &TestUser) -> reqwest::Response {
    app.send(method, path, &json!({}), &who.access).await
}

/// `PUT` (block) or `DELETE` (unblock) `/blocks/{target}` as `who`.
async fn blocks(
    app: &TestApp,
    method: Method,
    who: &TestUser,
    target: &TestUser,
) -> reqwest::Response {
    act(app, method, &format!("/api/v1/blocks/{}", target.id), who).await
}

/// How `viewer`'s friends list shows `friend`.
async fn friend_row(app: &TestApp, viewer: &TestUser, friend: &TestUser) -> Value {
    let list = get_ok(app, "/api/v1/friends", viewer).await;
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|f| f["user"]["id"] == friend.id)
        .cloned()
        .unwrap_or_else(|| panic!("{} not in {list}", friend.id))
}

async fn get_ok(app: &TestApp, path: &str, who: &TestUser) -> Value {
    expect_status(app.get(path, Some(&who.access)).await, StatusCode::OK).await
}

fn ids(page: &Value, pointer: &str) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i.pointer(pointer).and_then(Value::as_i64).expect("id"))
        .collect()
}

async fn search(app: &TestApp, who: &TestUser, q: &str) -> Value {
    let q = urlencode(q);
    get_ok(app, &format!("/api/v1/users/search?q={q}"), who).await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Messages received up to (not including) the answer to a clock sync sent now: what
/// arrived before it, without waiting on a timeout.
async fn drain(ws: &mut Ws) -> Vec<Value> {
    ws.send(json!({"type": "time_sync", "client_time": 1.0}))
        .await;
    ws.frames_until("time_sync", |_| true).await
}

fn presence_of(frames: &[Value], user: i64) -> Vec<&Value> {
    frames
        .iter()
        .filter(|f| f["type"] == "friend_presence" && f["user_id"] == user)
        .collect()
}

async fn search_requests_and_friends(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/me",
            &json!({"nickname": "小鲍勃"}),
            &bob.access,
        )
        .await;
    expect_status(res, StatusCode::OK).await;

    // Search: by username prefix (any case) and by nickname prefix, never myself.
    let hits = search(&app, &alice, &bob.username[..5].to_uppercase()).await;
    assert_eq!(ids(&hits, "/user/id"), vec![bob.id], "{hits}");
    assert_eq!(hits["items"][0]["relationship"], "none");
    let hits = search(&app, &alice, "小鲍").await;
    assert_eq!(ids(&hits, "/user/id"), vec![bob.id], "{hits}");
    assert!(ids(&search(&app, &alice, &alice.username).await, "/user/id").is_empty());
    // Wildcards are literal: `_` and `%` match no username start.
    for q in ["_", "%", "\\"] {
        assert!(
            ids(&search(&app, &alice, q).await, "/user/id").is_empty(),
            "{q}"
        );
    }
    for q in ["", "   ", &"a".repeat(33)] {
        let res = app
            .get(
                &format!("/api/v1/users/search?q={}", urlencode(q)),
                Some(&alice.access),
            )
            .await;
        expect_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
    let res = app.get("/api/v1/users/search?q=bob", None).await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // A request with a note reaches Bob's socket as a notification.
    let mut bob_ws = app.ws(&bob.access).await;
    let sent = request(&app, &alice, &bob, "一起看电影吧").await;
    assert_eq!(sent["relationship"], "request_sent");
    assert_eq!(sent["request"]["user"]["id"], bob.id);
    let n = bob_ws.recv_type("notification").await;
    assert_eq!(n["notification"]["kind"], "friend_request");
    assert_eq!(n["notification"]["actor"]["id"], alice.id);
    assert_eq!(n["notification"]["payload"]["note"], "一起看电影吧");
    let incoming = get_ok(&app, "/api/v1/friends/requests/incoming", &bob).await;
    assert_eq!(ids(&incoming, "/user/id"), vec![alice.id]);
    assert_eq!(incoming["items"][0]["note"], "一起看电影吧");
    let outgoing = get_ok(&app, "/api/v1/friends/requests/outgoing", &alice).await;
    assert_eq!(ids(&outgoing, "/user/id"), vec![bob.id]);
    let hits = search(&app, &bob, &alice.username).await;
    assert_eq!(hits["items"][0]["relationship"], "request_received");
    let hits = search(&app, &alice, &bob.username).await;
    assert_eq!(hits["items"][0]["relationship"], "request_sent");
    // Sending again changes the note and notifies nobody twice.
    let again = request(&app, &alice, &bob, "再问一次").await;
    assert_eq!(again["request"]["id"], sent["request"]["id"]);
    let frames = drain(&mut bob_ws).await;
    assert!(
        frames.iter().all(|f| f["type"] != "notification"),
        "{frames:?}"
    );

    // Bad requests.
    for (body, status, code) in [
        (
            json!({"user_id": bob.id, "note": "长".repeat(201)}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            json!({"user_id": alice.id}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            json!({"user_id": 999_999_999}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"user": bob.id}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ] {
        let res = app
            .post("/api/v1/friends/requests", &body, Some(&alice.access))
            .await;
        expect_problem(res, status, code).await;
    }
    // Only the recipient accepts; Alice cannot accept her own request.
    let rid = sent["request"]["id"].as_i64().expect("id");
    let res = app
        .post(
            &format!("/api/v1/friends/requests/{rid}/accept"),
            &json!({}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let mut alice_ws = app.ws(&alice.access).await;
    let res = app
        .post(
            &format!("/api/v1/friends/requests/{rid}/accept"),
            &json!({}),
            Some(&bob.access),
        )
        .await;
    let friend = expect_status(res, StatusCode::OK).await;
    assert_eq!(friend["user"]["id"], alice.id);
    // Alice has a socket open: online in the answer, or (her connection is registered a
    // moment after the upgrade) in the list soon after.
    let mut online = friend["online"] == true;
    for _ in 0..50 {
        if online {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        online = friend_row(&app, &bob, &alice).await["online"] == true;
    }
    assert!(online, "Alice has a socket open: {friend}");
    let n = alice_ws.recv_type("notification").await;
    assert_eq!(n["notification"]["kind"], "friend_accepted");
    assert_eq!(n["notification"]["actor"]["id"], bob.id);
    assert!(
        ids(
            &get_ok(&app, "/api/v1/friends/requests/incoming", &bob).await,
            "/id"
        )
        .is_empty()
    );
    assert_eq!(
        ids(&get_ok(&app, "/api/v1/friends", &alice).await, "/user/id"),
        vec![bob.id]
    );
    assert_eq!(
        ids(&get_ok(&app, "/api/v1/friends", &bob).await, "/user/id"),
        vec![alice.id]
    );
    let res = app
        .post(
            "/api/v1/friends/requests",
            &json!({"user_id": bob.id}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "already_friends").await;

    // Mutual requests: the second one accepts both.
    request(&app, &carol, &alice, "hi").await;
    let both = request(&app, &alice, &carol, "").await;
    assert_eq!(both["relationship"], "friend");
    assert!(both["request"].is_null());
    assert!(
        ids(
            &get_ok(&app, "/api/v1/friends/requests/outgoing", &carol).await,
            "/id"
        )
        .is_empty()
    );
    assert!(
        ids(
            &get_ok(&app, "/api/v1/friends/requests/outgoing", &alice).await,
            "/id"
        )
        .is_empty()
    );
    let n = carol_accepted(&app, &carol).await;
    assert_eq!(n["actor"]["id"], alice.id);

    // Decline (the recipient) and cancel (the sender); nobody else can.
    let r = request(&app, &dave, &alice, "").await["request"]["id"]
        .as_i64()
        .expect("id");
    let res = app
        .post(
            &format!("/api/v1/friends/requests/{r}/decline"),
            &json!({}),
            Some(&bob.access),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post(
            &format!("/api/v1/friends/requests/{r}/decline"),
            &json!({}),
            Some(&alice.access),
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    assert!(
        ids(
            &get_ok(&app, "/api/v1/friends/requests/outgoing", &dave).await,
            "/id"
        )
        .is_empty()
    );
    let r = request(&app, &dave, &alice, "").await["request"]["id"]
        .as_i64()
        .expect("id");
    let res = act(
        &app,
        Method::DELETE,
        &format!("/api/v1/friends/requests/{r}"),
        &alice,
    )
    .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = act(
        &app,
        Method::DELETE,
        &format!("/api/v1/friends/requests/{r}"),
        &dave,
    )
    .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    assert!(
        ids(
            &get_ok(&app, "/api/v1/friends/requests/incoming", &alice).await,
            "/id"
        )
        .is_empty()
    );

    // Pages of one, in user id order, neither repeating nor skipping.
    let pages = app
        .all_pages("/api/v1/friends?limit=1", Some(&alice.access))
        .await;
    let mut all: Vec<i64> = pages
        .iter()
        .flatten()
        .map(|f| f["user"]["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(all.len(), 2);
    let sorted = {
        let mut s = all.clone();
        s.sort();
        s
    };
    assert_eq!(all, sorted);
    all.sort();
    assert_eq!(all, {
        let mut v = vec![bob.id, carol.id];
        v.sort();
        v
    });
    let res = app
        .get("/api/v1/friends?limit=0", Some(&alice.access))
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let res = app
        .get("/api/v1/friends?cursor=nonsense", Some(&alice.access))
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;

    // Remove (both sides lose it); removing again is a 404.
    let res = act(
        &app,
        Method::DELETE,
        &format!("/api/v1/friends/{}", bob.id),
        &alice,
    )
    .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    assert!(ids(&get_ok(&app, "/api/v1/friends", &bob).await, "/user/id").is_empty());
    let res = act(
        &app,
        Method::DELETE,
        &format!("/api/v1/friends/{}", bob.id),
        &alice,
    )
    .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // What the conversations code asks.
    use luojia::friends::service as fs;
    assert!(
        fs::are_friends(&app.db, alice.id, carol.id)
            .await
            .expect("db")
    );
    assert!(
        !fs::are_friends(&app.db, alice.id, bob.id)
            .await
            .expect("db")
    );
    assert_eq!(
        fs::friend_ids(&app.db, alice.id).await.expect("db"),
        vec![carol.id]
    );
}

async fn carol_accepted(app: &TestApp, carol: &TestUser) -> Value {
    let page = get_ok(app, "/api/v1/notifications", carol).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["kind"] == "friend_accepted")
        .cloned()
        .expect("friend_accepted notification")
}

async fn blocks_are_silent(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.register("alice").await;
    let mallory = app.register("mallory").await;
    let bob = app.register("bob").await;
    befriend(&app, &alice, &mallory).await;
    befriend(&app, &alice, &bob).await;
    let mut alice_ws = app.ws(&alice.access).await;
    let mut m_ws = app.ws(&mallory.access).await;
    alice_ws
        .recv_where("friend_presence", |p| {
            p["user_id"] == mallory.id && p["online"] == true
        })
        .await;

    // Alice blocks Mallory: the friendship goes (both sides).
    let res = blocks(&app, Method::PUT, &alice, &mallory).await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    let res = blocks(&app, Method::PUT, &alice, &mallory).await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    assert_eq!(
        ids(&get_ok(&app, "/api/v1/friends", &alice).await, "/user/id"),
        vec![bob.id]
    );
    assert!(ids(&get_ok(&app, "/api/v1/friends", &mallory).await, "/user/id").is_empty());
    assert_eq!(
        ids(&get_ok(&app, "/api/v1/blocks", &alice).await, "/user/id"),
        vec![mallory.id]
    );
    use luojia::friends::service as fs;
    assert!(
        fs::blocked_between(&app.db, mallory.id, alice.id)
            .await
            .expect("db")
    );
    assert!(
        fs::blocked_between(&app.db, alice.id, mallory.id)
            .await
            .expect("db")
    );
    assert!(
        !fs::blocked_between(&app.db, alice.id, bob.id)
            .await
            .expect("db")
    );

    // Mallory cannot find Alice, and cannot tell: her request answers like any other.
    assert!(ids(&search(&app, &mallory, &alice.username).await, "/user/id").is_empty());
    assert_eq!(
        ids(&search(&app, &bob, &alice.username).await, "/user/id"),
        vec![alice.id]
    );
    let to_alice = request(&app, &mallory, &alice, "let me in").await;
    let to_bob = request(&app, &mallory, &bob, "hello").await;
    assert_eq!(to_alice["relationship"], to_bob["relationship"]);
    assert_eq!(
        to_alice["request"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        to_bob["request"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
    );
    let out = get_ok(&app, "/api/v1/friends/requests/outgoing", &mallory).await;
    assert_eq!(
        ids(&out, "/user/id").len(),
        2,
        "Mallory sees both as sent: {out}"
    );
    // Nothing reached Alice.
    assert!(
        ids(
            &get_ok(&app, "/api/v1/friends/requests/incoming", &alice).await,
            "/id"
        )
        .is_empty()
    );
    let frames = drain(&mut alice_ws).await;
    assert!(
        frames.iter().all(|f| f["type"] != "notification"),
        "{frames:?}"
    );
    let notes = get_ok(&app, "/api/v1/notifications", &alice).await;
    assert!(
        notes["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|n| n["actor"]["id"] != mallory.id || n["kind"] != "friend_request"),
        "{notes}"
    );
    // Alice is told plainly: she knows she blocks Mallory.
    let res = app
        .post(
            "/api/v1/friends/requests",
            &json!({"user_id": mallory.id}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "user_blocked").await;
    assert_eq!(
        search(&app, &alice, &mallory.username).await["items"][0]["relationship"],
        "blocked_by_me"
    );

    // No presence either way: Mallory going offline and back is not told to Alice (Bob,
    // a friend, connecting afterwards is, and the presence task handles events in order).
    drop(m_ws);
    tokio::time::sleep(Duration::from_millis(200)).await;
    m_ws = app.ws(&mallory.access).await;
    let _bob_ws = app.ws(&bob.access).await;
    let before = alice_ws
        .frames_until("friend_presence", |p| p["user_id"] == bob.id)
        .await;
    assert!(presence_of(&before, mallory.id).is_empty(), "{before:?}");
    let frames = drain(&mut m_ws).await;
    assert!(presence_of(&frames, alice.id).is_empty(), "{frames:?}");

    // Unblock: the request sent meanwhile goes, as if declined; unblocking again is 404.
    let res = blocks(&app, Method::DELETE, &alice, &mallory).await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    let res = blocks(&app, Method::DELETE, &alice, &mallory).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let out = get_ok(&app, "/api/v1/friends/requests/outgoing", &mallory).await;
    assert_eq!(ids(&out, "/user/id"), vec![bob.id]);
    assert_eq!(
        ids(&search(&app, &mallory, &alice.username).await, "/user/id"),
        vec![alice.id]
    );
    let res = blocks(&app, Method::PUT, &alice, &alice).await;
    expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    let res = act(&app, Method::PUT, "/api/v1/blocks/999999999", &alice).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn presence_reaches_online_friends_once_per_connection(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let dave = app.register("dave").await;
    let carol = app.register("carol").await; // a stranger
    befriend(&app, &alice, &bob).await;
    befriend(&app, &alice, &dave).await;
    let mut a1 = app.ws(&alice.access).await;
    let mut a2 = app.ws(&alice.access).await;
    let mut c = app.ws(&carol.access).await;

    // Bob's first connection: each of Alice's connections hears it once.
    let mut b1 = app.ws(&bob.access).await;
    let b2 = app.ws(&bob.access).await; // a second device: no change
    let _d = app.ws(&dave.access).await; // a later change, to show nothing came twice
    for a in [&mut a1, &mut a2] {
        let before = a
            .frames_until("friend_presence", |p| p["user_id"] == dave.id)
            .await;
        let bobs = presence_of(&before, bob.id);
        assert_eq!(bobs.len(), 1, "{before:?}");
        assert_eq!(bobs[0]["online"], true);
        assert!(bobs[0]["last_seen"].is_null());
    }
    let frames = drain(&mut c).await;
    assert!(
        frames.iter().all(|f| f["type"] != "friend_presence"),
        "{frames:?}"
    );
    // Bob hears of Alice? No: she was online before him; he reads the list instead.
    let list = get_ok(&app, "/api/v1/friends", &bob).await;
    assert_eq!(list["items"][0]["online"], true);
    let list = get_ok(&app, "/api/v1/friends", &alice).await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|f| f["online"] == true)
    );

    // One of Bob's two connections closes: nothing. The last: offline with last seen.
    drop(b2);
    b1.send(json!({"type": "time_sync", "client_time": 1.0}))
        .await;
    b1.recv_type("time_sync").await;
    drop(b1);
    for a in [&mut a1, &mut a2] {
        let off = a
            .recv_where("friend_presence", |p| p["user_id"] == bob.id)
            .await;
        assert_eq!(off["online"], false, "{off}");
        assert!(off["last_seen"].is_string(), "{off}");
    }
    let bob_row = friend_row(&app, &alice, &bob).await;
    assert_eq!(bob_row["online"], false, "{bob_row}");
    assert!(bob_row["last_seen"].is_string(), "{bob_row}");
    // Carol, a stranger, never heard anything.
    let frames = drain(&mut c).await;
    assert!(
        frames.iter().all(|f| f["type"] != "friend_presence"),
        "{frames:?}"
    );
}

fn presence_settings() -> [(&'static str, &'static str); 2] {
    [
        ("APP_REALTIME__PRESENCE_HEARTBEAT_MS", "200"),
        ("APP_REALTIME__PRESENCE_TTL_MS", "1500"),
    ]
}

async fn presence_spans_instances(b: Backend) {
    let a = spawn_app_with(b, &presence_settings()).await;
    assert!(
        a.settings.redis_url().is_some(),
        "TEST_REDIS_URL is not set"
    );
    let other = spawn_peer(&a, |_| {}).await;
    let alice = a.register("alice").await;
    let bob = a.register("bob").await;
    let dave = a.register("dave").await;
    befriend(&a, &alice, &bob).await;
    befriend(&a, &alice, &dave).await;
    let mut alice_a = a.ws(&alice.access).await;
    let mut alice_b = other.ws(&alice.access).await;
    // Bob connects on both instances: one `online`, to each of Alice's connections.
    let bob_b = other.ws(&bob.access).await;
    let bob_a = a.ws(&bob.access).await;
    let _dave = other.ws(&dave.access).await;
    for ws in [&mut alice_a, &mut alice_b] {
        let before = ws
            .frames_until("friend_presence", |p| p["user_id"] == dave.id)
            .await;
        let bobs = presence_of(&before, bob.id);
        assert_eq!(bobs.len(), 1, "{before:?}");
        assert_eq!(bobs[0]["online"], true);
    }
    // Either instance sees him online.
    for app in [&a, &other] {
        let row = friend_row(app, &alice, &bob).await;
        assert_eq!(row["online"], true);
    }
    // His connection on B closes: still online on A, nothing is said.
    drop(bob_b);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = friend_row(&a, &alice, &bob).await;
    assert_eq!(row["online"], true, "{row}");
    // The last one (on A) closes: offline, told on both instances.
    drop(bob_a);
    for ws in [&mut alice_a, &mut alice_b] {
        let before = ws
            .frames_until("friend_presence", |p| p["user_id"] == bob.id)
            .await;
        assert!(
            presence_of(&before, bob.id).is_empty(),
            "the B close said nothing: {before:?}"
        );
    }
    let row = friend_row(&other, &alice, &bob).await;
    assert_eq!(row["online"], false, "{row}");
}

/// A `luojia serve` process sharing the deployment's database and Redis, killed (by PID)
/// on drop.
struct Instance {
    child: Child,
    address: String,
}

impl Instance {
    async fn start(first: &TestApp) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let s = &first.settings;
        let child = Command::new(env!("CARGO_BIN_EXE_luojia"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_DATA_DIR", &dir)
            .env("APP_SERVER__PORT", port.to_string())
            .env("APP_SERVER__WORKERS", "1")
            .env("APP_DATABASE__URL", &s.database.url)
            .env("APP_DATABASE__MIGRATE_ON_START", "false")
            .env("APP_REDIS__URL", &s.redis.url)
            .env("APP_REDIS__KEY_PREFIX", &s.redis.key_prefix)
            .env("APP_AUTH__JWT_SECRET", crate::helpers::JWT_SECRET)
            .env("APP_REALTIME__PRESENCE_HEARTBEAT_MS", "200")
            .env("APP_REALTIME__PRESENCE_TTL_MS", "1500")
            .env("APP_LOG__LEVEL", "warn")
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("luojia serve");
        let address = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = first.client.get(format!("{address}/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "the instance did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, address }
    }

    fn kill(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn a_dead_instance_does_not_keep_users_online(b: Backend) {
    let a = spawn_app_with(b, &presence_settings()).await;
    assert!(
        a.settings.redis_url().is_some(),
        "TEST_REDIS_URL is not set"
    );
    let alice = a.register("alice").await;
    let bob = a.register("bob").await;
    befriend(&a, &alice, &bob).await;
    let mut alice_ws = a.ws(&alice.access).await;
    let mut doomed = Instance::start(&a).await;
    let ws_url = doomed.address.replacen("http://", "ws://", 1) + "/ws";
    let mut bob_ws = crate::ws::try_connect(&ws_url, Some(&bob.access), None)
        .await
        .expect("upgrade");
    assert_eq!(bob_ws.recv().await["type"], "welcome");
    let on = alice_ws
        .recv_where("friend_presence", |p| p["user_id"] == bob.id)
        .await;
    assert_eq!(on["online"], true);
    // SIGKILL: no close, no goodbye. Within the TTL (1.5 s) plus a heartbeat, the
    // survivors take Bob offline and tell Alice.
    let killed = Instant::now();
    doomed.kill();
    let off = alice_ws
        .try_recv_where(
            "friend_presence",
            |p| p["user_id"] == bob.id,
            Duration::from_secs(8),
        )
        .await
        .expect("Bob shown offline after his instance died");
    assert_eq!(off["online"], false, "{off}");
    assert!(off["last_seen"].is_string());
    assert!(
        killed.elapsed() < Duration::from_secs(5),
        "{:?}",
        killed.elapsed()
    );
    let list = get_ok(&a, "/api/v1/friends", &alice).await;
    assert_eq!(list["items"][0]["online"], false, "{list}");
    assert!(list["items"][0]["last_seen"].is_string(), "{list}");
    drop(bob_ws);
}
