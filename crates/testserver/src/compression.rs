//! gzip response compression, as kube-apiserver does it.
//!
//! Port of apiserver `endpoints/handlers/responsewriters/writers.go` (`deferredResponseWriter`,
//! `defaultGzipThresholdBytes`) and `responsewriters/compression.go`
//! (`ContentEncodingSupported`, `responseContentEncodingSupported`, `gzipContentEncodingLevel`);
//! Go's `deferredResponseWriter` picks gzip or identity at the first write (`unbufferedWrite`).
//!
//! Data flow: `api::handle` builds a response as usual, then, for every verb but WATCH and only
//! when the request's `Accept-Encoding` lists `gzip`, hands it to [`negotiate`]:
//!
//! 1. The body's size is known (a single object, a `Status`, a discovery document): over
//!    [`GZIP_THRESHOLD_BYTES`] it is gzipped, otherwise it goes out as it is.
//! 2. The size is not known (a streamed LIST, see `body::list_body`): the first frames are
//!    buffered, at most [`GZIP_THRESHOLD_BYTES`] plus one frame (one 64 KiB chunk for a list).
//!    If the body ends first, it goes out as identity with its exact length; once the buffer
//!    passes the threshold, the headers are committed as gzip and the buffered prefix and the
//!    rest of the body are compressed frame by frame as the client reads them.
//!
//! Either way memory stays bounded: the compressor holds its window and whatever output one
//! input frame produced, never the whole body. A gzipped response gets `Content-Encoding: gzip`
//! and `Vary: Accept-Encoding` and loses its `Content-Length`, as the real server's does.
//! Watch streams never come here: the real server writes them through its watch encoder,
//! bypassing `SerializeObject`, so they are never compressed (watch-list included).
//!
//! Differs from Go: Go decides on the size of the first write (a single object's whole
//! encoding) and buffers only when that write looks like a streaming encoder's opening `{`;
//! here the same decision is made from the body's exact size hint or by buffering frames.
//! The outcome is the same: gzip exactly when the body is over 128 KiB.

use std::io::Write as _;

use bytes::{Bytes, BytesMut};
use flate2::Compression;
use flate2::write::GzEncoder;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue, VARY};
use http::{HeaderMap, Response};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Body as _, Frame};

use crate::body::{self, Body, BodyError};

/// Bodies larger than this are gzipped when the client accepts gzip. Port of
/// writers.go: `defaultGzipThresholdBytes = 128 * 1024`; a body of exactly this size stays
/// identity, as in Go (`len(p) > defaultGzipThresholdBytes`).
pub const GZIP_THRESHOLD_BYTES: usize = 128 * 1024;

/// Compression level 1 (fastest). Port of compression.go: `gzipContentEncodingLevel = 1`.
const GZIP_LEVEL: u32 = 1;

/// True if the request's (first) `Accept-Encoding` header lists `gzip` as one of its
/// comma-separated tokens. Port of compression.go: ContentEncodingSupported, which likewise
/// compares each trimmed token with `gzip` exactly (so `gzip;q=0.5` does not count).
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|token| token.trim() == "gzip"))
}

/// Gzips `resp` if its body is over [`GZIP_THRESHOLD_BYTES`]; call only for a client that
/// accepts gzip and a response that is not a watch stream. See the module docs.
///
/// # Cancel safety
///
/// Dropping the future drops the response; nothing else is lost.
pub(crate) async fn negotiate(resp: Response<Body>) -> Response<Body> {
    if resp.headers().contains_key(CONTENT_ENCODING) {
        return resp;
    }
    let (mut parts, mut inner) = resp.into_parts();
    let prefix = match inner.size_hint().exact() {
        Some(n) if n <= GZIP_THRESHOLD_BYTES as u64 => {
            return Response::from_parts(parts, inner);
        }
        Some(_) => Bytes::new(),
        None => {
            // Unknown size: buffer until the body ends or proves large.
            let mut buffered = BytesMut::new();
            while buffered.len() <= GZIP_THRESHOLD_BYTES {
                match inner.frame().await {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            buffered.extend_from_slice(&data);
                        }
                    }
                    Some(Err(e)) => {
                        // As the identity path would: the bytes so far, then the error (which
                        // aborts the connection).
                        let replay =
                            futures::stream::iter([Ok(Frame::data(buffered.freeze())), Err(e)]);
                        return Response::from_parts(parts, StreamBody::new(replay).boxed_unsync());
                    }
                    None => return Response::from_parts(parts, body::full(buffered.freeze())),
                }
            }
            buffered.freeze()
        }
    };
    let h = &mut parts.headers;
    h.remove(CONTENT_LENGTH);
    h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    h.append(VARY, HeaderValue::from_static("Accept-Encoding"));
    tracing::trace!("gzipping a response body over {GZIP_THRESHOLD_BYTES} bytes");
    Response::from_parts(parts, gzip_body(prefix, inner))
}

/// What [`gzip_body`]'s stream carries from one frame to the next.
struct GzipState {
    /// Bytes read before compression was decided on; compressed first.
    prefix: Option<Bytes>,
    /// The uncompressed body.
    inner: Body,
    /// Writes compressed bytes into its `Vec`, which is emptied into a frame after each input
    /// frame; `None` once the trailer is written or an error ended the body.
    encoder: Option<GzEncoder<Vec<u8>>>,
}

/// `prefix` followed by `inner`, gzipped frame by frame.
fn gzip_body(prefix: Bytes, inner: Body) -> Body {
    let state = GzipState {
        prefix: Some(prefix).filter(|p| !p.is_empty()),
        inner,
        encoder: Some(GzEncoder::new(Vec::new(), Compression::new(GZIP_LEVEL))),
    };
    let stream = futures::stream::unfold(state, |mut st| async move {
        loop {
            // `None` once the trailer is out or an error ended the body.
            let encoder = st.encoder.as_mut()?;
            let input = match st.prefix.take() {
                Some(p) => Some(Ok(Frame::data(p))),
                None => st.inner.frame().await,
            };
            let step: Result<Option<Vec<u8>>, BodyError> = match input {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => encoder
                        .write_all(&data)
                        .map(|()| Some(std::mem::take(encoder.get_mut()))),
                    Err(_) => Ok(None),
                },
                Some(Err(e)) => Err(e),
                None => match st.encoder.take() {
                    // Writes the last compressed block and the gzip trailer (CRC, size).
                    Some(done) => done.finish().map(Some),
                    None => return None,
                },
            };
            match step {
                Ok(Some(out)) if !out.is_empty() => {
                    return Some((Ok(Frame::data(Bytes::from(out))), st));
                }
                Ok(_) => {}
                Err(e) => {
                    st.encoder = None;
                    return Some((Err(e), st));
                }
            }
        }
    });
    StreamBody::new(stream).boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let read = flate2::read::GzDecoder::new(bytes).read_to_end(&mut out);
        assert!(read.is_ok(), "{read:?}");
        out
    }

    fn chunked(data: &[u8], chunk: usize) -> Body {
        let frames: Vec<Result<Frame<Bytes>, BodyError>> = data
            .chunks(chunk)
            .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
            .collect();
        StreamBody::new(futures::stream::iter(frames)).boxed_unsync()
    }

    async fn collect(body: Body) -> Vec<u8> {
        body.collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default()
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| b"{\"kind\":\"Pod\"},"[i % 15]).collect()
    }

    #[test]
    fn accept_encoding_tokens_are_matched_exactly() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                ACCEPT_ENCODING,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
            accepts_gzip(&h)
        };
        assert!(with("gzip"));
        assert!(with("deflate, gzip"));
        assert!(with(" gzip ,br"));
        assert!(!with("gzip;q=1"));
        assert!(!with("x-gzip"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn bodies_at_or_under_the_threshold_stay_identity_whatever_their_framing() {
        for len in [0, 10, GZIP_THRESHOLD_BYTES] {
            let data = sample(len);
            for body in [body::full(data.clone()), chunked(&data, 1000)] {
                let resp = negotiate(body::response(200, body)).await;
                assert!(resp.headers().get(CONTENT_ENCODING).is_none(), "len {len}");
                assert!(resp.headers().get(VARY).is_none(), "len {len}");
                assert_eq!(collect(resp.into_body()).await, data, "len {len}");
            }
        }
    }

    #[tokio::test]
    async fn bodies_over_the_threshold_are_gzipped_whatever_their_framing() {
        for len in [GZIP_THRESHOLD_BYTES + 1, 3 * GZIP_THRESHOLD_BYTES + 17] {
            let data = sample(len);
            for body in [
                body::full(data.clone()),
                chunked(&data, 64 * 1024),
                chunked(&data, 7),
            ] {
                let resp = negotiate(body::response(200, body)).await;
                assert_eq!(resp.headers()[CONTENT_ENCODING], "gzip");
                assert_eq!(resp.headers()[VARY], "Accept-Encoding");
                assert!(resp.headers().get(CONTENT_LENGTH).is_none());
                let wire = collect(resp.into_body()).await;
                assert!(
                    wire.len() < data.len() / 10,
                    "{} of {}",
                    wire.len(),
                    data.len()
                );
                assert_eq!(gunzip(&wire), data, "len {len}");
            }
        }
    }
}
