//! Port of tools/record/events_cache.go (the `eventLogger` part): counting repeats of an event.
//!
//! # Invariant
//!
//! The cache maps an event's key (everything but its timestamps and count) to the Event object
//! the server holds for it: name, resourceVersion, first timestamp and count. A new occurrence of
//! a cached key is written as a patch of that object with `count + 1`; the cache is updated from
//! the server's answer. At most [`MAX_LRU_CACHE_ENTRIES`] keys are kept; the least recently used
//! one is forgotten first (a forgotten key simply starts a new Event).

use std::collections::{HashMap, VecDeque};

use apiclient::Str;
use apimachinery::meta::Time;

use super::event::Event;

/// How many event keys the correlator remembers. Port of events_cache.go: `maxLruCacheEntries`.
pub const MAX_LRU_CACHE_ENTRIES: usize = 4096;

/// What the server holds for one event key.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EventLog {
    pub count: i32,
    pub first_timestamp: Option<Time>,
    pub name: apiclient::Str,
    pub resource_version: Option<apiclient::Str>,
}

/// Port of events_cache.go: `getEventKey`.
pub(crate) fn event_key(e: &Event) -> String {
    // An absent field is Go's empty string.
    fn or_empty(field: &Option<Str>) -> &str {
        field.as_deref().unwrap_or_default()
    }
    let o = &e.involved_object;
    let (component, host) = e.source.as_deref().map_or(("", ""), |src| {
        (or_empty(&src.component), or_empty(&src.host))
    });
    [
        component,
        host,
        or_empty(&o.kind),
        or_empty(&o.namespace),
        or_empty(&o.name),
        or_empty(&o.field_path),
        or_empty(&o.uid),
        or_empty(&o.api_version),
        or_empty(&e.type_),
        or_empty(&e.reason),
        or_empty(&e.message),
    ]
    .join("")
}

/// The counting half of Go's `EventCorrelator` (`eventLogger`).
#[derive(Debug, Default)]
pub(crate) struct EventCorrelator {
    logs: HashMap<String, EventLog>,
    /// Keys from least to most recently used.
    order: VecDeque<String>,
}

/// What to send for an event.
#[derive(Debug, PartialEq)]
pub(crate) enum Correlated {
    /// A first occurrence: create it.
    Create(Event),
    /// A repeat: patch the existing Event (named in the event) with this body.
    Patch(Event, serde_json::Value),
}

impl EventCorrelator {
    /// Port of events_cache.go: `eventLogger.eventObserve`.
    pub(crate) fn correlate(&mut self, mut event: Event) -> Correlated {
        let key = event_key(&event);
        let Some(last) = self.logs.get(&key) else {
            return Correlated::Create(event);
        };
        event.count = Some(last.count.saturating_add(1));
        event.first_timestamp = last.first_timestamp;
        event.metadata.name = Some(last.name.clone());
        event
            .metadata
            .resource_version
            .clone_from(&last.resource_version);
        let patch = serde_json::json!({
            "message": event.message,
            "count": event.count,
            "lastTimestamp": event.last_timestamp,
        });
        self.touch(&key);
        Correlated::Patch(event, patch)
    }

    /// Port of events_cache.go: `eventLogger.updateState`: remember what the server now holds.
    pub(crate) fn update_state(&mut self, stored: &Event) {
        let key = event_key(stored);
        let log = EventLog {
            count: stored.count.unwrap_or(0),
            first_timestamp: stored.first_timestamp,
            name: stored.metadata.name.clone().unwrap_or_default(),
            resource_version: stored.metadata.resource_version.clone(),
        };
        if self.logs.insert(key.clone(), log).is_none() {
            self.order.push_back(key);
            if self.order.len() > MAX_LRU_CACHE_ENTRIES
                && let Some(oldest) = self.order.pop_front()
            {
                self.logs.remove(&oldest);
            }
        } else {
            self.touch(&key);
        }
    }

    fn touch(&mut self, key: &str) {
        if let Some(pos) = self.order.iter().position(|k| k == key)
            && let Some(k) = self.order.remove(pos)
        {
            self.order.push_back(k);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.logs.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::record::event::{EventSource, ObjectReference, generate_event};

    /// The test's clock: `t(n)` is `n` seconds after the Unix epoch.
    fn t(secs: i64) -> Time {
        Time::from_unix(secs)
    }

    fn event(reason: &str, message: &str, at: Time) -> Event {
        generate_event(
            ObjectReference {
                kind: Some("Pod".into()),
                api_version: Some("v1".into()),
                namespace: Some("default".into()),
                name: Some("web-1".into()),
                uid: Some("u1".into()),
                ..ObjectReference::default()
            },
            &EventSource {
                component: Some("test".into()),
                host: None,
            },
            "Normal",
            reason,
            message,
            at,
            1,
        )
    }

    #[test]
    fn a_first_event_is_created_and_a_repeat_patches_its_count() {
        let mut c = EventCorrelator::default();
        let first = event("Synced", "ok", t(1));
        let Correlated::Create(created) = c.correlate(first.clone()) else {
            panic!("first occurrence must be created");
        };
        let mut stored = created.clone();
        stored.metadata.resource_version = Some("10".into());
        c.update_state(&stored);

        let Correlated::Patch(repeat, patch) = c.correlate(event("Synced", "ok", t(2))) else {
            panic!("a repeat must be a patch");
        };
        assert_eq!(repeat.count, Some(2));
        assert_eq!(
            repeat.metadata.name, created.metadata.name,
            "same Event object"
        );
        assert_eq!(repeat.first_timestamp, Some(t(1)));
        assert_eq!(repeat.last_timestamp, Some(t(2)));
        assert_eq!(patch["count"], 2);
        assert_eq!(patch["lastTimestamp"], "1970-01-01T00:00:02Z");
    }

    #[test]
    fn a_different_reason_or_message_is_a_different_event() {
        let mut c = EventCorrelator::default();
        c.update_state(&event("Synced", "ok", t(1)));
        assert!(matches!(
            c.correlate(event("Failed", "ok", t(2))),
            Correlated::Create(_)
        ));
        assert!(matches!(
            c.correlate(event("Synced", "other", t(2))),
            Correlated::Create(_)
        ));
    }

    #[test]
    fn the_cache_forgets_the_least_recently_used_key_beyond_its_bound() {
        let mut c = EventCorrelator::default();
        for i in 0..=MAX_LRU_CACHE_ENTRIES {
            c.update_state(&event("R", &format!("m{i}"), t(0)));
        }
        assert_eq!(c.len(), MAX_LRU_CACHE_ENTRIES);
        assert!(matches!(
            c.correlate(event("R", "m0", t(0))),
            Correlated::Create(_)
        ));
        assert!(matches!(
            c.correlate(event("R", &format!("m{MAX_LRU_CACHE_ENTRIES}"), t(0))),
            Correlated::Patch(..)
        ));
    }
}
