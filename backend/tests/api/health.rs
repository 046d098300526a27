use reqwest::StatusCode;

use crate::helpers::{Backend, expect_status, spawn_app};

on_all_backends!(probes_answer);

async fn probes_answer(b: Backend) {
    let Some(app) = spawn_app(b).await else {
        return;
    };
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
