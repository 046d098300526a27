//! Load generator for the Luojia real-time server (`/ws`, see docs/realtime.md).
//!
//! Modes (each prints one JSON line on stdout; progress goes to stderr):
//!
//! * `chat`  — N members in one room, K of them send chat at a total rate; measures delivery
//!   latency (the send time travels in the text as `t=<unix µs>`), loss and duplicates
//!   (every member must see every acknowledged `seq` exactly once).
//! * `bare`  — the same client and fan-out against a minimal in-process WebSocket server that
//!   broadcasts pre-serialized frames with `tokio::sync::broadcast`: the baseline.
//! * `sync`  — N members; one sends `seek` commands; measures send → `playback_state` receipt.
//! * `idle`  — opens N authenticated idle connections and reports the server's RSS growth per
//!   connection (VmRSS of `--server-pid` before and after).
//!
//! The server must be started with generous registration/login rate limits (and a low
//! bcrypt cost, e.g. `APP_AUTH__BCRYPT_COST=4`) so that thousands of users register quickly.

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
// REST set-up

struct User {
    token: String,
}

fn run_tag() -> String {
    // Unique per run so that repeated runs against one database do not collide.
    format!("{:x}", now_micros() % 0xff_ffff_ffff)
}

async fn register(http: &reqwest::Client, url: &str, username: &str) -> Result<User> {
    let resp = http
        .post(format!("{url}/api/v1/auth/register"))
        .json(&json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": "loadgenpassword1",
        }))
        .send()
        .await
        .with_context(|| format!("register {username}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if status.as_u16() != 201 {
        bail!("register {username}: HTTP {status}: {body}");
    }
    let token = body["tokens"]["access_token"]
        .as_str()
        .ok_or_else(|| anyhow!("register {username}: no access token in {body}"))?
        .to_owned();
    Ok(User { token })
}

async fn register_many(common: &Common, n: usize) -> Result<Vec<User>> {
    let http = reqwest::Client::new();
    let tag = run_tag();
    let started = Instant::now();
    let results: Vec<Result<User>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let http = http.clone();
            let name = format!("{}{}_{}", common.prefix, tag, i);
            let url = common.url.clone();
            async move {
                // SQLite answers 500 ("database is locked") under concurrent writes: retry.
                let mut attempt = 0u32;
                loop {
                    match register(&http, &url, &name).await {
                        Ok(u) => return Ok(u),
                        Err(e) if attempt < 8 && format!("{e:#}").contains("HTTP 5") => {
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
                        }
                        Err(e) => return Err(e),
                    }
                }
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

/// Creates a room owned by users[0] and makes everybody else join it. Returns the room id.
async fn make_room(common: &Common, users: &[User]) -> Result<i64> {
    let http = reqwest::Client::new();
    let owner = users.first().ok_or_else(|| anyhow!("no users"))?;
    let resp = http
        .post(format!("{}/api/v1/rooms", common.url))
        .bearer_auth(&owner.token)
        .json(&json!({"name": "bench", "control_mode": "everyone"}))
        .send()
        .await
        .context("create room")?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("create room: HTTP {status}: {body}");
    }
    let room_id = body["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("create room: no id in {body}"))?;
    let invite = body["invite_code"]
        .as_str()
        .ok_or_else(|| anyhow!("create room: no invite_code in {body}"))?
        .to_owned();
    let results: Vec<Result<()>> = futures_util::stream::iter(users.iter().skip(1))
        .map(|u| {
            let http = http.clone();
            let url = format!("{}/api/v1/rooms/join", common.url);
            let invite = invite.clone();
            async move {
                let resp = http
                    .post(url)
                    .bearer_auth(&u.token)
                    .json(&json!({ "invite_code": invite }))
                    .send()
                    .await?;
                let status = resp.status();
                if !status.is_success() {
                    let body = resp.text().await.unwrap_or_default();
                    bail!("join room: HTTP {status}: {body}");
                }
                Ok(())
            }
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

async fn connect(url: &str, token: &str) -> Result<Ws> {
    let mut req = ws_url(url).into_client_request()?;
    req.headers_mut().insert(
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .context("ws connect")?;
    // The first frame is `welcome`.
    let first = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no welcome within 30 s")?
        .ok_or_else(|| anyhow!("closed before welcome"))??;
    let text = first.to_text().unwrap_or_default();
    if !text.contains("\"welcome\"") {
        bail!("expected welcome, got {text}");
    }
    Ok(ws)
}

async fn join(ws: &mut Ws, room_id: i64) -> Result<()> {
    ws.send(Message::text(
        json!({"type": "join", "room_id": room_id}).to_string(),
    ))
    .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, ws.next())
            .await
            .context("no joined within 60 s")?
            .ok_or_else(|| anyhow!("closed before joined"))??;
        if let Message::Text(t) = &msg {
            match frame_type(t) {
                "joined" => return Ok(()),
                "error" => bail!("join refused: {t}"),
                _ => {}
            }
        }
        if let Message::Close(c) = msg {
            bail!("closed before joined: {c:?}");
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
    stop: watch::Sender<bool>,
    acks: Arc<Mutex<Vec<u64>>>,
}

/// Connects `tokens.len()` members, joins them to `room_id` and starts their reader tasks
/// (each must be read continuously, else the server's outbound queue overflows).
async fn connect_members(
    url: &str,
    tokens: Vec<String>,
    room_id: i64,
    concurrency: usize,
) -> Result<Members> {
    let (stop, stop_rx) = watch::channel(false);
    let acks = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let n = tokens.len();
    type Conn = (
        mpsc::UnboundedSender<Message>,
        tokio::task::JoinHandle<Result<ConnStats>>,
    );
    let conns: Vec<Result<Conn>> = futures_util::stream::iter(tokens)
        .map(|token| {
            let url = url.to_owned();
            let acks = acks.clone();
            let stop_rx = stop_rx.clone();
            async move {
                let mut ws = connect(&url, &token).await?;
                join(&mut ws, room_id).await?;
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
    let mut hist = new_hist()?;
    let mut all = Vec::with_capacity(members.tasks.len());
    for t in members.tasks {
        all.push(t.await??);
    }
    let acked: Vec<u64> = members.acks.lock().await.clone();
    let mut delivered = 0u64;
    let mut lost = 0u64;
    let mut dups = 0u64;
    let mut errors = 0u64;
    let mut first_error = None;
    let mut closed = 0u64;
    let mut first_close = None;
    let mut last_recv = first_send;
    for s in &all {
        if let Some(h) = &s.chat {
            hist.add(h).map_err(|e| anyhow!("histogram: {e:?}"))?;
        }
        for seq in &acked {
            match s.seen.get(seq) {
                None => lost += 1,
                Some(c) => {
                    delivered += 1;
                    dups += u64::from(c.saturating_sub(1));
                }
            }
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
    let expected = acked.len() as u64 * n;
    let send_window_s = (last_send.saturating_sub(first_send)) as f64 / 1e6;
    let deliver_window_s = (last_recv.saturating_sub(first_send)) as f64 / 1e6;
    Ok(json!({
        "mode": mode,
        "connections": n,
        "senders": k,
        "rate_target": args.rate,
        "duration_s": args.duration,
        "text_len": args.text_len,
        "setup_s": setup_s,
        "sent": sent.load(Ordering::Relaxed),
        "acked": acked.len(),
        "expected": expected,
        "delivered": delivered,
        "lost": lost,
        "duplicates": dups,
        "errors": errors,
        "first_error": first_error,
        "closed_early": closed,
        "first_close": first_close,
        "send_window_s": send_window_s,
        "deliver_window_s": deliver_window_s,
        "msgs_per_s_sent": if send_window_s > 0.0 { acked.len() as f64 / send_window_s } else { 0.0 },
        "deliveries_per_s": if deliver_window_s > 0.0 { delivered as f64 / deliver_window_s } else { 0.0 },
        "latency": latency_json(&hist),
    }))
}

async fn cmd_chat(args: ChatArgs) -> Result<Value> {
    let t0 = Instant::now();
    let users = register_many(&args.common, args.connections).await?;
    let room_id = make_room(&args.common, &users).await?;
    let tokens = users.into_iter().map(|u| u.token).collect();
    let members =
        connect_members(&args.common.url, tokens, room_id, args.common.concurrency).await?;
    let setup = t0.elapsed().as_secs_f64();
    run_chat(&args, members, room_id, "server", setup).await
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
    let ws = tokio_tungstenite::accept_async(stream).await?;
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
    let t0 = Instant::now();
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
    let tokens = (0..args.connections).map(|_| "bare".to_owned()).collect();
    let members = connect_members(&url, tokens, 1, args.common.concurrency).await?;
    let setup = t0.elapsed().as_secs_f64();
    let mut out = run_chat(&args, members, 1, "bare", setup).await?;
    out["bare_lagged"] = json!(lagged.load(Ordering::Relaxed));
    Ok(out)
}

// --------------------------------------------------------------------------------------
// sync

async fn cmd_sync(args: SyncArgs) -> Result<Value> {
    let users = register_many(&args.common, args.connections).await?;
    let room_id = make_room(&args.common, &users).await?;
    let tokens = users.into_iter().map(|u| u.token).collect();
    let members =
        connect_members(&args.common.url, tokens, room_id, args.common.concurrency).await?;
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
    Ok(json!({
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
    }))
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
    let users = register_many(&args.common, n_users).await?;
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
            async move {
                let ws = connect(&url, &token).await?;
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
    Ok(json!({
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
    }))
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
}
