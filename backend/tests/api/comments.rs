//! Comments and ratings: rights, soft deletes, one level of replies, idempotent likes,
//! exact counters under concurrency, pagination, input limits and the damped rating.

use std::collections::HashSet;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, expect_problem, expect_status, spawn_app};

on_all_backends!(
    only_authors_edit_and_authors_or_admins_delete,
    deleted_comments_keep_their_thread,
    replies_are_one_level_deep,
    likes_are_idempotent,
    concurrent_likes_count_exactly,
    concurrent_ratings_keep_the_average_exact,
    comment_pages_never_lose_or_repeat_items,
    bad_social_input_gets_4xx,
    one_ten_ranks_below_fifty_nines,
);

async fn setup(app: &TestApp) -> (TestUser, i64) {
    let admin = app.admin().await;
    let movie = app
        .ready_movie(&admin, json!({"title": "霸王别姬", "year": 1993}))
        .await;
    (admin, movie)
}

async fn users(app: &TestApp, n: usize) -> Vec<TestUser> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(app.register("fan").await);
    }
    out
}

async fn comment(app: &TestApp, user: &TestUser, movie: i64, body: Value) -> Value {
    expect_status(
        app.post(
            &format!("/api/v1/movies/{movie}/comments"),
            &body,
            Some(&user.access),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn list(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    expect_status(app.get(path, token).await, StatusCode::OK).await
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

async fn only_authors_edit_and_authors_or_admins_delete(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, movie) = setup(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let c = comment(
        &app,
        &alice,
        movie,
        json!({"body": "  程蝶衣！ <b>not html</b>\n"}),
    )
    .await;
    let cid = id(&c);
    assert_eq!(c["body"], "程蝶衣！ <b>not html</b>");
    assert_eq!(c["author"]["id"], alice.id);
    assert_eq!(c["author"]["name"], alice.username.as_str());
    assert_eq!(c["edited"], false);
    assert_eq!(c["deleted"], false);

    // Bob can neither edit nor delete Alice's comment; nor can an admin edit it.
    for token in [&bob.access, &admin.access] {
        expect_problem(
            app.send(
                Method::PATCH,
                &format!("/api/v1/comments/{cid}"),
                &json!({"body": "hijacked"}),
                token,
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    expect_problem(
        app.send(
            Method::DELETE,
            &format!("/api/v1/comments/{cid}"),
            &json!({}),
            &bob.access,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Anonymous writes need a token.
    expect_problem(
        app.post(
            &format!("/api/v1/movies/{movie}/comments"),
            &json!({"body": "hi"}),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;

    // Alice edits hers: marked edited.
    let edited = expect_status(
        app.send(
            Method::PATCH,
            &format!("/api/v1/comments/{cid}"),
            &json!({"body": "张国荣"}),
            &alice.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["body"], "张国荣");
    assert_eq!(edited["edited"], true);
    assert!(edited["edited_at"].is_string());

    // Admins delete anyone's comment; authors their own.
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/comments/{cid}"),
            &json!({}),
            &admin.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let own = id(&comment(&app, &bob, movie, json!({"body": "mine"})).await);
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/comments/{own}"),
            &json!({}),
            &bob.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let page = list(&app, &format!("/api/v1/movies/{movie}/comments"), None).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|c| c["deleted"] == true && c["body"] == "")
    );
    // A deleted comment cannot be edited any more.
    expect_problem(
        app.send(
            Method::PATCH,
            &format!("/api/v1/comments/{own}"),
            &json!({"body": "back"}),
            &bob.access,
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
}

async fn deleted_comments_keep_their_thread(b: Backend) {
    let app = spawn_app(b).await;
    let (_, movie) = setup(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let top = id(&comment(&app, &alice, movie, json!({"body": "top"})).await);
    let mut replies = Vec::new();
    for i in 0..3 {
        let r = comment(
            &app,
            &bob,
            movie,
            json!({"body": format!("reply {i}"), "parent_id": top}),
        )
        .await;
        assert_eq!(r["parent_id"], top);
        replies.push(id(&r));
    }
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/comments/{top}"),
            &json!({}),
            &alice.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    // Top-level listing: the parent stays, empty and marked deleted, with its replies
    // counted; replies are not listed at the top level.
    let page = list(&app, &format!("/api/v1/movies/{movie}/comments"), None).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], top);
    assert_eq!(items[0]["deleted"], true);
    assert_eq!(items[0]["body"], "");
    assert_eq!(items[0]["reply_count"], 3);
    // Replies still listed, oldest first.
    let r = list(&app, &format!("/api/v1/comments/{top}/replies"), None).await;
    let got: Vec<i64> = r["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id)
        .collect();
    assert_eq!(got, replies);
    assert_eq!(r["items"][0]["body"], "reply 0");
    // Paged replies too.
    let first = list(
        &app,
        &format!("/api/v1/comments/{top}/replies?limit=2"),
        None,
    )
    .await;
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second = list(
        &app,
        &format!("/api/v1/comments/{top}/replies?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(second["items"].as_array().expect("items").len(), 1);
    assert_eq!(second["items"][0]["id"], replies[2]);
    assert!(second["next_cursor"].is_null());
    // Deleting twice is fine.
    expect_status(
        app.send(
            Method::DELETE,
            &format!("/api/v1/comments/{top}"),
            &json!({}),
            &alice.access,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

async fn replies_are_one_level_deep(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, movie) = setup(&app).await;
    let other = app
        .ready_movie(&admin, json!({"title": "活着", "year": 1994}))
        .await;
    let u = app.register("u").await;
    let top = id(&comment(&app, &u, movie, json!({"body": "top"})).await);
    let reply = id(&comment(&app, &u, movie, json!({"body": "r", "parent_id": top})).await);
    let path = format!("/api/v1/movies/{movie}/comments");
    for parent in [reply, 999_999] {
        let p = expect_problem(
            app.post(
                &path,
                &json!({"body": "deeper", "parent_id": parent}),
                Some(&u.access),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
        assert_eq!(p["field"], "parent_id");
    }
    // The parent must belong to the same movie.
    let p = expect_problem(
        app.post(
            &format!("/api/v1/movies/{other}/comments"),
            &json!({"body": "elsewhere", "parent_id": top}),
            Some(&u.access),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p["field"], "parent_id");
    let page = list(&app, &path, None).await;
    assert_eq!(page["items"][0]["reply_count"], 1);
}

async fn like(app: &TestApp, method: Method, cid: i64, user: &TestUser) -> Value {
    expect_status(
        app.send(
            method,
            &format!("/api/v1/comments/{cid}/like"),
            &json!({}),
            &user.access,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

async fn likes_are_idempotent(b: Backend) {
    let app = spawn_app(b).await;
    let (_, movie) = setup(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let cid = id(&comment(&app, &alice, movie, json!({"body": "like me"})).await);
    let r = like(&app, Method::POST, cid, &bob).await;
    assert_eq!(r, json!({"liked": true, "like_count": 1}));
    let r = like(&app, Method::POST, cid, &bob).await;
    assert_eq!(r, json!({"liked": true, "like_count": 1}));
    like(&app, Method::POST, cid, &alice).await;
    let path = format!("/api/v1/movies/{movie}/comments");
    let mine = list(&app, &path, Some(&bob.access)).await;
    assert_eq!(mine["items"][0]["like_count"], 2);
    assert_eq!(mine["items"][0]["liked_by_me"], true);
    let anon = list(&app, &path, None).await;
    assert_eq!(anon["items"][0]["liked_by_me"], false);
    // Unlike, twice.
    let r = like(&app, Method::DELETE, cid, &bob).await;
    assert_eq!(r, json!({"liked": false, "like_count": 1}));
    let r = like(&app, Method::DELETE, cid, &bob).await;
    assert_eq!(r, json!({"liked": false, "like_count": 1}));
    let mine = list(&app, &path, Some(&bob.access)).await;
    assert_eq!(mine["items"][0]["liked_by_me"], false);
    assert_eq!(mine["items"][0]["like_count"], 1);
    // Unknown comment.
    expect_problem(
        app.send(
            Method::POST,
            "/api/v1/comments/999999/like",
            &json!({}),
            &bob.access,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn concurrent_likes_count_exactly(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, movie) = setup(&app).await;
    let cid = id(&comment(&app, &admin, movie, json!({"body": "popular"})).await);
    let fans = users(&app, 20).await;
    let path = format!("/api/v1/movies/{movie}/comments");
    for (method, expected) in [(Method::POST, 20), (Method::DELETE, 0)] {
        let results = join_all(fans.iter().map(|u| {
            let method = method.clone();
            let app = &app;
            async move {
                app.send(
                    method,
                    &format!("/api/v1/comments/{cid}/like"),
                    &json!({}),
                    &u.access,
                )
                .await
            }
        }))
        .await;
        for r in results {
            expect_status(r, StatusCode::OK).await;
        }
        let page = list(&app, &path, None).await;
        assert_eq!(page["items"][0]["like_count"], expected, "{method}");
    }
}

async fn rating(app: &TestApp, movie: i64, user: &TestUser, score: i64) -> Value {
    expect_status(
        app.send(
            Method::PUT,
            &format!("/api/v1/movies/{movie}/rating"),
            &json!({ "score": score }),
            &user.access,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

async fn movie_figures(app: &TestApp, movie: i64) -> (i64, f64) {
    let m = list(app, &format!("/api/v1/movies/{movie}"), None).await;
    (
        m["rating_count"].as_i64().expect("count"),
        m["rating_avg"].as_f64().expect("avg"),
    )
}

async fn concurrent_ratings_keep_the_average_exact(b: Backend) {
    let app = spawn_app(b).await;
    let (_, movie) = setup(&app).await;
    let fans = users(&app, 20).await;
    let scores: Vec<i64> = (0..20).map(|i| (i * 7 % 10) + 1).collect();
    let results = join_all(fans.iter().zip(&scores).map(|(u, s)| {
        let app = &app;
        async move {
            app.send(
                Method::PUT,
                &format!("/api/v1/movies/{movie}/rating"),
                &json!({ "score": s }),
                &u.access,
            )
            .await
        }
    }))
    .await;
    for r in results {
        expect_status(r, StatusCode::OK).await;
    }
    let mean = |s: &[i64]| s.iter().sum::<i64>() as f64 / s.len() as f64;
    let (n, avg) = movie_figures(&app, movie).await;
    assert_eq!(n, 20);
    assert!(
        (avg - mean(&scores)).abs() < 1e-9,
        "{avg} vs {}",
        mean(&scores)
    );

    // Own score readable; change it.
    let mine = list(
        &app,
        &format!("/api/v1/movies/{movie}/rating"),
        Some(&fans[0].access),
    )
    .await;
    assert_eq!(mine["score"], scores[0]);
    let changed = rating(&app, movie, &fans[0], 10).await;
    assert_eq!(changed["score"], 10);
    let mut now = scores.clone();
    now[0] = 10;
    assert_eq!(changed["movie"]["rating_count"], 20);
    let (n, avg) = movie_figures(&app, movie).await;
    assert_eq!(n, 20);
    assert!((avg - mean(&now)).abs() < 1e-9);
    // The movie page carries the caller's score and the damped score `sort=rating` uses.
    let detail = list(
        &app,
        &format!("/api/v1/movies/{movie}"),
        Some(&fans[0].access),
    )
    .await;
    assert_eq!(detail["my_score"], 10);
    let damped = (10.0 * 6.0 + now.iter().sum::<i64>() as f64) / (10.0 + 20.0);
    let shown = detail["rating_score"].as_f64().expect("rating_score");
    assert!((shown - damped).abs() < 1e-9, "{shown} vs {damped}");

    // Remove it (twice: idempotent), then it is gone.
    for _ in 0..2 {
        let stats = expect_status(
            app.send(
                Method::DELETE,
                &format!("/api/v1/movies/{movie}/rating"),
                &json!({}),
                &fans[0].access,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(stats["rating_count"], 19);
    }
    let (n, avg) = movie_figures(&app, movie).await;
    assert_eq!(n, 19);
    assert!((avg - mean(&now[1..])).abs() < 1e-9);
    let detail = list(
        &app,
        &format!("/api/v1/movies/{movie}"),
        Some(&fans[0].access),
    )
    .await;
    assert!(detail["my_score"].is_null());
    expect_problem(
        app.get(
            &format!("/api/v1/movies/{movie}/rating"),
            Some(&fans[0].access),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn comment_pages_never_lose_or_repeat_items(b: Backend) {
    let app = spawn_app(b).await;
    let (_, movie) = setup(&app).await;
    let fans = users(&app, 3).await;
    let mut all = Vec::new();
    for i in 0..13 {
        let c = comment(&app, &fans[i % 3], movie, json!({"body": format!("c{i}")})).await;
        // Some likes so that hot order differs from new, with ties broken by id.
        for fan in fans.iter().take(i % 4) {
            like(&app, Method::POST, id(&c), fan).await;
        }
        all.push(id(&c));
    }
    // A reply is not a top-level item.
    comment(
        &app,
        &fans[0],
        movie,
        json!({"body": "r", "parent_id": all[0]}),
    )
    .await;
    for sort in ["new", "hot"] {
        let all_pages = app
            .all_pages(
                &format!("/api/v1/movies/{movie}/comments?sort={sort}&limit=4"),
                None,
            )
            .await;
        let pages = all_pages.len();
        let seen: Vec<i64> = all_pages.iter().flatten().map(id).collect();
        let scores: Vec<(i64, i64)> = all_pages
            .iter()
            .flatten()
            .map(|c| (c["like_count"].as_i64().expect("likes"), id(c)))
            .collect();
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: repeated items {seen:?}");
        assert_eq!(unique, all.iter().copied().collect(), "{sort}: lost items");
        assert_eq!(pages, 4, "{sort}");
        if sort == "new" {
            let mut desc = all.clone();
            desc.reverse();
            assert_eq!(seen, desc);
        } else {
            // Comments made within seconds of each other: likes dominate.
            assert!(
                scores.windows(2).all(|w| w[0].0 >= w[1].0),
                "hot order: {scores:?}"
            );
        }
    }
    // A cursor of one sort is refused by the other.
    let first = list(
        &app,
        &format!("/api/v1/movies/{movie}/comments?sort=hot&limit=4"),
        None,
    )
    .await;
    let c = first["next_cursor"].as_str().expect("cursor");
    expect_problem(
        app.get(
            &format!("/api/v1/movies/{movie}/comments?sort=new&cursor={c}"),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

async fn bad_social_input_gets_4xx(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, movie) = setup(&app).await;
    let u = app.register("u").await;
    let path = format!("/api/v1/movies/{movie}/comments");
    for body in [String::new(), " \n ".into(), "字".repeat(2_001)] {
        let p = expect_problem(
            app.post(&path, &json!({ "body": body }), Some(&u.access))
                .await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
        assert_eq!(p["field"], "body");
    }
    comment(&app, &u, movie, json!({"body": "字".repeat(2_000)})).await;
    expect_problem(
        app.post(
            &path,
            &json!({"body": "x", "author_id": 1}),
            Some(&u.access),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    for score in [0, 11, -3] {
        let p = expect_problem(
            app.send(
                Method::PUT,
                &format!("/api/v1/movies/{movie}/rating"),
                &json!({ "score": score }),
                &u.access,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
        assert_eq!(p["field"], "score");
    }
    expect_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/movies/{movie}/rating"),
            &json!({"score": 7.5}),
            &u.access,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    // Unknown and unreleased movies.
    let hidden = expect_status(
        app.post(
            "/api/v1/movies",
            &json!({"title": "未上映"}),
            Some(&admin.access),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    for m in [999_999, id(&hidden)] {
        expect_problem(
            app.get(&format!("/api/v1/movies/{m}/comments"), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_problem(
            app.post(
                &format!("/api/v1/movies/{m}/comments"),
                &json!({"body": "x"}),
                Some(&u.access),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_problem(
            app.send(
                Method::PUT,
                &format!("/api/v1/movies/{m}/rating"),
                &json!({"score": 5}),
                &u.access,
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    expect_problem(
        app.get("/api/v1/comments/999999/replies", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.get("/api/v1/comments/abc/replies", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Bad sort, limit and cursor.
    for q in [
        "sort=best",
        "limit=0",
        "limit=101",
        "limit=-1",
        "cursor=!!!",
        "cursor=e30",
        "colour=red",
    ] {
        expect_problem(
            app.get(&format!("{path}?{q}"), None).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
    }
}

async fn one_ten_ranks_below_fifty_nines(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, one_ten) = setup(&app).await;
    let fifty_nines = app
        .ready_movie(&admin, json!({"title": "大话西游", "year": 1995}))
        .await;
    let fans = users(&app, 50).await;
    let r = rating(&app, one_ten, &fans[0], 10).await;
    assert_eq!(r["movie"]["rating_avg"], 10.0);
    for f in &fans {
        rating(&app, fifty_nines, f, 9).await;
    }
    // As an admin: the anonymous listing is cached for a few seconds.
    let page = list(&app, "/api/v1/movies?sort=rating", Some(&admin.access)).await;
    let order: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id)
        .collect();
    assert_eq!(order, vec![fifty_nines, one_ten]);
    let (n, avg) = movie_figures(&app, fifty_nines).await;
    assert_eq!((n, avg), (50, 9.0));
}
