//! Port of client-go `rest/watch/decoder.go` and apimachinery `pkg/watch/streamwatcher.go`:
//! a watch response body, decoded event by event as its bytes arrive.
//!
//! Data flow: HTTP body chunks → appended to `buf` → each complete line (the server writes one
//! JSON event per line) is decoded in place into a [`RawWatchEvent`] → `ADDED`, `MODIFIED`,
//! `DELETED` and `BOOKMARK` come out as `Ok(WatchEvent)`; `ERROR` comes out as
//! `Err(Error::Api)` carrying its `Status` (e.g. 410 Expired), and ends the stream.
//!
//! Invariants: `buf` holds only bytes after the last complete line, so memory is bounded by
//! the largest event, never the body; `scanned` bytes of `buf` are known to hold no newline,
//! so each byte is scanned once. A malformed line yields one decode error and ends the stream;
//! nothing here panics on input. As in Go's StreamWatcher, a connection that ends cleanly, or
//! with a probable EOF/reset/timeout, simply ends the stream: the caller (a reflector)
//! re-watches from its last resource version.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use serde::de::DeserializeOwned;

use apimachinery::runtime::framer::LengthDelimitedFrames;

use super::content::ProtobufTarget;
use crate::error::{Error, TransportKind};
use crate::meta::{RawWatchEvent, WatchEvent, decode_watch_event};

/// A stream of watch events. Port of watch.Interface (StreamWatcher's ResultChan).
///
/// Differs from Go: a `Stream` instead of a channel plus `Stop()`; dropping it closes the
/// connection. `ERROR` events arrive as `Err` (see module docs).
pub struct WatchStream<T> {
    body: Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
    buf: BytesMut,
    /// Prefix of `buf` already searched for a newline.
    scanned: usize,
    /// Set once the stream has ended (body done, decode error or ERROR event).
    done: bool,
    context: String,
    /// Decode objects without `metadata.managedFields`.
    strip_managed_fields: bool,
    /// Set for a protobuf stream (`;stream=watch`): frames instead of lines.
    protobuf: Option<(ProtobufTarget<T>, LengthDelimitedFrames)>,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for WatchStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream")
            .field("context", &self.context)
            .field("buffered", &self.buf.len())
            .field("done", &self.done)
            .finish()
    }
}

impl<T: DeserializeOwned> WatchStream<T> {
    /// Decodes `body` incrementally. `context` names the watch in decode errors.
    pub fn new<S>(body: S, context: impl Into<String>) -> Self
    where
        S: Stream<Item = Result<Bytes, Error>> + Send + 'static,
    {
        WatchStream {
            body: Box::pin(body),
            buf: BytesMut::new(),
            scanned: 0,
            done: false,
            context: context.into(),
            strip_managed_fields: false,
            protobuf: None,
            _t: PhantomData,
        }
    }

    /// Decodes the body as protobuf watch frames (port of the protobuf streaming serializer
    /// with `framer.NewLengthDelimitedFrameReader`, which Go wires as `streaming.NewDecoder`
    /// inside `restclientwatch.NewDecoder`) instead of JSON lines.
    #[must_use]
    pub fn protobuf(mut self, target: ProtobufTarget<T>) -> Self {
        self.protobuf = Some((target, LengthDelimitedFrames::new()));
        self
    }

    /// Decodes each event's object without `metadata.managedFields` (see
    /// [`crate::meta::managed_fields`]).
    #[must_use]
    pub fn strip_managed_fields(mut self, strip: bool) -> Self {
        self.strip_managed_fields = strip;
        self
    }

    /// Decodes one line; `None` for a blank line.
    fn decode_line(&mut self, line: &[u8]) -> Option<Result<WatchEvent<T>, Error>> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        match RawWatchEvent::<T>::decode(line, self.strip_managed_fields) {
            Ok(RawWatchEvent::Event(e)) => Some(Ok(e)),
            Ok(RawWatchEvent::Error(status)) => {
                self.done = true;
                Some(Err(Error::from_status(status)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(Error::decode(
                    format!("watch event of {}", self.context),
                    e,
                )))
            }
        }
    }

    /// The next event from whole protobuf frames already buffered, if any.
    fn next_protobuf_event(&mut self) -> Option<Result<WatchEvent<T>, Error>> {
        let (target, frames) = self.protobuf.as_mut()?;
        let decoded = match frames.next_frame() {
            Ok(None) => return None,
            Ok(Some(frame)) => decode_watch_event(frame).and_then(|ev| {
                ev.decode(&target.codec, target.object(), self.strip_managed_fields)
            }),
            Err(e) => Err(e),
        };
        match decoded {
            Ok(RawWatchEvent::Event(ev)) => Some(Ok(ev)),
            Ok(RawWatchEvent::Error(status)) => {
                self.done = true;
                Some(Err(Error::from_status(status)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(Error::decode_protobuf(
                    format!("watch event of {}", self.context),
                    e,
                )))
            }
        }
    }

    /// The next complete line in `buf`, if any.
    fn take_line(&mut self) -> Option<Bytes> {
        let pos = memchr::memchr(b'\n', &self.buf[self.scanned..]).map(|p| p + self.scanned);
        match pos {
            Some(p) => {
                let line = self.buf.split_to(p + 1).freeze();
                self.scanned = 0;
                Some(line)
            }
            None => {
                self.scanned = self.buf.len();
                None
            }
        }
    }
}

impl<T: DeserializeOwned> Stream for WatchStream<T> {
    type Item = Result<WatchEvent<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if this.protobuf.is_some() {
                if let Some(item) = this.next_protobuf_event() {
                    return Poll::Ready(Some(item));
                }
            } else {
                while let Some(line) = this.take_line() {
                    if let Some(item) = this.decode_line(&line) {
                        return Poll::Ready(Some(item));
                    }
                }
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => match &mut this.protobuf {
                    Some((_, frames)) => frames.push(&chunk),
                    None => this.buf.extend_from_slice(&chunk),
                },
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    let benign = e.is_transport(TransportKind::UnexpectedEof)
                        || e.is_transport(TransportKind::ConnectionReset)
                        || e.is_transport(TransportKind::Timeout);
                    if benign {
                        tracing::debug!(watch = %this.context, error = %e, "watch stream closed");
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) if this.protobuf.is_some() => {
                    this.done = true;
                    let cut = this.protobuf.as_ref().map_or(0, |(_, f)| f.buffered());
                    if cut > 0 {
                        // Go's StreamWatcher treats a cut stream like EOF: the caller re-watches.
                        tracing::debug!(watch = %this.context, bytes = cut, "watch stream ended mid-frame");
                    }
                    return Poll::Ready(None);
                }
                Poll::Ready(None) => {
                    this.done = true;
                    // A last event without a trailing newline is still an event.
                    let rest = std::mem::take(&mut this.buf).freeze();
                    return Poll::Ready(this.decode_line(&rest));
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::meta::{ObjectMeta, Status};
    use apimachinery::runtime::wire::{Message, ProtoError, Reader, WireType};
    use futures::StreamExt;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Obj {
        metadata: ObjectMeta,
    }

    const BODY: &str = concat!(
        r#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}"#,
        "\n",
        r#"{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}"#,
        "\n",
        "\n",
        r#"{"type":"BOOKMARK","object":{"kind":"Obj","apiVersion":"v1","metadata":{"resourceVersion":"3"}}}"#,
        "\n",
        r#"{"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"4"}}}"#,
        "\n",
    );

    fn chunks(parts: Vec<Vec<u8>>) -> impl Stream<Item = Result<Bytes, Error>> + Send + 'static {
        futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from(p))))
    }

    async fn collect(parts: Vec<Vec<u8>>) -> Vec<Result<WatchEvent<Obj>, Error>> {
        WatchStream::<Obj>::new(chunks(parts), "test")
            .collect()
            .await
    }

    fn names(events: &[Result<WatchEvent<Obj>, Error>]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e.as_ref().unwrap() {
                WatchEvent::Bookmark(b) => format!("BOOKMARK@{}", b.metadata.resource_version),
                ev @ (WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o)) => {
                    format!(
                        "{}@{}",
                        ev.type_name(),
                        o.metadata.resource_version.as_deref().unwrap_or("")
                    )
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn events_split_at_every_byte_position_decode_identically() {
        let want = vec!["ADDED@1", "MODIFIED@2", "BOOKMARK@3", "DELETED@4"];
        let bytes = BODY.as_bytes();
        for cut in 0..=bytes.len() {
            let got = collect(vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()]).await;
            assert_eq!(names(&got), want, "split at {cut}");
        }
        let one_by_one = collect(bytes.iter().map(|b| vec![*b]).collect()).await;
        assert_eq!(names(&one_by_one), want);
    }

    #[tokio::test]
    async fn last_event_without_newline_is_decoded() {
        let body = BODY.trim_end().as_bytes().to_vec();
        assert_eq!(collect(vec![body]).await.len(), 4);
    }

    #[tokio::test]
    async fn malformed_line_ends_the_stream_with_a_decode_error() {
        let body = format!(
            "{}{{\"type\":\"ADDED\",\"object\":{{\n{}",
            &BODY[..BODY.find('\n').unwrap() + 1],
            BODY
        );
        let got = collect(vec![body.into_bytes()]).await;
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert!(matches!(got[1], Err(Error::Decode { .. })), "{:?}", got[1]);
    }

    #[tokio::test]
    async fn error_event_becomes_a_typed_error_and_ends_the_stream() {
        let body = concat!(
            r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (242)","reason":"Expired","code":410}}"#,
            "\n",
            r#"{"type":"ADDED","object":{"metadata":{"name":"a"}}}"#,
            "\n"
        );
        let got = collect(vec![body.as_bytes().to_vec()]).await;
        assert_eq!(got.len(), 1);
        let e = got[0].as_ref().unwrap_err();
        assert!(e.is_resource_expired(), "{e}");
    }

    /// A pod reduced to its metadata, with a protobuf form (field 1 of every object).
    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    struct PbObj {
        metadata: ObjectMeta,
    }

    impl Message for PbObj {
        const NAME: &'static str = "PbObj";
        fn merge_field(
            &mut self,
            field: u32,
            wire: WireType,
            r: &mut Reader<'_>,
        ) -> Result<(), ProtoError> {
            match field {
                1 => apimachinery::runtime::wire::merge(&mut self.metadata, "PbObj", 1, wire, r),
                _ => r.skip(wire),
            }
        }
        fn encoded_len(&self) -> usize {
            apimachinery::runtime::wire::Field::field_len(&self.metadata, 1)
        }
        fn encode_raw(&self, out: &mut Vec<u8>) {
            apimachinery::runtime::wire::Field::encode_field(&self.metadata, 1, out);
        }
    }
    apimachinery::impl_message_field!(PbObj);

    impl crate::meta::Resource for PbObj {
        const GROUP: &'static str = "";
        const VERSION: &'static str = "v1";
        const KIND: &'static str = "Pod";
        const PLURAL: &'static str = "pods";
        const NAMESPACED: bool = true;
        fn protobuf() -> Option<apimachinery::runtime::protobuf::ProtobufCodec<Self>> {
            Some(apimachinery::runtime::protobuf::ProtobufCodec::new(
                |_, _, _| {},
            ))
        }
    }

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../api/tests/fixtures/kube-apiserver-1.32-protobuf/"
    );

    async fn collect_pb(parts: Vec<Vec<u8>>) -> Vec<Result<WatchEvent<PbObj>, Error>> {
        let target = ProtobufTarget::<PbObj>::of().unwrap();
        WatchStream::<PbObj>::new(chunks(parts), "test")
            .protobuf(target)
            .collect()
            .await
    }

    fn event_types<T>(events: &[Result<WatchEvent<T>, Error>]) -> Vec<&'static str> {
        events
            .iter()
            .map(|e| e.as_ref().map_or("ERR", WatchEvent::type_name))
            .collect()
    }

    #[tokio::test]
    async fn recorded_protobuf_watch_decodes_like_its_json_twin_at_any_chunking() {
        let pb = std::fs::read(format!("{FIXTURES}watch-pods.pb")).unwrap();
        let json = std::fs::read(format!("{FIXTURES}watch-pods.json")).unwrap();
        let want = WatchStream::<PbObj>::new(chunks(vec![json]), "json")
            .collect::<Vec<_>>()
            .await;
        let want_types = event_types(&want);
        assert_eq!(want_types, ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]);
        for size in [1, 7, 64, pb.len()] {
            let got = collect_pb(pb.chunks(size).map(<[u8]>::to_vec).collect()).await;
            assert_eq!(event_types(&got), want_types, "chunks of {size}");
            for (g, w) in got.iter().zip(&want) {
                let (WatchEvent::Added(g) | WatchEvent::Modified(g) | WatchEvent::Deleted(g)) =
                    g.as_ref().unwrap()
                else {
                    panic!("not an object event")
                };
                let (WatchEvent::Added(w) | WatchEvent::Modified(w) | WatchEvent::Deleted(w)) =
                    w.as_ref().unwrap()
                else {
                    panic!("not an object event")
                };
                assert_eq!(g.metadata.name, w.metadata.name);
                assert_eq!(g.metadata.labels, w.metadata.labels);
            }
        }
    }

    #[tokio::test]
    async fn recorded_protobuf_initial_events_end_with_the_marked_bookmark() {
        let pb = std::fs::read(format!("{FIXTURES}watch-initial-events.pb")).unwrap();
        let got = collect_pb(vec![pb]).await;
        let Some(Ok(WatchEvent::Bookmark(b))) = got.last() else {
            panic!("{got:?}")
        };
        assert!(b.is_initial_events_end(), "{b:?}");
        assert!(!b.metadata.resource_version.is_empty());
        assert_eq!(b.types.kind, "Pod");
    }

    fn frame(event_type: &str, api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let t = crate::meta::EventType::parse(event_type).unwrap();
        let ev = crate::meta::encode_watch_event(t, api_version, kind, raw);
        let mut out = Vec::new();
        apimachinery::runtime::framer::write_frame(&mut out, &ev);
        out
    }

    #[tokio::test]
    async fn protobuf_error_event_is_a_typed_error_and_ends_the_stream() {
        let status = Status {
            status: "Failure".into(),
            message: "too old resource version: 1 (242)".into(),
            reason: "Expired".into(),
            code: 410,
            ..Status::default()
        };
        let mut body = frame("ERROR", "v1", "Status", &status.encode_to_vec());
        body.extend(frame(
            "ADDED",
            "v1",
            "Pod",
            &PbObj::default().encode_to_vec(),
        ));
        let got = collect_pb(vec![body]).await;
        assert_eq!(got.len(), 1);
        assert!(
            got[0].as_ref().unwrap_err().is_resource_expired(),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn protobuf_event_of_another_kind_or_a_huge_frame_is_a_decode_error() {
        let other = frame(
            "ADDED",
            "v1",
            "ConfigMap",
            &PbObj::default().encode_to_vec(),
        );
        let got = collect_pb(vec![other]).await;
        assert!(
            matches!(got[..], [Err(Error::DecodeProtobuf { .. })]),
            "{got:?}"
        );
        let got = collect_pb(vec![vec![0xff, 0xff, 0xff, 0xff, 0, 0]]).await;
        assert!(
            matches!(got[..], [Err(Error::DecodeProtobuf { .. })]),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn protobuf_stream_cut_mid_frame_ends_quietly_after_whole_events() {
        let mut body = frame("ADDED", "v1", "Pod", &PbObj::default().encode_to_vec());
        let second = frame("ADDED", "v1", "Pod", &PbObj::default().encode_to_vec());
        body.extend_from_slice(&second[..second.len() - 2]);
        let got = collect_pb(vec![body]).await;
        assert_eq!(event_types(&got), ["ADDED"]);
    }

    #[tokio::test]
    async fn eof_mid_stream_ends_quietly_but_other_errors_surface() {
        let first = BODY.lines().next().unwrap().to_owned() + "\n";
        let eof = Error::Transport {
            verb: "GET".into(),
            url: "u".into(),
            kind: TransportKind::UnexpectedEof,
            source: "eof".into(),
        };
        let s = futures::stream::iter(vec![Ok(Bytes::from(first.clone())), Err(eof)]);
        let got: Vec<_> = WatchStream::<Obj>::new(s, "t").collect().await;
        assert_eq!(got.len(), 1);
        let other = Error::Transport {
            verb: "GET".into(),
            url: "u".into(),
            kind: TransportKind::Other,
            source: "boom".into(),
        };
        let s = futures::stream::iter(vec![Ok(Bytes::from(first)), Err(other)]);
        let got: Vec<_> = WatchStream::<Obj>::new(s, "t").collect().await;
        assert_eq!(got.len(), 2);
        assert!(got[1].is_err());
    }
}
