//! Request counters, so client tests can assert retries, rate limits and the absence of hot
//! loops, and a count of response body bytes as sent, so they can tell a gzipped response
//! from an identity one, and a gauge of the watches being served, so they can tell that a
//! watch ended when its client left.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use apimachinery::util::sync::MutexExt;

use crate::fault_match::FaultMatch;
use crate::request_info::RequestInfo;
use crate::verb::Verb;

/// How many requests one verb/resource pair received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestCount {
    /// The verb; `None` for non-resource requests (discovery, health).
    pub verb: Option<Verb>,
    /// The resource's plural name; `""` for non-resource requests.
    pub resource: String,
    /// Number of requests.
    pub count: u64,
}

/// Counters of every request the API answered (admin endpoint requests excluded).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    total: AtomicU64,
    by_key: Mutex<HashMap<(Option<Verb>, String), u64>>,
    /// Response body bytes handed to the connection, after any gzip; shared with every body
    /// being sent (see `api::handle`), hence the `Arc`.
    body_bytes: Arc<AtomicU64>,
    /// Every resource request, in the order they arrived.
    log: Mutex<Vec<RequestInfo>>,
    /// Watch tasks alive now; each holds a [`LiveWatch`] guard, which counts it down on drop.
    live_watches: Arc<AtomicU64>,
}

/// Counts one running watch task for as long as it is held.
#[derive(Debug)]
pub(crate) struct LiveWatch(Arc<AtomicU64>);

impl Drop for LiveWatch {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Counters {
    /// Counts one request.
    pub fn record(&self, verb: Option<Verb>, resource: &str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut map = self.by_key.lock_unpoisoned();
        *map.entry((verb, resource.to_owned())).or_default() += 1;
    }

    /// Appends a resource request to the log.
    pub fn log(&self, info: RequestInfo) {
        self.log.lock_unpoisoned().push(info);
    }

    /// The resource requests so far, in order.
    pub fn requests(&self) -> Vec<RequestInfo> {
        self.log.lock_unpoisoned().clone()
    }

    /// The response body byte counter, for a body to add to as its frames are sent.
    pub fn body_bytes_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.body_bytes)
    }

    /// Response body bytes sent so far, as encoded on the wire.
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes.load(Ordering::Relaxed)
    }

    /// Counts a watch task as live until the returned guard is dropped.
    pub fn live_watch(&self) -> LiveWatch {
        self.live_watches.fetch_add(1, Ordering::Relaxed);
        LiveWatch(Arc::clone(&self.live_watches))
    }

    /// Watch tasks alive now. Not reset by [`Counters::reset`]: it is a gauge.
    pub fn live_watches(&self) -> u64 {
        self.live_watches.load(Ordering::Relaxed)
    }

    /// Every request so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Requests matching `m`.
    pub fn matching(&self, m: &FaultMatch) -> u64 {
        let map = self.by_key.lock_unpoisoned();
        map.iter()
            .filter(|((v, r), _)| m.matches(*v, r))
            .map(|(_, n)| *n)
            .sum()
    }

    /// All counters, sorted by resource then verb.
    pub fn snapshot(&self) -> Vec<RequestCount> {
        let map = self.by_key.lock_unpoisoned();
        let mut out: Vec<RequestCount> = map
            .iter()
            .map(|((verb, resource), count)| RequestCount {
                verb: *verb,
                resource: resource.clone(),
                count: *count,
            })
            .collect();
        out.sort_by(|a, b| {
            (a.resource.as_str(), a.verb.map(Verb::as_str))
                .cmp(&(b.resource.as_str(), b.verb.map(Verb::as_str)))
        });
        out
    }

    /// Resets every counter to zero and empties the request log.
    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        self.body_bytes.store(0, Ordering::Relaxed);
        self.by_key.lock_unpoisoned().clear();
        self.log.lock_unpoisoned().clear();
    }
}
