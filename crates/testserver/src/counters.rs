//! Request counters, so client tests can assert retries, rate limits and the absence of hot
//! loops, and a count of response body bytes as sent, so they can tell a gzipped response
//! from an identity one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::faults::FaultMatch;
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
}

impl Counters {
    /// Counts one request.
    pub fn record(&self, verb: Option<Verb>, resource: &str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((verb, resource.to_owned())).or_default() += 1;
    }

    /// The response body byte counter, for a body to add to as its frames are sent.
    pub fn body_bytes_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.body_bytes)
    }

    /// Response body bytes sent so far, as encoded on the wire.
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes.load(Ordering::Relaxed)
    }

    /// Every request so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Requests matching `m`.
    pub fn matching(&self, m: &FaultMatch) -> u64 {
        let map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .filter(|((v, r), _)| m.matches(*v, r))
            .map(|(_, n)| *n)
            .sum()
    }

    /// All counters, sorted by resource then verb.
    pub fn snapshot(&self) -> Vec<RequestCount> {
        let map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
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

    /// Resets every counter to zero.
    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        self.body_bytes.store(0, Ordering::Relaxed);
        self.by_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
