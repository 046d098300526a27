//! A small WebSocket test client.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::helpers::TestApp;

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Ws {
    stream: Stream,
}

/// The outcome of an upgrade attempt: a client, or the HTTP status that refused it.
pub async fn try_connect(url: &str, bearer: Option<&str>, origin: Option<&str>) -> Result<Ws, u16> {
    let mut req = url.into_client_request().expect("request");
    if let Some(t) = bearer {
        req.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {t}")).expect("header"),
        );
    }
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", HeaderValue::from_str(o).expect("header"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((stream, _)) => Ok(Ws { stream }),
        Err(WsError::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

impl TestApp {
    pub fn ws_url(&self) -> String {
        self.address.replacen("http://", "ws://", 1) + "/ws"
    }

    /// Connect with a bearer token and read the welcome.
    pub async fn ws(&self, token: &str) -> Ws {
        let mut ws = try_connect(&self.ws_url(), Some(token), None)
            .await
            .expect("upgrade");
        let welcome = ws.recv().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        ws
    }

    /// Connect, join `room_id`, and return the client with its `joined` message.
    pub async fn ws_joined(&self, token: &str, room_id: i64) -> (Ws, Value) {
        let mut ws = self.ws(token).await;
        ws.send(json!({"type": "join", "room_id": room_id})).await;
        let joined = ws.recv_type("joined").await;
        (ws, joined)
    }
}

impl Ws {
    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::text(v.to_string()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, m: Message) {
        self.stream.send(m).await.expect("send");
    }

    /// The next JSON message (pings are answered by the library).
    pub async fn recv(&mut self) -> Value {
        self.try_recv(Duration::from_secs(10))
            .await
            .expect("a message within 10 s")
    }

    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match msg.expect("frame") {
                Message::Text(t) => return Some(serde_json::from_str(t.as_str()).expect("json")),
                Message::Close(c) => panic!("closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// Skip messages until one of `type` arrives.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        for _ in 0..200 {
            let m = self.recv().await;
            if m["type"] == kind {
                return m;
            }
        }
        panic!("no {kind} message");
    }

    /// Skip messages until one of `type` for which `pred` holds arrives. A
    /// `presence_batch` counts as the `presence` messages it stands for.
    pub async fn recv_where(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..500 {
            let m = self.recv().await;
            if let Some(found) = matching(&m, kind, &pred) {
                return found;
            }
        }
        panic!("no matching {kind} message");
    }

    /// One message for each `(type, pred)` in `wants`, in whatever order they arrive
    /// (others are skipped); returned in the order of `wants`.
    pub async fn recv_each(&mut self, wants: &[(&str, &Pred<'_>)]) -> Vec<Value> {
        let mut found: Vec<Option<Value>> = vec![None; wants.len()];
        for _ in 0..500 {
            if found.iter().all(Option::is_some) {
                return found.into_iter().flatten().collect();
            }
            let m = self.recv().await;
            for (slot, (kind, pred)) in found.iter_mut().zip(wants) {
                if slot.is_none()
                    && let Some(hit) = matching(&m, kind, pred)
                {
                    *slot = Some(hit);
                    break;
                }
            }
        }
        panic!(
            "not all of {:?} arrived",
            wants.iter().map(|w| w.0).collect::<Vec<_>>()
        );
    }

    /// Like `recv_where`, but gives up after `wait`.
    pub async fn try_recv_where(
        &mut self,
        kind: &str,
        pred: impl Fn(&Value) -> bool,
        wait: Duration,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let m = self
                .try_recv(deadline.saturating_duration_since(tokio::time::Instant::now()))
                .await?;
            if let Some(found) = matching(&m, kind, &pred) {
                return Some(found);
            }
        }
    }

    /// The messages that arrive before the first one of `type` for which `pred` holds:
    /// "nothing of the kind arrived" shown by a later message rather than by a timeout.
    pub async fn frames_until(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut before = Vec::new();
        for _ in 0..500 {
            let m = self.recv().await;
            if matching(&m, kind, &pred).is_some() {
                return before;
            }
            before.push(m);
        }
        panic!("no matching {kind} message");
    }

    /// Wait for the server to close; returns the close code.
    pub async fn closed(&mut self) -> u16 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("closed within 10 s")
            {
                Some(Ok(Message::Close(Some(CloseFrame { code, .. })))) => return code.into(),
                Some(Ok(Message::Close(None))) | None => return 1005,
                Some(Ok(_)) => continue,
                Some(Err(_)) => return 1006,
            }
        }
    }
}

/// A test on a message.
pub type Pred<'a> = dyn Fn(&Value) -> bool + 'a;

/// `m` itself when it is of `kind` and matches; for `presence`, also the member of a
/// `presence_batch` that matches, shaped as a single `presence` message.
fn matching(m: &Value, kind: &str, pred: &impl Fn(&Value) -> bool) -> Option<Value> {
    if m["type"] == kind && pred(m) {
        return Some(m.clone());
    }
    if kind == "presence" && m["type"] == "presence_batch" {
        return m["members"].as_array()?.iter().find_map(|member| {
            let single =
                serde_json::json!({"type": "presence", "room_id": m["room_id"], "member": member});
            pred(&single).then_some(single)
        });
    }
    None
}
