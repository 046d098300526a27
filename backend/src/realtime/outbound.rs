//! The outbound half of a WebSocket connection: one bounded queue, fed by the fan-out
//! (broadcasts) and by the connection's own loop (answers, pings, the close frame),
//! drained straight into the HTTP response body.
//!
//! actix-ws' `Session` would add a second queue and a task wake-up between the hub and the
//! socket for every delivered frame; with one queue a chat message to 2,000 members costs
//! 2,000 pushes and the writes, nothing else. actix-ws still does the handshake and reads
//! the client's frames (`MessageStream`).
//!
//! Cheap per delivery and per connection:
//! - a text frame is encoded for the wire once ([`Frame`]: header and payload, unmasked
//!   as a server sends them) and the same bytes go to every member: the body hands them
//!   to actix as they are, with no per-connection encode buffer;
//! - the queue is a `VecDeque` under a mutex that nobody holds for long (the fan-out
//!   pushes, the body pops, both on the connection's worker thread): an idle connection's
//!   queue holds no allocation, and after a burst it gives its memory back once drained;
//! - a push wakes the body only if it is waiting: a burst costs one wake-up and the
//!   frames queued meanwhile go out in the same write;
//! - frames are handed to actix in pieces of at most [`PIECE`] bytes, and actix gathers
//!   them up to `startup::WRITE_BUFFER` (also [`PIECE`]) before writing: its write
//!   buffer (8 KiB from the start) never has to grow. It would keep a grown buffer for
//!   the connection's life (up to 128 KiB), which is what a `joined` frame or a wave of
//!   presence batches used to cost each member.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use actix_http::ws::{Codec, Message};
use actix_web::HttpResponse;
use actix_web::body::{BodyStream, BoxBody};
use actix_web::web::{Bytes, BytesMut};
use actix_ws::{CloseReason, ProtocolError};
use futures_util::Stream;
use tokio_util::codec::Encoder;

use super::protocol::ServerMessage;

/// The most bytes handed to actix at once, and what actix gathers before it writes
/// (`startup::WRITE_BUFFER`): at most `2 × PIECE` in its write buffer, the size it
/// starts with, so that buffer never grows.
pub const PIECE: usize = 4 * 1024;

/// A text frame as it goes on the wire (a server's frames are not masked, so the bytes
/// are the same for every member): encoded once, shared by every queue it goes to.
#[derive(Clone, Debug)]
pub struct Frame(Bytes);

impl Frame {
    /// A text frame carrying `payload` (one JSON message).
    pub fn text(payload: &str) -> Self {
        let (head, n) = header(payload.len());
        let mut b = BytesMut::with_capacity(n + payload.len());
        b.extend_from_slice(&head[..n]);
        b.extend_from_slice(payload.as_bytes());
        Self(b.freeze())
    }

    /// A text frame carrying `msg` as JSON, serialized straight after room for the
    /// header (a `joined` frame is not copied once more to put the header in front).
    pub fn json(msg: &ServerMessage) -> Self {
        let mut v = Vec::with_capacity(256);
        v.extend_from_slice(&[0; MAX_HEADER]);
        if serde_json::to_writer(&mut v, msg).is_err() {
            return Self::text(&msg.to_json());
        }
        let (head, n) = header(v.len() - MAX_HEADER);
        let start = MAX_HEADER - n;
        v[start..MAX_HEADER].copy_from_slice(&head[..n]);
        Self(Bytes::from(v).split_off(start))
    }

    /// The JSON message the frame carries.
    #[cfg(test)]
    pub fn payload(&self) -> &[u8] {
        let skip = match self.0.get(1) {
            Some(126) => 4,
            Some(127) => 10,
            _ => 2,
        };
        self.0.get(skip..).unwrap_or_default()
    }
}

const MAX_HEADER: usize = 10;

/// A server's (unmasked) text frame header for a payload of `len` bytes, and its length.
fn header(len: usize) -> ([u8; MAX_HEADER], usize) {
    let mut h = [0; MAX_HEADER];
    // FIN + text.
    h[0] = 0x81;
    if len < 126 {
        h[1] = len as u8;
        (h, 2)
    } else if len <= usize::from(u16::MAX) {
        h[1] = 126;
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        (h, 4)
    } else {
        h[1] = 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        (h, 10)
    }
}

/// One frame to send.
pub enum Out {
    Text(Frame),
    Ping(Bytes),
    Pong(Bytes),
    Close(Option<CloseReason>),
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

/// The queue between the senders and the body.
struct Queue {
    frames: VecDeque<Out>,
    capacity: usize,
    /// A close that must not wait behind a full queue: written next.
    urgent: Option<CloseReason>,
    /// The body takes nothing more (it wrote a close frame, or the connection ended).
    closed: bool,
    /// Live [`Outbox`]es: when the last goes, the body ends.
    senders: usize,
    /// The body's waker while it waits for frames.
    waker: Option<Waker>,
}

/// Queues keep at most this many slots' worth of memory once drained.
const KEEP_SLOTS: usize = 8;

struct Shared(Mutex<Queue>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sending end. Every send is immediate: a full queue means the client reads slower
/// than the room talks, and the caller treats it as too slow (never waits on it).
pub struct Outbox {
    shared: Arc<Shared>,
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let waker = {
            let mut q = self.shared.lock();
            q.senders -= 1;
            if q.senders == 0 { q.waker.take() } else { None }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Outbox {
    fn new(capacity: usize) -> Self {
        Self {
            shared: Arc::new(Shared(Mutex::new(Queue {
                frames: VecDeque::new(),
                capacity,
                urgent: None,
                closed: false,
                senders: 1,
                waker: None,
            }))),
        }
    }

    pub fn send(&self, out: Out) -> Sent {
        let waker = {
            let mut q = self.shared.lock();
            if q.closed {
                return Sent::Closed;
            }
            if q.frames.len() >= q.capacity {
                return Sent::Full;
            }
            q.frames.push_back(out);
            q.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Sent::Queued
    }

    pub fn text(&self, frame: Frame) -> Sent {
        self.send(Out::Text(frame))
    }

    /// Close ahead of anything queued: the next write is the close frame.
    pub fn close_now(&self, reason: CloseReason) {
        let waker = {
            let mut q = self.shared.lock();
            q.urgent = Some(reason);
            q.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
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

/// The receiving end for tests: takes what the body would write.
#[cfg(test)]
pub struct TestReceiver(Arc<Shared>);

#[cfg(test)]
impl TestReceiver {
    pub fn try_recv(&mut self) -> Option<Out> {
        self.0.lock().frames.pop_front()
    }
}

/// An outbox whose frames a test reads from the receiver.
#[cfg(test)]
pub fn test_outbox(capacity: usize) -> (Outbox, TestReceiver) {
    let outbox = Outbox::new(capacity);
    let rx = TestReceiver(outbox.shared.clone());
    (outbox, rx)
}

/// The response body: hands queued frames to actix as they come.
pub struct OutboundBody {
    shared: Arc<Shared>,
    /// The rest of a frame longer than [`PIECE`].
    rest: Option<Bytes>,
    /// A close frame went out: the body ends.
    done: bool,
    codec: Codec,
    /// The body actix-ws built for the handshake response, never polled. Its drop (when
    /// this body is dropped because the connection ended) is how actix-ws' `MessageStream`
    /// learns that the connection is gone.
    _handshake_body: BoxBody,
}

impl OutboundBody {
    fn piece(&mut self, mut bytes: Bytes) -> Poll<Option<Result<Bytes, ProtocolError>>> {
        if bytes.len() > PIECE {
            self.rest = Some(bytes.split_off(PIECE));
        }
        Poll::Ready(Some(Ok(bytes)))
    }

    fn encode(&mut self, msg: Message) -> Poll<Option<Result<Bytes, ProtocolError>>> {
        let mut buf = BytesMut::new();
        match self.codec.encode(msg, &mut buf) {
            Ok(()) => self.piece(buf.freeze()),
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }
}

impl Stream for OutboundBody {
    type Item = Result<Bytes, ProtocolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        // A long frame is finished before anything else, a close frame included.
        if let Some(rest) = this.rest.take() {
            return this.piece(rest);
        }
        if this.done {
            return Poll::Ready(None);
        }
        let next = {
            let mut q = this.shared.lock();
            let next = if let Some(reason) = q.urgent.take() {
                Some(Out::Close(Some(reason)))
            } else {
                q.frames.pop_front()
            };
            if matches!(next, Some(Out::Close(_))) {
                q.closed = true;
                q.frames = VecDeque::new();
            } else if q.frames.is_empty() && q.frames.capacity() > KEEP_SLOTS {
                // Drained after a burst: an idle connection holds no queue memory.
                q.frames = VecDeque::new();
            }
            if next.is_none() {
                if q.senders == 0 {
                    q.closed = true;
                    this.done = true;
                    return Poll::Ready(None);
                }
                if !q.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    q.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            next
        };
        match next {
            Some(Out::Text(frame)) => this.piece(frame.0),
            Some(Out::Ping(b)) => this.encode(Message::Ping(b)),
            Some(Out::Pong(b)) => this.encode(Message::Pong(b)),
            Some(Out::Close(reason)) => {
                // A close frame ends the body once it is written.
                this.done = true;
                this.encode(Message::Close(reason))
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for OutboundBody {
    fn drop(&mut self) {
        let mut q = self.shared.lock();
        q.closed = true;
        q.frames = VecDeque::new();
        q.waker = None;
    }
}

/// Replace the body of actix-ws' handshake response with an [`OutboundBody`] fed by the
/// returned [`Outbox`] (queue of `capacity` frames).
pub fn attach(handshake: HttpResponse, capacity: usize) -> (HttpResponse, Outbox) {
    let outbox = Outbox::new(capacity);
    let (head, handshake_body) = handshake.into_parts();
    let body = OutboundBody {
        shared: outbox.shared.clone(),
        rest: None,
        done: false,
        codec: Codec::new(),
        _handshake_body: handshake_body,
    };
    let res = head.set_body(BodyStream::new(body)).map_into_boxed_body();
    (res, outbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_too_slow_client_gets_its_close_frame_ahead_of_the_queue() {
        let (res, outbox) = attach(HttpResponse::Ok().finish(), 4);
        for i in 0..4 {
            assert_eq!(
                outbox.text(Frame::text(&format!("frame {i}"))),
                Sent::Queued
            );
        }
        assert_eq!(outbox.text(Frame::text("one too many")), Sent::Full);
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
        assert_eq!(outbox.text(Frame::text("last words")), Sent::Queued);
        outbox.close(None);
        let bytes = actix_web::body::to_bytes(res.into_body())
            .await
            .expect("body");
        assert_eq!(bytes[0], 0x81, "the text frame first");
        assert_eq!(bytes[bytes.len() - 2], 0x88, "then an empty close");
    }

    #[test]
    fn a_frame_is_encoded_as_the_codec_would() {
        for n in [0, 1, 125, 126, 127, 65_535, 65_536, 70_000] {
            let text = "x".repeat(n);
            let mut buf = BytesMut::new();
            Codec::new()
                .encode(Message::Text(text.clone().into()), &mut buf)
                .expect("encode");
            let buf = buf.freeze();
            let frame = Frame::text(&text);
            assert_eq!(frame.0, buf, "length {n}");
            assert_eq!(frame.payload(), text.as_bytes(), "length {n}");
            let msg = ServerMessage::error(crate::error::ErrorCode::InvalidMessage, text.clone());
            let json = Frame::json(&msg);
            assert_eq!(json.payload(), msg.to_json().as_bytes(), "length {n}");
            assert_eq!(json.0, Frame::text(&msg.to_json()).0, "length {n}");
        }
    }

    #[tokio::test]
    async fn long_frames_go_out_in_pieces_and_a_drained_queue_keeps_no_memory() {
        use actix_web::body::MessageBody;
        let (res, outbox) = attach(HttpResponse::Ok().finish(), 256);
        let long = Frame::text(&"y".repeat(3 * PIECE));
        for _ in 0..40 {
            assert_eq!(outbox.text(long.clone()), Sent::Queued);
        }
        let (_, mut body) = res.into_parts();
        let mut total = 0;
        while total < 40 * long.0.len() {
            let piece = std::future::poll_fn(|cx| Pin::new(&mut body).poll_next(cx))
                .await
                .expect("a piece")
                .expect("bytes");
            assert!(piece.len() <= PIECE);
            total += piece.len();
        }
        assert_eq!(total, 40 * long.0.len());
        assert_eq!(
            outbox.shared.lock().frames.capacity(),
            0,
            "the drained queue let go of its memory"
        );
        drop(outbox);
        let end = std::future::poll_fn(|cx| Pin::new(&mut body).poll_next(cx)).await;
        assert!(end.is_none(), "the last sender gone ends the body");
    }
}
