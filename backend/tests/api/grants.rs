//! Playback grants and internal endpoints (issue 10, point 5): a grant naming a
//! directory is a 404; a grant has exactly one valid spelling; `/internal/stats` is not
//! public. (`nbf` on access tokens is in `tokens.rs`.)

use reqwest::StatusCode;

use crate::helpers::{Backend, JWT_SECRET, expect_problem, expect_status, spawn_app};

on_all_backends!(
    grants_have_one_spelling_and_name_files_only,
    internal_stats_is_not_public
);

async fn grants_have_one_spelling_and_name_files_only(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("grant").await;
    let movie = 7;
    let dir = app.settings.media_dir().join(movie.to_string());
    std::fs::create_dir_all(dir.join("720p")).expect("dirs");
    std::fs::write(dir.join("master.m3u8"), "#EXTM3U\n").expect("master");
    std::fs::write(dir.join("720p/seg_000.ts"), [0u8; 188]).expect("segment");
    let signer = luojia::media::grant::GrantSigner::new(
        &secrecy::SecretString::from(JWT_SECRET),
        app.settings.media.grant_ttl_secs,
    );
    let (token, _) = signer.issue(user.id, movie, chrono::Utc::now().timestamp());
    let get = |path: String| {
        let app = &app;
        async move { app.get(&path, None).await }
    };

    let res = get(format!("/hls/{token}/{movie}/master.m3u8")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = get(format!("/hls/{token}/{movie}/720p/seg_000.ts")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.expect("bytes").len(), 188);
    // A directory is not a file.
    for path in [
        format!("/hls/{token}/{movie}/720p"),
        format!("/hls/{token}/{movie}/720p/"),
    ] {
        let res = get(path.clone()).await;
        assert!(
            matches!(res.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{path}: {}",
            res.status()
        );
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    expect_problem(
        get(format!("/hls/{token}/{movie}/720p")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Other spellings of the same grant and movie are refused, here and for nginx.
    let parts: Vec<&str> = token.split('.').collect();
    let (uid, exp, mac) = (parts[0], parts[1], parts[2]);
    let spellings = [
        format!("/hls/0{uid}.{exp}.{mac}/{movie}/master.m3u8"),
        format!("/hls/+{uid}.{exp}.{mac}/{movie}/master.m3u8"),
        format!("/hls/{uid}.0{exp}.{mac}/{movie}/master.m3u8"),
        format!("/hls/{uid}.+{exp}.{mac}/{movie}/master.m3u8"),
        format!("/hls/{token}/0{movie}/master.m3u8"),
        format!("/hls/{token}/+{movie}/master.m3u8"),
    ];
    for path in spellings {
        expect_problem(get(path.clone()).await, StatusCode::FORBIDDEN, "forbidden").await;
        let res = app
            .client
            .get(app.url("/internal/hls-auth"))
            .header("x-original-uri", &path)
            .send()
            .await
            .expect("auth");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let res = app
        .client
        .get(app.url("/internal/hls-auth"))
        .header(
            "x-original-uri",
            format!("/hls/{token}/{movie}/master.m3u8"),
        )
        .send()
        .await
        .expect("auth");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

async fn internal_stats_is_not_public(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("stats").await;
    let admin = app.admin().await;
    let stats = |xff: bool, token: Option<String>| {
        let app = &app;
        async move {
            let mut req = app.client.get(app.url("/internal/stats"));
            if xff {
                // Forwarded by a proxy: not a direct local connection.
                req = req.header("x-forwarded-for", "203.0.113.9");
            }
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.expect("stats")
        }
    };
    // A direct connection from this machine (benchmarks, operators) may read it.
    expect_status(stats(false, None).await, StatusCode::OK).await;
    // From elsewhere: only an administrator.
    expect_problem(stats(true, None).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_problem(
        stats(true, Some(user.access.clone())).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let body = expect_status(
        stats(true, Some(admin.access.clone())).await,
        StatusCode::OK,
    )
    .await;
    assert!(body["history"].is_object());
}
