//! WebSocket client: connect (authenticated, waits for `welcome`) and join a room.

use std::time::{Duration, Instant};

use anyhow::anyhow;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::member::frame_type;
use crate::retry::{StepError, is_transient_status};

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) fn ws_url(http_url: &str) -> String {
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
pub(crate) fn ws_connect_error(e: tokio_tungstenite::tungstenite::Error) -> StepError {
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
pub(crate) fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(8 * 1024)
}

pub(crate) async fn connect(url: &str, token: &str) -> Result<Ws, StepError> {
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
pub(crate) const TRANSIENT_WS_CODES: [&str; 3] =
    ["rate_limited", "internal_error", "service_unavailable"];

/// An `error` frame another attempt may get past.
pub(crate) fn is_transient_error(frame: &str) -> bool {
    TRANSIENT_WS_CODES
        .iter()
        .any(|c| frame.contains(&format!("\"code\":\"{c}\"")))
}

pub(crate) async fn join(ws: &mut Ws, room_id: i64) -> Result<(), StepError> {
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
                    return Err(if is_transient_error(t) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_url_from_http_url() {
        assert_eq!(ws_url("http://127.0.0.1:9/"), "ws://127.0.0.1:9/ws");
        assert_eq!(ws_url("https://example.com"), "wss://example.com/ws");
    }
}
