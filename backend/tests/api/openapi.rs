//! `openapi.yaml` at the root is the code's document. To re-bless after an API change:
//! `make openapi` (or `UPDATE_OPENAPI=1 cargo test --test api openapi`).

use reqwest::StatusCode;

use crate::helpers::{Backend, spawn_app};

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml")
}

#[test]
fn openapi_yaml_matches_the_code() {
    let generated = luojia::openapi::yaml().expect("yaml");
    let path = committed_path();
    if std::env::var("UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).expect("write openapi.yaml");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.yaml is out of date: run `make openapi` and commit it"
    );
}

#[test]
fn every_operation_is_documented() {
    let spec = luojia::openapi::spec();
    let json = serde_json::to_value(&spec).expect("json");
    let paths = json["paths"].as_object().expect("paths");
    for expected in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/users/{id}",
        "/healthz",
    ] {
        assert!(
            paths.contains_key(expected),
            "{expected} missing from the spec"
        );
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn swagger_ui_and_json_are_served() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let res = app.get("/openapi.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let served: serde_json::Value = res.json().await.expect("json");
    assert_eq!(
        served,
        serde_json::to_value(luojia::openapi::spec()).expect("spec")
    );
    let res = app.get("/docs/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.expect("html").contains("swagger"));
}
