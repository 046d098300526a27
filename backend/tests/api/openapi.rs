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
    let app = spawn_app(Backend::Sqlite).await;
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

/// Issue 10, point 6: one reusable problem response, a description on every response,
/// and the statuses every layer can answer (401 on secured operations, 400/413/415 on
/// bodies, 404 on path parameters, 400 everywhere for control characters).
#[test]
fn every_response_is_described_and_every_layer_status_documented() {
    let spec = serde_json::to_value(luojia::openapi::spec()).expect("json");
    assert!(spec["components"]["responses"]["Problem"].is_object());
    let mut problems = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = op["responses"].as_object().expect("responses");
            for (status, r) in responses {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
                assert!(
                    r["content"]["application/problem+json"].is_null(),
                    "{method} {path} {status} repeats the problem response"
                );
                if r["$ref"] == "#/components/responses/Problem" {
                    problems += 1;
                }
            }
            let must = |status: &str, why: &str| {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status} ({why})"
                );
            };
            must("400", "control characters");
            if !op["security"].is_null() {
                must("401", "secured");
            }
            if !op["requestBody"].is_null() {
                for s in ["413", "415"] {
                    must(s, "has a body");
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                must("404", "path parameter");
            }
        }
    }
    assert!(problems > 100, "{problems}");
    // Every error code is listed once in ErrorCode::ALL (used for the descriptions).
    let codes = spec["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("enum")
        .len();
    assert_eq!(codes, luojia::error::ErrorCode::ALL.len());
}

#[tokio::test]
async fn unsupported_methods_are_405_problems() {
    let app = spawn_app(Backend::Sqlite).await;
    for (method, path, allow) in [
        ("TRACE", "/api/v1/me", "DELETE, GET, PATCH"),
        ("OPTIONS", "/api/v1/movies/1", "DELETE, GET, PATCH"),
        ("PUT", "/api/v1/auth/login", "POST"),
        ("TRACE", "/", "GET, HEAD"),
        ("POST", "/rooms/42", "GET, HEAD"),
        ("DELETE", "/openapi.json", "GET, HEAD"),
    ] {
        let res = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                app.url(path),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
        crate::helpers::expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            .await;
    }
    // An unknown API path is still a 404, whatever the method.
    let res = app
        .client
        .post(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .expect("request");
    crate::helpers::expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

/// Issue 10, point 8: the typed concepts are enums in the contract (a generated client
/// gets unions). Lists every enum-typed field, and the socket's `removed` reason.
#[test]
fn concepts_are_enums_in_the_schema() {
    let spec = serde_json::to_value(luojia::openapi::spec()).expect("json");
    let schemas = spec["components"]["schemas"].as_object().expect("schemas");
    let is_enum = |s: &serde_json::Value| {
        let s = match s["$ref"].as_str() {
            Some(r) => &schemas[r.rsplit('/').next().unwrap_or_default()],
            None => s,
        };
        s["enum"].is_array()
            || s["oneOf"].as_array().is_some_and(|v| {
                v.iter()
                    .all(|x| x["enum"].is_array() || x["const"].is_string())
            })
    };
    let mut enums = Vec::new();
    for (name, schema) in schemas {
        for (prop, s) in schema["properties"].as_object().into_iter().flatten() {
            let s = s["oneOf"]
                .as_array()
                .and_then(|v| v.iter().find(|x| x["type"] != "null"))
                .unwrap_or(s);
            if is_enum(s) {
                enums.push(format!("{name}.{prop}"));
            }
        }
    }
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if is_enum(&p["schema"]) {
                    enums.push(format!(
                        "{method} {path} ?{}",
                        p["name"].as_str().unwrap_or("")
                    ));
                }
            }
        }
    }
    eprintln!("enum fields:\n  {}", enums.join("\n  "));
    for expected in [
        "MeResponse.role",
        "MovieSummary.status",
        "RoomResponse.visibility",
        "RoomResponse.control_mode",
        "RoomResponse.my_role",
        "CreateRoomRequest.visibility",
        "CreateRoomRequest.control_mode",
        "MemberResponse.role",
        "RoleRequest.role",
        "MemberPresence.role",
        "MemberPresence.status",
        "ChatMessage.kind",
        "CreateDanmakuRequest.mode",
        "DanmakuResponse.mode",
        "Problem.code",
        "get /api/v1/movies ?sort",
        "get /api/v1/movies ?status",
        "get /api/v1/movies/{id}/comments ?sort",
    ] {
        assert!(
            enums.iter().any(|e| e == expected),
            "{expected} is not an enum"
        );
    }
    let removed = schemas["ServerMessage"]["oneOf"]
        .as_array()
        .expect("ServerMessage variants")
        .iter()
        .find(|v| v["properties"]["type"]["enum"][0] == "removed")
        .expect("the removed message");
    assert!(is_enum(&removed["properties"]["reason"]), "removed.reason");
}

/// Every documented type has a name of its own: utoipa keys the document's schemas by the
/// type's bare name, so two features' `MemberPage`s would silently become one (the second
/// registered wins and the first feature's clients get the wrong type). Reads the source:
/// each `pub struct`/`pub enum` that derives `ToSchema` or is declared by `stored_enum!`.
#[test]
fn schema_names_are_unique() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut clashes = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        let mut documented = false;
        for line in text.lines() {
            let l = line.trim();
            if (l.starts_with("#[derive(") && l.contains("ToSchema")) || l.contains("stored_enum!")
            {
                documented = true;
                continue;
            }
            if !documented {
                continue;
            }
            let name = ["pub struct ", "pub enum "]
                .iter()
                .find_map(|k| l.strip_prefix(k))
                .map(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or("")
                });
            match name {
                Some(n) if !n.is_empty() => {
                    let here = f.display().to_string();
                    if let Some(first) = seen.insert(n.to_owned(), here.clone()) {
                        clashes.push(format!("{n}: {first} and {here}"));
                    }
                    documented = false;
                }
                _ if l.starts_with("#[")
                    || l.starts_with("///")
                    || l.starts_with("//")
                    || l.is_empty() => {}
                _ => documented = false,
            }
        }
    }
    assert!(clashes.is_empty(), "schema names used twice: {clashes:#?}");
}

/// Every operation has an id of its own (handler names are the ids; two features'
/// `list_messages` would make the generated client mix up their types).
#[test]
fn operation_ids_are_unique() {
    let doc = luojia::openapi::yaml().expect("yaml");
    let mut ids: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.trim().strip_prefix("operationId: "))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "an operationId is used twice");
}
