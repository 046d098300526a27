//! Load generator for the Luojia real-time server (`/ws`, see docs/realtime.md).
//!
//! Modes (each prints one JSON line on stdout; progress goes to stderr):
//!
//! * `chat`  — N members in one room, K of them send chat at a total rate; measures delivery
//!   latency (the send time travels in the text as `t=<unix µs>`), loss and duplicates
//!   (every member must see every acknowledged `seq` exactly once). With `--ws-urls` the
//!   members are spread over several instances (senders all on the first, receivers evenly)
//!   and delivery is also reported for the receivers on each side: `local` (the senders'
//!   instance) and `remote` (the others, reached through Redis).
//! * `bare`  — the same client and fan-out against a minimal in-process WebSocket server that
//!   broadcasts pre-serialized frames with `tokio::sync::broadcast`: the baseline.
//! * `sync`  — N members; one sends `seek` commands; measures send → `playback_state` receipt.
//! * `idle`  — opens N authenticated idle connections and reports the server's RSS growth per
//!   connection (VmRSS of `--server-pid` before and after).
//!
//! The server must be started with generous registration/login rate limits (and a low
//! bcrypt cost, e.g. `APP_AUTH__BCRYPT_COST=4`) so that thousands of users register quickly.
//!
//! Set-up steps (register, create and join the room, connect and join over the WebSocket)
//! retry transient failures — transport errors, 5xx, 429 — with bounded exponential
//! backoff (`--max-attempts`, default 8); the output counts them as `setup_retries`. Other
//! failures (a 4xx, an unexpected answer) stop the run at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Parser)]
#[command(
    name = "luojia-loadgen",
    about = "WebSocket load generator for Luojia (docs/realtime.md)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Chat fan-out in one room of the server at --url.
    Chat(ChatArgs),
    /// The same chat fan-out against an in-process bare tokio broadcast loop (baseline).
    Bare(ChatArgs),
    /// Seek commands: latency from send to each member's `playback_state`.
    Sync(SyncArgs),
    /// Server memory per idle connection (VmRSS of --server-pid).
    Idle(IdleArgs),
}

#[derive(Args, Clone)]
struct Common {
    /// Server base URL (http://host:port); the WebSocket is <url>/ws.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Requests / connection handshakes in flight during set-up.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Username prefix ([a-z0-9_], keep it short: usernames are at most 32 characters).
    #[arg(long, default_value = "lg")]
    prefix: String,
    /// Attempts per set-up step (register, create/join room, connect and join) before a
    /// transient failure (transport error, 5xx, 429) stops the run.
    #[arg(long, default_value_t = 8)]
    max_attempts: u32,
}

#[derive(Args, Clone)]
struct ChatArgs {
    #[command(flatten)]
    common: Common,
    /// Members (WebSocket connections) in the room.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// How many of them send (keep rate/senders under the server's 10 frames/s per connection).
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Total chat messages per second over all senders.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Approximate length of each chat text (1–500).
    #[arg(long, default_value_t = 64)]
    text_len: usize,
    /// Seconds to wait for the last deliveries after the senders stop.
    #[arg(long, default_value_t = 3.0)]
    drain: f64,
    /// `chat` only: spread the members' WebSocket connections over these server base URLs
    /// (comma-separated; e.g. two instances sharing one database and Redis): every sender on
    /// the first, the other members (receivers) evenly over all. Delivery is then also
    /// reported separately for the receivers on the senders' instance (`local`) and on the
    /// others (`remote`). REST set-up uses --url.
    #[arg(long, value_delimiter = ',')]
    ws_urls: Vec<String>,
}

#[derive(Args, Clone)]
struct SyncArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// Number of seek commands the controller sends.
    #[arg(long, default_value_t = 20)]
    commands: usize,
    /// Milliseconds between seek commands (the server allows 10 frames/s per connection).
    #[arg(long, default_value_t = 250)]
    interval_ms: u64,
    #[arg(long, default_value_t = 3.0)]
    drain: f64,
}

#[derive(Args, Clone)]
struct IdleArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Distinct users the connections are spread over (default: one user per connection).
    #[arg(long)]
    users: Option<usize>,
    /// PID of the server process, whose /proc/<pid>/status VmRSS is read.
    #[arg(long)]
    server_pid: u32,
    /// Seconds to let the server settle before each VmRSS reading.
    #[arg(long, default_value_t = 3.0)]
    settle: f64,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn new_hist() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 600_000_000, 3).map_err(|e| anyhow!("histogram: {e:?}"))
}

fn pct_ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    h.value_at_quantile(q) as f64 / 1000.0
}

fn latency_json(h: &Histogram<u64>) -> Value {
    json!({
        "count": h.len(),
        "p50_ms": pct_ms(h, 0.50),
        "p90_ms": pct_ms(h, 0.90),
        "p99_ms": pct_ms(h, 0.99),
        "p999_ms": pct_ms(h, 0.999),
        "max_ms": if h.is_empty() { 0.0 } else { h.max() as f64 / 1000.0 },
        "mean_ms": if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
    })
}

// --------------------------------------------------------------------------------------
// Set-up with retries
//
// Registering thousands of users and opening thousands of connections overwhelms the
// server now and then: a connection reset, a 503 "pool timed out", SQLite's "database is
// locked" (500). Such failures are retried with bounded exponential backoff; anything that
// another attempt cannot fix (a 4xx other than 429, an unexpected answer) stops the run.

/// How one attempt of a set-up step failed.
enum StepError {
    /// Worth another attempt: a transport error, 5xx or 429 (with the server's
    /// `Retry-After`, if it sent one).
    Transient {
        err: anyhow::Error,
        retry_after: Option<Duration>,
    },
    /// Another attempt cannot help.
    Fatal(anyhow::Error),
}

impl StepError {
    fn transient(err: anyhow::Error) -> Self {
        Self::Transient {
            err,
            retry_after: None,
        }
    }

    fn context(self, context: &'static str) -> Self {
        match self {
            Self::Transient { err, retry_after } => Self::Transient {
                err: err.context(context),
                retry_after,
            },
            Self::Fatal(err) => Self::Fatal(err.context(context)),
        }
    }
}

fn is_transient_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// The error for an HTTP answer other than the expected one.
async fn status_error(resp: reqwest::Response) -> StepError {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: String = resp
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let err = anyhow!("HTTP {status}: {body}");
    if is_transient_status(status.as_u16()) {
        StepError::Transient { err, retry_after }
    } else {
        StepError::Fatal(err)
    }
}

const BACKOFF_FIRST: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Wait before attempt `attempt + 1`: 200 ms doubling per attempt, at most 5 s, plus up to
/// 25 % jitter so that a crowd of failed requests does not come back in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_FIRST
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_MAX);
    let jitter = (now_micros() % 1000) as f64 / 4000.0;
    base.mul_f64(1.0 + jitter)
}

/// Runs set-up steps with retries and counts the retries (reported as `setup_retries`).
#[derive(Clone)]
struct Retry {
    max_attempts: u32,
    retries: Arc<AtomicU64>,
    first: Arc<std::sync::Mutex<Option<String>>>,
}

/// Retries logged on stderr (the rest are only counted).
const RETRIES_LOGGED: u64 = 5;

impl Retry {
    fn new(max_attempts: u32) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            retries: Arc::new(AtomicU64::new(0)),
            first: Arc::new(std::sync::Mutex::new(None)),
        }
    }

    /// `step(attempt)` (attempt 1, 2, …) until it succeeds, fails fatally, or has failed
    /// `max_attempts` times. Errors are reported as "`what`: …".
    async fn run<T, F, Fut>(&self, what: &str, mut step: F) -> Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, StepError>>,
    {
        let mut attempt = 1;
        loop {
            let (err, retry_after) = match step(attempt).await {
                Ok(v) => return Ok(v),
                Err(StepError::Fatal(e)) => {
                    return Err(e.context(format!("{what}: not a transient failure, not retried")));
                }
                Err(StepError::Transient { err, retry_after }) => (err, retry_after),
            };
            if attempt >= self.max_attempts {
                return Err(err.context(format!("{what}: gave up after {attempt} attempts")));
            }
            let n = self.retries.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1
                && let Ok(mut first) = self.first.lock()
            {
                *first = Some(format!("{what}: {err:#}"));
            }
            if n <= RETRIES_LOGGED {
                eprintln!("[loadgen] retry {n}: {what}: attempt {attempt} failed: {err:#}");
            }
            let wait = backoff(attempt)
                .max(retry_after.unwrap_or_default())
                .min(BACKOFF_MAX * 2);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// `setup_retries` and `setup_first_retry` for the JSON output.
    fn report(&self, out: &mut Value) {
        out["setup_retries"] = json!(self.retries.load(Ordering::Relaxed));
        out["setup_first_retry"] = json!(self.first.lock().ok().and_then(|f| f.clone()));
    }
}

// --------------------------------------------------------------------------------------
// REST set-up

struct User {
    token: String,
}

const PASSWORD: &str = "loadgenpassword1";

fn run_tag() -> String {
    // Unique per run so that repeated runs against one database do not collide.
    format!("{:x}", now_micros() % 0xff_ffff_ffff)
}

fn http_client() -> Result<reqwest::Client> {
    // A request that hangs counts as a transport error (and is retried).
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("HTTP client")
}

/// `tokens.access_token` of a register or login answer.
async fn access_token(resp: reqwest::Response) -> Result<User, StepError> {
    // The status was fine; a body cut off by the network is worth another attempt.
    let body: Value = resp
        .json()
        .await
        .map_err(|e| StepError::transient(anyhow!(e).context("reading the answer")))?;
    let token = body["tokens"]["access_token"]
        .as_str()
        .ok_or_else(|| StepError::Fatal(anyhow!("no access token in {body}")))?;
    Ok(User {
        token: token.to_owned(),
    })
}

async fn register(
    http: &reqwest::Client,
    url: &str,
    username: &str,
    attempt: u32,
) -> Result<User, StepError> {
    let resp = http
        .post(format!("{url}/api/v1/auth/register"))
        .json(&json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": PASSWORD,
        }))
        .send()
        .await
        .map_err(|e| StepError::transient(anyhow!(e)))?;
    match resp.status().as_u16() {
        201 => access_token(resp).await,
        // An earlier attempt created the account but its answer was lost: log in instead.
        409 if attempt > 1 => login(http, url, username).await,
        _ => Err(status_error(resp).await),
    }
}

async fn login(http: &reqwest::Client, url: &str, username: &str) -> Result<User, StepError> {
    let resp = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({ "login": username, "password": PASSWORD }))
        .send()
        .await
        .map_err(|e| StepError::transient(anyhow!(e)))?;
    let answer = if resp.status().as_u16() == 200 {
        access_token(resp).await
    } else {
        Err(status_error(resp).await)
    };
    answer.map_err(|e| e.context("logging in instead"))
}

async fn register_many(common: &Common, n: usize, retry: &Retry) -> Result<Vec<User>> {
    let http = http_client()?;
    let tag = run_tag();
    let started = Instant::now();
    let results: Vec<Result<User>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let http = http.clone();
            let name = format!("{}{}_{}", common.prefix, tag, i);
            let url = common.url.clone();
            async move {
                retry
                    .run(&format!("register {name}"), |attempt| {
                        register(&http, &url, &name, attempt)
                    })
                    .await
            }
        })
        .buffered(common.concurrency.max(1))
        .collect()
        .await;
    let users = results.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!(
        "[loadgen] registered {} users in {:.1} s",
        users.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(users)
}

/// `POST url` with `body` as `token`; the answer's JSON on 2xx.
async fn post_json(
    http: &reqwest::Client,
    url: String,
    token: &str,
    body: &Value,
) -> Result<Value, StepError> {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| StepError::transient(anyhow!(e)))?;
    if !resp.status().is_success() {
        return Err(status_error(resp).await);
    }
    resp.json()
        .await
        .map_err(|e| StepError::transient(anyhow!(e).context("reading the answer")))
}

/// Creates a room owned by users[0] and makes everybody else join it. Returns the room id.
async fn make_room(common: &Common, users: &[User], retry: &Retry) -> Result<i64> {
    let http = http_client()?;
    let owner = users.first().ok_or_else(|| anyhow!("no users"))?;
    // A retry after a lost answer creates a second room; the first is simply left unused.
    let (create_url, create_body) = (
        format!("{}/api/v1/rooms", common.url),
        json!({"name": "bench", "control_mode": "everyone"}),
    );
    let body = retry
        .run("create room", |_| {
            post_json(&http, create_url.clone(), &owner.token, &create_body)
        })
        .await?;
    let room_id = body["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("create room: no id in {body}"))?;
    let invite = body["invite_code"]
        .as_str()
        .ok_or_else(|| anyhow!("create room: no invite_code in {body}"))?
        .to_owned();
    let join_url = format!("{}/api/v1/rooms/join", common.url);
    let join_body = json!({ "invite_code": invite });
    // Joining is idempotent (a member joining again gets 200), so retries are safe.
    let (http, join_url, join_body) = (&http, &join_url, &join_body);
    let results: Vec<Result<Value>> = futures_util::stream::iter(users.iter().skip(1))
        .map(|u| {
            retry.run("join room", move |_| {
                post_json(http, join_url.clone(), &u.token, join_body)
            })
        })
        .buffer_unordered(common.concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!("[loadgen] room {room_id} with {} members", users.len());
    Ok(room_id)
}

fn ws_url(http_url: &str) -> String {
    let base = http_url.trim_end_matches('/');
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}/ws")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}/ws")
    } else {
        format!("{base}/ws")
    }
}

/// A failed WebSocket handshake: refused with a 4xx (other than 429) is fatal, the rest
/// (reset, refused connection, 5xx, 429, timeouts) transient.
fn ws_connect_error(e: tokio_tungstenite::tungstenite::Error) -> StepError {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match e {
        WsError::Http(resp) => {
            let status = resp.status();
            let body = resp
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect::<String>();
            let err = anyhow!("ws upgrade: HTTP {status}: {body}");
            if is_transient_status(status.as_u16()) {
                StepError::transient(err)
            } else {
                StepError::Fatal(err)
            }
        }
        e @ WsError::Url(_) => StepError::Fatal(anyhow!(e).context("ws connect")),
        e => StepError::transient(anyhow!(e).context("ws connect")),
    }
}

/// tungstenite zero-fills `read_buffer_size` bytes (128 KiB by default) before every
/// socket read: with thousands of connections each reading one small frame at a time,
/// that memset was most of this client's CPU and showed up as delivery latency. 8 KiB
/// holds any ordinary frame; larger ones (a big `joined`) take several reads. Client
/// sockets also set TCP_NODELAY, as browsers do.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(8 * 1024)
}

async fn connect(url: &str, token: &str) -> Result<Ws, StepError> {
    let mut req = ws_url(url)
        .into_client_request()
        .map_err(|e| StepError::Fatal(anyhow!(e).context("ws request")))?;
    let auth = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|e| StepError::Fatal(anyhow!(e).context("ws request")))?;
    req.headers_mut().insert("Authorization", auth);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), true)
        .await
        .map_err(ws_connect_error)?;
    // The first frame is `welcome`.
    let first = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .map_err(|_| StepError::transient(anyhow!("no welcome within 30 s")))?
        .ok_or_else(|| StepError::transient(anyhow!("closed before welcome")))?
        .map_err(|e| StepError::transient(anyhow!(e).context("reading welcome")))?;
    let text = first.to_text().unwrap_or_default();
    if !text.contains("\"welcome\"") {
        return Err(StepError::Fatal(anyhow!("expected welcome, got {text}")));
    }
    Ok(ws)
}

/// `error` codes of a refused `join` that another attempt may get past.
const TRANSIENT_WS_CODES: [&str; 3] = ["rate_limited", "internal_error", "service_unavailable"];

async fn join(ws: &mut Ws, room_id: i64) -> Result<(), StepError> {
    ws.send(Message::text(
        json!({"type": "join", "room_id": room_id}).to_string(),
    ))
    .await
    .map_err(|e| StepError::transient(anyhow!(e).context("sending join")))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .map_err(|_| StepError::transient(anyhow!("no joined within 60 s")))?
            .ok_or_else(|| StepError::transient(anyhow!("closed before joined")))?
            .map_err(|e| StepError::transient(anyhow!(e).context("waiting for joined")))?;
        if let Message::Text(t) = &msg {
            match frame_type(t) {
                "joined" => return Ok(()),
                "error" => {
                    let err = anyhow!("join refused: {t}");
                    let transient = TRANSIENT_WS_CODES
                        .iter()
                        .any(|c| t.contains(&format!("\"code\":\"{c}\"")));
                    return Err(if transient {
                        StepError::transient(err)
                    } else {
                        StepError::Fatal(err)
                    });
                }
                _ => {}
            }
        }
        if let Message::Close(c) = msg {
            return Err(StepError::transient(anyhow!("closed before joined: {c:?}")));
        }
    }
}

// --------------------------------------------------------------------------------------
// One member connection

#[derive(Default)]
struct ConnStats {
    chat: Option<Histogram<u64>>,
    sync: Option<Histogram<u64>>,
    /// seq → times received
    seen: HashMap<u64, u32>,
    sync_received: u64,
    errors: u64,
    first_error: Option<String>,
    last_recv_us: u64,
    closed: Option<String>,
}

/// `{"type":"X",...}` → X (serde writes the tag first); falls back to a full parse.
fn frame_type(text: &str) -> &str {
    const KEY: &str = "\"type\":\"";
    // Fast path: the tag first. Otherwise the first "type" key anywhere.
    let rest = match text.strip_prefix("{\"type\":\"") {
        Some(rest) => rest,
        None => match text.find(KEY) {
            Some(i) => &text[i + KEY.len()..],
            None => return "",
        },
    };
    match rest.find('"') {
        Some(end) => &rest[..end],
        None => "",
    }
}

fn number_after(text: &str, key: &str) -> Option<u64> {
    let start = text.find(key)? + key.len();
    let digits: &str = &text[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

fn handle_text(
    text: &str,
    stats: &mut ConnStats,
    acks: Option<&Arc<Mutex<Vec<u64>>>>,
    pending_acks: &mut Vec<u64>,
) {
    let now = now_micros();
    match frame_type(text) {
        "chat" => {
            stats.last_recv_us = now;
            if let Some(seq) = number_after(text, "\"seq\":") {
                *stats.seen.entry(seq).or_insert(0) += 1;
            }
            if let (Some(t), Some(h)) = (number_after(text, "\"text\":\"t="), stats.chat.as_mut()) {
                h.saturating_record(now.saturating_sub(t).max(1));
            }
        }
        "chat_ack" => {
            if acks.is_some()
                && let Some(seq) = number_after(text, "\"seq\":")
            {
                pending_acks.push(seq);
            }
        }
        "playback_state" => {
            stats.last_recv_us = now;
            stats.sync_received += 1;
            if let (Some(t), Some(h)) = (number_after(text, "\"req_id\":\"s"), stats.sync.as_mut())
            {
                h.saturating_record(now.saturating_sub(t).max(1));
            }
        }
        "error" => {
            stats.errors += 1;
            if stats.first_error.is_none() {
                stats.first_error = Some(text.chars().take(300).collect());
            }
        }
        _ => {}
    }
}

/// Reads the connection until `stop`, sending whatever arrives on `out`.
async fn member_task<S>(
    mut sink: SplitSink<WebSocketStream<S>, Message>,
    mut stream: SplitStream<WebSocketStream<S>>,
    mut out: mpsc::UnboundedReceiver<Message>,
    acks: Option<Arc<Mutex<Vec<u64>>>>,
    mut stop: watch::Receiver<bool>,
) -> Result<ConnStats>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut stats = ConnStats {
        chat: Some(new_hist()?),
        sync: Some(new_hist()?),
        ..Default::default()
    };
    let mut pending_acks = Vec::new();
    let mut out_open = true;
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    handle_text(&t, &mut stats, acks.as_ref(), &mut pending_acks);
                    if !pending_acks.is_empty() && let Some(a) = &acks {
                        a.lock().await.append(&mut pending_acks);
                    }
                }
                Some(Ok(Message::Close(c))) => {
                    stats.closed = Some(format!("{c:?}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    stats.closed = Some(format!("error: {e}"));
                    break;
                }
                None => {
                    stats.closed = Some("eof".into());
                    break;
                }
            },
            m = out.recv(), if out_open => match m {
                Some(m) => {
                    if let Err(e) = sink.send(m).await {
                        stats.closed = Some(format!("send error: {e}"));
                        break;
                    }
                }
                None => out_open = false,
            },
            _ = stop.changed() => break,
        }
    }
    let _ = sink.close().await;
    Ok(stats)
}

struct Members {
    senders: Vec<mpsc::UnboundedSender<Message>>,
    tasks: Vec<tokio::task::JoinHandle<Result<ConnStats>>>,
    /// Index into the WebSocket URLs each member is connected to (0: the senders' one).
    instance: Vec<usize>,
    stop: watch::Sender<bool>,
    acks: Arc<Mutex<Vec<u64>>>,
}

/// Which of `instances` servers each of `n` members connects to: the first `senders` all
/// to instance 0, the other members (the receivers) round-robin, so that every instance
/// has as many receivers as the others (±1).
fn spread(n: usize, senders: usize, instances: usize) -> Vec<usize> {
    let instances = instances.max(1);
    (0..n)
        .map(|i| {
            if i < senders {
                0
            } else {
                (i - senders) % instances
            }
        })
        .collect()
}

/// Connects one member to `urls[instance]` of each `(instance, token)`, joins it to
/// `room_id` and starts its reader task (each must be read continuously, else the server's
/// outbound queue overflows). A failed connect or join is retried from the start.
async fn connect_members(
    urls: &[String],
    members: Vec<(usize, String)>,
    room_id: i64,
    concurrency: usize,
    retry: &Retry,
) -> Result<Members> {
    let (stop, stop_rx) = watch::channel(false);
    let acks = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let n = members.len();
    let instance: Vec<usize> = members.iter().map(|(i, _)| *i).collect();
    type Conn = (
        mpsc::UnboundedSender<Message>,
        tokio::task::JoinHandle<Result<ConnStats>>,
    );
    let conns: Vec<Result<Conn>> = futures_util::stream::iter(members)
        .map(|(at, token)| {
            let url = urls
                .get(at)
                .cloned()
                .ok_or_else(|| anyhow!("no WebSocket URL number {at}"));
            let acks = acks.clone();
            let stop_rx = stop_rx.clone();
            async move {
                let url = url?;
                let (url, token) = (&url, &token);
                let ws = retry
                    .run("connect and join", move |_| async move {
                        let mut ws = connect(url, token).await?;
                        join(&mut ws, room_id).await?;
                        Ok(ws)
                    })
                    .await?;
                // Start reading at once: presence frames from later joins must not pile up.
                let (sink, stream) = ws.split();
                let (tx, rx) = mpsc::unbounded_channel();
                Ok((
                    tx,
                    tokio::spawn(member_task(sink, stream, rx, Some(acks), stop_rx)),
                ))
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut senders = Vec::with_capacity(n);
    let mut tasks = Vec::with_capacity(n);
    for c in conns {
        let (tx, task) = c?;
        senders.push(tx);
        tasks.push(task);
    }
    eprintln!(
        "[loadgen] {n} members connected and joined in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Members {
        senders,
        tasks,
        instance,
        stop,
        acks,
    })
}

// --------------------------------------------------------------------------------------
// chat fan-out (server and bare)

fn chat_text(len: usize) -> String {
    // "t=<µs> " + padding
    let pad = len.saturating_sub(24).min(470);
    format!("t={} {}", now_micros(), "x".repeat(pad))
}

async fn run_chat(
    args: &ChatArgs,
    members: Members,
    room_id: i64,
    mode: &str,
    setup_s: f64,
) -> Result<Value> {
    let k = args.senders.clamp(1, members.senders.len().max(1));
    let per_sender = args.rate / k as f64;
    if per_sender > 9.0 {
        eprintln!(
            "[loadgen] warning: {per_sender:.1} msg/s per sender exceeds the server's 10 frames/s limit"
        );
    }
    let count = (per_sender * args.duration).round() as u64;
    let period = Duration::from_secs_f64(1.0 / per_sender.max(0.001));
    // Give presence traffic from the set-up a moment to drain.
    tokio::time::sleep(Duration::from_secs(1)).await;
    eprintln!(
        "[loadgen] {mode}: {} members, {k} senders × {count} msgs at {per_sender:.2}/s each ({:.1} msg/s total)",
        members.senders.len(),
        args.rate
    );
    let first_send = now_micros();
    let sent = Arc::new(AtomicU64::new(0));
    let mut send_tasks = Vec::new();
    for (si, tx) in members.senders.iter().take(k).enumerate() {
        let tx = tx.clone();
        let sent = sent.clone();
        let text_len = args.text_len;
        // Stagger the senders across one period so the load is smooth.
        let offset = period.mul_f64(si as f64 / k as f64);
        send_tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for i in 0..count {
                tick.tick().await;
                let frame = json!({
                    "type": "chat",
                    "room_id": room_id,
                    "client_id": format!("s{si}_{i}"),
                    "text": chat_text(text_len),
                })
                .to_string();
                if tx.send(Message::text(frame)).is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in send_tasks {
        t.await?;
    }
    let last_send = now_micros();
    tokio::time::sleep(Duration::from_secs_f64(args.drain)).await;
    let _ = members.stop.send(true);
    let n = members.tasks.len() as u64;
    let mut all = Vec::with_capacity(members.tasks.len());
    for t in members.tasks {
        all.push(t.await??);
    }
    let acked: Vec<u64> = members.acks.lock().await.clone();
    let mut total = Delivery::new()?;
    // With several instances: the receivers on the senders' instance and on the others.
    // The senders are left out of both: a sender's session is busy storing its own chats
    // while frames for it wait, which would weigh on the local side only.
    let mut local = Delivery::new()?;
    let mut remote = Delivery::new()?;
    let instances = members.instance.iter().max().map_or(1, |m| m + 1);
    let mut errors = 0u64;
    let mut first_error = None;
    let mut closed = 0u64;
    let mut first_close = None;
    let mut last_recv = first_send;
    for (i, (s, &at)) in all.iter().zip(&members.instance).enumerate() {
        total.add(s, &acked)?;
        if at > 0 {
            remote.add(s, &acked)?;
        } else if i >= k {
            local.add(s, &acked)?;
        }
        errors += s.errors;
        if first_error.is_none() {
            first_error.clone_from(&s.first_error);
        }
        if let Some(c) = &s.closed {
            closed += 1;
            if first_close.is_none() {
                first_close = Some(c.clone());
            }
        }
        last_recv = last_recv.max(s.last_recv_us);
    }
    let send_window_s = (last_send.saturating_sub(first_send)) as f64 / 1e6;
    let deliver_window_s = (last_recv.saturating_sub(first_send)) as f64 / 1e6;
    let mut out = json!({
        "mode": mode,
        "connections": n,
        "senders": k,
        "rate_target": args.rate,
        "duration_s": args.duration,
        "text_len": args.text_len,
        "setup_s": setup_s,
        "sent": sent.load(Ordering::Relaxed),
        "acked": acked.len(),
        "expected": total.expected(&acked),
        "delivered": total.delivered,
        "lost": total.lost,
        "duplicates": total.dups,
        "errors": errors,
        "first_error": first_error,
        "closed_early": closed,
        "first_close": first_close,
        "send_window_s": send_window_s,
        "deliver_window_s": deliver_window_s,
        "msgs_per_s_sent": if send_window_s > 0.0 { acked.len() as f64 / send_window_s } else { 0.0 },
        "deliveries_per_s": if deliver_window_s > 0.0 { total.delivered as f64 / deliver_window_s } else { 0.0 },
        "latency": latency_json(&total.hist),
    });
    if instances > 1 {
        out["instances"] = json!(instances);
        out["local"] = local.json(&acked);
        out["remote"] = remote.json(&acked);
        out["remote_minus_local_p99_ms"] =
            json!(pct_ms(&remote.hist, 0.99) - pct_ms(&local.hist, 0.99));
    }
    Ok(out)
}

/// Chat deliveries to a set of members: latency, and every acknowledged `seq` seen once.
struct Delivery {
    members: u64,
    hist: Histogram<u64>,
    delivered: u64,
    lost: u64,
    dups: u64,
}

impl Delivery {
    fn new() -> Result<Self> {
        Ok(Self {
            members: 0,
            hist: new_hist()?,
            delivered: 0,
            lost: 0,
            dups: 0,
        })
    }

    fn add(&mut self, s: &ConnStats, acked: &[u64]) -> Result<()> {
        self.members += 1;
        if let Some(h) = &s.chat {
            self.hist.add(h).map_err(|e| anyhow!("histogram: {e:?}"))?;
        }
        for seq in acked {
            match s.seen.get(seq) {
                None => self.lost += 1,
                Some(c) => {
                    self.delivered += 1;
                    self.dups += u64::from(c.saturating_sub(1));
                }
            }
        }
        Ok(())
    }

    fn expected(&self, acked: &[u64]) -> u64 {
        acked.len() as u64 * self.members
    }

    fn json(&self, acked: &[u64]) -> Value {
        json!({
            "members": self.members,
            "expected": self.expected(acked),
            "delivered": self.delivered,
            "lost": self.lost,
            "duplicates": self.dups,
            "latency": latency_json(&self.hist),
        })
    }
}

async fn cmd_chat(args: ChatArgs) -> Result<Value> {
    let t0 = Instant::now();
    let retry = Retry::new(args.common.max_attempts);
    let urls = if args.ws_urls.is_empty() {
        vec![args.common.url.clone()]
    } else {
        args.ws_urls.clone()
    };
    let users = register_many(&args.common, args.connections, &retry).await?;
    let room_id = make_room(&args.common, &users, &retry).await?;
    // The same sender count as run_chat, so that every sender is on the first instance.
    let k = args.senders.clamp(1, users.len().max(1));
    let members = spread(users.len(), k, urls.len())
        .into_iter()
        .zip(users.into_iter().map(|u| u.token))
        .collect();
    let members = connect_members(&urls, members, room_id, args.common.concurrency, &retry).await?;
    let setup = t0.elapsed().as_secs_f64();
    let mut out = run_chat(&args, members, room_id, "server", setup).await?;
    if urls.len() > 1 {
        out["ws_urls"] = json!(urls);
    }
    retry.report(&mut out);
    Ok(out)
}

// --- the bare baseline: a minimal in-process server ------------------------------------

async fn recv_opt(
    rx: &mut Option<broadcast::Receiver<Utf8Bytes>>,
) -> Result<Utf8Bytes, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn bare_conn(
    stream: TcpStream,
    hub: broadcast::Sender<Utf8Bytes>,
    seq: Arc<AtomicU64>,
    lagged: Arc<AtomicU64>,
) -> Result<()> {
    let _ = stream.set_nodelay(true);
    let ws = tokio_tungstenite::accept_async_with_config(stream, Some(ws_config())).await?;
    let (mut sink, mut stream) = ws.split();
    sink.send(Message::text(
        r#"{"type":"welcome","user_id":0,"server_time":0,"ping_interval_ms":15000}"#,
    ))
    .await?;
    let mut rx: Option<broadcast::Receiver<Utf8Bytes>> = None;
    loop {
        tokio::select! {
            msg = stream.next() => {
                let Some(msg) = msg else { break };
                let Message::Text(t) = msg? else { continue };
                let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                let room_id = v["room_id"].as_i64().unwrap_or(0);
                match v["type"].as_str().unwrap_or("") {
                    "join" => {
                        rx = Some(hub.subscribe());
                        // serde_json sorts object keys; the server writes the tag first, so do we.
                        let joined = format!(r#"{{"type":"joined","room_id":{room_id},"last_seq":0,"reload":false,"playback":null,"members":[],"messages":[]}}"#);
                        sink.send(Message::text(joined)).await?;
                    }
                    "chat" => {
                        let s = seq.fetch_add(1, Ordering::Relaxed) + 1;
                        let message = json!({"room_id":room_id,"seq":s,"sender_id":0,"sender_name":"bare",
                            "client_id":v["client_id"],"kind":"text","text":v["text"],"position_ms":null,
                            "created_at":"2026-01-01T00:00:00Z","deleted":false});
                        let ack = format!(r#"{{"type":"chat_ack","room_id":{room_id},"client_id":{},"seq":{s},"message":{message}}}"#, v["client_id"]);
                        sink.send(Message::text(ack)).await?;
                        // Serialized once, shared by every subscriber.
                        let frame = Utf8Bytes::from(format!(r#"{{"type":"chat","message":{message}}}"#));
                        let _ = hub.send(frame);
                    }
                    "playback" => {
                        let frame = format!(r#"{{"type":"playback_state","room_id":{room_id},"state":{{}},"by":0,"req_id":{}}}"#, v["req_id"]);
                        let _ = hub.send(Utf8Bytes::from(frame));
                    }
                    _ => {}
                }
            }
            frame = recv_opt(&mut rx) => match frame {
                Ok(f) => sink.send(Message::Text(f)).await?,
                Err(broadcast::error::RecvError::Lagged(n)) => { lagged.fetch_add(n, Ordering::Relaxed); }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    Ok(())
}

async fn cmd_bare(args: ChatArgs) -> Result<Value> {
    if !args.ws_urls.is_empty() {
        bail!("--ws-urls applies to `chat` only");
    }
    let t0 = Instant::now();
    let retry = Retry::new(args.common.max_attempts);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (hub, _) = broadcast::channel::<Utf8Bytes>(1024);
    let seq = Arc::new(AtomicU64::new(0));
    let lagged = Arc::new(AtomicU64::new(0));
    {
        let hub = hub.clone();
        let seq = seq.clone();
        let lagged = lagged.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(bare_conn(s, hub.clone(), seq.clone(), lagged.clone()));
            }
        });
    }
    let url = format!("http://{addr}");
    let members = (0..args.connections)
        .map(|_| (0, "bare".to_owned()))
        .collect();
    let members = connect_members(&[url], members, 1, args.common.concurrency, &retry).await?;
    let setup = t0.elapsed().as_secs_f64();
    let mut out = run_chat(&args, members, 1, "bare", setup).await?;
    out["bare_lagged"] = json!(lagged.load(Ordering::Relaxed));
    retry.report(&mut out);
    Ok(out)
}

// --------------------------------------------------------------------------------------
// sync

async fn cmd_sync(args: SyncArgs) -> Result<Value> {
    let retry = Retry::new(args.common.max_attempts);
    let users = register_many(&args.common, args.connections, &retry).await?;
    let room_id = make_room(&args.common, &users, &retry).await?;
    let members = users.into_iter().map(|u| (0, u.token)).collect();
    let urls = [args.common.url.clone()];
    let members = connect_members(&urls, members, room_id, args.common.concurrency, &retry).await?;
    // Everyone reports ready first (so the room never waits on anybody).
    for tx in &members.senders {
        let _ = tx.send(Message::text(
            json!({"type":"player_status","room_id":room_id,"status":"ready"}).to_string(),
        ));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let controller = members
        .senders
        .first()
        .ok_or_else(|| anyhow!("no members"))?
        .clone();
    eprintln!(
        "[loadgen] sync: {} members, {} seeks every {} ms",
        members.senders.len(),
        args.commands,
        args.interval_ms
    );
    let mut tick = tokio::time::interval(Duration::from_millis(args.interval_ms.max(1)));
    for i in 0..args.commands {
        tick.tick().await;
        let frame = json!({"type":"playback","room_id":room_id,"action":"seek",
            "position_ms": 1000 * (i as i64 + 1), "req_id": format!("s{}", now_micros())});
        controller.send(Message::text(frame.to_string()))?;
    }
    tokio::time::sleep(Duration::from_secs_f64(args.drain)).await;
    let _ = members.stop.send(true);
    let n = members.tasks.len() as u64;
    let mut hist = new_hist()?;
    let mut received = 0u64;
    let mut errors = 0u64;
    let mut first_error = None;
    for t in members.tasks {
        let s = t.await??;
        if let Some(h) = &s.sync {
            hist.add(h).map_err(|e| anyhow!("histogram: {e:?}"))?;
        }
        received += s.sync_received;
        errors += s.errors;
        if first_error.is_none() {
            first_error = s.first_error;
        }
    }
    let expected = args.commands as u64 * n;
    let mut out = json!({
        "mode": "sync",
        "connections": n,
        "commands": args.commands,
        "interval_ms": args.interval_ms,
        "expected": expected,
        "delivered": received,
        "lost": expected.saturating_sub(received),
        "errors": errors,
        "first_error": first_error,
        "latency": latency_json(&hist),
    });
    retry.report(&mut out);
    Ok(out)
}

// --------------------------------------------------------------------------------------
// idle memory

fn vm_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("read /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

async fn cmd_idle(args: IdleArgs) -> Result<Value> {
    let n_users = args
        .users
        .unwrap_or(args.connections)
        .clamp(1, args.connections.max(1));
    let retry = Retry::new(args.common.max_attempts);
    let users = register_many(&args.common, n_users, &retry).await?;
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let before = vm_rss_kib(args.server_pid)?;
    let (stop, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let url = args.common.url.clone();
    let results: Vec<Result<tokio::task::JoinHandle<Result<ConnStats>>>> =
        futures_util::stream::iter(
            (0..args.connections).map(|i| users[i % users.len()].token.clone()),
        )
        .map(|token| {
            let url = url.clone();
            let stop_rx = stop_rx.clone();
            let retry = &retry;
            async move {
                let ws = retry.run("connect", |_| connect(&url, &token)).await?;
                let (sink, stream) = ws.split();
                let (_tx, rx) = mpsc::unbounded_channel();
                Ok(tokio::spawn(member_task(sink, stream, rx, None, stop_rx)))
            }
        })
        .buffer_unordered(args.common.concurrency.max(1) * 4)
        .collect()
        .await;
    let mut tasks = Vec::new();
    let mut failed = 0u64;
    let mut first_failure = None;
    for r in results {
        match r {
            Ok(t) => tasks.push(t),
            Err(e) => {
                failed += 1;
                if first_failure.is_none() {
                    first_failure = Some(format!("{e:#}"));
                }
            }
        }
    }
    let open_s = started.elapsed().as_secs_f64();
    eprintln!(
        "[loadgen] idle: {} connections open ({failed} failed) in {open_s:.1} s",
        tasks.len()
    );
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let after = vm_rss_kib(args.server_pid)?;
    let open = tasks.len() as u64;
    let mut closed_early = 0u64;
    let _ = stop.send(true);
    for t in tasks {
        if let Ok(Ok(s)) = t.await
            && s.closed.is_some()
        {
            closed_early += 1;
        }
    }
    let mut out = json!({
        "mode": "idle",
        "connections_requested": args.connections,
        "connections_open": open,
        "connect_failures": failed,
        "first_failure": first_failure,
        "closed_early": closed_early,
        "users": n_users,
        "open_s": open_s,
        "server_rss_before_kib": before,
        "server_rss_after_kib": after,
        "kib_per_connection": if open > 0 { after.saturating_sub(before) as f64 / open as f64 } else { 0.0 },
    });
    retry.report(&mut out);
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let out = match cli.cmd {
        Cmd::Chat(a) => cmd_chat(a).await?,
        Cmd::Bare(a) => cmd_bare(a).await?,
        Cmd::Sync(a) => cmd_sync(a).await?,
        Cmd::Idle(a) => cmd_idle(a).await?,
    };
    println!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fast_paths() {
        let f = r#"{"type":"chat","message":{"room_id":1,"seq":42,"text":"t=1234567 xx"}}"#;
        assert_eq!(frame_type(f), "chat");
        assert_eq!(number_after(f, "\"seq\":"), Some(42));
        assert_eq!(number_after(f, "\"text\":\"t="), Some(1_234_567));
        assert_eq!(frame_type("[]"), "");
        assert_eq!(frame_type(r#"{"a":1,"type":"joined"}"#), "joined");
        assert_eq!(ws_url("http://127.0.0.1:9/"), "ws://127.0.0.1:9/ws");
    }

    #[test]
    fn spread_puts_senders_first_and_balances() {
        let at = spread(200, 10, 2);
        assert!(at[..10].iter().all(|&i| i == 0));
        // 95 receivers on each instance.
        assert_eq!(at[10..].iter().filter(|&&i| i == 0).count(), 95);
        assert_eq!(at[10..].iter().filter(|&&i| i == 1).count(), 95);
        assert_eq!(spread(5, 1, 1), vec![0; 5]);
        assert_eq!(spread(5, 2, 2), vec![0, 0, 0, 1, 0]);
        assert_eq!(spread(5, 0, 3), vec![0, 1, 2, 0, 1]);
    }

    #[test]
    fn only_overload_answers_are_transient() {
        assert!(is_transient_status(503));
        assert!(is_transient_status(500));
        assert!(is_transient_status(429));
        assert!(!is_transient_status(409));
        assert!(!is_transient_status(401));
        assert!(!is_transient_status(400));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert!(backoff(1) >= BACKOFF_FIRST && backoff(1) < BACKOFF_FIRST * 2);
        assert!(backoff(3) >= BACKOFF_FIRST * 4);
        assert!(backoff(30) <= BACKOFF_MAX.mul_f64(1.25));
    }

    #[tokio::test]
    async fn retry_counts_transient_failures_and_stops_on_fatal_ones() {
        let retry = Retry::new(8);
        let got = retry
            .run("step", |attempt| async move {
                if attempt < 3 {
                    Err(StepError::Transient {
                        err: anyhow!("HTTP 503"),
                        retry_after: Some(Duration::from_millis(1)),
                    })
                } else {
                    Ok(attempt)
                }
            })
            .await;
        assert_eq!(got.ok(), Some(3));
        assert_eq!(retry.retries.load(Ordering::Relaxed), 2);
        let fatal = retry
            .run("step", |_| async {
                Err::<(), _>(StepError::Fatal(anyhow!("HTTP 400")))
            })
            .await;
        assert!(fatal.is_err());
        assert_eq!(retry.retries.load(Ordering::Relaxed), 2);
        let few = Retry::new(1);
        let gave_up = few
            .run("step", |_| async {
                Err::<(), _>(StepError::transient(anyhow!("reset")))
            })
            .await;
        assert!(gave_up.is_err());
        assert_eq!(few.retries.load(Ordering::Relaxed), 0);
    }
}
