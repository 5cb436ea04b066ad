//! Server configuration: one [`Config`] with public fields, `Default`, and `#[must_use]`
//! setters; [`Config::start`] starts a server with it.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::{Error, TestServer};

/// Default interval between watch BOOKMARK events (when a watch asks for bookmarks).
///
/// Differs from Go: the API server sends bookmarks about once a minute; one second keeps tests
/// that wait for a bookmark short.
pub const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(1);

/// Default number of events kept for watches and reads at older resourceVersions, like the
/// API server's watch cache capacity.
pub const DEFAULT_HISTORY_WINDOW: usize = 10_000;

/// Default number of events buffered per watcher before a slow watcher is closed.
pub const DEFAULT_WATCH_BUFFER: usize = 16_384;

/// Default request body limit: 3 MiB, as the API server's limit for JSON bodies.
pub const DEFAULT_MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// How to run a [`TestServer`]. `TestServer::builder()` returns the default.
///
/// # Examples
///
/// ```
/// # async fn demo() -> Result<(), testserver::Error> {
/// use std::time::Duration;
/// let server = testserver::TestServer::builder()
///     .tls(true)
///     .bearer_token("secret")
///     .bookmark_interval(Duration::from_millis(200))
///     .start()
///     .await?;
/// assert!(server.url().starts_with("https://127.0.0.1:"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// Serve HTTPS with a certificate signed by a freshly generated CA. Default off.
    pub tls: bool,
    /// Require `Authorization: Bearer <token>` (401 otherwise). Default none.
    pub bearer_token: Option<String>,
    /// Accept client certificates signed by the server's CA as authentication; implies `tls`.
    /// When set, requests with neither a valid certificate nor the bearer token get 401.
    pub client_cert_auth: bool,
    /// Interval between BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// Events kept in history; see [`DEFAULT_HISTORY_WINDOW`].
    pub history_window: usize,
    /// Events buffered per watcher; see [`DEFAULT_WATCH_BUFFER`].
    pub watch_buffer: usize,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Serve the `/testserver/...` admin endpoints (see the `admin` module). Default on.
    pub admin_endpoint: bool,
    /// Subject alternative names of the serving certificate (DNS names or IP addresses).
    /// Default `localhost`, `127.0.0.1`, `::1`; replace them to test a client's
    /// `tls-server-name`.
    pub serving_cert_names: Vec<String>,
}

/// The builder name the issue uses; the same type as [`Config`].
pub type TestServerBuilder = Config;

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls: false,
            bearer_token: None,
            client_cert_auth: false,
            bookmark_interval: DEFAULT_BOOKMARK_INTERVAL,
            history_window: DEFAULT_HISTORY_WINDOW,
            watch_buffer: DEFAULT_WATCH_BUFFER,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            admin_endpoint: true,
            serving_cert_names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("client_cert_auth", &self.client_cert_auth)
            .field("bookmark_interval", &self.bookmark_interval)
            .field("history_window", &self.history_window)
            .field("watch_buffer", &self.watch_buffer)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("admin_endpoint", &self.admin_endpoint)
            .field("serving_cert_names", &self.serving_cert_names)
            .finish()
    }
}

impl Config {
    /// Sets [`Config::addr`].
    #[must_use]
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Sets the port on 127.0.0.1 (0 picks a free one).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Sets [`Config::tls`].
    #[must_use]
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Sets [`Config::bearer_token`].
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Sets [`Config::client_cert_auth`] (and `tls` when on).
    #[must_use]
    pub fn client_cert_auth(mut self, on: bool) -> Self {
        self.client_cert_auth = on;
        if on {
            self.tls = true;
        }
        self
    }

    /// Sets [`Config::bookmark_interval`].
    #[must_use]
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = interval;
        self
    }

    /// Sets [`Config::history_window`].
    #[must_use]
    pub fn history_window(mut self, events: usize) -> Self {
        self.history_window = events;
        self
    }

    /// Sets [`Config::watch_buffer`].
    #[must_use]
    pub fn watch_buffer(mut self, events: usize) -> Self {
        self.watch_buffer = events;
        self
    }

    /// Sets [`Config::max_body_bytes`].
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets [`Config::admin_endpoint`].
    #[must_use]
    pub fn admin_endpoint(mut self, on: bool) -> Self {
        self.admin_endpoint = on;
        self
    }

    /// Sets [`Config::serving_cert_names`], replacing the defaults.
    #[must_use]
    pub fn serving_cert_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.serving_cert_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Starts a server with this configuration.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes leaves nothing running.
    pub async fn start(self) -> Result<TestServer, Error> {
        TestServer::with_config(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_the_token() {
        let c = Config::default().bearer_token("hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn client_cert_auth_implies_tls() {
        assert!(Config::default().client_cert_auth(true).tls);
    }
}
