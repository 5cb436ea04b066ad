//! Port of apimachinery `pkg/api/errors/errors.go`: the error every API call returns, and the
//! predicates (`is_not_found`, `is_conflict`, ...) that classify the server's `Status`.
//!
//! Lives here rather than in `apiclient` so that a `ListerWatcher` written without `apiclient`
//! returns the same type the informer's reflector classifies. Differs from Go: Go's
//! `StatusError` ([`StatusError`] here) is one `error` among many; here it is the
//! [`Error::Api`] variant of one enum that also names the transport, TLS, decode and
//! configuration failures client-go reports as plain `error`s.
//!
//! Data flow: a non-2xx response (or a watch `ERROR` event) is decoded into a [`Status`] and
//! wrapped as [`Error::Api`]; if the body is not a `Status`, one is synthesised from the HTTP
//! code the way Go's `NewGenericServerResponse` does, so the predicates work on every API error.
//! Everything that never reached the server, or that the client could not read, has its own
//! variant with context.
//!
//! The predicates follow Go exactly: a known `reason` decides; when the reason is empty
//! (`StatusReasonUnknown`) some predicates fall back to the HTTP code.

use std::time::Duration;

use crate::meta::{Status, StatusDetails, TypeMeta};

/// A boxed error from a lower layer (hyper, rustls, io).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error of every fallible call in this crate.
///
/// Port of apimachinery's StatusError plus client-go's transport errors. Differs from Go: one
/// enum instead of loose `error` values, so the kind of failure is a `match`, and the
/// predicates are methods (`err.is_not_found()` for `apierrors.IsNotFound(err)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error `Status`. Retryable depending on the status:
    /// see [`Error::retry_after`] and the predicates.
    #[error("{0}")]
    Api(Box<StatusError>),
    /// The request never got a complete response: connect failure, reset, EOF, timeout.
    /// GETs are retried on reset/EOF by `with_retry`; other verbs are not.
    #[error("{verb} {url}: {kind}")]
    Transport {
        /// HTTP verb.
        verb: String,
        /// URL without its query string (which may hold nothing secret, but can be long).
        url: String,
        /// What went wrong, for retry decisions.
        kind: TransportKind,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// TLS setup failed (bad CA, certificate or key). Not retryable.
    #[error("TLS: {context}")]
    Tls {
        /// What was being loaded.
        context: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// A body or watch line could not be decoded. Not retryable: the same bytes fail again.
    #[error("decode {context}")]
    Decode {
        /// What was being decoded (type and request).
        context: String,
        /// The JSON error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A protobuf body or watch frame could not be decoded. Not retryable.
    #[error("decode {context}")]
    DecodeProtobuf {
        /// What was being decoded (type and request).
        context: String,
        /// The protobuf error (boxed: it is large and rare).
        #[source]
        source: Box<crate::runtime::wire::ProtoError>,
    },
    /// A configuration (kubeconfig, in-cluster, `Config`) is missing or invalid. Not retryable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Obtaining credentials failed: exec plugin, token file. Retryable once the cause is fixed.
    #[error("auth: {context}: {message}")]
    Auth {
        /// Which credential source.
        context: String,
        /// What went wrong (never the credential itself).
        message: String,
    },
    /// A label or field selector did not parse. Not retryable.
    #[error(transparent)]
    Selector(#[from] crate::selectors::SelectorError),
    /// The request could not be built (bad URL, header or body). Not retryable.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// The error and its sources, joined with ": " as Go's wrapped errors print (`%v` of an error
/// made with `fmt.Errorf("...: %w", err)`), skipping a cause whose text is already there (some
/// wrappers, io::Error's among them, repeat their inner message).
///
/// Differs from Go: a Rust error's `Display` leaves its cause to `source()` (so anyhow/eyre do
/// not print it twice), so log lines use this to show the whole story in one field.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    out
}

/// Why a transport error happened; decides whether `with_retry` may retry it. Go asks util/net's
/// predicates each time (`IsConnectionReset`, `IsProbableEOF`, `net.Error.Timeout`); here the
/// error is classified once, where it happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// Could not connect (refused, DNS, TLS handshake).
    Connect,
    /// The connection was reset by the peer.
    ConnectionReset,
    /// The connection closed before the response was complete.
    UnexpectedEof,
    /// The client-side timeout elapsed.
    Timeout,
    /// Anything else.
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connect failed",
            TransportKind::ConnectionReset => "connection reset",
            TransportKind::UnexpectedEof => "unexpected EOF",
            TransportKind::Timeout => "timed out",
            TransportKind::Other => "transport error",
        })
    }
}

/// A configuration error naming the file (if any) and the field at fault.
#[derive(Debug, thiserror::Error)]
#[error("{}{field}: {message}", file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default())]
pub struct ConfigError {
    /// The kubeconfig or credential file, when the error came from one.
    pub file: Option<std::path::PathBuf>,
    /// The field path, e.g. `users[admin].user.client-certificate-data`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    /// A new error about `field`, optionally in `file`.
    pub fn new(
        file: Option<&std::path::Path>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            file: file.map(std::path::Path::to_path_buf),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error `Status` from the server. Port of apimachinery's `StatusError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusError {
    /// The status the server sent (or one synthesised from the HTTP code).
    pub status: Status,
    /// The `Retry-After` header of the response, in whole seconds, if it had one.
    pub retry_after_header: Option<u64>,
}

impl std::fmt::Display for StatusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.status;
        let reason = if s.reason.is_empty() {
            "Unknown"
        } else {
            s.reason.as_str()
        };
        write!(f, "{} ({reason}, {})", s.message, s.code)
    }
}

impl std::error::Error for StatusError {}

/// The name this type had in `apiclient` before it moved here; same type.
pub type ApiError = StatusError;

// The `reason` strings of metav1.StatusReason.
/// `NotFound`. This and the `REASON_…` constants below are Go's `metav1.StatusReason` values.
pub const REASON_NOT_FOUND: &str = "NotFound";
/// `AlreadyExists`.
pub const REASON_ALREADY_EXISTS: &str = "AlreadyExists";
/// `Conflict`.
pub const REASON_CONFLICT: &str = "Conflict";
/// `Invalid`.
pub const REASON_INVALID: &str = "Invalid";
/// `Gone`.
pub const REASON_GONE: &str = "Gone";
/// `Expired`.
pub const REASON_EXPIRED: &str = "Expired";
/// `TooManyRequests`.
pub const REASON_TOO_MANY_REQUESTS: &str = "TooManyRequests";
/// `Timeout`.
pub const REASON_TIMEOUT: &str = "Timeout";
/// `ServerTimeout`.
pub const REASON_SERVER_TIMEOUT: &str = "ServerTimeout";
/// `Unauthorized`.
pub const REASON_UNAUTHORIZED: &str = "Unauthorized";
/// `Forbidden`.
pub const REASON_FORBIDDEN: &str = "Forbidden";
/// `BadRequest`.
pub const REASON_BAD_REQUEST: &str = "BadRequest";
/// `MethodNotAllowed`.
pub const REASON_METHOD_NOT_ALLOWED: &str = "MethodNotAllowed";
/// `InternalError`.
pub const REASON_INTERNAL_ERROR: &str = "InternalError";
/// `ServiceUnavailable`.
pub const REASON_SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";

impl StatusError {
    /// Builds the error for a response whose body was not a `Status`.
    ///
    /// Port of errors.go: NewGenericServerResponse — the reason is derived from the code.
    pub fn from_code(code: u16, verb: &str, message: String, retry_after: Option<u64>) -> Self {
        let (reason, default_msg) = match code {
            400 => (
                REASON_BAD_REQUEST,
                "the server rejected our request for an unknown reason",
            ),
            401 => (
                REASON_UNAUTHORIZED,
                "the server has asked for the client to provide credentials",
            ),
            403 => (
                REASON_FORBIDDEN,
                "the server does not allow access to the requested resource",
            ),
            404 => (
                REASON_NOT_FOUND,
                "the server could not find the requested resource",
            ),
            405 => (
                REASON_METHOD_NOT_ALLOWED,
                "the server does not allow this method on the requested resource",
            ),
            409 => (REASON_CONFLICT, "the server reported a conflict"),
            410 => (REASON_GONE, "the server has gone away"),
            422 => (
                REASON_INVALID,
                "the server rejected our request due to an error in our request",
            ),
            429 => (
                REASON_TOO_MANY_REQUESTS,
                "the server has received too many requests and has asked us to try again later",
            ),
            500 => (
                REASON_INTERNAL_ERROR,
                "an error on the server has prevented the request from succeeding",
            ),
            503 => (
                REASON_SERVICE_UNAVAILABLE,
                "the server is currently unable to handle the request",
            ),
            504 => (
                REASON_TIMEOUT,
                "the server was unable to return a response in the time allotted, but may still be processing the request",
            ),
            _ => (
                "",
                "an error on the server has prevented the request from succeeding",
            ),
        };
        let message = if message.trim().is_empty() {
            format!("{default_msg} ({verb})")
        } else {
            message
        };
        let details = retry_after.map(|s| StatusDetails {
            retry_after_seconds: i32::try_from(s).unwrap_or(i32::MAX),
            ..StatusDetails::default()
        });
        StatusError {
            status: Status {
                types: TypeMeta {
                    api_version: "v1".into(),
                    kind: "Status".into(),
                },
                status: "Failure".into(),
                message,
                reason: reason.into(),
                details,
                code: i32::from(code),
                ..Status::default()
            },
            retry_after_header: retry_after,
        }
    }
}

impl From<StatusError> for Error {
    fn from(e: StatusError) -> Self {
        Error::Api(Box::new(e))
    }
}

impl Error {
    /// Wraps a server `Status` (e.g. from a watch `ERROR` event).
    pub fn from_status(status: Status) -> Self {
        Error::Api(Box::new(StatusError {
            status,
            retry_after_header: None,
        }))
    }

    /// The server's `Status`, if this is an API error. Port of errors.go: APIStatus.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Error::Api(e) => Some(&e.status),
            _ => None,
        }
    }

    /// Reason and code; `("", 0)` for non-API errors. Port of errors.go: reasonAndCodeForError.
    fn reason_and_code(&self) -> (&str, i32) {
        match self.status() {
            Some(s) => (s.reason.as_str(), s.code),
            None => ("", 0),
        }
    }

    /// Reason matches, or the reason is unknown and the code matches.
    fn reason_or_code(&self, reason: &str, code: i32) -> bool {
        let (r, c) = self.reason_and_code();
        r == reason || (r.is_empty() && c == code && self.status().is_some())
    }

    /// The `Status.reason` (`""` if unknown or not an API error). Port of errors.go: ReasonForError.
    pub fn reason(&self) -> &str {
        self.reason_and_code().0
    }

    /// Port of errors.go: IsNotFound (reason `NotFound`, or code 404 with unknown reason).
    #[doc(alias = "IsNotFound")]
    pub fn is_not_found(&self) -> bool {
        self.reason_or_code(REASON_NOT_FOUND, 404)
    }

    /// Port of errors.go: IsAlreadyExists (reason `AlreadyExists` only; a bare 409 is a conflict).
    #[doc(alias = "IsAlreadyExists")]
    pub fn is_already_exists(&self) -> bool {
        self.reason() == REASON_ALREADY_EXISTS
    }

    /// Port of errors.go: IsConflict (reason `Conflict`, or code 409 with unknown reason).
    #[doc(alias = "IsConflict")]
    pub fn is_conflict(&self) -> bool {
        self.reason_or_code(REASON_CONFLICT, 409)
    }

    /// Port of errors.go: IsInvalid (reason `Invalid`, or code 422 with unknown reason).
    #[doc(alias = "IsInvalid")]
    pub fn is_invalid(&self) -> bool {
        self.reason_or_code(REASON_INVALID, 422)
    }

    /// Port of errors.go: IsGone (reason `Gone`, or code 410 with unknown reason).
    #[doc(alias = "IsGone")]
    pub fn is_gone(&self) -> bool {
        self.reason_or_code(REASON_GONE, 410)
    }

    /// Port of errors.go: IsResourceExpired (reason `Expired`): a watch or continue token is
    /// too old and the caller must relist.
    #[doc(alias = "IsResourceExpired")]
    pub fn is_resource_expired(&self) -> bool {
        self.reason() == REASON_EXPIRED
    }

    /// Port of errors.go: IsTooManyRequests (reason `TooManyRequests`, or code 429 whatever
    /// the reason).
    #[doc(alias = "IsTooManyRequests")]
    pub fn is_too_many_requests(&self) -> bool {
        let (r, c) = self.reason_and_code();
        r == REASON_TOO_MANY_REQUESTS || c == 429
    }

    /// Port of errors.go: IsTimeout (reason `Timeout`, or code 504 with unknown reason).
    /// Differs from Go in nothing; a client-side timeout is [`Error::Transport`] with
    /// [`TransportKind::Timeout`], as in Go it is a `net.Error`.
    #[doc(alias = "IsTimeout")]
    pub fn is_timeout(&self) -> bool {
        self.reason_or_code(REASON_TIMEOUT, 504)
    }

    /// Port of errors.go: IsServerTimeout (reason `ServerTimeout` only).
    #[doc(alias = "IsServerTimeout")]
    pub fn is_server_timeout(&self) -> bool {
        self.reason() == REASON_SERVER_TIMEOUT
    }

    /// Port of errors.go: IsUnauthorized (reason `Unauthorized`, or code 401 with unknown reason).
    #[doc(alias = "IsUnauthorized")]
    pub fn is_unauthorized(&self) -> bool {
        self.reason_or_code(REASON_UNAUTHORIZED, 401)
    }

    /// Port of errors.go: IsForbidden (reason `Forbidden`, or code 403 with unknown reason).
    #[doc(alias = "IsForbidden")]
    pub fn is_forbidden(&self) -> bool {
        self.reason_or_code(REASON_FORBIDDEN, 403)
    }

    /// Port of errors.go: IsBadRequest (reason `BadRequest`, or code 400 with unknown reason).
    #[doc(alias = "IsBadRequest")]
    pub fn is_bad_request(&self) -> bool {
        self.reason_or_code(REASON_BAD_REQUEST, 400)
    }

    /// Port of errors.go: IsInternalError (reason `InternalError`, or 500 with unknown reason).
    #[doc(alias = "IsInternalError")]
    pub fn is_internal_error(&self) -> bool {
        self.reason_or_code(REASON_INTERNAL_ERROR, 500)
    }

    /// Port of errors.go: IsServiceUnavailable (reason `ServiceUnavailable`, or 503 with
    /// unknown reason).
    #[doc(alias = "IsServiceUnavailable")]
    pub fn is_service_unavailable(&self) -> bool {
        self.reason_or_code(REASON_SERVICE_UNAVAILABLE, 503)
    }

    /// How long the server asked the client to wait before retrying.
    ///
    /// Port of errors.go: SuggestsClientDelay — `details.retryAfterSeconds` when positive (or
    /// whatever it is for `ServerTimeout`). Differs from Go: falls back to the response's
    /// `Retry-After` header, which Go only consults inside its retry loop.
    #[doc(alias = "SuggestsClientDelay")]
    pub fn retry_after(&self) -> Option<Duration> {
        let Error::Api(e) = self else { return None };
        if let Some(d) = &e.status.details
            && (e.status.reason == REASON_SERVER_TIMEOUT || d.retry_after_seconds > 0)
        {
            return Some(Duration::from_secs(
                u64::try_from(d.retry_after_seconds).unwrap_or(0),
            ));
        }
        e.retry_after_header.map(Duration::from_secs)
    }

    /// True for a transport error of the given kind.
    pub fn is_transport(&self, kind: TransportKind) -> bool {
        matches!(self, Error::Transport { kind: k, .. } if *k == kind)
    }

    /// Shorthand for a config error.
    pub fn config(
        file: Option<&std::path::Path>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Config(ConfigError::new(file, field, message))
    }

    /// Shorthand for a protobuf decode error.
    pub fn decode_protobuf(
        context: impl Into<String>,
        source: crate::runtime::wire::ProtoError,
    ) -> Self {
        Error::DecodeProtobuf {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// Shorthand for a decode error.
    pub fn decode(context: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Decode {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn no_display_repeats_its_source_and_the_chain_shows_every_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let errs = [
            Error::Transport {
                verb: "GET".into(),
                url: "https://h/api".into(),
                kind: TransportKind::Connect,
                source: Box::new(io),
            },
            Error::Tls {
                context: "CA file".into(),
                source: "inner cause".into(),
            },
            Error::decode("Pod", serde_json::from_str::<u8>("x").unwrap_err()),
        ];
        for e in errs {
            let src = std::error::Error::source(&e).unwrap().to_string();
            assert!(!e.to_string().contains(&src), "{e}");
            let chain = error_chain(&e);
            assert!(
                chain.starts_with(&e.to_string()) && chain.ends_with(&src),
                "{chain}"
            );
            assert_eq!(chain.matches(&src).count(), 1, "{chain}");
        }
    }

    use super::*;

    fn api(reason: &str, code: i32) -> Error {
        Error::from_status(Status {
            reason: reason.into(),
            code,
            ..Status::default()
        })
    }

    #[test]
    fn unknown_reason_falls_back_to_code() {
        assert!(api("", 404).is_not_found());
        assert!(api("", 409).is_conflict());
        assert!(!api("", 409).is_already_exists());
        assert!(api("", 410).is_gone());
        assert!(!api("", 410).is_resource_expired());
        assert!(api("", 504).is_timeout());
        assert!(!api("", 504).is_server_timeout());
    }

    #[test]
    fn known_reason_wins_over_code() {
        assert!(!api("Expired", 410).is_gone());
        assert!(api("Expired", 410).is_resource_expired());
        assert!(api("AlreadyExists", 409).is_already_exists());
        assert!(!api("AlreadyExists", 409).is_conflict());
        assert!(api("Whatever", 429).is_too_many_requests());
    }

    #[test]
    fn generic_response_gets_reason_from_code() {
        let e: Error = StatusError::from_code(503, "GET", String::new(), Some(3)).into();
        assert!(e.is_service_unavailable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let e: Error = StatusError::from_code(404, "GET", "nope".into(), None).into();
        assert!(e.is_not_found());
        assert_eq!(e.retry_after(), None);
    }

    #[test]
    fn config_error_names_file_and_field() {
        let e = Error::config(
            Some(std::path::Path::new("/k/config")),
            "users[a].token",
            "bad",
        );
        assert_eq!(e.to_string(), "/k/config: users[a].token: bad");
    }
}
