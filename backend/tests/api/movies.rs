//! The catalog: search, filters, sorts, pagination, admin rights, playback grants.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, expect_problem, expect_status, spawn_app};

on_all_backends!(
    search_filter_and_sort,
    pages_never_lose_or_repeat_items,
    only_admins_change_the_catalog,
    unreleased_movies_are_hidden,
    playback_grants_open_only_their_movie,
    bad_catalog_input_gets_4xx,
);

async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let page = expect_status(
        app.get(&format!("/api/v1/movies?{query}"), None).await,
        StatusCode::OK,
    )
    .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

async fn search_filter_and_sort(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let earth = app
        .ready_movie(
            &admin,
            json!({"title": "流浪地球", "original_title": "The Wandering Earth", "year": 2019,
                   "synopsis": "太阳即将毁灭，人类带着地球逃离。", "director": "郭帆",
                   "cast": ["吴京", "屈楚萧"], "genres": ["sci_fi", "adventure"], "tags": ["Space", "太空"]}),
        )
        .await;
    let love = app
        .ready_movie(
            &admin,
            json!({"title": "Love Letter", "year": 1995, "synopsis": "A letter to heaven.",
                   "cast": ["Miho Nakayama"], "genres": ["romance", "drama"], "tags": ["winter"]}),
        )
        .await;
    let crime = app
        .ready_movie(
            &admin,
            json!({"title": "Zodiac 100%_match", "year": 2007, "synopsis": "A cartoonist hunts a killer.",
                   "cast": ["Jake Gyllenhaal"], "genres": ["crime", "mystery"]}),
        )
        .await;

    // Text search: title (any case), original title, synopsis, cast.
    assert_eq!(ids(&app, "q=wandering").await, vec![earth]);
    assert_eq!(ids(&app, "q=LOVE").await, vec![love]);
    assert_eq!(ids(&app, "q=%E5%90%B4%E4%BA%AC").await, vec![earth]); // 吴京
    assert_eq!(ids(&app, "q=heaven").await, vec![love]);
    assert_eq!(ids(&app, "q=gyllenhaal").await, vec![crime]);
    // LIKE wildcards in the query are literal.
    assert_eq!(ids(&app, "q=100%25_").await, vec![crime]);
    assert!(ids(&app, "q=%25").await.is_empty() || ids(&app, "q=%25").await == vec![crime]);
    assert!(ids(&app, "q=nothing-like-this").await.is_empty());
    // Filters.
    assert_eq!(ids(&app, "genre=sci_fi").await, vec![earth]);
    assert_eq!(ids(&app, "tag=space").await, vec![earth]);
    assert_eq!(ids(&app, "year_from=2000&year_to=2010").await, vec![crime]);
    assert_eq!(ids(&app, "genre=drama&year_to=2000").await, vec![love]);
    // Sorts.
    assert_eq!(ids(&app, "sort=title").await, vec![love, crime, earth]);
    assert_eq!(ids(&app, "sort=newest").await, vec![crime, love, earth]);
    assert_eq!(ids(&app, "").await, vec![crime, love, earth]);
    // Popular follows view counts (a playback grant counts a view).
    for _ in 0..2 {
        expect_status(
            app.get(
                &format!("/api/v1/movies/{love}/playback"),
                Some(&admin.access),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    expect_status(
        app.get(
            &format!("/api/v1/movies/{earth}/playback"),
            Some(&admin.access),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&app, "sort=popular").await, vec![love, earth, crime]);
    assert_eq!(ids(&app, "sort=rating").await.len(), 3);

    // Details and genres.
    let d = expect_status(
        app.get(&format!("/api/v1/movies/{earth}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["title"], "流浪地球");
    assert_eq!(d["cast"], json!(["吴京", "屈楚萧"]));
    assert_eq!(d["genres"], json!(["adventure", "sci_fi"]));
    assert_eq!(d["tags"], json!(["space", "太空"]));
    let genres = expect_status(app.get("/api/v1/genres", None).await, StatusCode::OK).await;
    let sci = genres
        .as_array()
        .expect("list")
        .iter()
        .find(|g| g["slug"] == "sci_fi")
        .expect("sci_fi")
        .clone();
    assert_eq!(sci["name_zh"], "科幻");
}

async fn pages_never_lose_or_repeat_items(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let mut all = Vec::new();
    // Duplicate titles and years so that ties must be broken by id.
    for i in 0..23 {
        let id = app
            .ready_movie(&admin, json!({"title": format!("Movie {}", i % 4), "year": 2000 + (i % 3), "genres": ["drama"]}))
            .await;
        all.push(id);
    }
    for sort in ["newest", "title", "popular", "rating"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut q = format!("/api/v1/movies?sort={sort}&limit=5&genre=drama");
            if let Some(c) = &cursor {
                q.push_str(&format!("&cursor={c}"));
            }
            let page = expect_status(app.get(&q, None).await, StatusCode::OK).await;
            pages += 1;
            for m in page["items"].as_array().expect("items") {
                seen.push(m["id"].as_i64().expect("id"));
            }
            // A movie added mid-way (newest first) must not disturb the remaining pages.
            if pages == 2 && sort == "title" {
                app.ready_movie(
                    &admin,
                    json!({"title": "AAA late arrival", "genres": ["action"]}),
                )
                .await;
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: repeated items {seen:?}");
        assert_eq!(
            unique,
            all.iter().copied().collect::<HashSet<_>>(),
            "{sort}: lost items"
        );
        assert_eq!(pages, 5, "{sort}");
    }
    // Title order is really by title, ties by id.
    let page = expect_status(
        app.get("/api/v1/movies?sort=title&limit=100&genre=drama", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let titles: Vec<(String, i64)> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (
                m["title"].as_str().expect("t").to_owned(),
                m["id"].as_i64().expect("id"),
            )
        })
        .collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted);
}

async fn only_admins_change_the_catalog(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let user = app.register("viewer").await;
    let id = app.ready_movie(&admin, json!({"title": "Keep Me"})).await;
    let body = json!({"title": "Hacked"});
    expect_problem(
        app.post("/api/v1/movies", &body, Some(&user.access)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.post("/api/v1/movies", &body, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let path = format!("/api/v1/movies/{id}");
    expect_problem(
        app.send(Method::PATCH, &path, &body, &user.access).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.send(Method::DELETE, &path, &json!({}), &user.access)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let d = expect_status(app.get(&path, None).await, StatusCode::OK).await;
    assert_eq!(d["title"], "Keep Me");

    // The admin can, and the (cached) public listing shows the change at once.
    let page = expect_status(app.get("/api/v1/movies", None).await, StatusCode::OK).await;
    assert_eq!(page["items"][0]["title"], "Keep Me");
    let d = expect_status(
        app.send(
            Method::PATCH,
            &path,
            &json!({"title": "Renamed", "tags": ["x"], "genres": ["comedy"]}),
            &admin.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["title"], "Renamed");
    assert_eq!(d["genres"], json!(["comedy"]));
    let page = expect_status(app.get("/api/v1/movies", None).await, StatusCode::OK).await;
    assert_eq!(page["items"][0]["title"], "Renamed");
    // Deleting removes the media folders too.
    let media = app.data_dir.join("media").join(id.to_string());
    let public = app
        .data_dir
        .join("public")
        .join("movies")
        .join(id.to_string());
    for dir in [&media, &public] {
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(dir.join("x.ts"), b"x").expect("write");
    }
    expect_status(
        app.send(Method::DELETE, &path, &json!({}), &admin.access)
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(!media.exists() && !public.exists());
    expect_problem(
        app.get(&path, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.send(Method::DELETE, &path, &json!({}), &admin.access)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn unreleased_movies_are_hidden(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let user = app.register("viewer").await;
    let res = app
        .post(
            "/api/v1/movies",
            &json!({"title": "Still Encoding"}),
            Some(&admin.access),
        )
        .await;
    let created = expect_status(res, StatusCode::CREATED).await;
    assert_eq!(created["status"], "processing");
    let id = created["id"].as_i64().expect("id");
    assert!(ids(&app, "").await.is_empty());
    expect_problem(
        app.get(&format!("/api/v1/movies/{id}"), Some(&user.access))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.get(&format!("/api/v1/movies/{id}/playback"), Some(&user.access))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.get("/api/v1/movies?status=processing", Some(&user.access))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Admins see it, in lists and details, but cannot play it yet.
    let page = expect_status(
        app.get("/api/v1/movies?status=processing", Some(&admin.access))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"][0]["id"], id);
    expect_status(
        app.get(&format!("/api/v1/movies/{id}"), Some(&admin.access))
            .await,
        StatusCode::OK,
    )
    .await;
    expect_problem(
        app.get(
            &format!("/api/v1/movies/{id}/playback"),
            Some(&admin.access),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
}

/// The embedded server's own `/hls/` check (nginx's is tested in `delivery`).
async fn playback_grants_open_only_their_movie(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let user = app.register("watcher").await;
    let a = app.ready_movie(&admin, json!({"title": "A"})).await;
    let other = app.ready_movie(&admin, json!({"title": "B"})).await;
    for id in [a, other] {
        let dir = app.data_dir.join("media").join(id.to_string());
        std::fs::create_dir_all(dir.join("720p")).expect("mkdir");
        std::fs::write(dir.join("master.m3u8"), format!("#EXTM3U\n# movie {id}\n")).expect("write");
        std::fs::write(dir.join("720p/seg_000.ts"), vec![0x47u8; 188 * 4]).expect("write");
    }
    std::fs::write(app.data_dir.join("media").join("secret.txt"), "top secret").expect("write");
    expect_problem(
        app.get(&format!("/api/v1/movies/{a}/playback"), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let grant = expect_status(
        app.get(&format!("/api/v1/movies/{a}/playback"), Some(&user.access))
            .await,
        StatusCode::OK,
    )
    .await;
    let master = grant["master_url"].as_str().expect("url").to_owned();
    assert!(master.starts_with("/hls/") && master.ends_with(&format!("/{a}/master.m3u8")));
    let res = app.get(&master, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.apple.mpegurl"
    );
    assert!(
        res.text()
            .await
            .expect("text")
            .contains(&format!("movie {a}"))
    );
    let seg = master.replace("master.m3u8", "720p/seg_000.ts");
    let res = app.get(&seg, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("immutable")
    );

    let token = master.split('/').nth(2).expect("token").to_owned();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[0] = (user.id + 1).to_string();
    let tampered = parts.join(".");
    let forbidden = [
        format!("/hls/nothing/{a}/master.m3u8"),
        format!("/hls/{tampered}/{a}/master.m3u8"),
        format!("/hls/{token}/{other}/master.m3u8"),
        format!("/hls/{token}/{a}/../{other}/master.m3u8"),
        format!("/hls/{token}/{a}/..%2f{other}%2fmaster.m3u8"),
        format!("/hls/{token}/{a}/../secret.txt"),
        format!("/hls/{token}/{a}/%2e%2e/secret.txt"),
    ];
    for path in forbidden {
        let res = app
            .client
            .get(app.url(&path))
            .send()
            .await
            .expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
        assert!(
            !text.contains("top secret") && !text.contains("#EXTM3U"),
            "{path} leaked"
        );
    }
    // The nginx auth_request endpoint agrees.
    let check = |uri: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/internal/hls-auth"))
                .header("x-original-uri", uri)
                .send()
                .await
                .expect("req")
                .status()
        }
    };
    assert_eq!(check(master.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(
        check(format!("/hls/{tampered}/{a}/master.m3u8")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        check(format!("/hls/{token}/{other}/master.m3u8")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(check(String::new()).await, StatusCode::FORBIDDEN);
    // Existing, valid grant, missing file: 404.
    let res = app
        .get(&master.replace("master.m3u8", "nope.ts"), None)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn bad_catalog_input_gets_4xx(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    for (query, code) in [
        ("sort=loudest", "invalid_query"),
        ("limit=0", "invalid_query"),
        ("limit=1000", "invalid_query"),
        ("limit=abc", "invalid_query"),
        ("year_from=abc", "invalid_query"),
        ("cursor=!!!", "invalid_query"),
        ("colour=red", "invalid_query"),
        ("genre=not_a_genre", "validation_failed"),
    ] {
        expect_problem(
            app.get(&format!("/api/v1/movies?{query}"), None).await,
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
    }
    // The same answers with a token; a token that does not verify browses like a visitor.
    expect_problem(
        app.get("/api/v1/movies?limit=0", Some(&admin.access)).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    let page = expect_status(
        app.get("/api/v1/movies", Some("not-a-token")).await,
        StatusCode::OK,
    )
    .await;
    assert!(page["items"].is_array(), "{page}");
    // A cursor from one sort is refused by another.
    for i in 0..3 {
        app.ready_movie(&admin, json!({"title": format!("M{i}")}))
            .await;
    }
    let page = expect_status(
        app.get("/api/v1/movies?limit=1&sort=title", None).await,
        StatusCode::OK,
    )
    .await;
    let c = page["next_cursor"].as_str().expect("cursor");
    expect_problem(
        app.get(&format!("/api/v1/movies?sort=newest&cursor={c}"), None)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    for body in [
        json!({"title": ""}),
        json!({"title": "x".repeat(201)}),
        json!({"title": "ok", "year": 1500}),
        json!({"title": "ok", "genres": ["nope"]}),
        json!({"title": "ok", "tags": ["x".repeat(40)]}),
        json!({"title": "ok", "duration_ms": -5}),
    ] {
        expect_problem(
            app.post("/api/v1/movies", &body, Some(&admin.access)).await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
    }
    expect_problem(
        app.post(
            "/api/v1/movies",
            &json!({"title": "ok", "status": "ready"}),
            Some(&admin.access),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    // Nothing half-written: a failed create left no movie behind.
    let page = expect_status(
        app.get("/api/v1/movies?limit=100", Some(&admin.access))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"].as_array().expect("items").len(), 3);
    let _: Value = page;
}
