//! The state every connection, watch and handle shares: configuration, the store, the
//! registry of served resources, fault rules, counters and the task owner.
//!
//! This module sits below the request path (`api`), the server (`server`), the fault handle
//! (`faults`), the admin endpoint (`admin`) and CRD handling (`crd`): each of those imports
//! it, and it imports none of them, so the modules form no import cycle. The Go API server has
//! no single equivalent; its `GenericAPIServer` and `storage` hold these pieces.

use std::net::SocketAddr;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use apimachinery::util::sync::MutexExt;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::counters::Counters;
use crate::fault_match::FaultMatch;
use crate::resources::Registry;
use crate::status::ApiError;
use crate::store::Store;
use crate::verb::Verb;
use crate::watch::{WatchControl, WatchSettings};

/// What the request path learns from the connection.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ConnInfo {
    /// The client presented a certificate that the CA verified.
    pub client_cert: bool,
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub config: Config,
    pub addr: SocketAddr,
    pub store: Store,
    pub registry: RwLock<Registry>,
    pub faults: FaultState,
    pub counters: Counters,
    /// Fault commands to open watches.
    pub control: broadcast::Sender<WatchControl>,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    /// The SNI of the most recent completed TLS handshake (`None`: none yet, or no SNI).
    pub last_sni: Mutex<Option<String>>,
}

impl Shared {
    pub fn watch_settings(&self) -> WatchSettings {
        WatchSettings {
            bookmark_interval: self.config.bookmark_interval,
        }
    }
}

/// A pending "fail the next N matching requests" rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub remaining: usize,
    pub matcher: FaultMatch,
    pub status: u16,
    pub retry_after: Option<u32>,
}

/// The fault state the request path consults and the `Faults` handle changes.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    /// Rules in the order added; a rule is dropped when `remaining` reaches zero.
    pub rules: Mutex<Vec<Rule>>,
    pub latency: Mutex<Duration>,
}

impl FaultState {
    /// If a rule matches, uses one of its failures and returns the error to answer with.
    pub fn take(&self, verb: Option<Verb>, resource: &str) -> Option<ApiError> {
        let mut rules = self.rules.lock_unpoisoned();
        let idx = rules
            .iter()
            .position(|r| r.matcher.matches(verb, resource))?;
        let rule = &mut rules[idx];
        rule.remaining = rule.remaining.saturating_sub(1);
        let err = ApiError::injected(rule.status, rule.retry_after);
        if rule.remaining == 0 {
            rules.remove(idx);
        }
        Some(err)
    }

    /// The latency added to every request.
    pub fn latency(&self) -> Duration {
        *self.latency.lock_unpoisoned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fails_exactly_its_count_of_matching_requests() {
        let state = FaultState::default();
        state.rules.lock_unpoisoned().push(Rule {
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
