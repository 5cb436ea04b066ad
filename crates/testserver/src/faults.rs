//! Fault injection: failing requests, cutting or corrupting watches, latency, compaction and
//! simulated restarts.
//!
//! Tests hold a [`Faults`] handle from [`TestServer::faults`](crate::TestServer::faults); the
//! binary exposes the same operations over HTTP (see [`crate::admin`]).
//!
//! # Examples
//!
//! ```
//! # async fn demo() -> Result<(), testserver::Error> {
//! use testserver::{FaultMatch, TestServer, Verb};
//! let server = TestServer::start().await?;
//! // The next two LISTs of pods get 429 with `Retry-After: 1`.
//! server.faults().fail_next(2, FaultMatch::verb(Verb::List).resource("pods"), 429, Some(1));
//! server.faults().compact(); // older resourceVersions and continue tokens now get 410
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::server::Shared;
use crate::status::ApiError;
use crate::verb::Verb;
use crate::watch::WatchControl;

/// Which requests a fault (or a request counter) applies to; `None` fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultMatch {
    /// The verb, or any.
    pub verb: Option<Verb>,
    /// The resource's plural name (`pods`), or any. Non-resource requests (discovery, health)
    /// have the resource `""` and no verb.
    pub resource: Option<String>,
}

impl FaultMatch {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Matches requests with `verb` on any resource.
    pub fn verb(verb: Verb) -> Self {
        FaultMatch {
            verb: Some(verb),
            resource: None,
        }
    }

    /// Restricts the match to one resource (plural name, e.g. `pods`).
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Whether a request with this verb and resource matches.
    pub fn matches(&self, verb: Option<Verb>, resource: &str) -> bool {
        self.verb.is_none_or(|v| Some(v) == verb)
            && self.resource.as_deref().is_none_or(|r| r == resource)
    }
}

/// A pending "fail the next N matching requests" rule.
#[derive(Debug)]
struct Rule {
    remaining: usize,
    matcher: FaultMatch,
    status: u16,
    retry_after: Option<u32>,
}

/// The fault state the request path consults.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    /// Rules in the order added; a rule is dropped when `remaining` reaches zero.
    rules: Mutex<Vec<Rule>>,
    latency: Mutex<Duration>,
}

impl FaultState {
    /// If a rule matches, uses one of its failures and returns the error to answer with.
    pub fn take(&self, verb: Option<Verb>, resource: &str) -> Option<ApiError> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let idx = rules
            .iter()
            .position(|r| r.matcher.matches(verb, resource))?;
        let rule = &mut rules[idx];
        rule.remaining -= 1;
        let err = ApiError::injected(rule.status, rule.retry_after);
        if rule.remaining == 0 {
            rules.remove(idx);
        }
        Some(err)
    }

    /// The latency added to every request.
    pub fn latency(&self) -> Duration {
        *self.latency.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A handle to inject faults into a running server. Cheap to clone.
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

impl Faults {
    /// Fails the next `count` requests matching `matcher` with `status` (429, 500, 503 or 504;
    /// other codes are sent as given), with a `Retry-After` header when `retry_after` is set.
    pub fn fail_next(
        &self,
        count: usize,
        matcher: FaultMatch,
        status: u16,
        retry_after: Option<u32>,
    ) {
        if count == 0 {
            return;
        }
        let mut rules = self
            .shared
            .faults
            .rules
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        rules.push(Rule {
            remaining: count,
            matcher,
            status,
            retry_after,
        });
    }

    /// Cuts every open watch connection abruptly (no final chunk), as a network failure would.
    pub fn drop_watches(&self) {
        let _ = self.shared.control.send(WatchControl::Drop);
    }

    /// Writes one line that is not valid JSON into every open watch stream.
    pub fn inject_malformed_watch_line(&self) {
        let _ = self.shared.control.send(WatchControl::Malformed);
    }

    /// Delays every request by `latency` (zero to stop).
    pub fn set_latency(&self, latency: Duration) {
        *self
            .shared
            .faults
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = latency;
    }

    /// Compacts history: lists and watches at older resourceVersions, and continue tokens
    /// issued before now, get 410 Expired.
    pub fn compact(&self) {
        self.shared.store.compact();
    }

    /// Simulates an API server restart: the watch history resets (older resourceVersions get
    /// 410) and every open watch ends. Stored objects and the resourceVersion counter stay, as
    /// they live in etcd.
    pub fn restart(&self) {
        self.shared.store.compact();
        let _ = self.shared.control.send(WatchControl::Close);
    }

    /// Removes pending failure rules and latency.
    pub fn clear(&self) {
        self.shared
            .faults
            .rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.set_latency(Duration::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fails_exactly_its_count_of_matching_requests() {
        let state = FaultState::default();
        state
            .rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Rule {
                remaining: 2,
                matcher: FaultMatch::verb(Verb::List).resource("pods"),
                status: 503,
                retry_after: None,
            });
        assert!(state.take(Some(Verb::Get), "pods").is_none());
        assert!(state.take(Some(Verb::List), "configmaps").is_none());
        assert_eq!(
            state.take(Some(Verb::List), "pods").map(|e| e.code),
            Some(503)
        );
        assert_eq!(
            state.take(Some(Verb::List), "pods").map(|e| e.code),
            Some(503)
        );
        assert!(state.take(Some(Verb::List), "pods").is_none());
    }
}
