//! The web app served by the backend (`src/webapp.rs`): history-mode fallback to
//! `index.html` for app routes only, and the cache headers of the build's files.

use reqwest::StatusCode;

use crate::helpers::{Backend, expect_problem, spawn_app_with};

const INDEX: &str = "<!doctype html><title>Luojia app</title><div id=app></div>";

/// A fake build: index.html, a hashed asset, a root file.
fn fake_dist() -> tempfile::TempDir {
    let dist = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dist.path().join("assets")).expect("assets");
    std::fs::write(dist.path().join("index.html"), INDEX).expect("index");
    std::fs::write(dist.path().join("assets/index-AbC123.js"), "console.log(1)").expect("js");
    std::fs::write(dist.path().join("favicon.svg"), "<svg/>").expect("svg");
    dist
}

fn cache_control(res: &reqwest::Response) -> String {
    res.headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn app_routes_fall_back_to_index_and_assets_are_immutable() {
    let dist = fake_dist();
    let dir = dist.path().display().to_string();
    let app = spawn_app_with(Backend::Sqlite, &[("APP_FRONTEND__DIST_DIR", &dir)]).await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.address)).send();

    // App routes, deep links and queries: index.html, never cached without revalidation.
    for path in [
        "/",
        "/browse?q=%E6%98%9F&sort=rating",
        "/movies/12",
        "/watch/3",
        "/me/history",
        "/apiary",
        "/wsj",
    ] {
        let res = get(path).await.expect(path);
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(cache_control(&res), "no-cache", "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/html")
        );
        assert_eq!(res.text().await.expect("body"), INDEX, "{path}");
    }

    // Hashed assets: a year, immutable. Other files of the build: no-cache.
    let res = get("/assets/index-AbC123.js").await.expect("asset");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(cache_control(&res), "public, max-age=31536000, immutable");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .contains("javascript")
    );
    let res = get("/favicon.svg").await.expect("favicon");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(cache_control(&res), "no-cache");

    // Missing files are 404s, not the app (a stale hashed chunk must fail loudly).
    for path in [
        "/assets/index-old.js",
        "/assets/gone",
        "/robots.txt",
        "/.env",
        "/movies/1/poster.jpg",
    ] {
        let res = get(path).await.expect(path);
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_ne!(res.text().await.expect("body"), INDEX, "{path}");
    }

    // The server's namespaces never fall back: problem+json 4xx (a grant-less /hls/ URL
    // is refused as such, 403; everything else here is unknown, 404).
    for path in [
        "/api/v1/nope",
        "/api",
        "/hls/nothing",
        "/static/nothing",
        "/internal/nope",
        "/docs",
        "/healthz/x",
        "/readyz/x",
        "/openapi.json/x",
        "/ws/x",
    ] {
        let res = get(path).await.expect(path);
        if path.starts_with("/hls/") {
            expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        } else {
            expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        }
    }

    // The real endpoints still answer.
    assert_eq!(
        get("/healthz").await.expect("healthz").status(),
        StatusCode::OK
    );
    assert_eq!(
        get("/openapi.json").await.expect("openapi").status(),
        StatusCode::OK
    );
    assert_eq!(get("/docs/").await.expect("docs").status(), StatusCode::OK);

    // Only GET and HEAD reach the app.
    let res = app
        .client
        .head(format!("{}/browse", app.address))
        .send()
        .await
        .expect("head");
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .post(format!("{}/browse", app.address))
        .send()
        .await
        .expect("post");
    expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn without_a_build_the_front_door_says_so() {
    let empty = tempfile::tempdir().expect("tempdir");
    let dir = empty.path().join("dist").display().to_string();
    let app = spawn_app_with(Backend::Sqlite, &[("APP_FRONTEND__DIST_DIR", &dir)]).await;
    let res = app
        .client
        .get(format!("{}/", app.address))
        .send()
        .await
        .expect("root");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.expect("body").contains("frontend/dist"));
    let res = app
        .client
        .get(format!("{}/browse", app.address))
        .send()
        .await
        .expect("browse");
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}
