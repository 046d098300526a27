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
//! * `dm`    — pairs of friends send direct messages at once; send → delivery latency at
//!   the other person, lost and duplicated messages, on one instance or two (`--peer-url`).
//! * `presence` — a user with F friends (O of them connected) connects and disconnects:
//!   the `friend_presence` frames and bytes each friend connection receives each way.
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
//!
//! Modules: `cli` (options), `stats` (clock, histograms, /proc), `retry` (set-up retries),
//! `rest` (users and the room over REST), `ws` (connect and join), `member` (one member's
//! reader task, connecting a crowd), then one module per mode: `chat`, `bare`, `sync`, `idle`.

mod bare;
mod chat;
mod cli;
mod dm;
mod idle;
mod member;
mod presence;
mod rest;
mod retry;
mod room;
mod stats;
mod sync;
mod ws;

use anyhow::Result;
use clap::Parser;

use crate::cli::{Cli, Cmd};

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let out = match cli.cmd {
        Cmd::Chat(a) => chat::cmd_chat(a).await?,
        Cmd::Bare(a) => bare::cmd_bare(a).await?,
        Cmd::Sync(a) => sync::cmd_sync(a).await?,
        Cmd::BareServer(a) => bare::cmd_bare_server(a).await?,
        Cmd::Idle(a) => idle::cmd_idle(a).await?,
        Cmd::Room(a) => room::cmd_room(a).await?,
        Cmd::Dm(a) => dm::cmd_dm(a).await?,
        Cmd::Presence(a) => presence::cmd_presence(a).await?,
    };
    println!("{out}");
    Ok(())
}
