//! The outbound half of a WebSocket connection: one bounded queue, fed by the hub
//! (fan-out) and by the connection's own loop (answers, pings, the close frame), drained
//! straight into the HTTP response body.
//!
//! actix-ws' `Session` would add a second queue and a task wake-up between the hub and the
//! socket for every delivered frame; with one queue a chat message to 2,000 members costs
//! 2,000 `try_send`s and the writes, nothing else. actix-ws still does the handshake and
//! reads the client's frames (`MessageStream`).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use actix_http::ws::{Codec, Message};
use actix_web::HttpResponse;
use actix_web::body::{BodyStream, BoxBody};
use actix_web::web::{Bytes, BytesMut};
use actix_ws::{CloseReason, ProtocolError};
use bytestring::ByteString;
use futures_util::Stream;
use futures_util::task::AtomicWaker;
use tokio::sync::mpsc;
use tokio_util::codec::Encoder;

/// One frame to send.
pub enum Out {
    Text(ByteString),
    Ping(Bytes),
    Pong(Bytes),
    Close(Option<CloseReason>),
}

/// The sending end. Every send is `try_send`: a full queue means the client reads slower
/// than the room talks, and the caller treats it as too slow (never waits on it).
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Out>,
    urgent: Arc<Urgent>,
}

/// A close that must not wait behind a full queue (a client too slow to read): the body
/// drops what is queued and writes the close frame next.
#[derive(Default)]
struct Urgent {
    set: AtomicBool,
    reason: Mutex<Option<CloseReason>>,
    waker: AtomicWaker,
}

/// What a send found.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    Queued,
    /// The queue is full: the client is too slow.
    Full,
    /// The connection is gone.
    Closed,
}

impl Outbox {
    pub fn send(&self, out: Out) -> Sent {
        match self.tx.try_send(out) {
            Ok(()) => Sent::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Sent::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Sent::Closed,
        }
    }

    pub fn text(&self, frame: impl Into<ByteString>) -> Sent {
        self.send(Out::Text(frame.into()))
    }

    /// Close ahead of anything queued: the next write is the close frame.
    pub fn close_now(&self, reason: CloseReason) {
        *self
            .urgent
            .reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(reason);
        self.urgent.set.store(true, Ordering::Release);
        self.urgent.waker.wake();
    }

    /// Close after what is queued; ahead of it when the queue is full.
    pub fn close(&self, reason: Option<CloseReason>) {
        if self.send(Out::Close(reason.clone())) == Sent::Full {
            self.close_now(reason.unwrap_or(CloseReason {
                code: actix_ws::CloseCode::Normal,
                description: None,
            }));
        }
    }
}

/// An outbox whose frames a test reads from the receiver.
#[cfg(test)]
pub fn test_outbox(capacity: usize) -> (Outbox, mpsc::Receiver<Out>) {
    let (tx, rx) = mpsc::channel(capacity);
    (
        Outbox {
            tx,
            urgent: Arc::default(),
        },
        rx,
    )
}

/// Bytes encoded per poll at most, so one busy connection cannot hog its worker, and
/// what actix buffers for one connection stays small (see `startup::WRITE_BUFFER`).
const MAX_CHUNK: usize = 8 * 1024;

/// The response body: encodes queued frames as they come.
pub struct OutboundBody {
    rx: mpsc::Receiver<Out>,
    codec: Codec,
    buf: BytesMut,
    closing: bool,
    urgent: Arc<Urgent>,
    /// The body actix-ws built for the handshake response, never polled. Its drop (when
    /// this body is dropped because the connection ended) is how actix-ws' `MessageStream`
    /// learns that the connection is gone.
    _handshake_body: BoxBody,
}

impl Stream for OutboundBody {
    type Item = Result<Bytes, ProtocolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.urgent.waker.register(cx.waker());
        if !this.closing && this.urgent.set.load(Ordering::Acquire) {
            let reason = this
                .urgent
                .reason
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            this.closing = true;
            this.rx.close();
            if let Err(e) = this.codec.encode(Message::Close(reason), &mut this.buf) {
                return Poll::Ready(Some(Err(e)));
            }
        }
        while !this.closing && this.buf.len() < MAX_CHUNK {
            let msg = match this.rx.poll_recv(cx) {
                Poll::Ready(Some(Out::Text(t))) => Message::Text(t),
                Poll::Ready(Some(Out::Ping(b))) => Message::Ping(b),
                Poll::Ready(Some(Out::Pong(b))) => Message::Pong(b),
                Poll::Ready(Some(Out::Close(reason))) => {
                    // A close frame ends the body once it is written.
                    this.closing = true;
                    this.rx.close();
                    Message::Close(reason)
                }
                Poll::Ready(None) => {
                    this.closing = true;
                    break;
                }
                Poll::Pending => break,
            };
            if let Err(e) = this.codec.encode(msg, &mut this.buf) {
                return Poll::Ready(Some(Err(e)));
            }
        }
        if !this.buf.is_empty() {
            // The whole allocation goes with the chunk (`split` would keep the unused
            // capacity alive in `buf`): an idle connection holds no encode buffer.
            return Poll::Ready(Some(Ok(std::mem::take(&mut this.buf).freeze())));
        }
        if this.closing {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}

/// Replace the body of actix-ws' handshake response with an [`OutboundBody`] fed by the
/// returned [`Outbox`] (queue of `capacity` frames).
pub fn attach(handshake: HttpResponse, capacity: usize) -> (HttpResponse, Outbox) {
    let (tx, rx) = mpsc::channel(capacity);
    let urgent = Arc::<Urgent>::default();
    let (head, handshake_body) = handshake.into_parts();
    let body = OutboundBody {
        rx,
        codec: Codec::new(),
        buf: BytesMut::new(),
        closing: false,
        urgent: urgent.clone(),
        _handshake_body: handshake_body,
    };
    let res = head.set_body(BodyStream::new(body)).map_into_boxed_body();
    (res, Outbox { tx, urgent })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_too_slow_client_gets_its_close_frame_ahead_of_the_queue() {
        let (res, outbox) = attach(HttpResponse::Ok().finish(), 4);
        for i in 0..4 {
            assert_eq!(outbox.text(format!("frame {i}")), Sent::Queued);
        }
        assert_eq!(outbox.text("one too many"), Sent::Full);
        outbox.close_now(CloseReason {
            code: actix_ws::CloseCode::Policy,
            description: Some("too slow: reconnect".into()),
        });
        let bytes = actix_web::body::to_bytes(res.into_body())
            .await
            .expect("body");
        // Server frames are unmasked: 0x88 = FIN + close, then the length, then the code.
        assert_eq!(bytes[0], 0x88, "the close frame comes first: {bytes:?}");
        assert_eq!(u16::from_be_bytes([bytes[2], bytes[3]]), 1008);
        assert!(
            bytes.ends_with(b"too slow: reconnect"),
            "and nothing after it"
        );
    }

    #[tokio::test]
    async fn a_normal_close_follows_what_is_queued() {
        let (res, outbox) = attach(HttpResponse::Ok().finish(), 4);
        assert_eq!(outbox.text("last words"), Sent::Queued);
        outbox.close(None);
        let bytes = actix_web::body::to_bytes(res.into_body())
            .await
            .expect("body");
        assert_eq!(bytes[0], 0x81, "the text frame first");
        assert_eq!(bytes[bytes.len() - 2], 0x88, "then an empty close");
    }
}
