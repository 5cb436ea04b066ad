//! The crate's error type.

use std::net::SocketAddr;

use crate::status::ApiError;

/// Errors from starting or driving a [`TestServer`](crate::TestServer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound. Not retryable with the same address.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Generating a certificate failed. Not retryable.
    #[error("generating certificates: {0}")]
    Certificate(#[source] rcgen::Error),
    /// Building the TLS configuration failed. Not retryable.
    #[error("configuring TLS: {0}")]
    Tls(#[source] rustls::Error),
    /// A TLS-only operation (client certificates) on a plain HTTP server.
    #[error("the server was started without TLS")]
    NoTls,
    /// A path given to a seeding method (`create`, `get`, ...) does not name a served
    /// resource, or names an object where a collection is expected (or the reverse).
    #[error("invalid path {path:?}: {reason}")]
    Path {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operation failed as the API would fail it (404, 409, 422...): inspect the
    /// [`ApiError`]'s `code` and `reason`.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl Error {
    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }
}
