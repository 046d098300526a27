use reqwest::StatusCode;

use crate::helpers::{Backend, expect_status, spawn_app};

on_all_backends!(probes_answer);

async fn probes_answer(b: Backend) {
    let app = spawn_app(b).await;
    let h = expect_status(app.get("/healthz", None).await, StatusCode::OK).await;
    assert_eq!(h["status"], "ok");
    let r = expect_status(app.get("/readyz", None).await, StatusCode::OK).await;
    assert_eq!(r["database"], "ok");
    let expected_redis = if app.backend == Backend::Sqlite {
        "disabled"
    } else {
        "ok"
    };
    if std::env::var("TEST_REDIS_URL").is_ok() || app.backend == Backend::Sqlite {
        assert_eq!(r["redis"], expected_redis);
    }
}

/// Redis configured but unreachable: not ready (503 problem), yet still alive.
#[tokio::test]
async fn readiness_fails_when_redis_is_down() {
    use crate::helpers::{expect_problem, spawn_app_with};
    // Port 1 on loopback: nothing listens there, connections are refused at once.
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("APP_REDIS__URL", "redis://127.0.0.1:1")],
    )
    .await;
    let res = app.get("/readyz", None).await;
    assert!(res.headers().contains_key("retry-after"));
    let p = expect_problem(res, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    assert!(p["detail"].as_str().expect("detail").contains("redis"));
    expect_status(app.get("/healthz", None).await, StatusCode::OK).await;
    // Logins still work: the rate limiter falls back to local counters.
    let user = app.register("noredis").await;
    let _ = app.login(&user.username, crate::helpers::PASSWORD).await;
}

/// Without a built web app the front door says so (and links the API docs).
#[tokio::test]
async fn the_front_door_without_a_web_app() {
    let app = crate::helpers::spawn_app_with(
        Backend::Sqlite,
        &[("APP_FRONTEND__DIST_DIR", "/nonexistent/luojia-dist")],
    )
    .await;
    let res = app.get("/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.expect("html");
    assert!(html.contains("Luojia Cinema") && html.contains("/docs/"));
    let res = app.get("/rooms/1", None).await;
    crate::helpers::expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}
