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
use apiclient::{Error, Object, ObjectMeta, Resource, RestClient};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

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

/// Who reports the event. Port of core/v1: `EventSource`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSource {
    /// The reporting component, e.g. `pod-controller`.
    #[serde(default)]
    pub component: String,
    /// The node or host, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
}

/// The object an event is about. Port of core/v1: `ObjectReference`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Kind, e.g. `Pod`.
    #[serde(default)]
    pub kind: String,
    /// Namespace (empty for cluster-scoped objects).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// UID.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// API version, e.g. `v1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// resourceVersion of the object when the event happened.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// A field within the object, e.g. `spec.containers{main}`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field_path: String,
}

impl ObjectReference {
    /// A reference to `obj`. Port of tools/reference: `GetReference`.
    pub fn from_object<K: Object + Resource>(obj: &K) -> Self {
        let api_version = if K::GROUP.is_empty() {
            K::VERSION.to_owned()
        } else {
            format!("{}/{}", K::GROUP, K::VERSION)
        };
        Self {
            kind: K::KIND.to_owned(),
            namespace: obj.namespace().to_owned(),
            name: obj.name().to_owned(),
            uid: obj.uid().to_owned(),
            api_version,
            resource_version: obj.resource_version().to_owned(),
            field_path: String::new(),
        }
    }
}

/// A core/v1 Event (the fields a recorder writes).
///
/// Port of k8s.io/api/core/v1: `Event`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// `v1`.
    #[serde(default)]
    pub api_version: String,
    /// `Event`.
    #[serde(default)]
    pub kind: String,
    /// Name `<object>.<hex nanoseconds>` and the object's namespace.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The object the event is about.
    #[serde(default)]
    pub involved_object: ObjectReference,
    /// A short CamelCase reason, e.g. `Synced`.
    #[serde(default)]
    pub reason: String,
    /// A human-readable description.
    #[serde(default)]
    pub message: String,
    /// Who reported it.
    #[serde(default)]
    pub source: EventSource,
    /// When it first happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_timestamp: Option<String>,
    /// When it last happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<String>,
    /// How many times it happened.
    #[serde(default)]
    pub count: i32,
    /// `Normal` or `Warning`.
    #[serde(default, rename = "type")]
    pub type_: String,
    /// The controller that reported it (the source's component).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_component: String,
    /// The instance that reported it (the source's host).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_instance: String,
}

impl Resource for Event {
    const GROUP: &'static str = "";
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Event";
    const PLURAL: &'static str = "events";
    const NAMESPACED: bool = true;
}

apiclient::impl_object_via_metadata!(Event);

impl Event {
    /// Port of event.go: `recorder.generateEvent`. `at` is an RFC 3339 time; `nanos` makes the
    /// name unique (Go uses the time's UnixNano).
    pub(crate) fn new(
        object: ObjectReference,
        source: &EventSource,
        type_: &str,
        reason: &str,
        message: &str,
        at: &str,
        nanos: u128,
    ) -> Self {
        let namespace = if object.namespace.is_empty() {
            "default".to_owned()
        } else {
            object.namespace.clone()
        };
        Self {
            api_version: "v1".into(),
            kind: "Event".into(),
            metadata: ObjectMeta {
                name: Some(format!("{}.{nanos:x}", object.name).into()),
                namespace: Some(namespace.into()),
                ..ObjectMeta::default()
            },
            involved_object: object,
            reason: reason.to_owned(),
            message: message.to_owned(),
            source: source.clone(),
            first_timestamp: Some(at.to_owned()),
            last_timestamp: Some(at.to_owned()),
            count: 1,
            type_: type_.to_owned(),
            reporting_component: source.component.clone(),
            reporting_instance: source.host.clone(),
        }
    }
}

/// Writes recorded events to the API server from one task.
///
/// Port of event.go: `eventBroadcasterImpl` with `StartRecordingToSink`. Owns its task:
/// [`EventBroadcaster::shutdown`] writes what is queued and waits for it.
pub struct EventBroadcaster {
    tx: mpsc::Sender<Event>,
    task: JoinHandle<()>,
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
        let task = tokio::spawn(sink_loop(client.clone(), rx));
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
    /// Dropping the future detaches the writing task, which still finishes the queue.
    pub async fn shutdown(self) {
        drop(self.tx);
        if let Err(err) = self.task.await {
            tracing::error!(%err, "event broadcaster task failed");
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
        self.event_for(
            ObjectReference::from_object(obj),
            event_type,
            reason,
            message,
        );
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
        let at = crate::meta_time::format_time(now);
        let nanos = u128::try_from(now.unix_timestamp_nanos()).unwrap_or(0);
        let event = Event::new(
            reference,
            &self.source,
            event_type.as_str(),
            reason,
            message,
            &at,
            nanos,
        );
        tracing::debug!(
            object = %event.involved_object.name, reason, message, "recording event"
        );
        if let Err(err) = self.tx.try_send(event) {
            tracing::warn!(%err, reason, "event queue full or closed: dropping event");
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
                        tracing::error!(%err, "server rejected event: not retrying");
                    }
                    break;
                }
                Err(err) => {
                    tracing::warn!(%err, attempt, "unable to write event (may retry after sleeping)");
                    if attempt == MAX_TRIES_PER_EVENT {
                        tracing::error!("unable to write event: giving up");
                        break;
                    }
                    // Go jitters the first sleep so many recorders do not retry in step.
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
