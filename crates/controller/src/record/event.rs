//! Port of tools/record/event.go: the recorder controllers call and the broadcaster that writes
//! Events to the API server.
//!
//! # Data flow
//!
//! [`EventRecorder`] (cheap to clone, never blocks) → bounded channel → the
//! [`EventBroadcaster`]'s task → correlator → `POST` or `PATCH` of core/v1 Events, retried on
//! transport errors (up to 12 tries, 10 s apart, as Go's `recordToSink`). An error status from
//! the server (e.g. the namespace is gone) drops the event: the same request would fail again.

use std::time::Duration;

use apiclient::meta::{PatchType, WriteOptions};
use apiclient::typed::TypedClient;
use apiclient::{Error, Object, ObjectMeta, Resource, RestClient, Str};
use apimachinery::meta::Time;
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;

use super::events_cache::{Correlated, EventCorrelator};

/// How many events may wait for the broadcaster before new ones are dropped.
/// Port of event.go: `maxQueuedEvents`.
pub const MAX_QUEUED_EVENTS: usize = 1000;
/// Port of event.go: `maxTriesPerEvent`.
const MAX_TRIES_PER_EVENT: usize = 12;
/// Port of event.go: `defaultSleepDuration`.
const SLEEP_BETWEEN_TRIES: Duration = Duration::from_secs(10);

/// Whether an event reports something normal or a problem. Port of core/v1: `EventTypeNormal`,
/// `EventTypeWarning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl EventType {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// The Event a recorder writes, who reports it and what it is about, from the `api` crate
/// (k8s.io/api/core/v1), re-exported at their former paths.
pub use api::core::v1::{Event, EventSource, ObjectReference};

/// `Some(s)` unless `s` is empty: the fields Go leaves empty (`omitempty`) stay off the wire.
fn non_empty(s: &str) -> Option<Str> {
    (!s.is_empty()).then(|| Str::from(s))
}

/// A reference to `obj`.
///
/// Port of tools/reference/ref.go: `GetReference`. Differs from Go: the group, version and kind
/// come from `K`'s [`Resource`] impl rather than a scheme, so it cannot fail.
pub fn get_reference<K: Object + Resource>(obj: &K) -> ObjectReference {
    let api_version = if K::GROUP.is_empty() {
        K::VERSION.to_owned()
    } else {
        format!("{}/{}", K::GROUP, K::VERSION)
    };
    ObjectReference {
        kind: Some(K::KIND.into()),
        namespace: non_empty(obj.namespace()),
        name: Some(obj.name().into()),
        uid: non_empty(obj.uid()),
        api_version: non_empty(&api_version),
        resource_version: non_empty(obj.resource_version()),
        field_path: None,
    }
}

/// Port of event.go: `recorder.generateEvent`. `nanos` (nanoseconds since the Unix epoch of `at`,
/// which Go reads as `t.UnixNano()`) makes the name unique.
pub(crate) fn generate_event(
    object: ObjectReference,
    source: &EventSource,
    type_: &str,
    reason: &str,
    message: &str,
    at: Time,
    nanos: u128,
) -> Event {
    let namespace = object
        .namespace
        .as_deref()
        .filter(|ns| !ns.is_empty())
        .unwrap_or("default");
    let name = object.name.as_deref().unwrap_or_default();
    Event {
        api_version: Some("v1".into()),
        kind: Some("Event".into()),
        metadata: ObjectMeta {
            name: Some(format!("{name}.{nanos:x}").into()),
            namespace: Some(namespace.into()),
            ..ObjectMeta::default()
        },
        reason: Some(reason.into()),
        message: Some(message.into()),
        source: Some(Box::new(source.clone())),
        first_timestamp: Some(at),
        last_timestamp: Some(at),
        count: Some(1),
        type_: Some(type_.into()),
        reporting_component: source.component.as_deref().and_then(non_empty),
        reporting_instance: source.host.as_deref().and_then(non_empty),
        involved_object: object,
        ..Event::default()
    }
}

/// Writes recorded events to the API server from one task.
///
/// Port of event.go: `eventBroadcasterImpl` with `StartRecordingToSink`. Owns its task:
/// [`EventBroadcaster::shutdown`] writes what is queued and waits for it; dropping the
/// broadcaster without it stops the task, and events still queued are lost (Go's `Shutdown`
/// discards them too).
pub struct EventBroadcaster {
    tx: mpsc::Sender<Event>,
    task: AbortOnDropHandle<()>,
}

impl std::fmt::Debug for EventBroadcaster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBroadcaster").finish_non_exhaustive()
    }
}

impl EventBroadcaster {
    /// Starts the task that writes events through `client`.
    ///
    /// Port of event.go: `NewBroadcaster` + `StartRecordingToSink`.
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime.
    pub fn new(client: &RestClient) -> Self {
        let (tx, rx) = mpsc::channel(MAX_QUEUED_EVENTS);
        let task = AbortOnDropHandle::new(tokio::spawn(sink_loop(client.clone(), rx)));
        Self { tx, task }
    }

    /// A recorder that reports as `source`. Port of event.go: `NewRecorder`.
    pub fn new_recorder(&self, source: EventSource) -> EventRecorder {
        EventRecorder {
            tx: self.tx.clone(),
            source,
        }
    }

    /// Stops accepting events once every recorder is dropped, writes what is queued, and waits.
    ///
    /// Port of event.go: `Shutdown`. Differs from Go: queued events are written, not discarded.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the writing task; events still queued are lost.
    pub async fn shutdown(self) {
        drop(self.tx);
        if let Err(err) = self.task.await {
            tracing::error!(error = %apimachinery::api::errors::error_chain(&err), "event broadcaster task failed");
        }
    }
}

/// Records events about objects. Cheap to clone; never blocks.
///
/// Port of event.go: `recorder` (`EventRecorder`).
#[derive(Clone, Debug)]
pub struct EventRecorder {
    tx: mpsc::Sender<Event>,
    source: EventSource,
}

impl EventRecorder {
    /// Records an event about `obj`. Port of event.go: `recorder.Event`. Use `format!` for Go's
    /// `Eventf`.
    pub fn event<K: Object + Resource>(
        &self,
        obj: &K,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) {
        self.event_for(get_reference(obj), event_type, reason, message);
    }

    /// Records an event about the object `reference` names (for objects without a static
    /// [`Resource`], such as dynamic ones).
    pub fn event_for(
        &self,
        reference: ObjectReference,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) {
        let now = time::OffsetDateTime::now_utc();
        let at = Time::from_unix(now.unix_timestamp());
        let nanos = u128::try_from(now.unix_timestamp_nanos()).unwrap_or(0);
        let event = generate_event(
            reference,
            &self.source,
            event_type.as_str(),
            reason,
            message,
            at,
            nanos,
        );
        let object = event.involved_object.name.as_deref().unwrap_or_default();
        tracing::debug!(%object, reason, message, "recording event");
        if let Err(err) = self.tx.try_send(event) {
            tracing::warn!(error = %apimachinery::api::errors::error_chain(&err), reason, "event queue full or closed: dropping event");
        }
    }
}

/// The broadcaster's task. Port of event.go: `recordToSink` / `recordEvent`.
async fn sink_loop(client: RestClient, mut rx: mpsc::Receiver<Event>) {
    let mut correlator = EventCorrelator::default();
    while let Some(event) = rx.recv().await {
        let correlated = correlator.correlate(event);
        for attempt in 1..=MAX_TRIES_PER_EVENT {
            match write(&client, &correlated).await {
                Ok(stored) => {
                    correlator.update_state(&stored);
                    break;
                }
                Err(err) if matches!(err, Error::Api(_) | Error::InvalidRequest(_)) => {
                    // The server refused it; the same request would be refused again.
                    if !err.is_already_exists() {
                        tracing::error!(error = %apimachinery::api::errors::error_chain(&err), "server rejected event: not retrying");
                    }
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %apimachinery::api::errors::error_chain(&err), attempt, "unable to write event (may retry after sleeping)");
                    if attempt == MAX_TRIES_PER_EVENT {
                        tracing::error!("unable to write event: giving up");
                        break;
                    }
                    // As Go's recordToSink: the first sleep is a uniform fraction of 10 s, so
                    // recorders cut off together do not retry in step. Not `wait::jitter`, which
                    // only lengthens a wait ([10 s, 20 s) here) where Go's shortens it.
                    let pause = if attempt == 1 {
                        SLEEP_BETWEEN_TRIES.mul_f64(rand::random::<f64>())
                    } else {
                        SLEEP_BETWEEN_TRIES
                    };
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

/// Creates or patches one event; a patch of an Event that vanished falls back to a create.
async fn write(client: &RestClient, correlated: &Correlated) -> Result<Event, Error> {
    let create = |event: &Event| {
        let mut event = event.clone();
        event.metadata.resource_version = None;
        let events = TypedClient::<Event>::namespaced(client, event.namespace());
        async move { events.create(&event, &WriteOptions::default()).await }
    };
    match correlated {
        Correlated::Create(event) => create(event).await,
        Correlated::Patch(event, patch) => {
            let events = TypedClient::<Event>::namespaced(client, event.namespace());
            match events
                .patch(
                    event.name(),
                    PatchType::StrategicMerge,
                    patch,
                    &WriteOptions::default(),
                )
                .await
            {
                Err(err) if err.is_not_found() => create(event).await,
                other => other,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use api::core::v1::Pod;
    use serde_json::json;

    #[tokio::test]
    async fn dropping_the_broadcaster_stops_its_task_while_recorders_live() {
        let client = RestClient::new(&apiclient::Config::new("http://127.0.0.1:9")).unwrap();
        let broadcaster = EventBroadcaster::new(&client);
        let recorder = broadcaster.new_recorder(EventSource::default());
        drop(broadcaster);
        // The task held the receiving end; once it is gone the channel reads as closed.
        // (The bound only turns a leaked task into a failure instead of a hang.)
        let closed =
            tokio::time::timeout(std::time::Duration::from_secs(30), recorder.tx.closed()).await;
        assert!(closed.is_ok(), "the task outlived its broadcaster");
    }

    #[test]
    fn a_reference_names_the_object_and_leaves_empty_fields_out() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web-1".into());
        pod.metadata.namespace = Some("default".into());
        pod.metadata.resource_version = Some("7".into());
        let reference = serde_json::to_value(get_reference(&pod)).unwrap();
        assert_eq!(
            reference,
            json!({"kind": "Pod", "apiVersion": "v1", "namespace": "default", "name": "web-1",
                   "resourceVersion": "7"})
        );
    }

    #[test]
    fn a_generated_event_has_the_wire_form_go_writes() {
        let object = ObjectReference {
            kind: Some("Pod".into()),
            api_version: Some("v1".into()),
            name: Some("web-1".into()),
            uid: Some("u1".into()),
            ..ObjectReference::default()
        };
        let source = EventSource {
            component: Some("pod-controller".into()),
            host: None,
        };
        let at = Time::from_unix(1_793_862_249);
        let event = generate_event(object, &source, "Normal", "Synced", "ok", at, 0xabc);
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "web-1.abc", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "apiVersion": "v1", "name": "web-1", "uid": "u1"},
                "reason": "Synced",
                "message": "ok",
                "source": {"component": "pod-controller"},
                "firstTimestamp": "2026-11-05T07:04:09Z",
                "lastTimestamp": "2026-11-05T07:04:09Z",
                "count": 1,
                "type": "Normal",
                "reportingComponent": "pod-controller",
            })
        );
    }
}
