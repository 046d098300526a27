//! `spawn_app`, test users and request shortcuts.

use std::time::Duration;

use luojia::config::Settings;
use luojia::startup::Application;
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
    Postgres,
}

/// Declare tests that run once per backend: `on_all_backends!(a, b)` expects
/// `async fn a(backend: Backend)` beside it and makes `a::sqlite`, `a::mysql`, `a::postgres`.
/// The MariaDB and PostgreSQL variants are ignored unless their URL was set when the
/// tests were built (see `backend/build.rs`); `make test` builds and runs them all.
macro_rules! on_all_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use crate::helpers::Backend;
            #[tokio::test]
            async fn sqlite() { super::$name(Backend::Sqlite).await }
            #[tokio::test]
            #[cfg_attr(not(luojia_test_mysql), ignore = "set TEST_MYSQL_URL (make test does)")]
            async fn mysql() { super::$name(Backend::Mysql).await }
            #[tokio::test]
            #[cfg_attr(not(luojia_test_postgres), ignore = "set TEST_POSTGRES_URL (make test does)")]
            async fn postgres() { super::$name(Backend::Postgres).await }
        }
    )*};
}

/// Like `on_all_backends!`, for what only several instances sharing a database and Redis
/// can show: the MariaDB and PostgreSQL variants, each ignored unless its URL and
/// `TEST_REDIS_URL` were set when the tests were built.
macro_rules! on_shared_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use crate::helpers::Backend;
            #[tokio::test]
            #[cfg_attr(
                not(all(luojia_test_mysql, luojia_test_redis)),
                ignore = "set TEST_MYSQL_URL and TEST_REDIS_URL (make test does)"
            )]
            async fn mysql() { super::$name(Backend::Mysql).await }
            #[tokio::test]
            #[cfg_attr(
                not(all(luojia_test_postgres, luojia_test_redis)),
                ignore = "set TEST_POSTGRES_URL and TEST_REDIS_URL (make test does)"
            )]
            async fn postgres() { super::$name(Backend::Postgres).await }
        }
    )*};
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub db: sea_orm::DatabaseConnection,
    pub data_dir: std::path::PathBuf,
    pub settings: Settings,
    _dir: tempfile::TempDir,
}

pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub access: String,
    pub refresh: String,
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// The server's environment for `backend`. A test that runs on MariaDB or PostgreSQL was
/// built with its URL set (or under `LUOJIA_REQUIRE_ALL_BACKENDS=1`), so a missing URL
/// here is a failure, never a silent pass. Redis is optional unless
/// `LUOJIA_REQUIRE_ALL_BACKENDS=1`.
async fn backend_env(backend: Backend) -> Vec<(String, String)> {
    let (var, scheme) = match backend {
        Backend::Sqlite => return vec![],
        Backend::Mysql => ("TEST_MYSQL_URL", "mysql"),
        Backend::Postgres => ("TEST_POSTGRES_URL", "postgres"),
    };
    let admin_url = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set (this test runs only when it is, or under LUOJIA_REQUIRE_ALL_BACKENDS=1)")
    });
    let name = format!("luojia_t_{}", unique());
    let admin = Database::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("{scheme} at {admin_url} unreachable: {e}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let base = admin_url.split('?').next().unwrap_or(&admin_url);
    let (server, _) = base.rsplit_once('/').expect("database URL has a path");
    let mut env = vec![("APP_DATABASE__URL".to_owned(), format!("{server}/{name}"))];
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        env.push(("APP_REDIS__URL".into(), redis));
        env.push(("APP_REDIS__KEY_PREFIX".into(), format!("t{}:", unique())));
    } else {
        assert!(
            std::env::var("LUOJIA_REQUIRE_ALL_BACKENDS").as_deref() != Ok("1"),
            "TEST_REDIS_URL is not set but LUOJIA_REQUIRE_ALL_BACKENDS=1"
        );
    }
    env
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Start the real server with extra `APP_*` settings.
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(String, String)> = vec![
        ("APP_SERVER__PORT".into(), "0".into()),
        ("APP_SERVER__WORKERS".into(), "2".into()),
        ("APP_DATA_DIR".into(), dir.path().display().to_string()),
        ("APP_AUTH__JWT_SECRET".into(), JWT_SECRET.into()),
        ("APP_AUTH__BCRYPT_COST".into(), "4".into()),
        ("APP_RATE_LIMIT__LOGIN_PER_IP".into(), "10000".into()),
        ("APP_RATE_LIMIT__LOGIN_PER_ACCOUNT".into(), "10000".into()),
        ("APP_RATE_LIMIT__REGISTER_PER_IP".into(), "10000".into()),
        ("APP_RATE_LIMIT__REGISTER_PER_NAME".into(), "10000".into()),
        (
            "APP_RATE_LIMIT__LOGIN_FAILURES_PER_ACCOUNT".into(),
            "10000".into(),
        ),
        ("APP_LOG__LEVEL".into(), "warn".into()),
    ];
    env.extend(backend_env(backend).await);
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let settings = Settings::load_from(None, env.into_iter().collect()).expect("test settings");
    luojia::telemetry::init(settings.log_format(), &settings.log.level);
    let app = Application::build(settings.clone())
        .await
        .expect("server builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        backend,
        db,
        data_dir: dir.path().to_owned(),
        settings,
        _dir: dir,
    }
}

/// Another instance of the same deployment: same database, data dir and Redis prefix,
/// its own port. Migrations already ran on the first.
pub async fn spawn_peer(first: &TestApp, overrides: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = first.settings.clone();
    settings.server.port = 0;
    settings.database.migrate_on_start = false;
    overrides(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("peer builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: first.client.clone(),
        backend: first.backend,
        db,
        data_dir: first.data_dir.clone(),
        settings,
        _dir: tempfile::tempdir().expect("tempdir"),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        token: &str,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Register a fresh user whose name starts with `prefix`, with [`PASSWORD`].
    pub async fn register(&self, prefix: &str) -> TestUser {
        self.register_with_password(prefix, PASSWORD).await
    }

    /// Register a fresh user whose name starts with `prefix`, with its own `password`.
    pub async fn register_with_password(&self, prefix: &str, password: &str) -> TestUser {
        let username = format!("{prefix}_{}", &unique()[..8]);
        let email = format!("{username}@example.com");
        let res = self
            .post(
                "/api/v1/auth/register",
                &json!({"username": username, "email": email, "password": password}),
                None,
            )
            .await;
        let body = expect_status(res, StatusCode::CREATED).await;
        TestUser {
            id: body["user"]["id"].as_i64().expect("id"),
            username,
            email,
            access: body["tokens"]["access_token"]
                .as_str()
                .expect("access")
                .to_owned(),
            refresh: body["tokens"]["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }

    /// A fresh administrator (registered, promoted in the database, logged in again so the
    /// token carries the role).
    pub async fn admin(&self) -> TestUser {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let mut user = self.register("admin").await;
        luojia::entities::user::Entity::update_many()
            .col_expr(luojia::entities::user::Column::Role, Expr::value("admin"))
            .filter(luojia::entities::user::Column::Id.eq(user.id))
            .exec(&self.db)
            .await
            .expect("promote");
        let (access, refresh) = self.login(&user.username, PASSWORD).await;
        user.access = access;
        user.refresh = refresh;
        user
    }

    /// Create a movie through the admin API and mark it `ready` (as an ingest would);
    /// returns its id.
    pub async fn ready_movie(&self, admin: &TestUser, body: Value) -> i64 {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let res = self
            .post("/api/v1/movies", &body, Some(&admin.access))
            .await;
        let created = expect_status(res, StatusCode::CREATED).await;
        let id = created["id"].as_i64().expect("id");
        luojia::entities::movie::Entity::update_many()
            .col_expr(
                luojia::entities::movie::Column::Status,
                Expr::value("ready"),
            )
            .filter(luojia::entities::movie::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .expect("mark ready");
        id
    }

    /// Every page of a cursor-paginated listing, in order (`query` already holds a `?`).
    pub async fn all_pages(&self, query: &str, token: Option<&str>) -> Vec<Vec<Value>> {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = query.to_owned();
            if let Some(c) = &cursor {
                q.push_str(&format!("&cursor={c}"));
            }
            let page = expect_status(self.get(&q, token).await, StatusCode::OK).await;
            pages.push(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return pages,
            }
        }
    }

    /// Log in; returns (access, refresh).
    pub async fn login(&self, login: &str, password: &str) -> (String, String) {
        let res = self
            .post(
                "/api/v1/auth/login",
                &json!({"login": login, "password": password}),
                None,
            )
            .await;
        let body = expect_status(res, StatusCode::OK).await;
        (
            body["tokens"]["access_token"]
                .as_str()
                .expect("access")
                .to_owned(),
            body["tokens"]["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        )
    }
}

/// Assert the status and return the JSON body (`Null` when empty).
pub async fn expect_status(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }
}

/// Assert a problem+json answer with `status` and `code`; returns the body.
pub async fn expect_problem(res: Response, status: StatusCode, code: &str) -> Value {
    let got = res.status();
    let body = problem(res).await;
    assert_eq!(got, status, "unexpected status; body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    body
}

/// Assert an application/problem+json answer, whatever its status and code (both
/// present, the status equal to the HTTP one); returns the body.
pub async fn problem(res: Response) -> Value {
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = res.text().await.expect("body");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}, not JSON: {text}"));
    assert_eq!(content_type, "application/problem+json", "body: {body}");
    assert_eq!(body["status"], status.as_u16(), "body: {body}");
    assert!(
        body["code"].is_string()
            && body["detail"].is_string()
            && body["title"].is_string()
            && body["type"].is_string(),
        "body: {body}"
    );
    body
}
