//! Port of tools/leaderelection/resourcelock (interface.go and leaselock.go): where the election
//! record lives.
//!
//! # Data flow
//!
//! The [`LeaderElector`](super::LeaderElector) reads the record with [`ResourceLock::get`],
//! creates it with [`ResourceLock::create`] when it does not exist, and writes it with
//! [`ResourceLock::update`]. The [`LeaseLock`] keeps the record in the spec of a
//! `coordination.k8s.io/v1` Lease and remembers the Lease it last read or wrote, so an update
//! carries that object's resourceVersion: two candidates racing for the same lease cannot both
//! win, because the slower update gets a 409 Conflict.

use std::future::Future;
use std::sync::Mutex;

use api::coordination::v1::{Lease, LeaseSpec};
use apiclient::meta::WriteOptions;
use apiclient::typed::TypedClient;
use apiclient::{Error, ObjectMeta, RestClient};
use apimachinery::meta::MicroTime;
use apimachinery::util::sync::MutexExt;

use crate::record::{EventRecorder, EventType, ObjectReference, get_reference};

/// What a lock stores: who leads, since when, for how long.
///
/// Port of resourcelock/interface.go: `LeaderElectionRecord` (without `Strategy` and
/// `PreferredHolder`). The elector never trusts the times for expiry, only notices that they
/// change. Differs from Go: the times are `metav1.MicroTime`, the precision the Lease stores, where
/// Go's record holds `metav1.Time` and converts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderElectionRecord {
    /// The leader's identity; empty when nobody holds the lock (after a release).
    pub holder_identity: String,
    /// How long the holder's claim lasts after its last renewal, in seconds.
    pub lease_duration_seconds: i32,
    /// When the current holder acquired the lock.
    pub acquire_time: Option<MicroTime>,
    /// When the current holder last renewed the lock.
    pub renew_time: Option<MicroTime>,
    /// How many times leadership changed hands.
    pub leader_transitions: i32,
}

/// The storage of an election record.
///
/// Port of resourcelock/interface.go: `resourcelock.Interface`. Differs from Go: `get`
/// returns only the record; the elector compares records by value where Go compared their JSON.
pub trait ResourceLock: Send + Sync {
    /// Reads the record. A missing lock object is an error for which `is_not_found` is true.
    fn get(&self) -> impl Future<Output = Result<LeaderElectionRecord, Error>> + Send;
    /// Creates the lock object holding `record`.
    fn create(
        &self,
        record: &LeaderElectionRecord,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Overwrites the record, failing with a conflict if the lock changed since it was last read.
    fn update(
        &self,
        record: &LeaderElectionRecord,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// This candidate's identity.
    fn identity(&self) -> &str;
    /// The lock's name for logs, e.g. `kube-system/my-controller`.
    fn describe(&self) -> String;
    /// Records `"<identity> <message>"` as a Normal `LeaderElection` event about the lock
    /// object, if the lock has an event recorder; the elector calls it with `became leader` and
    /// `stopped leading`.
    ///
    /// Port of resourcelock/interface.go: `Interface.RecordEvent`. Differs from Go: a default
    /// method that records nothing, for locks without a recorder.
    fn record_event(&self, message: &str) {
        let _ = message;
    }
}

/// Port of leaselock.go: `LeaseSpecToLeaderElectionRecord`.
fn to_record(spec: &LeaseSpec) -> LeaderElectionRecord {
    LeaderElectionRecord {
        holder_identity: spec
            .holder_identity
            .as_deref()
            .unwrap_or_default()
            .to_owned(),
        lease_duration_seconds: spec.lease_duration_seconds.unwrap_or(0),
        acquire_time: spec.acquire_time,
        renew_time: spec.renew_time,
        leader_transitions: spec.lease_transitions.unwrap_or(0),
    }
}

/// Port of leaselock.go: `LeaderElectionRecordToLeaseSpec`. Differs from Go: writes the record
/// into the Lease's spec instead of building a new one, so the fields the record does not carry
/// (`strategy`, `preferredHolder`) keep what another client wrote.
fn set_record(lease: &mut Lease, r: &LeaderElectionRecord) {
    let spec = lease.spec.get_or_insert_default();
    spec.holder_identity = Some(r.holder_identity.as_str().into());
    spec.lease_duration_seconds = Some(r.lease_duration_seconds);
    spec.acquire_time = r.acquire_time;
    spec.renew_time = r.renew_time;
    spec.lease_transitions = Some(r.leader_transitions);
}

/// A lock kept in a Lease object.
///
/// Port of resourcelock/leaselock.go: `LeaseLock`.
pub struct LeaseLock {
    client: TypedClient<Lease>,
    namespace: String,
    name: String,
    identity: String,
    /// The Lease as last read or written: its resourceVersion guards the next update.
    lease: Mutex<Option<Lease>>,
    /// Where `record_event` reports (Go: `ResourceLockConfig.EventRecorder`); none by default.
    recorder: Option<EventRecorder>,
}

impl std::fmt::Debug for LeaseLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseLock")
            .field("lease", &self.describe())
            .field("identity", &self.identity)
            .finish()
    }
}

impl LeaseLock {
    /// A lock on the Lease `namespace/name`, held as `identity` (usually the pod name plus a
    /// random suffix, so two processes never share one).
    pub fn new(
        client: &RestClient,
        namespace: impl Into<String>,
        name: impl Into<String>,
        identity: impl Into<String>,
    ) -> Self {
        let namespace = namespace.into();
        Self {
            client: TypedClient::namespaced(client, &namespace),
            namespace,
            name: name.into(),
            identity: identity.into(),
            lease: Mutex::new(None),
            recorder: None,
        }
    }

    /// Records `became leader` and `stopped leading` as events about the Lease through
    /// `recorder`, as client-go does when `ResourceLockConfig.EventRecorder` is set (the
    /// ServiceAccount then needs `create` on `events` in the Lease's namespace).
    ///
    /// Port of resourcelock/interface.go: `ResourceLockConfig.EventRecorder`.
    #[must_use]
    pub fn with_event_recorder(mut self, recorder: EventRecorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    fn remember(&self, lease: Option<Lease>) {
        *self.lease.lock_unpoisoned() = lease;
    }

    fn cached(&self) -> Option<Lease> {
        self.lease.lock_unpoisoned().clone()
    }
}

impl ResourceLock for LeaseLock {
    async fn get(&self) -> Result<LeaderElectionRecord, Error> {
        let lease = self.client.get(&self.name).await?;
        let record = lease.spec.as_deref().map(to_record).unwrap_or_default();
        self.remember(Some(lease));
        Ok(record)
    }

    async fn create(&self, record: &LeaderElectionRecord) -> Result<(), Error> {
        let mut lease = Lease {
            api_version: Some("coordination.k8s.io/v1".into()),
            kind: Some("Lease".into()),
            metadata: ObjectMeta {
                name: Some(self.name.as_str().into()),
                namespace: Some(self.namespace.as_str().into()),
                ..ObjectMeta::default()
            },
            spec: None,
        };
        set_record(&mut lease, record);
        let created = self.client.create(&lease, &WriteOptions::default()).await?;
        self.remember(Some(created));
        Ok(())
    }

    async fn update(&self, record: &LeaderElectionRecord) -> Result<(), Error> {
        let Some(mut lease) = self.cached() else {
            return Err(Error::InvalidRequest(
                "lease not initialized, call get or create first".into(),
            ));
        };
        set_record(&mut lease, record);
        let updated = self.client.update(&lease, &WriteOptions::default()).await?;
        self.remember(Some(updated));
        Ok(())
    }

    fn identity(&self) -> &str {
        &self.identity
    }

    fn describe(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Port of leaselock.go: `LeaseLock.RecordEvent`: the subject is the Lease as last read or
    /// written (its uid and resourceVersion), with its kind and apiVersion filled in. Differs
    /// from Go: before any read, the reference names the Lease by namespace and name only,
    /// where Go would dereference a nil Lease.
    fn record_event(&self, message: &str) {
        let Some(recorder) = &self.recorder else {
            return;
        };
        let reference = match self.cached() {
            Some(lease) => get_reference(&lease),
            None => ObjectReference {
                kind: Some("Lease".into()),
                api_version: Some("coordination.k8s.io/v1".into()),
                namespace: Some(self.namespace.as_str().into()),
                name: Some(self.name.as_str().into()),
                ..ObjectReference::default()
            },
        };
        let text = format!("{} {message}", self.identity);
        recorder.event_for(reference, EventType::Normal, "LeaderElection", &text);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_through_the_lease_spec() {
        let record = LeaderElectionRecord {
            holder_identity: "a".into(),
            lease_duration_seconds: 15,
            acquire_time: Some(MicroTime::from_unix_micros(1_000_001)),
            renew_time: Some(MicroTime::from_unix_micros(2_000_002)),
            leader_transitions: 3,
        };
        let mut lease = Lease::default();
        set_record(&mut lease, &record);
        assert_eq!(lease.spec.as_deref().map(to_record), Some(record));
        let json = serde_json::to_value(&lease).unwrap();
        assert_eq!(json["spec"]["renewTime"], "1970-01-01T00:00:02.000002Z");
    }

    #[test]
    fn a_lease_without_a_spec_reads_as_the_empty_record() {
        let lease: Lease = serde_json::from_str(r#"{"metadata":{"name":"lock"}}"#).unwrap();
        let record = lease.spec.as_deref().map(to_record).unwrap_or_default();
        assert_eq!(record, LeaderElectionRecord::default());
    }

    #[test]
    fn writing_a_record_keeps_the_fields_it_does_not_carry() {
        let mut lease: Lease = serde_json::from_str(
            r#"{"spec":{"holderIdentity":"a","strategy":"OldestEmulationVersion","preferredHolder":"b"}}"#,
        )
        .unwrap();
        set_record(
            &mut lease,
            &LeaderElectionRecord {
                holder_identity: "c".into(),
                ..LeaderElectionRecord::default()
            },
        );
        let spec = lease.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("c"));
        assert_eq!(spec.strategy.as_deref(), Some("OldestEmulationVersion"));
        assert_eq!(spec.preferred_holder.as_deref(), Some("b"));
    }
}
