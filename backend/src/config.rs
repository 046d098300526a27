//! Layered configuration.
//!
//! Order (later wins): built-in defaults → optional file (`--config`, or `APP_CONFIG_FILE`,
//! TOML) → environment variables `APP_SECTION__KEY` (for example `APP_SERVER__PORT=9000`,
//! `APP_DATA_DIR=/srv/luojia`). Every setting has a default that works with nothing
//! installed: SQLite under `./data/`, no Redis, 127.0.0.1:8080.
//!
//! Two modes: `embedded` (default) generates and keeps a JWT secret in the data dir;
//! `production` refuses to start without `APP_AUTH__JWT_SECRET`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Embedded,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub mode: Mode,
    /// Where embedded state lives: the SQLite file, the generated JWT secret, media later.
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub media: MediaSettings,
    pub uploads: UploadsSettings,
    pub history: HistorySettings,
    pub frontend: FrontendSettings,
    pub realtime: RealtimeSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RealtimeSettings {
    /// How often the server pings each WebSocket (ms).
    pub ping_interval_ms: u64,
    /// A WebSocket that sends nothing (not even a pong) for this long is closed (ms).
    pub idle_timeout_ms: u64,
    /// A socket whose written data stays unacknowledged (or unread behind a zero
    /// window) this long is dropped by the kernel (`TCP_USER_TIMEOUT`, ms; 0 = off).
    pub write_timeout_ms: u64,
    /// Friends' presence with Redis: how often each instance says it is alive (ms).
    pub presence_heartbeat_ms: u64,
    /// An instance silent this long is dead and its users go offline (ms).
    pub presence_ttl_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MediaSettings {
    /// Protected HLS output, one folder per movie. Empty means `<data_dir>/media`.
    pub dir: String,
    /// Public images and preview clips. Empty means `<data_dir>/public`.
    pub public_dir: String,
    /// How long a playback grant (the token in `/hls/...` URLs) stays valid.
    pub grant_ttl_secs: i64,
    /// Serve `/hls/` and `/static/` from this process (embedded mode). In production
    /// nginx serves them and asks `/internal/hls-auth`.
    pub serve_files: bool,
    /// Seconds a rendered catalog page (`GET /movies` for non-admins) is reused.
    pub catalog_cache_ttl_secs: u64,
}

/// Uploaded media (`POST /api/v1/media`): where it is stored and the caps.
#[derive(Debug, Clone, Deserialize)]
pub struct UploadsSettings {
    /// `local` (files under `dir`) or `s3` (any S3-compatible object storage).
    pub store: String,
    /// The local store. Empty means `<data_dir>/uploads`.
    pub dir: String,
    /// Where uploads are streamed while they are checked. Empty means
    /// `<data_dir>/uploads-tmp`.
    pub tmp_dir: String,
    /// How long a signed media URL stays valid (seconds).
    pub url_ttl_secs: i64,
    /// Largest image, avatar or sticker file (bytes).
    pub max_image_bytes: u64,
    /// Largest image in pixels (width × height), checked from the header before decoding.
    pub max_image_pixels: u64,
    /// Most frames of an animated GIF, and most pixels of all its frames together.
    pub max_gif_frames: usize,
    pub max_gif_total_pixels: u64,
    /// Largest voice note (bytes) and longest (seconds).
    pub max_voice_bytes: u64,
    pub max_voice_secs: u64,
    /// Uploads decoded or probed at the same time (CPU work on the blocking pool).
    pub processing_concurrency: usize,
    /// Most stickers in one user's collection.
    pub max_stickers: u64,
    /// Uploads one user may make per hour (refused ones count too).
    pub per_user_per_hour: u32,
    /// An upload never attached to anything (a picture chosen and not sent) is deleted,
    /// row and files, this long after it was made (seconds).
    pub unattached_keep_secs: i64,
    /// How often each instance looks for such uploads (seconds).
    pub sweep_interval_secs: u64,
    pub s3: S3Settings,
}

/// The S3-compatible store (`uploads.store = "s3"`).
#[derive(Debug, Clone, Deserialize)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// Empty for AWS; the URL of MinIO, R2, OSS... otherwise.
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: Option<SecretString>,
    /// Allow a plain-http endpoint (a MinIO on the same network).
    pub allow_http: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HistorySettings {
    /// How often coalesced progress reports are written (ms).
    pub flush_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FrontendSettings {
    /// The built single-page app, served at `/` when the folder exists.
    pub dist_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Peers whose `X-Forwarded-For` is believed (the nginx in front of us).
    pub trusted_proxies: Vec<String>,
    /// Seconds to finish in-flight requests after SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Exact origins (scheme://host[:port]) whose pages may open the WebSocket.
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Empty means `sqlite://<data_dir>/luojia.db`.
    pub url: String,
    /// Pool size; 0 means by database (`db::pool_size`).
    pub max_connections: u32,
    pub min_connections: u32,
    pub connect_timeout_secs: u64,
    pub acquire_timeout_secs: u64,
    /// Run pending migrations when `serve` starts.
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// Empty means no Redis: everything runs in process.
    pub url: String,
    /// Prefix of every key and channel, so several deployments (or tests) can share a server.
    pub key_prefix: String,
    pub pool_size: usize,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// HS256 secret, at least 32 bytes. Required in production mode.
    pub jwt_secret: Option<SecretString>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl_secs: i64,
    pub refresh_ttl_days: i64,
    pub bcrypt_cost: u32,
    /// How long an instance trusts its cached view of a session or user row. Changes made
    /// on this instance take effect at once; changes made on another one within this.
    pub session_cache_ttl_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    /// Login attempts per client IP per minute.
    pub login_per_ip: u32,
    /// Login attempts on one account from one client IP per minute (the account, not
    /// how its login is spelled: username and email share the budget).
    pub login_per_account: u32,
    /// Failed logins on one account from all addresses together per hour. Past it the
    /// account is "under attack": addresses that failed on it are refused for the rest of
    /// the hour, and any other address gets one try per account every 10 s, so the owner
    /// (right password, own address) still gets in after a short wait.
    pub login_failures_per_account: u32,
    /// Registrations per client IP per hour.
    pub register_per_ip: u32,
    /// Registration attempts per username and per email address (from all addresses
    /// together) per hour: bounds probing which names are taken.
    pub register_per_name: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `pretty` (readable) or `json`; defaults to json in production mode.
    pub format: Option<LogFormat>,
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub level: String,
}

const DEFAULTS: &str = r#"
mode = "embedded"
data_dir = "./data"

[server]
host = "127.0.0.1"
port = 8080
workers = 0
body_limit = 65536
trusted_proxies = ["127.0.0.1", "::1"]
shutdown_timeout_secs = 10
allowed_origins = ["http://localhost:8080", "http://127.0.0.1:8080"]

[database]
url = ""
max_connections = 0
min_connections = 1
connect_timeout_secs = 5
acquire_timeout_secs = 3
migrate_on_start = true

[redis]
url = ""
key_prefix = "luojia:"
pool_size = 16
timeout_ms = 1000

[auth]
issuer = "luojia"
audience = "luojia-api"
access_ttl_secs = 900
refresh_ttl_days = 30
bcrypt_cost = 12
session_cache_ttl_secs = 30

[rate_limit]
login_per_ip = 30
login_per_account = 10
login_failures_per_account = 100
register_per_ip = 20
register_per_name = 5

[media]
dir = ""
public_dir = ""
grant_ttl_secs = 14400
serve_files = true
catalog_cache_ttl_secs = 5

[uploads]
store = "local"
dir = ""
tmp_dir = ""
url_ttl_secs = 600
max_image_bytes = 10485760
max_image_pixels = 40000000
max_gif_frames = 300
max_gif_total_pixels = 50000000
max_voice_bytes = 2097152
max_voice_secs = 60
processing_concurrency = 2
max_stickers = 200
per_user_per_hour = 300
unattached_keep_secs = 86400
sweep_interval_secs = 3600

[uploads.s3]
bucket = ""
region = "us-east-1"
endpoint = ""
access_key_id = ""
allow_http = false

[history]
flush_interval_ms = 5000

[frontend]
dist_dir = "./frontend/dist"

[realtime]
ping_interval_ms = 15000
idle_timeout_ms = 45000
write_timeout_ms = 30000
presence_heartbeat_ms = 5000
presence_ttl_ms = 20000

[log]
level = "info"
"#;

impl Settings {
    /// Defaults, then `file` (if any), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let env: config::Map<String, String> = std::env::vars().collect();
        Self::load_from(file, env)
    }

    /// Like [`Settings::load`] with an explicit environment (used by tests).
    pub fn load_from(
        file: Option<&Path>,
        env: config::Map<String, String>,
    ) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.get("APP_CONFIG_FILE").map(PathBuf::from));
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("APP")
                    .prefix_separator("_")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("server.trusted_proxies")
                    .with_list_parse_key("server.allowed_origins")
                    .try_parsing(true)
                    .source(Some(env)),
            )
            .build()?
            .try_deserialize()
            .context("invalid configuration")?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !(4..=31).contains(&self.auth.bcrypt_cost) {
            bail!("auth.bcrypt_cost must be between 4 and 31");
        }
        if !matches!(self.uploads.store.as_str(), "local" | "s3") {
            bail!("uploads.store must be local or s3");
        }
        if let Some(secret) = &self.auth.jwt_secret
            && secret.expose_secret().len() < 32
        {
            bail!("auth.jwt_secret must be at least 32 bytes");
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("luojia.db").display()
            )
        } else {
            self.database.url.clone()
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        if self.media.dir.is_empty() {
            self.data_dir.join("media")
        } else {
            PathBuf::from(&self.media.dir)
        }
    }

    pub fn public_dir(&self) -> PathBuf {
        if self.media.public_dir.is_empty() {
            self.data_dir.join("public")
        } else {
            PathBuf::from(&self.media.public_dir)
        }
    }

    pub fn uploads_dir(&self) -> PathBuf {
        if self.uploads.dir.is_empty() {
            self.data_dir.join("uploads")
        } else {
            PathBuf::from(&self.uploads.dir)
        }
    }

    pub fn uploads_tmp_dir(&self) -> PathBuf {
        if self.uploads.tmp_dir.is_empty() {
            self.data_dir.join("uploads-tmp")
        } else {
            PathBuf::from(&self.uploads.tmp_dir)
        }
    }

    pub fn redis_url(&self) -> Option<&str> {
        Some(self.redis.url.as_str()).filter(|u| !u.is_empty())
    }

    pub fn log_format(&self) -> LogFormat {
        self.log.format.unwrap_or(match self.mode {
            Mode::Embedded => LogFormat::Pretty,
            Mode::Production => LogFormat::Json,
        })
    }

    /// The JWT secret: configured, or (embedded mode only) generated once and kept in
    /// `<data_dir>/jwt_secret`.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<SecretString> {
        if let Some(secret) = &self.auth.jwt_secret {
            return Ok(secret.clone());
        }
        if self.mode == Mode::Production {
            bail!("APP_AUTH__JWT_SECRET is required in production mode (at least 32 random bytes)");
        }
        let path = self.data_dir.join("jwt_secret");
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 32 => return Ok(SecretString::from(s.trim().to_owned())),
            Ok(_) => bail!("{} is shorter than 32 bytes", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let secret = crate::auth::tokens::random_token();
        write_private(&path, &secret)?;
        Ok(SecretString::from(secret))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> config::Map<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_embedded() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert_eq!(s.mode, Mode::Embedded);
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.server.host, "127.0.0.1");
        assert!(s.redis_url().is_none());
        assert!(s.database_url().starts_with("sqlite://"));
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let s = Settings::load_from(
            None,
            env(&[
                ("APP_SERVER__PORT", "9001"),
                ("APP_DATA_DIR", "/tmp/x"),
                ("APP_REDIS__URL", "redis://127.0.0.1:6379"),
                ("APP_SERVER__TRUSTED_PROXIES", "10.0.0.1,10.0.0.2"),
            ]),
        )
        .expect("env loads");
        assert_eq!(s.server.port, 9001);
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.redis_url(), Some("redis://127.0.0.1:6379"));
        assert_eq!(s.server.trusted_proxies, vec!["10.0.0.1", "10.0.0.2"]);
    }

    #[test]
    fn production_requires_a_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Settings::load_from(
            None,
            env(&[
                ("APP_MODE", "production"),
                ("APP_DATA_DIR", dir.path().to_str().expect("utf8")),
            ]),
        )
        .expect("loads");
        assert!(s.resolve_jwt_secret().is_err());
    }

    #[test]
    fn embedded_secret_is_generated_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Settings::load_from(
            None,
            env(&[("APP_DATA_DIR", dir.path().to_str().expect("utf8"))]),
        )
        .expect("loads");
        let a = s.resolve_jwt_secret().expect("generated");
        let b = s.resolve_jwt_secret().expect("read back");
        assert_eq!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().len() >= 32);
    }

    #[test]
    fn short_secret_is_refused() {
        let r = Settings::load_from(None, env(&[("APP_AUTH__JWT_SECRET", "short")]));
        assert!(r.is_err());
    }
}
