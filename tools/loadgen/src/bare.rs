//! The bare baseline: a minimal WebSocket server that broadcasts pre-serialized frames
//! with `tokio::sync::broadcast`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::chat::run_chat;
use crate::cli::{BareArgs, BareServerArgs};
use crate::member::{Shared, connect_members};
use crate::retry::Retry;
use crate::ws::ws_config;

pub(crate) async fn recv_opt(
    rx: &mut Option<broadcast::Receiver<Utf8Bytes>>,
) -> Result<Utf8Bytes, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

pub(crate) async fn bare_conn(
    stream: TcpStream,
    hub: broadcast::Sender<Utf8Bytes>,
    seq: Arc<Mutex<u64>>,
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
                        let ack = {
                            // seq assigned and broadcast under one lock, so that every
                            // member receives the chats in seq order (as the server must).
                            let mut seq = seq.lock().map_err(|_| anyhow!("seq lock poisoned"))?;
                            *seq += 1;
                            let s = *seq;
                            let message = json!({"room_id":room_id,"seq":s,"sender_id":0,"sender_name":"bare",
                                "client_id":v["client_id"],"kind":"text","text":v["text"],"position_ms":null,
                                "created_at":"2026-01-01T00:00:00Z","deleted":false});
                            // Serialized once, shared by every subscriber.
                            let frame = Utf8Bytes::from(format!(r#"{{"type":"chat","message":{message}}}"#));
                            let _ = hub.send(frame);
                            format!(r#"{{"type":"chat_ack","room_id":{room_id},"client_id":{},"seq":{s},"message":{message}}}"#, v["client_id"])
                        };
                        sink.send(Message::text(ack)).await?;
                    }
                    "playback" => {
                        let frame = format!(r#"{{"type":"playback_state","room_id":{room_id},"state":{{}},"by":0,"req_id":{}}}"#, v["req_id"]);
                        let _ = hub.send(Utf8Bytes::from(frame));
                    }
                    _ => {}
                }
            }
            frame = recv_opt(&mut rx) => match frame {
                Ok(f) => {
                    // Everything already queued goes out with this frame: one flush (one
                    // write syscall) for the lot, as a server that batches its writes does.
                    sink.feed(Message::Text(f)).await?;
                    while let Some(rx) = rx.as_mut() {
                        match rx.try_recv() {
                            Ok(f) => sink.feed(Message::Text(f)).await?,
                            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                                lagged.fetch_add(n, Ordering::Relaxed);
                            }
                            Err(_) => break,
                        }
                    }
                    sink.flush().await?;
                }
                Err(broadcast::error::RecvError::Lagged(n)) => { lagged.fetch_add(n, Ordering::Relaxed); }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    Ok(())
}

/// Listens on `listener` and serves every connection with the bare loop; returns the
/// counter of frames receivers missed (`broadcast` lag).
fn serve_bare(listener: TcpListener) -> Arc<AtomicU64> {
    let (hub, _) = broadcast::channel::<Utf8Bytes>(1024);
    let seq = Arc::new(Mutex::new(0));
    let lagged = Arc::new(AtomicU64::new(0));
    let counter = lagged.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(bare_conn(s, hub.clone(), seq.clone(), lagged.clone()));
        }
    });
    counter
}

pub(crate) async fn cmd_bare(args: BareArgs) -> Result<Value> {
    let BareArgs {
        chat: args,
        external,
    } = args;
    if !args.ws_urls.is_empty() {
        bail!("--ws-urls applies to `chat` only");
    }
    let t0 = Instant::now();
    let retry = Retry::new(args.common.max_attempts);
    let (url, lagged) = if external {
        (args.common.url.clone(), None)
    } else {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        (format!("http://{addr}"), Some(serve_bare(listener)))
    };
    let members = (0..args.connections)
        .map(|_| (0, "bare".to_owned()))
        .collect();
    let members = connect_members(
        &[url],
        members,
        Some(1),
        args.common.concurrency,
        &retry,
        Shared::new(true),
    )
    .await?;
    let setup = t0.elapsed().as_secs_f64();
    let mut out = run_chat(&args, members, 1, "bare", setup).await?;
    out["bare_process"] = json!(if external { "own" } else { "loadgen" });
    out["bare_lagged"] = json!(lagged.map(|l| l.load(Ordering::Relaxed)));
    retry.report(&mut out);
    Ok(out)
}

/// `bare-server`: the bare loop in this process until it is killed.
pub(crate) async fn cmd_bare_server(args: BareServerArgs) -> Result<Value> {
    let listener = TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    let lagged = serve_bare(listener);
    println!("{}", json!({ "listen": addr.to_string() }));
    let mut out = std::io::stdout();
    std::io::Write::flush(&mut out)?;
    // Serve until killed (the bench stops it by PID).
    std::future::pending::<()>().await;
    Ok(json!({ "bare_lagged": lagged.load(Ordering::Relaxed) }))
}
