//! Direct and group conversations: what the classic tutorial chat server gets wrong,
//! each shown absent (a frame cannot claim another sender, long messages arrive intact,
//! history survives a restart, non-members read nothing, acknowledged messages are
//! neither lost nor duplicated across reconnects, devices and instances), and the group
//! rules.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestUser, expect_problem, expect_status, spawn_app, spawn_peer,
};
use crate::ws::Ws;

on_all_backends!(
    direct_messages_reach_every_device_once_with_receipts,
    a_frame_cannot_claim_another_sender,
    non_members_see_nothing,
    missed_messages_are_fetched_exactly_once_and_history_survives_a_restart,
    recall_within_two_minutes_and_delete_for_me,
    groups_roles_invites_and_history_from_joining,
    kinds_room_invite_movie_share_and_sticker,
    strangers_and_the_blocked_cannot_message,
    pictures_reach_members_with_urls_only_they_get,
    many_pairs_befriend_open_and_send_at_once,
    room_invites_and_mentions_notify,
);
on_shared_backends!(two_instances_deliver_each_message_once_to_every_device);

/// Make `a` and `b` friends through the friends API.
pub async fn befriend(app: &TestApp, a: &TestUser, b: &TestUser) {
    for (from, to) in [(a, b), (b, a)] {
        // The second request accepts the first.
        let res = app
            .post(
                "/api/v1/friends/requests",
                &json!({"user_id": to.id}),
                Some(&from.access),
            )
            .await;
        assert!(
            res.status().is_success(),
            "friend request: {}",
            res.status()
        );
    }
}

pub async fn direct(app: &TestApp, a: &TestUser, b: &TestUser) -> i64 {
    befriend(app, a, b).await;
    let res = app
        .post(
            "/api/v1/conversations/direct",
            &json!({"user_id": b.id}),
            Some(&a.access),
        )
        .await;
    let c = expect_status(res, StatusCode::CREATED).await;
    c["id"].as_i64().expect("id")
}

fn send_frame(conversation: i64, client_id: &str, text: &str) -> Value {
    json!({"type": "message_send", "conversation_id": conversation, "client_id": client_id, "text": text})
}

async fn page(app: &TestApp, u: &TestUser, c: i64, query: &str) -> Value {
    let res = app
        .get(
            &format!("/api/v1/conversations/{c}/messages{query}"),
            Some(&u.access),
        )
        .await;
    expect_status(res, StatusCode::OK).await
}

fn seqs(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect()
}

async fn unread_total(app: &TestApp, u: &TestUser) -> i64 {
    let res = app
        .get("/api/v1/conversations/unread", Some(&u.access))
        .await;
    expect_status(res, StatusCode::OK).await["total"]
        .as_i64()
        .expect("total")
}

/// A sends over the socket: A's ack, B's two devices each get the message once, the
/// 4,000-character text with emoji intact; B reads on one device: the other device and
/// A (receipt) are told, and the unread count is 0 everywhere.
async fn direct_messages_reach_every_device_once_with_receipts(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, bob) = (app.register("dm_a").await, app.register("dm_b").await);
    let c = direct(&app, &alice, &bob).await;
    // Opening it from the other side finds the same conversation.
    let res = app
        .post(
            "/api/v1/conversations/direct",
            &json!({"user_id": alice.id}),
            Some(&bob.access),
        )
        .await;
    assert_eq!(expect_status(res, StatusCode::OK).await["id"], c);

    let mut a = app.ws(&alice.access).await;
    let mut phone = app.ws(&bob.access).await;
    let mut laptop = app.ws(&bob.access).await;
    let long: String = "好😀".repeat(2_000);
    assert_eq!(long.chars().count(), 4_000);
    a.send(send_frame(c, "m1", &long)).await;
    let ack = a.recv_type("message_ack").await;
    assert_eq!(
        (ack["seq"].as_i64(), ack["duplicate"].as_bool()),
        (Some(1), Some(false))
    );
    for dev in [&mut phone, &mut laptop] {
        let m = dev.recv_type("message").await;
        assert_eq!(m["message"]["text"], long.as_str());
        assert_eq!(m["message"]["sender_id"], alice.id);
    }
    // The same client id again: the original, nothing new delivered.
    a.send(send_frame(c, "m1", &long)).await;
    let again = a.recv_type("message_ack").await;
    assert_eq!(
        (again["seq"].as_i64(), again["duplicate"].as_bool()),
        (Some(1), Some(true))
    );
    a.send(send_frame(c, "m2", "第二条")).await;
    assert_eq!(a.recv_type("message_ack").await["seq"], 2);
    for dev in [&mut phone, &mut laptop] {
        let m = dev.recv_type("message").await;
        assert_eq!(m["message"]["seq"], 2, "no duplicate of 1 came first: {m}");
    }
    // 4,001 characters are refused, with the client id echoed.
    a.send(send_frame(c, "m3", &"长".repeat(4_001))).await;
    let e = a.recv_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["req_id"].as_str()),
        (Some("validation_failed"), Some("m3"))
    );
    assert_eq!(e["conversation_id"], c);

    assert_eq!(unread_total(&app, &bob).await, 2);
    assert_eq!(
        unread_total(&app, &alice).await,
        0,
        "one's own messages are read"
    );
    let list = expect_status(
        app.get("/api/v1/conversations", Some(&bob.access)).await,
        StatusCode::OK,
    )
    .await;
    let item = &list["items"][0];
    assert_eq!(
        (item["unread"].as_i64(), item["name"].as_str()),
        (Some(2), alice.username.as_str().into())
    );
    assert_eq!(item["last_message"]["seq"], 2);

    phone
        .send(json!({"type": "message_read", "conversation_id": c, "seq": 2}))
        .await;
    let on_laptop = laptop.recv_type("message_read").await;
    assert_eq!(
        (on_laptop["user_id"].as_i64(), on_laptop["seq"].as_i64()),
        (Some(bob.id), Some(2))
    );
    let receipt = a.recv_type("message_read").await;
    assert_eq!(
        (receipt["user_id"].as_i64(), receipt["seq"].as_i64()),
        (Some(bob.id), Some(2))
    );
    assert_eq!(unread_total(&app, &bob).await, 0);
    let list = expect_status(
        app.get("/api/v1/conversations", Some(&alice.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][0]["peer_last_read_seq"], 2);

    // Typing reaches the other person, not the typist's own devices.
    laptop
        .send(json!({"type": "typing", "conversation_id": c}))
        .await;
    let t = a.recv_type("typing").await;
    assert_eq!(t["user_id"], bob.id);
}

/// The sender is the connection's user: a frame that names another sender is stored as
/// its connection's user's (the field means nothing); over REST such a body is refused.
async fn a_frame_cannot_claim_another_sender(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, bob) = (app.register("fs_a").await, app.register("fs_b").await);
    let c = direct(&app, &alice, &bob).await;
    let mut a = app.ws(&alice.access).await;
    a.send(
        json!({"type": "message_send", "conversation_id": c, "client_id": "x",
        "text": "我是 bob", "sender_id": bob.id, "sender_name": "bob"}),
    )
    .await;
    let ack = a.recv_type("message_ack").await;
    assert_eq!(ack["message"]["sender_id"], alice.id);
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "y", "text": "我是 bob", "sender_id": bob.id}),
            Some(&alice.access),
        )
        .await;
    expect_status(res, StatusCode::BAD_REQUEST).await;
    let seen = page(&app, &bob, c, "").await;
    let senders: Vec<i64> = seen["messages"]
        .as_array()
        .expect("m")
        .iter()
        .map(|m| m["sender_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(senders, [alice.id]);
}

/// Someone outside a conversation cannot read it, send to it, mark it or learn it exists.
async fn non_members_see_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, bob, eve) = (
        app.register("nm_a").await,
        app.register("nm_b").await,
        app.register("nm_e").await,
    );
    let c = direct(&app, &alice, &bob).await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "1", "text": "秘密"}),
            Some(&alice.access),
        )
        .await;
    expect_status(res, StatusCode::CREATED).await;
    for path in [
        format!("/api/v1/conversations/{c}"),
        format!("/api/v1/conversations/{c}/messages"),
        format!("/api/v1/conversations/{c}/members"),
    ] {
        expect_problem(
            app.get(&path, Some(&eve.access)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "2", "text": "x"}),
            Some(&eve.access),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/read"),
            &json!({"seq": 1}),
            Some(&eve.access),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let mut e = app.ws(&eve.access).await;
    e.send(json!({"type": "typing", "conversation_id": c}))
        .await;
    assert_eq!(e.recv_type("error").await["code"], "not_found");
    let list = expect_status(
        app.get("/api/v1/conversations", Some(&eve.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"], json!([]));
}

/// Messages sent while Bob was away: `after_seq` gives exactly those, once; a second
/// instance (a restart on the same database) serves the whole history.
async fn missed_messages_are_fetched_exactly_once_and_history_survives_a_restart(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, bob) = (app.register("mm_a").await, app.register("mm_b").await);
    let c = direct(&app, &alice, &bob).await;
    let mut a = app.ws(&alice.access).await;
    a.send(send_frame(c, "1", "在吗")).await;
    a.recv_type("message_ack").await;
    // Bob has seq 1; then he is offline while five more come.
    for i in 2..=6 {
        a.send(send_frame(c, &i.to_string(), &format!("第{i}条")))
            .await;
        a.recv_type("message_ack").await;
    }
    let missed = page(&app, &bob, c, "?after_seq=1").await;
    assert_eq!(seqs(&missed), [2, 3, 4, 5, 6]);
    assert_eq!(
        (missed["last_seq"].as_i64(), missed["more"].as_bool()),
        (Some(6), Some(false))
    );
    let some = page(&app, &bob, c, "?after_seq=1&limit=2").await;
    assert_eq!(
        (seqs(&some), some["more"].as_bool()),
        (vec![2, 3], Some(true))
    );
    let older = page(&app, &bob, c, "?before_seq=3").await;
    assert_eq!(seqs(&older), [1, 2]);
    let newest = page(&app, &bob, c, "?limit=2").await;
    assert_eq!(
        (seqs(&newest), newest["more"].as_bool()),
        (vec![5, 6], Some(true))
    );
    let found = page(&app, &bob, c, "?q=%E7%AC%AC3").await;
    assert_eq!(seqs(&found), [3]);

    let restarted = spawn_peer(&app, |_| {}).await;
    let all = page(&restarted, &bob, c, "").await;
    assert_eq!(seqs(&all), [1, 2, 3, 4, 5, 6]);
}

/// Recall: the sender within two minutes, shown as recalled to everyone; not someone
/// else's. Delete for me: gone from my pages only.
async fn recall_within_two_minutes_and_delete_for_me(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, bob) = (app.register("rc_a").await, app.register("rc_b").await);
    let c = direct(&app, &alice, &bob).await;
    let mut bw = app.ws(&bob.access).await;
    for id in ["1", "2"] {
        let res = app
            .post(
                &format!("/api/v1/conversations/{c}/messages"),
                &json!({"client_id": id, "text": "说错了"}),
                Some(&alice.access),
            )
            .await;
        expect_status(res, StatusCode::CREATED).await;
    }
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages/1/recall"),
            &json!({}),
            Some(&bob.access),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages/1/recall"),
            &json!({}),
            Some(&alice.access),
        )
        .await;
    let m = expect_status(res, StatusCode::OK).await;
    assert_eq!(
        (m["recalled"].as_bool(), m["text"].as_str()),
        (Some(true), Some(""))
    );
    let told = bw.recv_type("message_recalled").await;
    assert_eq!(told["seq"], 1);
    let seen = page(&app, &bob, c, "").await;
    assert_eq!(seen["messages"][0]["recalled"], true);
    assert_eq!(seen["messages"][0]["text"], "");
    // Too late: make the message old.
    {
        use luojia::entities::conversation_message as M;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let old = chrono::Utc::now() - chrono::Duration::minutes(3);
        M::Entity::update_many()
            .col_expr(M::Column::CreatedAt, Expr::value(old))
            .filter(M::Column::ConversationId.eq(c))
            .filter(M::Column::Seq.eq(2))
            .exec(&app.db)
            .await
            .expect("age");
    }
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages/2/recall"),
            &json!({}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "recall_expired").await;

    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/conversations/{c}/messages/2"),
            &json!({}),
            &bob.access,
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    assert_eq!(seqs(&page(&app, &bob, c, "").await), [1]);
    assert_eq!(seqs(&page(&app, &alice, c, "").await), [1, 2]);
}

/// A group: created with friends, members added see only what comes after they joined,
/// admins and the owner, the invite link (reset stops the old one), leaving, and the
/// owner's leaving handing the group on.
async fn groups_roles_invites_and_history_from_joining(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.register("g_own").await;
    let (m1, m2, late) = (
        app.register("g_m1").await,
        app.register("g_m2").await,
        app.register("g_late").await,
    );
    for u in [&m1, &m2, &late] {
        befriend(&app, &owner, u).await;
    }
    let res = app
        .post(
            "/api/v1/conversations/groups",
            &json!({"name": "  周末电影小组 ", "member_ids": [m1.id, m2.id, m1.id, owner.id]}),
            Some(&owner.access),
        )
        .await;
    let g = expect_status(res, StatusCode::CREATED).await;
    let c = g["id"].as_i64().expect("id");
    assert_eq!(
        (
            g["name"].as_str(),
            g["member_count"].as_i64(),
            g["my_role"].as_str()
        ),
        (Some("周末电影小组"), Some(3), Some("owner"))
    );
    let code = g["invite_code"]
        .as_str()
        .expect("owner sees the code")
        .to_owned();
    let res = app
        .post(
            "/api/v1/conversations/groups",
            &json!({"name": ""}),
            Some(&owner.access),
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;

    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "a", "text": "早"}),
            Some(&m1.access),
        )
        .await;
    expect_status(res, StatusCode::CREATED).await;
    // A member may not add, rename or name admins.
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/members"),
            &json!({"user_ids": [late.id]}),
            Some(&m2.access),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/conversations/{c}"),
            &json!({"name": "x"}),
            &m2.access,
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // The owner makes m1 an admin; m1 adds `late`, who sees only what follows.
    let res = app
        .send(
            Method::PUT,
            &format!("/api/v1/conversations/{c}/members/{}/role", m1.id),
            &json!({"role": "admin"}),
            &owner.access,
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    let mut late_ws = app.ws(&late.access).await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/members"),
            &json!({"user_ids": [late.id]}),
            Some(&owner.access),
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    late_ws.recv_type("conversation_changed").await;
    let seen = page(&app, &late, c, "").await;
    let texts: Vec<&str> = seen["messages"]
        .as_array()
        .expect("m")
        .iter()
        .filter_map(|m| m["event"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["joined"],
        "only the system message of their joining: {seen}"
    );
    assert_eq!(unread_total(&app, &late).await, 0);
    // An admin cannot remove the owner or another admin; the owner removes m2.
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/conversations/{c}/members/{}", owner.id),
            &json!({}),
            &m1.access,
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/conversations/{c}/members/{}", m2.id),
            &json!({}),
            &owner.access,
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    expect_problem(
        app.get(&format!("/api/v1/conversations/{c}"), Some(&m2.access))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // m2 rejoins by the link; a reset link stops working.
    let preview = expect_status(
        app.get(
            &format!("/api/v1/conversation-invites/{code}"),
            Some(&m2.access),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            preview["member"].as_bool(),
            preview["member_count"].as_i64()
        ),
        (Some(false), Some(3))
    );
    let res = app
        .post(
            &format!("/api/v1/conversation-invites/{code}"),
            &json!({}),
            Some(&m2.access),
        )
        .await;
    assert_eq!(expect_status(res, StatusCode::OK).await["member_count"], 4);
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/invite"),
            &json!({}),
            Some(&m1.access),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/invite"),
            &json!({}),
            Some(&owner.access),
        )
        .await;
    let fresh = expect_status(res, StatusCode::OK).await["invite_code"]
        .as_str()
        .expect("code")
        .to_owned();
    assert_ne!(fresh, code);
    expect_problem(
        app.get(
            &format!("/api/v1/conversation-invites/{code}"),
            Some(&m2.access),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The owner leaves: the admin m1 owns it now.
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/conversations/{c}/members/{}", owner.id),
            &json!({}),
            &owner.access,
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    let g = expect_status(
        app.get(&format!("/api/v1/conversations/{c}"), Some(&m1.access))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (g["my_role"].as_str(), g["member_count"].as_i64()),
        (Some("owner"), Some(3))
    );
    // Direct conversations have no group settings.
    let d = direct(&app, &m1, &m2).await;
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/conversations/{d}"),
            &json!({"name": "x"}),
            &m1.access,
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "conflict").await;
}

/// A room invite (only a room member may send one), a movie share and a built-in sticker.
async fn kinds_room_invite_movie_share_and_sticker(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let movie = app.ready_movie(&admin, json!({"title": "千与千寻"})).await;
    let (alice, bob) = (app.register("k_a").await, app.register("k_b").await);
    let c = direct(&app, &alice, &bob).await;
    let room = crate::realtime::room_with(&app, &alice, &[], "host").await;
    let send = |body: Value, who: &TestUser| {
        let token = who.access.clone();
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/conversations/{c}/messages"),
                &body,
                Some(&token),
            )
            .await
        }
    };
    let r = expect_status(
        send(
            json!({"client_id": "r", "kind": "room_invite", "room_id": room}),
            &alice,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(r["message"]["room"]["room_id"], room);
    assert!(
        r["message"]["room"]["invite_code"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let res = send(
        json!({"client_id": "r2", "kind": "room_invite", "room_id": room}),
        &bob,
    )
    .await;
    expect_status(res, StatusCode::FORBIDDEN).await;
    let m = expect_status(
        send(
            json!({"client_id": "m", "kind": "movie_share", "movie_id": movie}),
            &bob,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(m["message"]["movie"]["title"], "千与千寻");
    let s = expect_status(
        send(
            json!({"client_id": "s", "kind": "sticker", "sticker": "builtin:luojia/haha"}),
            &bob,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(s["message"]["sticker"], "builtin:luojia/haha");
    for bad in [
        json!({"client_id": "b1", "kind": "sticker", "sticker": "https://evil/x.gif"}),
        json!({"client_id": "b0", "kind": "sticker", "sticker": "builtin:luojia/no-such"}),
        json!({"client_id": "b2", "kind": "text", "text": "hi", "movie_id": movie}),
        json!({"client_id": "b3", "kind": "system"}),
        json!({"client_id": "b4", "kind": "text", "text": "   "}),
        json!({"client_id": "", "text": "hi"}),
    ] {
        let res = send(bad.clone(), &bob).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let res = send(
        json!({"client_id": "b5", "kind": "movie_share", "movie_id": 999_999}),
        &bob,
    )
    .await;
    expect_status(res, StatusCode::NOT_FOUND).await;
}

/// Alice on instance 1, Bob's phone on instance 1 and laptop on instance 2, both
/// sending at once: every device gets every message once, in `seq` order per device
/// once sorted, and nothing acknowledged is missing.
async fn two_instances_deliver_each_message_once_to_every_device(b: Backend) {
    let one = spawn_app(b).await;
    let two = spawn_peer(&one, |_| {}).await;
    let (alice, bob) = (one.register("ti_a").await, one.register("ti_b").await);
    let c = direct(&one, &alice, &bob).await;
    let mut a = one.ws(&alice.access).await;
    let mut phone = one.ws(&bob.access).await;
    let mut laptop = two.ws(&bob.access).await;
    // Let the second instance's subscription settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    const N: usize = 20;
    for i in 0..N {
        a.send(send_frame(c, &format!("a{i}"), "来自一号")).await;
        phone
            .send(send_frame(c, &format!("p{i}"), "来自手机"))
            .await;
    }
    async fn collect(ws: &mut Ws, want: usize) -> Vec<i64> {
        let mut got = Vec::new();
        while got.len() < want {
            let m = ws.recv_type("message").await;
            got.push(m["message"]["seq"].as_i64().expect("seq"));
        }
        assert!(
            ws.try_recv_where("message", |_| true, Duration::from_millis(500))
                .await
                .is_none(),
            "a duplicate"
        );
        got.sort_unstable();
        got
    }
    let all: Vec<i64> = (1..=(2 * N) as i64).collect();
    assert_eq!(collect(&mut laptop, 2 * N).await, all);
    assert_eq!(collect(&mut a, 2 * N).await, all);
    assert_eq!(collect(&mut phone, 2 * N).await, all);
}

/// A direct conversation needs friends; after a block neither side can send, and the
/// blocked side gets the same answer as a stranger (it does not learn of the block).
async fn strangers_and_the_blocked_cannot_message(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, bob, eve) = (
        app.register("sb_a").await,
        app.register("sb_b").await,
        app.register("sb_e").await,
    );
    let res = app
        .post(
            "/api/v1/conversations/direct",
            &json!({"user_id": eve.id}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "not_friends").await;
    let res = app
        .post(
            "/api/v1/conversations/groups",
            &json!({"name": "g", "member_ids": [eve.id]}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "not_friends").await;
    let c = direct(&app, &alice, &bob).await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "1", "text": "hi"}),
            Some(&bob.access),
        )
        .await;
    expect_status(res, StatusCode::CREATED).await;
    let res = app
        .send(
            Method::PUT,
            &format!("/api/v1/blocks/{}", bob.id),
            &json!({}),
            &alice.access,
        )
        .await;
    assert!(res.status().is_success(), "block: {}", res.status());
    let mut bw = app.ws(&bob.access).await;
    bw.send(send_frame(c, "2", "还在吗")).await;
    let e = bw.recv_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["req_id"].as_str()),
        (Some("not_friends"), Some("2"))
    );
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "3", "text": "hi"}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::FORBIDDEN, "not_friends").await;
    // History stays readable; nothing new was stored.
    assert_eq!(seqs(&page(&app, &alice, c, "").await), [1]);
}

/// A picture: attached by its uploader only, of the right kind; members get a working
/// short-lived URL with the message; the uploader's id is useless to anyone else.
async fn pictures_reach_members_with_urls_only_they_get(b: Backend) {
    use crate::uploads::{encode, fetch, picture, upload};
    let app = spawn_app(b).await;
    let (alice, bob, eve) = (
        app.register("pi_a").await,
        app.register("pi_b").await,
        app.register("pi_e").await,
    );
    let c = direct(&app, &alice, &bob).await;
    let png = encode(
        &image::DynamicImage::ImageRgb8(picture(64, 48)),
        image::ImageFormat::Png,
    );
    let up = expect_status(
        upload(&app, &alice.access, "image", "a.png", "image/png", png).await,
        StatusCode::CREATED,
    )
    .await;
    let id = up["id"].as_i64().expect("id");
    let mut bw = app.ws(&bob.access).await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "v", "kind": "voice", "upload_id": id}),
            Some(&alice.access),
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "i", "kind": "image", "upload_id": id}),
            Some(&alice.access),
        )
        .await;
    expect_status(res, StatusCode::CREATED).await;
    let m = bw.recv_type("message").await;
    let att = &m["message"]["attachment"];
    assert_eq!(
        (att["upload_id"].as_i64(), att["width"].as_i64()),
        (Some(id), Some(64))
    );
    let got = fetch(&app, att["url"].as_str().expect("url")).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert!(att["thumb_url"].as_str().is_some());
    // In history too, with fresh URLs.
    let seen = page(&app, &bob, c, "").await;
    assert_eq!(
        fetch(
            &app,
            seen["messages"][0]["attachment"]["url"]
                .as_str()
                .expect("url")
        )
        .await
        .status(),
        StatusCode::OK
    );
    // Someone else cannot attach Alice's upload.
    let eve_friend = app.register("pi_f").await;
    let d = direct(&app, &eve, &eve_friend).await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{d}/messages"),
            &json!({"client_id": "x", "kind": "image", "upload_id": id}),
            Some(&eve.access),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // Unsigned, the picture is not served.
    assert_eq!(
        fetch(&app, &format!("/api/v1/media/{id}"))
            .await
            .status()
            .as_u16()
            / 100,
        4
    );
}

/// Twelve pairs at once: friend requests both ways, opening the conversation and sending
/// over REST all run concurrently, and every call succeeds (on SQLite a deferred
/// transaction that reads and then writes used to fail with "database is locked").
async fn many_pairs_befriend_open_and_send_at_once(b: Backend) {
    let app = spawn_app(b).await;
    let mut users = Vec::new();
    for i in 0..24 {
        users.push(app.register(&format!("mp{i}")).await);
    }
    let app = &app;
    let runs = users.chunks(2).map(|p| async move {
        let (a, b) = (&p[0], &p[1]);
        let (to_b, to_a) = (json!({"user_id": b.id}), json!({"user_id": a.id}));
        let (x, y) = futures_util::join!(
            app.post("/api/v1/friends/requests", &to_b, Some(&a.access)),
            app.post("/api/v1/friends/requests", &to_a, Some(&b.access)),
        );
        assert!(
            x.status().is_success() && y.status().is_success(),
            "{} {}",
            x.status(),
            y.status()
        );
        let res = app
            .post("/api/v1/conversations/direct", &to_b, Some(&a.access))
            .await;
        let c = expect_status(res, StatusCode::CREATED).await["id"]
            .as_i64()
            .expect("id");
        let path = format!("/api/v1/conversations/{c}/messages");
        let bodies: Vec<Value> = (0..5)
            .map(|k| json!({"client_id": k.to_string(), "text": "hi"}))
            .collect();
        let sends = bodies.iter().enumerate().map(|(k, body)| {
            let who = if k % 2 == 0 { a } else { b };
            app.post(&path, body, Some(&who.access))
        });
        for res in futures_util::future::join_all(sends).await {
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        assert_eq!(seqs(&page(app, a, c, "").await), [1, 2, 3, 4, 5]);
    });
    futures_util::future::join_all(runs).await;
}

/// A room invite in a direct conversation and an `@name` in a group or a room's chat each
/// become a notification for the person meant (and nobody else).
async fn room_invites_and_mentions_notify(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, bob, carol) = (
        app.register("nt_a").await,
        app.register("nt_b").await,
        app.register("nt_c").await,
    );
    let kinds = |who: &TestUser| {
        let app = &app;
        let token = who.access.clone();
        async move {
            let list = expect_status(
                app.get("/api/v1/notifications", Some(&token)).await,
                StatusCode::OK,
            )
            .await;
            list["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
                .filter(|k| k != "friend_request" && k != "friend_accepted")
                .collect::<Vec<_>>()
        }
    };
    let c = direct(&app, &alice, &bob).await;
    befriend(&app, &alice, &carol).await;
    let room = crate::realtime::room_with(&app, &alice, &[&carol], "host").await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "r", "kind": "room_invite", "room_id": room}),
            Some(&alice.access),
        )
        .await;
    expect_status(res, StatusCode::CREATED).await;
    assert_eq!(kinds(&bob).await, ["room_invite"]);
    let res = app
        .post(
            "/api/v1/conversations/groups",
            &json!({"name": "三人行", "member_ids": [bob.id, carol.id]}),
            Some(&alice.access),
        )
        .await;
    let g = expect_status(res, StatusCode::CREATED).await["id"]
        .as_i64()
        .expect("id");
    let res = app
        .post(
            &format!("/api/v1/conversations/{g}/messages"),
            &json!({"client_id": "m", "text": format!("@{} 一起看吗", carol.username)}),
            Some(&alice.access),
        )
        .await;
    expect_status(res, StatusCode::CREATED).await;
    assert_eq!(kinds(&carol).await, ["mention"]);
    assert_eq!(kinds(&bob).await, ["room_invite"], "bob was not named");
    // In a room's chat: Alice names Carol (a member) and Bob (not one).
    let mut ws = app.ws_joined(&alice.access, room).await.0;
    ws.send(json!({"type": "chat", "room_id": room, "client_id": "x",
        "text": format!("@{} @{} 开始了", carol.username, bob.username)}))
        .await;
    ws.recv_type("chat_ack").await;
    assert_eq!(kinds(&carol).await, ["mention", "mention"]);
    assert_eq!(kinds(&bob).await, ["room_invite"]);
}
