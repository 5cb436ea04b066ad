//! Port of client-go `rest/with_retry.go`: when a request is tried again, and what happens
//! before each try.
//!
//! The rules, as in Go:
//! - a response with status 429 or ≥ 500 **and** an integer `Retry-After` header is retried,
//!   after sleeping that many seconds ([`check_wait`]);
//! - a transport error is retried only if the caller's predicate says so: for ordinary
//!   requests only a GET that hit a connection reset or an unexpected EOF
//!   ([`retryable_for_request`]); for watches an EOF or timeout ([`retryable_for_watch`]);
//! - at most `max_retries` retries (10 by default);
//! - every retry (not the first attempt) sleeps for the Retry-After and then passes through
//!   the client's rate limiter ([`WithRetry::before`]).
//!
//! Data flow: the request loop calls `before()` → sends → `after()` (which counts the
//! attempt in [`crate::metrics`]) → `is_next_retry()` with the outcome; `true` loops, `false` hands the outcome to the caller. The struct is a small
//! state machine (`attempts`, `retry_after`) with no I/O of its own except the sleep, which
//! goes through `tokio::time` so paused-clock tests see exact waits.

use std::time::Duration;

use crate::http::Method;

use crate::error::{Error, TransportKind};
use crate::flowcontrol::RateLimiter;

/// Default retries of a request. Port of request.go: NewRequest's maxRetries (10).
pub const DEFAULT_MAX_RETRIES: u32 = 10;

/// What the next attempt must wait for. Port of with_retry.go: RetryAfter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryAfter {
    /// Sleep before the next attempt (the `Retry-After` seconds; zero after a transport error).
    pub wait: Duration,
    /// Why, for the throttling log line.
    pub reason: String,
    /// 1-based number of the retry about to be made.
    pub attempt: u32,
}

/// The outcome of one attempt, as `is_next_retry` sees it.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// A response arrived with this status and `Retry-After` header value.
    Response {
        /// HTTP status.
        status: u16,
        /// The raw `Retry-After` header, if any.
        retry_after: Option<&'a str>,
    },
    /// No response: a transport error.
    Error(&'a Error),
}

/// Retry state of one request. Port of with_retry.go: withRetry.
#[derive(Debug)]
pub struct WithRetry {
    max_retries: u32,
    attempts: u32,
    /// `None` before the first attempt; set by `is_next_retry` when another try is due.
    retry_after: Option<RetryAfter>,
}

/// `Some(seconds)` if the response asks to be retried: 429 or ≥ 500 with an integer
/// `Retry-After`. Port of request.go: checkWait / retryAfterSeconds.
pub fn check_wait(status: u16, retry_after: Option<&str>) -> Option<u64> {
    if status != 429 && status < 500 {
        return None;
    }
    let secs: i64 = retry_after?.trim().parse().ok()?;
    Some(u64::try_from(secs).unwrap_or(0))
}

/// Go's request() `IsRetryableFn`: retry transport errors only for GET, and only on reset or
/// unexpected EOF.
pub fn retryable_for_request(verb: &Method, err: &Error) -> bool {
    *verb == Method::GET
        && (err.is_transport(TransportKind::ConnectionReset)
            || err.is_transport(TransportKind::UnexpectedEof))
}

/// Go's Watch(): retry on a probable EOF or a timeout, whatever the verb.
pub fn retryable_for_watch(_verb: &Method, err: &Error) -> bool {
    err.is_transport(TransportKind::UnexpectedEof)
        || err.is_transport(TransportKind::ConnectionReset)
        || err.is_transport(TransportKind::Timeout)
}

impl WithRetry {
    /// State for a request allowed `max_retries` retries.
    pub fn new(max_retries: u32) -> Self {
        WithRetry {
            max_retries,
            attempts: 0,
            retry_after: None,
        }
    }

    /// Retries made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Decides whether to try again after `outcome`. Port of withRetry.IsNextRetry.
    pub fn is_next_retry(
        &mut self,
        verb: &Method,
        outcome: Outcome<'_>,
        is_retryable: fn(&Method, &Error) -> bool,
    ) -> bool {
        if self.attempts >= self.max_retries {
            return false;
        }
        let next = self.attempts + 1;
        match outcome {
            Outcome::Error(err) => {
                if !is_retryable(verb, err) {
                    return false;
                }
                self.attempts = next;
                self.retry_after = Some(RetryAfter {
                    wait: Duration::ZERO,
                    reason: format!("retries: {next}, retry-after: 0s - retry-reason: {err}"),
                    attempt: next,
                });
                true
            }
            Outcome::Response {
                status,
                retry_after,
            } => {
                let Some(secs) = check_wait(status, retry_after) else {
                    return false;
                };
                self.attempts = next;
                self.retry_after = Some(RetryAfter {
                    wait: Duration::from_secs(secs),
                    reason: format!(
                        "retries: {next}, retry-after: {secs}s - retry-reason: due to server-side \
                         throttling, FlowSchema UID: , status code: {status}"
                    ),
                    attempt: next,
                });
                true
            }
        }
    }

    /// Before an attempt: nothing for the first one; for a retry, sleep the Retry-After and
    /// pass the rate limiter. Returns how long the rate limiter held the retry (`None` when
    /// it was not consulted), for [`crate::metrics`]' `RateLimiterLatency`. Port of
    /// withRetry.Before.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping it mid-sleep or mid-throttle makes no request.
    pub async fn before(
        &self,
        limiter: Option<&RateLimiter>,
        verb: &Method,
        url: &str,
    ) -> Option<Duration> {
        let ra = self.retry_after.as_ref()?;
        if !ra.wait.is_zero() {
            tracing::debug!(attempt = ra.attempt, wait = ?ra.wait, %verb, url, "retrying after Retry-After");
            tokio::time::sleep(ra.wait).await;
        }
        match limiter {
            Some(l) => Some(l.throttle(verb.as_str(), url, Some(&ra.reason)).await),
            None => None,
        }
    }

    /// After an attempt: counts it in [`crate::metrics`]' `RequestResult`, and in
    /// `RequestRetry` when it was a retry. `status` is `None` when no response came
    /// (the code label is then `<error>`). Port of withRetry.After.
    pub fn after(&self, method: &str, host: &str, status: Option<u16>) {
        crate::metrics::report::attempt(status, method, host, self.attempts > 0);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn transport(kind: TransportKind) -> Error {
        Error::Transport {
            verb: "GET".into(),
            url: "u".into(),
            kind,
            source: "x".into(),
        }
    }

    #[test]
    fn retry_after_needs_429_or_5xx_and_an_integer() {
        assert_eq!(check_wait(429, Some("3")), Some(3));
        assert_eq!(check_wait(503, Some(" 1 ")), Some(1));
        assert_eq!(check_wait(500, Some("0")), Some(0));
        assert_eq!(check_wait(503, None), None);
        assert_eq!(check_wait(503, Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(check_wait(409, Some("3")), None);
        assert_eq!(check_wait(200, Some("3")), None);
    }

    #[test]
    fn stops_after_max_retries() {
        let mut r = WithRetry::new(2);
        let o = || Outcome::Response {
            status: 429,
            retry_after: Some("1"),
        };
        assert!(r.is_next_retry(&Method::GET, o(), retryable_for_request));
        assert!(r.is_next_retry(&Method::GET, o(), retryable_for_request));
        assert!(!r.is_next_retry(&Method::GET, o(), retryable_for_request));
        assert_eq!(r.attempts(), 2);
    }

    #[test]
    fn only_get_retries_transport_errors() {
        let reset = transport(TransportKind::ConnectionReset);
        let mut r = WithRetry::new(10);
        assert!(r.is_next_retry(&Method::GET, Outcome::Error(&reset), retryable_for_request));
        assert!(!r.is_next_retry(&Method::POST, Outcome::Error(&reset), retryable_for_request));
        let refused = transport(TransportKind::Connect);
        assert!(!r.is_next_retry(
            &Method::GET,
            Outcome::Error(&refused),
            retryable_for_request
        ));
        let timeout = transport(TransportKind::Timeout);
        assert!(r.is_next_retry(&Method::GET, Outcome::Error(&timeout), retryable_for_watch));
    }

    #[tokio::test(start_paused = true)]
    async fn before_sleeps_the_retry_after_then_throttles() {
        let rl = RateLimiter::new(1.0, 1).unwrap();
        let mut r = WithRetry::new(10);
        let start = tokio::time::Instant::now();
        r.before(Some(&rl), &Method::GET, "u").await;
        assert_eq!(start.elapsed(), Duration::ZERO, "first attempt: no wait");
        assert!(r.is_next_retry(
            &Method::GET,
            Outcome::Response {
                status: 503,
                retry_after: Some("2")
            },
            retryable_for_request
        ));
        r.before(Some(&rl), &Method::GET, "u").await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
