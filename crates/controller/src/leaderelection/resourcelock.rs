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

use apiclient::meta::WriteOptions;
use apiclient::typed::TypedClient;
use apiclient::{Error, ObjectMeta, Resource, RestClient};
use serde::{Deserialize, Serialize};

/// What a lock stores: who leads, since when, for how long.
///
/// Port of resourcelock/interface.go: `LeaderElectionRecord`. Times are `metav1.MicroTime`
/// strings (RFC 3339 with microseconds); the elector never trusts them for expiry, only notices
/// that they change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderElectionRecord {
    /// The leader's identity; empty when nobody holds the lock (after a release).
    pub holder_identity: String,
    /// How long the holder's claim lasts after its last renewal, in seconds.
    pub lease_duration_seconds: i32,
    /// When the current holder acquired the lock.
    pub acquire_time: Option<String>,
    /// When the current holder last renewed the lock.
    pub renew_time: Option<String>,
    /// How many times leadership changed hands.
    pub leader_transitions: i32,
}

/// The storage of an election record.
///
/// Port of resourcelock/interface.go: `Interface` (without `RecordEvent`). Differs from Go: `get`
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
}

/// A `coordination.k8s.io/v1` Lease (the fields leader election uses).
///
/// Port of k8s.io/api/coordination/v1: `Lease`. Unknown fields are kept, so an update never drops
/// what another client wrote.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// Always `coordination.k8s.io/v1`.
    #[serde(default)]
    pub api_version: String,
    /// Always `Lease`.
    #[serde(default)]
    pub kind: String,
    /// Object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The election record.
    #[serde(default)]
    pub spec: LeaseSpec,
}

/// Port of k8s.io/api/coordination/v1: `LeaseSpec`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseSpec {
    /// The holder's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_identity: Option<String>,
    /// Lease duration in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_duration_seconds: Option<i32>,
    /// When the lease was acquired (MicroTime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquire_time: Option<String>,
    /// When the lease was last renewed (MicroTime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_time: Option<String>,
    /// Number of leader transitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_transitions: Option<i32>,
    /// Fields this port does not model (strategy, preferredHolder, ...), kept as they were.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Resource for Lease {
    const GROUP: &'static str = "coordination.k8s.io";
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Lease";
    const PLURAL: &'static str = "leases";
    const NAMESPACED: bool = true;
}

apiclient::impl_object_via_metadata!(Lease);

impl LeaseSpec {
    /// Port of leaselock.go: `LeaseSpecToLeaderElectionRecord`.
    fn to_record(&self) -> LeaderElectionRecord {
        LeaderElectionRecord {
            holder_identity: self.holder_identity.clone().unwrap_or_default(),
            lease_duration_seconds: self.lease_duration_seconds.unwrap_or(0),
            acquire_time: self.acquire_time.clone(),
            renew_time: self.renew_time.clone(),
            leader_transitions: self.lease_transitions.unwrap_or(0),
        }
    }

    /// Port of leaselock.go: `LeaderElectionRecordToLeaseSpec`, keeping unknown fields.
    fn set_record(&mut self, r: &LeaderElectionRecord) {
        self.holder_identity = Some(r.holder_identity.clone());
        self.lease_duration_seconds = Some(r.lease_duration_seconds);
        self.acquire_time = r.acquire_time.clone();
        self.renew_time = r.renew_time.clone();
        self.lease_transitions = Some(r.leader_transitions);
    }
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
        }
    }

    fn remember(&self, lease: Option<Lease>) {
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = lease;
    }

    fn cached(&self) -> Option<Lease> {
        self.lease.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ResourceLock for LeaseLock {
    async fn get(&self) -> Result<LeaderElectionRecord, Error> {
        let lease = self.client.get(&self.name).await?;
        let record = lease.spec.to_record();
        self.remember(Some(lease));
        Ok(record)
    }

    async fn create(&self, record: &LeaderElectionRecord) -> Result<(), Error> {
        let mut lease = Lease {
            api_version: "coordination.k8s.io/v1".into(),
            kind: "Lease".into(),
            metadata: ObjectMeta {
                name: Some(self.name.as_str().into()),
                namespace: Some(self.namespace.as_str().into()),
                ..ObjectMeta::default()
            },
            spec: LeaseSpec::default(),
        };
        lease.spec.set_record(record);
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
        lease.spec.set_record(record);
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
}
