//! Port of client-go `rest/request.go`: the request builder and the loop that sends it.
//!
//! Data flow: builder calls record verb, path parts, query, headers and body (the first bad
//! part is remembered and returned when the request runs, like Go's `r.err`) → [`Request::url`]
//! joins `base/prefix/namespaces/{ns}/{resource}/{name}/{subresource}` → the send loop:
//! throttle the first attempt (not for watches), then repeat {`WithRetry::before` → add
//! credentials → send → classify} until success, a non-retryable answer, or the retry budget is
//! spent → the body is decoded into a type ([`Request::into_json`]), returned as bytes
//! ([`Request::into_bytes`]), or decoded incrementally as a watch ([`Request::watch`]).
//!
//! Along the way the loop reports to [`crate::metrics`] where client-go's request.go does:
//! each rate-limiter wait, each attempt's result (and whether it was a retry) and request
//! size, the response size, and the whole request's latency (not for watches, as in Go).
//!
//! A non-2xx answer becomes [`Error::Api`] with the server's `Status` (or one made from the
//! HTTP code). The body of a list or watch has no timeout; `Config::timeout` bounds only
//! connecting and receiving headers.

use std::time::Duration;

use crate::http::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use crate::http::{Method, Url};
use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use apimachinery::runtime::protobuf as pb;
use apimachinery::runtime::wire::ProtoError;

use super::client::RestClient;
use super::content::{ProtobufTarget, is_protobuf_response};
use super::watch::WatchStream;
use super::with_retry::{Outcome, WithRetry, retryable_for_request, retryable_for_watch};
use crate::error::{ApiError, Error, Result, TransportKind};
use crate::meta::{List, ListOptions, Status, WriteOptions};
use crate::metrics::report;

/// A request being built. Port of rest.Request.
///
/// Differs from Go: consumed by the call that sends it (`into_json`, `into_bytes`, `watch`),
/// and carries no context; cancel by dropping the future.
#[must_use = "a request does nothing until sent"]
pub struct Request {
    client: RestClient,
    verb: Method,
    prefix: String,
    namespace: Option<String>,
    resource: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
    params: Vec<(String, String)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    content_type: Option<String>,
    body: Option<Bytes>,
    timeout: Option<Duration>,
    /// Decode objects without `metadata.managedFields`.
    strip_managed_fields: bool,
    /// The first builder error; returned when the request is sent. Port of Request.err.
    err: Option<Error>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("verb", &self.verb)
            .field("path", &self.path())
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Port of apimachinery validation/path.go: IsValidPathSegmentName.
fn check_segment(what: &str, s: &str) -> Option<Error> {
    if s == "." || s == ".." || s.contains('/') || s.contains('%') {
        Some(Error::InvalidRequest(format!(
            "invalid {what} {s:?}: may not be '.', '..', or contain '/' or '%'"
        )))
    } else {
        None
    }
}

impl Request {
    /// A request with `verb` on `client`. Port of rest.NewRequest.
    pub fn new(client: RestClient, verb: Method) -> Self {
        Request {
            client,
            verb,
            prefix: String::new(),
            namespace: None,
            resource: None,
            name: None,
            subresource: None,
            params: Vec::new(),
            headers: Vec::new(),
            content_type: None,
            body: None,
            timeout: None,
            strip_managed_fields: false,
            err: None,
        }
    }

    fn fail(mut self, e: Option<Error>) -> Self {
        if self.err.is_none() {
            self.err = e;
        }
        self
    }

    /// Sets the path prefix, e.g. `/api/v1`. Port of Request.Prefix / AbsPath.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// `/api/{version}` for the core group, `/apis/{group}/{version}` otherwise.
    pub fn group_version(self, group: &str, version: &str) -> Self {
        if group.is_empty() {
            self.prefix(format!("/api/{version}"))
        } else {
            self.prefix(format!("/apis/{group}/{version}"))
        }
    }

    /// Sets the namespace; empty means none. Port of Request.Namespace.
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        let ns = ns.into();
        let e = check_segment("namespace", &ns).filter(|_| !ns.is_empty());
        self.namespace = Some(ns).filter(|n| !n.is_empty());
        self.fail(e)
    }

    /// Sets the resource (plural, lower case). Port of Request.Resource.
    pub fn resource(mut self, r: impl Into<String>) -> Self {
        let r = r.into();
        let e = check_segment("resource", &r);
        self.resource = Some(r);
        self.fail(e)
    }

    /// Sets the object name; empty is an error. Port of Request.Name.
    pub fn name(mut self, n: impl Into<String>) -> Self {
        let n = n.into();
        let e = if n.is_empty() {
            Some(Error::InvalidRequest(
                "resource name may not be empty".into(),
            ))
        } else {
            check_segment("resource name", &n)
        };
        self.name = Some(n);
        self.fail(e)
    }

    /// Sets the subresource, e.g. `status`. Port of Request.SubResource.
    pub fn subresource(mut self, s: impl Into<String>) -> Self {
        let s = s.into();
        let e = check_segment("subresource", &s);
        self.subresource = Some(s);
        self.fail(e)
    }

    /// Adds a query parameter. Port of Request.Param.
    pub fn param(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.params.push((k.into(), v.into()));
        self
    }

    /// Adds list/watch options as query parameters. Port of Request.VersionedParams.
    pub fn list_options(mut self, o: &ListOptions) -> Self {
        for (k, v) in o.query_pairs() {
            self.params.push((k.to_owned(), v));
        }
        self
    }

    /// Adds create/update/patch options as query parameters.
    pub fn write_options(mut self, o: &WriteOptions) -> Self {
        for (k, v) in o.query_pairs() {
            self.params.push((k.to_owned(), v));
        }
        self
    }

    /// Adds a header. Port of Request.SetHeader.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        match (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.push((n, v));
                self
            }
            _ => self.fail(Some(Error::InvalidRequest(format!("invalid header {k:?}")))),
        }
    }

    /// Sets the body's content type (default `application/json` when there is a body).
    pub fn content_type(mut self, ct: impl Into<String>) -> Self {
        self.content_type = Some(ct.into());
        self
    }

    /// Sets raw body bytes. Port of Request.Body([]byte).
    pub fn body(mut self, b: impl Into<Bytes>) -> Self {
        self.body = Some(b.into());
        self
    }

    /// Encodes `obj` as a protobuf body (`k8s\0` envelope) with its content type. Port of
    /// Request.Body(runtime.Object) under a protobuf ContentConfig.
    pub fn protobuf_body<T>(self, pb: &ProtobufTarget<T>, obj: &T) -> Self {
        self.content_type(pb::CONTENT_TYPE).body(pb.encode(obj))
    }

    /// Serialises `v` as the JSON body. Port of Request.Body(runtime.Object).
    pub fn json_body<T: Serialize + ?Sized>(self, v: &T) -> Self {
        match serde_json::to_vec(v) {
            Ok(b) => self.body(b),
            Err(e) => self.fail(Some(Error::InvalidRequest(format!(
                "cannot encode body: {e}"
            )))),
        }
    }

    /// Server-side `timeout` parameter and client-side header timeout. Port of Request.Timeout.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self.param("timeout", format!("{}s", d.as_secs().max(1)))
    }

    /// Decodes the response's objects without `metadata.managedFields`: the object of
    /// [`Request::into_json`], each item of [`Request::into_list`], each event of
    /// [`Request::watch`]. Rust-only; Go's counterpart is a cache transform that clears
    /// `ManagedFields` after decoding (controller-runtime's `TransformStripManagedFields`; see
    /// [`crate::meta::managed_fields`]).
    pub fn strip_managed_fields(mut self, strip: bool) -> Self {
        self.strip_managed_fields = strip;
        self
    }

    fn path(&self) -> String {
        let mut p = self.prefix.trim_end_matches('/').to_owned();
        if let Some(ns) = &self.namespace {
            p.push_str("/namespaces/");
            p.push_str(ns);
        }
        for part in [&self.resource, &self.name, &self.subresource]
            .into_iter()
            .flatten()
        {
            p.push('/');
            p.push_str(part);
        }
        p
    }

    /// The full URL. Port of Request.URL.
    pub fn url(&self) -> Result<Url> {
        let mut url = self.client.inner.base.clone();
        let base_path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base_path}{}", self.path()));
        if !self.params.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &self.params {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// The URL the metrics see: the configured host, and the path with the namespace and the
    /// name replaced by `{namespace}` and `{name}`, no query. Port of Request.finalURLTemplate
    /// (built from the request's parts rather than by re-parsing its path; a prefix other than
    /// `/api/...` or `/apis/...` becomes `/{prefix}`, as in Go).
    pub fn url_template(&self) -> Url {
        let mut url = self.client.inner.metrics_base.clone();
        url.set_query(None);
        let base_path = url.path().trim_end_matches('/').to_owned();
        let prefix = self.prefix.trim_end_matches('/');
        if !(prefix.starts_with("/api/") || prefix.starts_with("/apis/")) {
            url.set_path(&format!("{base_path}/{{prefix}}"));
            return url;
        }
        let mut p = format!("{base_path}{prefix}");
        if self.namespace.is_some() {
            p.push_str("/namespaces/{namespace}");
        }
        if let Some(r) = &self.resource {
            p.push('/');
            p.push_str(r);
        }
        if self.name.is_some() {
            p.push_str("/{name}");
        }
        if let Some(sub) = &self.subresource {
            p.push('/');
            p.push_str(sub);
        }
        url.set_path(&p);
        url
    }

    /// Sends the request and returns the body bytes. Port of Request.DoRaw.
    ///
    /// # Cancel safety
    /// Dropping the future abandons the request; a write may or may not have reached the server.
    pub async fn into_bytes(self) -> Result<Bytes> {
        let host = self.client.inner.metrics_host.clone();
        let (resp, verb, url) = self.send(false).await?;
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport_error(&verb, &url, e))?;
        report::response_size(verb.as_str(), &host, body.len());
        Ok(body)
    }

    /// Sends the request and decodes the JSON body into `T`. Port of Request.Do().Into().
    ///
    /// # Cancel safety
    /// As [`Request::into_bytes`].
    pub async fn into_json<T: DeserializeOwned>(self) -> Result<T> {
        self.into_object(None).await
    }

    /// Sends the request and decodes the body into `T` by the response's `Content-Type`:
    /// protobuf when the server answered protobuf and `pb` can decode it, JSON otherwise.
    /// Port of Request.Do().Into() with transformResponse's choice of decoder.
    ///
    /// # Cancel safety
    /// As [`Request::into_bytes`].
    pub async fn into_object<T: DeserializeOwned>(
        self,
        pb: Option<&ProtobufTarget<T>>,
    ) -> Result<T> {
        let strip = self.strip_managed_fields;
        let host = self.client.inner.metrics_host.clone();
        let (resp, verb, url) = self.send(false).await?;
        let protobuf = is_protobuf_response(content_type_of(&resp));
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport_error(&verb, &url, e))?;
        report::response_size(verb.as_str(), &host, body.len());
        let context = format!("{} from {verb} {url}", std::any::type_name::<T>());
        match (protobuf, pb) {
            (true, Some(pb)) => pb.decode(&body, strip, &context),
            (true, None) => Err(unexpected_protobuf(context)),
            (false, _) => {
                crate::meta::decode_object(&body, strip).map_err(|e| Error::decode(context, e))
            }
        }
    }

    /// Sends a LIST request and decodes its items as the body arrives (each item as soon as
    /// its last byte is in). Port of Request.Do().Into() for a list; differs from Go, which
    /// reads the whole body before decoding, so here decoding overlaps the transfer and at
    /// most one item's bytes are buffered.
    ///
    /// # Cancel safety
    /// Cancel-safe (a read).
    pub async fn into_list<T: DeserializeOwned>(self) -> Result<List<T>> {
        self.into_list_of(None).await
    }

    /// [`Request::into_list`], decoding a protobuf answer with `pb`. Either form is decoded
    /// item by item as it arrives (Go reads the whole body first).
    ///
    /// # Cancel safety
    /// Cancel-safe (a read).
    pub async fn into_list_of<T: DeserializeOwned>(
        self,
        pb: Option<&ProtobufTarget<T>>,
    ) -> Result<List<T>> {
        let strip = self.strip_managed_fields;
        let host = self.client.inner.metrics_host.clone();
        let (resp, verb, url) = self.send(false).await?;
        let context = format!("{} from {verb} {url}", std::any::type_name::<List<T>>());
        if is_protobuf_response(content_type_of(&resp)) {
            let Some(pb) = pb else {
                return Err(unexpected_protobuf(context));
            };
            let mut decoder =
                super::list_stream_protobuf::ProtobufListDecoder::new(&pb.codec, pb.list(), strip);
            let mut body = resp.bytes_stream();
            let mut size = 0;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| transport_error(&verb, &url, e))?;
                size += chunk.len();
                decoder
                    .push(&chunk)
                    .map_err(|e| Error::decode_protobuf(&context, e))?;
            }
            report::response_size(verb.as_str(), &host, size);
            return decoder
                .finish()
                .map_err(|e| Error::decode_protobuf(context, e));
        }
        let size = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = size.clone();
        let verb_label = verb.clone();
        let body = resp.bytes_stream().map(move |r| {
            if let Ok(chunk) = &r {
                counted.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
            }
            r.map_err(|e| transport_error(&verb, &url, e))
        });
        let list = super::list_stream::decode_list(Box::pin(body), &context, |item: &[u8]| {
            crate::meta::decode_object(item, strip)
        })
        .await;
        report::response_size(
            verb_label.as_str(),
            &host,
            size.load(std::sync::atomic::Ordering::Relaxed),
        );
        list
    }

    /// Sends the request with `watch=true` and decodes the body as events arrive.
    /// Port of Request.Watch: the first attempt is not throttled.
    ///
    /// # Cancel safety
    /// Cancel-safe; dropping the stream closes the connection.
    pub async fn watch<T: DeserializeOwned>(self) -> Result<WatchStream<T>> {
        self.watch_of(None).await
    }

    /// [`Request::watch`], decoding a protobuf stream (`;stream=watch` frames) with `pb`.
    ///
    /// # Cancel safety
    /// Cancel-safe; dropping the stream closes the connection.
    pub async fn watch_of<T: DeserializeOwned>(
        self,
        pb: Option<ProtobufTarget<T>>,
    ) -> Result<WatchStream<T>> {
        let strip = self.strip_managed_fields;
        let req = self.param("watch", "true");
        let (resp, verb, url) = req.send(true).await?;
        let context = format!("{verb} {url}");
        let protobuf = is_protobuf_response(content_type_of(&resp));
        let body = resp
            .bytes_stream()
            .map(move |r| r.map_err(|e| transport_error(&verb, &url, e)));
        let stream = WatchStream::new(body, context.clone()).strip_managed_fields(strip);
        if !protobuf {
            return Ok(stream);
        }
        match pb {
            Some(pb) => Ok(stream.protobuf(pb)),
            None => Err(unexpected_protobuf(context)),
        }
    }

    /// The send loop, with the whole-request latency reported as Go's Request.request does
    /// (not for watches: Go's Watch does not report it).
    async fn send(self, is_watch: bool) -> Result<(reqwest::Response, Method, String)> {
        if is_watch {
            return self.send_attempts(true).await;
        }
        let start = tokio::time::Instant::now();
        let verb = self.verb.clone();
        let template = self.url_template();
        let out = self.send_attempts(false).await;
        report::request_latency(verb.as_str(), &template, start.elapsed());
        out
    }

    /// The attempts. Port of Request.request / Request.Watch and withRetry.
    async fn send_attempts(
        mut self,
        is_watch: bool,
    ) -> Result<(reqwest::Response, Method, String)> {
        if let Some(e) = self.err.take() {
            return Err(e);
        }
        let url = self.url()?;
        let mut url_no_query = url.clone();
        url_no_query.set_query(None);
        let url_str = url_no_query.to_string();
        let inner = self.client.inner.clone();
        let template = self.url_template();
        let host = inner.metrics_host.as_str();
        // Go throttles the first attempt of ordinary requests only.
        if !is_watch && let Some(l) = &inner.limiter {
            let waited = l.throttle(self.verb.as_str(), &url_str, None).await;
            report::rate_limiter_latency(self.verb.as_str(), &template, waited);
        }
        let retryable = if is_watch {
            retryable_for_watch
        } else {
            retryable_for_request
        };
        let mut retry = WithRetry::new(inner.max_retries);
        let mut reauthenticated = false;
        let timeout = self.timeout.or(inner.timeout);
        loop {
            if let Some(waited) = retry
                .before(inner.limiter.as_deref(), &self.verb, &url_str)
                .await
            {
                report::rate_limiter_latency(self.verb.as_str(), &template, waited);
            }
            let mut rb = inner.http.request(self.verb.clone(), url.clone());
            for (k, v) in &self.headers {
                rb = rb.header(k, v);
            }
            if let Some(b) = &self.body {
                let ct = self.content_type.as_deref().unwrap_or("application/json");
                rb = rb.header(CONTENT_TYPE, ct).body(b.clone());
            }
            let (rb, used) = self.client.authorize(rb).await?;
            // Go observes the request body's length on every attempt (0 without a body).
            report::request_size(
                self.verb.as_str(),
                host,
                self.body.as_ref().map_or(0, Bytes::len),
            );
            let sent: std::result::Result<reqwest::Response, Sent> = match timeout {
                Some(t) => match tokio::time::timeout(t, rb.send()).await {
                    Ok(r) => r.map_err(Sent::Reqwest),
                    Err(_) => Err(Sent::Timeout),
                },
                None => rb.send().await.map_err(Sent::Reqwest),
            };
            let sent = match sent {
                Ok(r) => Ok(r),
                Err(Sent::Reqwest(e)) => Err(transport_error(&self.verb, &url_str, e)),
                Err(Sent::Timeout) => Err(Error::Transport {
                    verb: self.verb.to_string(),
                    url: url_str.clone(),
                    kind: TransportKind::Timeout,
                    source: format!("no response headers within {timeout:?}").into(),
                }),
            };
            retry.after(
                self.verb.as_str(),
                host,
                sent.as_ref().ok().map(|r| r.status().as_u16()),
            );
            match sent {
                Ok(resp) if resp.status().is_success() => return Ok((resp, self.verb, url_str)),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if status == 401 && !reauthenticated && self.client.unauthorized(&used).await {
                        reauthenticated = true;
                        continue;
                    }
                    let ra = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let outcome = Outcome::Response {
                        status,
                        retry_after: ra.as_deref(),
                    };
                    if retry.is_next_retry(&self.verb, outcome, retryable) {
                        // Drain so the connection can be reused (Go: readAndCloseResponseBody).
                        let _ = resp.bytes().await;
                        continue;
                    }
                    let ra_secs = ra.and_then(|s| s.trim().parse::<u64>().ok());
                    let body = resp.bytes().await.unwrap_or_default();
                    // Go's Do reports the size of an error response that has a body.
                    if !body.is_empty() {
                        report::response_size(self.verb.as_str(), host, body.len());
                    }
                    return Err(error_from_body(status, ra_secs, &body, self.verb.as_str()));
                }
                Err(err) => {
                    if retry.is_next_retry(&self.verb, Outcome::Error(&err), retryable) {
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }
}

fn content_type_of(resp: &reqwest::Response) -> Option<&str> {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// A protobuf answer to a request that can only decode JSON (the server ignored `Accept`).
fn unexpected_protobuf(context: String) -> Error {
    Error::decode_protobuf(
        context,
        ProtoError::Invalid(
            "the server answered protobuf, but this type has no protobuf form".into(),
        ),
    )
}

/// Why `send()` produced no response.
enum Sent {
    Reqwest(reqwest::Error),
    Timeout,
}

/// Builds the error for a non-2xx response. Port of request.go: transformResponse /
/// newUnstructuredResponseError: a `Status` body is used as is (its code filled in if
/// missing); any other body becomes the message of a status derived from the HTTP code.
pub fn error_from_body(status: u16, retry_after: Option<u64>, body: &[u8], verb: &str) -> Error {
    // A protobuf Status (when the client accepted protobuf), else a JSON one.
    let status_body = Status::decode_protobuf(body).ok().or_else(|| {
        serde_json::from_slice::<Status>(body)
            .ok()
            .filter(|s| s.types.kind == "Status")
    });
    if let Some(mut s) = status_body {
        if s.code == 0 {
            s.code = i32::from(status);
        }
        return ApiError {
            status: s,
            retry_after_header: retry_after,
        }
        .into();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(1024)])
        .trim()
        .to_owned();
    ApiError::from_code(status, verb, text, retry_after).into()
}

/// True if `e`, a source of it, or an `io::Error` wrapped anywhere in it is a rustls error.
fn is_tls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.is::<rustls::Error>() {
        return true;
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>()
        && let Some(inner) = io.get_ref()
        && is_tls_error(inner)
    {
        return true;
    }
    e.source().is_some_and(is_tls_error)
}

/// A response body that failed to inflate: its gzip header, deflate data or CRC is corrupt.
/// Port of the error Go's gzip reader returns from the body of a transparently decompressed
/// response (`gzip.ErrHeader`, `flate.CorruptInputError`, `gzip.ErrChecksum`).
#[derive(Debug, thiserror::Error)]
#[error("corrupt gzip response body")]
struct CorruptGzip(#[source] reqwest::Error);

/// True if reading a body failed in the gzip decoder on bad data: a bad header or checksum
/// (`io::ErrorKind::InvalidData`, which nothing else reports from a body read) or bad deflate
/// data (a `flate2::DecompressError` inside an `io::Error`). A connection that breaks
/// mid-body is a hyper error, and a gzip stream cut short is `UnexpectedEof`; both are
/// classified by [`transport_error`] as usual.
fn is_corrupt_gzip(e: &reqwest::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && (io.kind() == std::io::ErrorKind::InvalidData
                || io
                    .get_ref()
                    .is_some_and(|inner| inner.is::<flate2::DecompressError>()))
        {
            return true;
        }
        src = s.source();
    }
    false
}

/// Classifies a reqwest error. Port of apimachinery util/net: IsConnectionReset,
/// IsProbableEOF (which, as in Go, partly reads error messages).
pub(crate) fn transport_error(verb: &Method, url: &str, e: reqwest::Error) -> Error {
    if e.is_decode() && is_corrupt_gzip(&e) {
        return Error::Transport {
            verb: verb.to_string(),
            url: url.to_owned(),
            kind: TransportKind::Other,
            source: Box::new(CorruptGzip(e.without_url())),
        };
    }
    let mut kind = if e.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    };
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = src {
        if is_tls_error(s) {
            return Error::Tls {
                context: format!("handshake with {url}"),
                source: e.without_url().into(),
            };
        }
        if kind == TransportKind::Other {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind as K;
                kind = match io.kind() {
                    K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                        TransportKind::ConnectionReset
                    }
                    K::UnexpectedEof => TransportKind::UnexpectedEof,
                    K::TimedOut => TransportKind::Timeout,
                    K::ConnectionRefused => TransportKind::Connect,
                    _ => kind,
                };
            }
            let msg = s.to_string();
            if msg.contains("connection closed before message completed")
                || msg.contains("unexpected EOF")
                || msg.contains("end of file before message length reached")
                || msg.contains("error reading a body from connection")
            {
                kind = TransportKind::UnexpectedEof;
            } else if msg.contains("connection reset") {
                kind = TransportKind::ConnectionReset;
            }
        }
        src = s.source();
    }
    if kind == TransportKind::Other && e.is_connect() {
        kind = TransportKind::Connect;
    }
    Error::Transport {
        verb: verb.to_string(),
        url: url.to_owned(),
        kind,
        source: e.without_url().into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../api/tests/fixtures/kube-apiserver-1.32-protobuf/"
    );

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).unwrap()
    }

    #[test]
    fn a_protobuf_status_body_gives_the_same_error_as_its_json_twin() {
        for name in ["error-not-found", "error-bad-selector"] {
            let json = fixture(&format!("{name}.json"));
            let pb = fixture(&format!("{name}.pb"));
            let code = serde_json::from_slice::<Status>(&json).unwrap().code as u16;
            let (Error::Api(from_json), Error::Api(from_pb)) = (
                error_from_body(code, None, &json, "GET"),
                error_from_body(code, None, &pb, "GET"),
            ) else {
                panic!("{name}: not API errors")
            };
            assert_eq!(from_pb.status, from_json.status, "{name}");
        }
    }

    #[test]
    fn a_protobuf_body_that_is_not_a_status_falls_back_to_the_http_code() {
        let pb = fixture("get-pod.pb");
        let Error::Api(e) = error_from_body(503, None, &pb, "GET") else {
            panic!("not an API error")
        };
        assert_eq!(e.status.code, 503);
        assert_eq!(e.status.reason, "ServiceUnavailable");
    }
}
