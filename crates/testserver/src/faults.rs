//! Fault injection: failing requests, cutting or corrupting watches, latency, compaction and
//! simulated restarts.
//!
//! Tests hold a [`Faults`] handle from [`TestServer::faults`](crate::TestServer::faults); the
//! binary exposes the same operations over HTTP (the `admin` module).
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

use std::sync::Arc;
use std::time::Duration;

use apimachinery::util::sync::MutexExt;

pub use crate::fault_match::FaultMatch;
use crate::state::{Rule, Shared};
use crate::watch::WatchControl;

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
        let mut rules = self.shared.faults.rules.lock_unpoisoned();
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
        *self.shared.faults.latency.lock_unpoisoned() = latency;
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
        self.shared.faults.rules.lock_unpoisoned().clear();
        self.set_latency(Duration::ZERO);
    }
}
