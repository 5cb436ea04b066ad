//! Port of client-go `tools/metrics/metrics.go`: the hooks the REST client reports its
//! requests, retries, rate-limiter waits and exec plugin calls to.
//!
//! Data flow: an application calls [`register`] once, early, with a [`RegisterOpts`] naming
//! the hooks it wants (any left `None` stay no-ops); every [`crate::rest::Request`] then
//! reports to them at the points client-go does:
//!
//! | hook | when | labels |
//! |---|---|---|
//! | [`RegisterOpts::request_latency`] | once per request, from the start of the send loop (throttling and retries included) to the final response headers or error | verb, URL template (`/api/v1/namespaces/{namespace}/pods/{name}`) |
//! | [`RegisterOpts::request_result`] | after every attempt | code (`"200"`, or `"<error>"` when no response came), method, host |
//! | [`RegisterOpts::request_retry`] | after every attempt but the first | code, method, host |
//! | [`RegisterOpts::rate_limiter_latency`] | every pass through the client's rate limiter | verb, URL template |
//! | [`RegisterOpts::request_size`] / [`RegisterOpts::response_size`] | bytes of each attempt's body / of the body read | verb, host |
//! | [`RegisterOpts::exec_plugin_calls`] | every run of an exec credential plugin | exit code, call status |
//! | [`RegisterOpts::client_cert_expiry`] / [`RegisterOpts::client_cert_rotation_age`] | an exec plugin hands out a (new) client certificate | |
//!
//! With the `prometheus` cargo feature, [`prometheus::RestClientMetrics`] implements every
//! hook with prometheus-client under component-base's metric names and buckets.
//!
//! ```
//! use std::sync::Arc;
//! use apiclient::metrics::{self, RegisterOpts, ResultMetric};
//!
//! struct Log;
//! impl ResultMetric for Log {
//!     fn increment(&self, code: &str, method: &str, host: &str) {
//!         println!("{method} {host} -> {code}");
//!     }
//! }
//! metrics::register(RegisterOpts { request_result: Some(Arc::new(Log)), ..RegisterOpts::default() });
//! ```
//!
//! Differs from Go: the hooks take no `context.Context` (nothing here carries one), and
//! `register` says whether it installed the hooks (Go ignores every call after the first
//! silently). Go's `ResolverLatency` has no hook: DNS resolution happens inside the HTTP
//! client, out of this crate's sight. Go's transport-cache hooks (`TransportCacheEntries`,
//! `TransportCreateCalls`, `TransportCAReloads`, the GC counters) have none either: each
//! [`crate::rest::RestClient`] owns its connection pool, so there is no transport cache to
//! report on.

#[cfg(feature = "prometheus")]
pub mod prometheus;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use crate::http::Url;

/// A latency with a verb and a URL. Port of metrics.LatencyMetric.
///
/// Used for [`RegisterOpts::request_latency`] and [`RegisterOpts::rate_limiter_latency`];
/// `url` is the request's URL template (namespace and name replaced by `{namespace}` and
/// `{name}`, no query), as client-go's `finalURLTemplate`, so labels stay few.
pub trait LatencyMetric: Send + Sync {
    /// Records one observation.
    fn observe(&self, verb: &str, url: &Url, latency: Duration);
}

/// A size in bytes with a verb and a host. Port of metrics.SizeMetric.
pub trait SizeMetric: Send + Sync {
    /// Records one observation.
    fn observe(&self, verb: &str, host: &str, size: f64);
}

/// The result of one attempt. Port of metrics.ResultMetric.
pub trait ResultMetric: Send + Sync {
    /// Counts one attempt: `code` is the HTTP status (`"404"`), or `"<error>"` when no
    /// response arrived.
    fn increment(&self, code: &str, method: &str, host: &str);
}

/// One retried attempt. Port of metrics.RetryMetric.
pub trait RetryMetric: Send + Sync {
    /// Counts one attempt after the first; `code` as for [`ResultMetric::increment`].
    fn increment_retry(&self, code: &str, method: &str, host: &str);
}

/// One run of an exec credential plugin. Port of metrics.CallsMetric.
pub trait CallsMetric: Send + Sync {
    /// Counts one run: `exit_code` is the plugin's (0 exactly when `call_status` is
    /// [`exec_call_status::NO_ERROR`]), `call_status` one of [`exec_call_status`].
    fn increment(&self, exit_code: i32, call_status: &str);
}

/// A duration without labels. Port of metrics.DurationMetric.
pub trait DurationMetric: Send + Sync {
    /// Records one observation.
    fn observe(&self, duration: Duration);
}

/// An expiry time. Port of metrics.ExpiryMetric.
pub trait ExpiryMetric: Send + Sync {
    /// Sets the earliest expiry; `None` when no certificate is managed.
    fn set(&self, expiry: Option<SystemTime>);
}

/// The `call_status` values of [`CallsMetric`]. Port of exec/metrics.go's constants.
pub mod exec_call_status {
    /// The plugin ran and exited 0.
    pub const NO_ERROR: &str = "no_error";
    /// The plugin ran and exited non-zero.
    pub const PLUGIN_EXECUTION_ERROR: &str = "plugin_execution_error";
    /// The plugin could not be found (or not executed).
    pub const PLUGIN_NOT_FOUND_ERROR: &str = "plugin_not_found_error";
    /// Starting the plugin failed for another reason.
    pub const CLIENT_INTERNAL_ERROR: &str = "client_internal_error";
}

/// The hooks to install; `None` keeps a hook a no-op. Port of metrics.RegisterOpts.
/// Build it with `..RegisterOpts::default()` so hooks added later need no change.
#[derive(Clone, Default)]
pub struct RegisterOpts {
    /// Earliest expiry of the client certificates exec plugins returned. Port of
    /// ClientCertExpiry.
    pub client_cert_expiry: Option<Arc<dyn ExpiryMetric>>,
    /// How long a replaced exec client certificate had been valid. Port of
    /// ClientCertRotationAge.
    pub client_cert_rotation_age: Option<Arc<dyn DurationMetric>>,
    /// Whole-request latency. Port of RequestLatency.
    pub request_latency: Option<Arc<dyn LatencyMetric>>,
    /// Request body sizes. Port of RequestSize.
    pub request_size: Option<Arc<dyn SizeMetric>>,
    /// Response body sizes. Port of ResponseSize.
    pub response_size: Option<Arc<dyn SizeMetric>>,
    /// Client-side rate limiter waits. Port of RateLimiterLatency.
    pub rate_limiter_latency: Option<Arc<dyn LatencyMetric>>,
    /// Attempt results. Port of RequestResult.
    pub request_result: Option<Arc<dyn ResultMetric>>,
    /// Retried attempts. Port of RequestRetry.
    pub request_retry: Option<Arc<dyn RetryMetric>>,
    /// Exec plugin runs. Port of ExecPluginCalls.
    pub exec_plugin_calls: Option<Arc<dyn CallsMetric>>,
}

impl fmt::Debug for RegisterOpts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |o: bool| if o { "set" } else { "none" };
        f.debug_struct("RegisterOpts")
            .field(
                "client_cert_expiry",
                &set(self.client_cert_expiry.is_some()),
            )
            .field(
                "client_cert_rotation_age",
                &set(self.client_cert_rotation_age.is_some()),
            )
            .field("request_latency", &set(self.request_latency.is_some()))
            .field("request_size", &set(self.request_size.is_some()))
            .field("response_size", &set(self.response_size.is_some()))
            .field(
                "rate_limiter_latency",
                &set(self.rate_limiter_latency.is_some()),
            )
            .field("request_result", &set(self.request_result.is_some()))
            .field("request_retry", &set(self.request_retry.is_some()))
            .field("exec_plugin_calls", &set(self.exec_plugin_calls.is_some()))
            .finish()
    }
}

/// The installed hooks. Invariant: set at most once, by [`register`].
static HOOKS: OnceLock<RegisterOpts> = OnceLock::new();

/// Installs `opts` for the whole process. Only the first call has an effect; it returns
/// `true`, later calls `false`. Port of metrics.Register.
///
/// Call it before building clients; requests made before it reported to no-ops.
pub fn register(opts: RegisterOpts) -> bool {
    HOOKS.set(opts).is_ok()
}

fn hooks() -> Option<&'static RegisterOpts> {
    HOOKS.get()
}

/// Reports to the installed hooks; every function is a no-op when nothing is installed.
pub(crate) mod report {
    use super::*;

    pub(crate) fn request_latency(verb: &str, url: &Url, latency: Duration) {
        if let Some(m) = hooks().and_then(|h| h.request_latency.as_ref()) {
            m.observe(verb, url, latency);
        }
    }

    pub(crate) fn rate_limiter_latency(verb: &str, url: &Url, latency: Duration) {
        if let Some(m) = hooks().and_then(|h| h.rate_limiter_latency.as_ref()) {
            m.observe(verb, url, latency);
        }
    }

    pub(crate) fn request_size(verb: &str, host: &str, size: usize) {
        if let Some(m) = hooks().and_then(|h| h.request_size.as_ref()) {
            m.observe(verb, host, size as f64);
        }
    }

    pub(crate) fn response_size(verb: &str, host: &str, size: usize) {
        if let Some(m) = hooks().and_then(|h| h.response_size.as_ref()) {
            m.observe(verb, host, size as f64);
        }
    }

    /// Port of with_retry.go: withRetry.After's two metric updates (request.go:
    /// updateRequestResultMetric, updateRequestRetryMetric). `status` is `None` when the
    /// attempt got no response.
    pub(crate) fn attempt(status: Option<u16>, method: &str, host: &str, is_retry: bool) {
        let Some(h) = hooks() else { return };
        let code = status.map_or_else(|| "<error>".to_owned(), |s| s.to_string());
        if let Some(m) = &h.request_result {
            m.increment(&code, method, host);
        }
        if is_retry && let Some(m) = &h.request_retry {
            m.increment_retry(&code, method, host);
        }
    }

    pub(crate) fn exec_plugin_call(exit_code: i32, call_status: &str) {
        if let Some(m) = hooks().and_then(|h| h.exec_plugin_calls.as_ref()) {
            m.increment(exit_code, call_status);
        }
    }

    pub(crate) fn client_cert_expiry(expiry: Option<SystemTime>) {
        if let Some(m) = hooks().and_then(|h| h.client_cert_expiry.as_ref()) {
            m.set(expiry);
        }
    }

    pub(crate) fn client_cert_rotation_age(age: Duration) {
        if let Some(m) = hooks().and_then(|h| h.client_cert_rotation_age.as_ref()) {
            m.observe(age);
        }
    }
}
