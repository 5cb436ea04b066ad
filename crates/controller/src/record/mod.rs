//! Port of client-go tools/record (basic): record Kubernetes Events about objects, so
//! `kubectl describe` shows what a controller did.
//!
//! # Data flow
//!
//! [`EventRecorder::event`] builds a core/v1 Event and hands it to the [`EventBroadcaster`]'s
//! channel without waiting (dropped with a warning if 1,000 events are already queued, as Go's
//! broadcaster does). The broadcaster's task passes each event through the correlator
//! ([`events_cache`](self)): the first occurrence is created with `POST`; a repeat of the same
//! event (same source, object, type, reason and message) within the cache becomes a `PATCH` of
//! the existing Event's `count`, `message` and `lastTimestamp`, not a new object.
//!
//! Differs from Go: the similar-event aggregator ("combined from similar events") and the
//! per-object spam filter are not ported; identical repeats are still counted, not multiplied.

mod event;
mod events_cache;

pub use event::{
    Event, EventBroadcaster, EventRecorder, EventSource, EventType, ObjectReference, get_reference,
};
