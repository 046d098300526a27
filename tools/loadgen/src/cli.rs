//! Command line: the subcommands and their options.

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "luojia-loadgen",
    about = "WebSocket load generator for Luojia (docs/realtime.md)"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Chat fan-out in one room of the server at --url.
    Chat(ChatArgs),
    /// The same chat fan-out against a bare tokio broadcast loop (baseline): in this
    /// process, or with --external the `bare-server` at --url.
    Bare(BareArgs),
    /// Runs the bare broadcast loop alone, in its own process, until killed: prints
    /// `{"listen":"127.0.0.1:PORT"}` once it listens, so that its CPU use can be measured
    /// apart from the client's (`bare --external --url http://127.0.0.1:PORT --server-pid`).
    BareServer(BareServerArgs),
    /// Seek commands: latency from send to each member's `playback_state`.
    Sync(SyncArgs),
    /// Server memory per idle connection (VmRSS of --server-pid).
    Idle(IdleArgs),
    /// Members joining one room: join time, and server memory per member before, while
    /// and after they are in the room (VmRSS of --server-pid).
    Room(RoomArgs),
    /// Direct messages: --pairs pairs of friends chat at once, each person sending at
    /// --rate messages/s; send → delivery latency at the other person, lost and
    /// duplicated messages. With --ws-urls the two people of a pair are on different
    /// instances (through Redis).
    Dm(DmArgs),
    Presence(PresenceArgs),
}

#[derive(Args, Clone)]
pub(crate) struct DmArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// Pairs of friends (2 × this many users and connections).
    #[arg(long, default_value_t = 1000)]
    pub(crate) pairs: usize,
    /// Messages per second each person sends.
    #[arg(long, default_value_t = 0.5)]
    pub(crate) rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 20.0)]
    pub(crate) duration: f64,
    /// Seconds to wait for the last deliveries after the senders stop.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) drain: f64,
    /// The second person of each pair connects here (a second instance); REST set-up
    /// uses --url.
    #[arg(long)]
    pub(crate) peer_url: Option<String>,
}

#[derive(Args, Clone)]
pub(crate) struct PresenceArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// Friends of the measured user.
    #[arg(long, default_value_t = 200)]
    pub(crate) friends: usize,
    /// How many of them are connected (one connection each) while it connects.
    #[arg(long, default_value_t = 50)]
    pub(crate) online: usize,
    /// Seconds to keep listening after the expected frames (to catch extra ones).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) settle: f64,
}

#[derive(Args, Clone)]
pub(crate) struct Common {
    /// Server base URL (http://host:port); the WebSocket is <url>/ws.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// Requests / connection handshakes in flight during set-up.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: usize,
    /// Username prefix ([a-z0-9_], keep it short: usernames are at most 32 characters).
    #[arg(long, default_value = "lg")]
    pub(crate) prefix: String,
    /// Attempts per set-up step (register, create/join room, connect and join) before a
    /// transient failure (transport error, 5xx, 429) stops the run.
    #[arg(long, default_value_t = 8)]
    pub(crate) max_attempts: u32,
}

#[derive(Args, Clone)]
pub(crate) struct ChatArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// Members (WebSocket connections) in the room.
    #[arg(long, default_value_t = 100)]
    pub(crate) connections: usize,
    /// How many of them send (keep rate/senders under the server's 10 frames/s per connection).
    #[arg(long, default_value_t = 10)]
    pub(crate) senders: usize,
    /// Total chat messages per second over all senders.
    #[arg(long, default_value_t = 50.0)]
    pub(crate) rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) duration: f64,
    /// Approximate length of each chat text (1–500).
    #[arg(long, default_value_t = 64)]
    pub(crate) text_len: usize,
    /// Seconds to wait for the last deliveries after the senders stop.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) drain: f64,
    /// `chat` only: spread the members' WebSocket connections over these server base URLs
    /// (comma-separated; e.g. two instances sharing one database and Redis): every sender on
    /// the first, the other members (receivers) evenly over all. Delivery is then also
    /// reported separately for the receivers on the senders' instance (`local`) and on the
    /// others (`remote`). REST set-up uses --url.
    #[arg(long, value_delimiter = ',')]
    pub(crate) ws_urls: Vec<String>,
    /// PID of the process that broadcasts (the server, or a `bare-server`): its CPU time
    /// (utime+stime from /proc/<pid>/stat) from the first send to the end of the drain is
    /// reported, and divided by the deliveries (`cpu_us_per_delivery`).
    #[arg(long)]
    pub(crate) server_pid: Option<u32>,
    /// Steps: run the chat at each of these total rates in turn, on the same connections
    /// (each step --duration s of sending and --drain s of waiting), instead of --rate.
    /// The output then has one record per step under `steps`.
    #[arg(long, value_delimiter = ',')]
    pub(crate) rates: Vec<f64>,
    /// With --rates: stop after the first step that falls behind (delivered/expected below
    /// --min-delivered, or delivery p99 above --max-p99-ms), and report the capacity: the
    /// highest deliveries/s of a step that kept up.
    #[arg(long)]
    pub(crate) saturate: bool,
    #[arg(long, default_value_t = 0.99)]
    pub(crate) min_delivered: f64,
    #[arg(long, default_value_t = 500.0)]
    pub(crate) max_p99_ms: f64,
    /// Use at least rate / this many senders, so that no sender goes over the server's
    /// 10 frames/s per connection (more senders than --senders when needed).
    #[arg(long, default_value_t = 8.0)]
    pub(crate) max_sender_rate: f64,
    /// Bursts: every sender sends this many chats back to back every --burst-interval-ms
    /// (the total rate is then senders × burst / interval; --rate is ignored).
    #[arg(long, default_value_t = 0)]
    pub(crate) burst: usize,
    #[arg(long, default_value_t = 500)]
    pub(crate) burst_interval_ms: u64,
}

#[derive(Args, Clone)]
pub(crate) struct BareArgs {
    #[command(flatten)]
    pub(crate) chat: ChatArgs,
    /// Drive the `bare-server` at --url instead of a loop inside this process.
    #[arg(long)]
    pub(crate) external: bool,
}

#[derive(Args, Clone)]
pub(crate) struct BareServerArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    pub(crate) listen: String,
}

#[derive(Args, Clone)]
pub(crate) struct RoomArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// Members joining the room.
    #[arg(long, default_value_t = 500)]
    pub(crate) connections: usize,
    /// PID of the server process, whose VmRSS is read.
    #[arg(long)]
    pub(crate) server_pid: u32,
    /// Seconds to let the server settle before each VmRSS reading.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) settle: f64,
    /// Seconds to wait for every `joined` (and every `left`).
    #[arg(long, default_value_t = 300.0)]
    pub(crate) timeout: f64,
}

#[derive(Args, Clone)]
pub(crate) struct SyncArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    #[arg(long, default_value_t = 100)]
    pub(crate) connections: usize,
    /// Number of seek commands the controller sends.
    #[arg(long, default_value_t = 20)]
    pub(crate) commands: usize,
    /// Milliseconds between seek commands (the server allows 10 frames/s per connection).
    #[arg(long, default_value_t = 250)]
    pub(crate) interval_ms: u64,
    #[arg(long, default_value_t = 3.0)]
    pub(crate) drain: f64,
}

#[derive(Args, Clone)]
pub(crate) struct IdleArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    #[arg(long, default_value_t = 1000)]
    pub(crate) connections: usize,
    /// Distinct users the connections are spread over (default: one user per connection).
    #[arg(long)]
    pub(crate) users: Option<usize>,
    /// PID of the server process, whose /proc/<pid>/status VmRSS is read.
    #[arg(long)]
    pub(crate) server_pid: u32,
    /// Seconds to let the server settle before each VmRSS reading.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) settle: f64,
}
