//! The `luojia` binary itself: CLI commands and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_luojia");

fn base_command(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_DATA_DIR", data)
        .env("APP_AUTH__BCRYPT_COST", "4")
        .env("APP_LOG__FORMAT", "json")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn migrate_and_create_admin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = base_command(dir.path())
        .arg("migrate")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = base_command(dir.path())
        .args([
            "user",
            "create-admin",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
        ])
        .env("LUOJIA_ADMIN_PASSWORD", "admin password 1")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("administrator boss created"));
    // A bad password is refused with a clear message and a failing exit code.
    let out = base_command(dir.path())
        .args([
            "user",
            "create-admin",
            "--username",
            "boss2",
            "--email",
            "boss2@example.com",
        ])
        .env("LUOJIA_ADMIN_PASSWORD", "short")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));
}

#[test]
fn production_mode_refuses_to_start_without_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = base_command(dir.path())
        .env("APP_MODE", "production")
        .env("APP_SERVER__PORT", "0")
        .arg("serve")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("APP_AUTH__JWT_SECRET"));
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, port) = serve(base_command(dir.path()));
    assert_eq!(raw_http::request(&port, "GET", "/healthz", None, "").0, 200);
    stop(&mut child);
}

/// The server runs with mimalloc giving freed pages back at once (it runs itself again with
/// the option set, keeping its PID), and an operator's own value is left alone.
#[cfg(feature = "mimalloc")]
#[test]
fn serve_gives_freed_memory_back_at_once() {
    for (set, expected) in [(None, "0"), (Some("25"), "25")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = base_command(dir.path());
        if let Some(v) = set {
            cmd.env("MIMALLOC_PURGE_DELAY", v);
        }
        let (mut child, port) = serve(cmd);
        assert_eq!(raw_http::request(&port, "GET", "/healthz", None, "").0, 200);
        let environ =
            std::fs::read(format!("/proc/{}/environ", child.id())).expect("the server's environ");
        let wanted = format!("MIMALLOC_PURGE_DELAY={expected}");
        assert!(
            environ.split(|b| *b == 0).any(|e| e == wanted.as_bytes()),
            "{wanted} in the server's environment"
        );
        stop(&mut child);
    }
}

/// Progress reports acknowledged but not yet flushed are written on a clean shutdown.
#[test]
fn sigterm_flushes_pending_history() {
    use luojia::entities::{movie, watch_history};
    use sea_orm::{ActiveModelTrait, Database, EntityTrait, Set};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = base_command(dir.path())
        .arg("migrate")
        .output()
        .expect("migrate");
    assert!(out.status.success());
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("luojia.db").display()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let movie_id = rt.block_on(async {
        let db = Database::connect(&url).await.expect("sqlite");
        let now = chrono::Utc::now();
        let mut flush = movie::ActiveModel {
            title: Set("Flush".into()),
            synopsis: Set(String::new()),
            cast_members: Set("[]".into()),
            duration_ms: Set(Some(100_000)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        // Through `set`, so the test does not care how the status is typed.
        flush.set(movie::Column::Status, "ready".into());
        let id = flush.insert(&db).await.expect("movie").id;
        db.close().await.ok();
        id
    });
    let mut cmd = base_command(dir.path());
    cmd.env("APP_HISTORY__FLUSH_INTERVAL_MS", "3600000");
    let (mut child, port) = serve(cmd);
    let register =
        r#"{"username":"flusher","email":"flusher@example.com","password":"flush password"}"#;
    let (status, body) = raw_http::request(&port, "POST", "/api/v1/auth/register", None, register);
    assert_eq!(status, 201, "{body}");
    let token = body
        .split("\"access_token\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("token")
        .to_owned();
    let (status, _) = raw_http::request(
        &port,
        "PUT",
        &format!("/api/v1/me/history/{movie_id}"),
        Some(&token),
        r#"{"position_ms":4321}"#,
    );
    assert_eq!(status, 204);
    stop(&mut child);
    let row = rt.block_on(async {
        let db = Database::connect(&url).await.expect("sqlite");
        watch_history::Entity::find()
            .one(&db)
            .await
            .expect("query")
            .map(|h| h.position_ms)
    });
    assert_eq!(row, Some(4321));
}

/// `cmd serve` on a free port, its stdout read until it says where it listens.
fn serve(mut cmd: Command) -> (std::process::Child, String) {
    let mut child = cmd
        .env("APP_SERVER__PORT", "0")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let port = started_port(&mut child);
    (child, port)
}

fn started_port(child: &mut std::process::Child) -> String {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let port: String = rest
                    .split(':')
                    .nth(1)
                    .unwrap_or_default()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let _ = tx.send(port);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("server started")
}

/// SIGTERM, then wait for a clean exit.
fn stop(child: &mut std::process::Child) {
    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            return;
        }
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("server did not stop within 15 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

mod raw_http {
    /// A tiny HTTP/1.1 request over a raw socket: (status, body).
    pub fn request(
        port: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut buf = String::new();
        s.read_to_string(&mut buf).expect("read");
        let status = buf
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = buf.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
        (status, body)
    }
}
