//! An in-process Kubernetes API server over real HTTP(S), for testing clients.
//!
//! `testserver` keeps objects as JSON in memory and implements the API server's list/watch
//! contract: resourceVersions, 410 Expired, 504 for future resourceVersions, `limit`/`continue`
//! pagination over consistent snapshots, watches with bookmarks, selector transitions and
//! watch-list (`sendInitialEvents`), plus discovery, Tables for kubectl, bearer-token and
//! client-certificate auth over TLS, and fault injection. Its answers follow the transcripts of
//! a real kube-apiserver 1.32 in `tests/fixtures/kube-apiserver-1.32/`.
//!
//! # Use it in a test
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), testserver::Error> {
//! let server = testserver::TestServer::start().await?;          // http://127.0.0.1:<port>
//! server.create("/api/v1/namespaces/default/pods", serde_json::json!({
//!     "metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}))?;
//! let url = format!("{}/api/v1/namespaces/default/pods", server.url()); // point your client here
//! # let _ = url;
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Or run it for kubectl: `cargo run -p testserver -- --port 8080`, then
//! `kubectl --server http://127.0.0.1:8080 get pods -A`. The binary takes faults over HTTP
//! (`POST /testserver/faults/...`): see [`admin`].
//!
//! # Fault injection and counters
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), testserver::Error> {
//! use testserver::{FaultMatch, TestServer, Verb};
//! let server = TestServer::start().await?;
//! let pods = FaultMatch::verb(Verb::List).resource("pods");
//! server.faults().fail_next(1, pods.clone(), 503, None); // next LIST of pods → 503
//! server.faults().drop_watches();                          // cut every open watch
//! server.faults().restart();                               // history resets, watches end
//! assert_eq!(server.request_count_for(&pods), 0);          // count what your client sent
//! # Ok(()) }
//! ```
//!
//! # What it serves
//!
//! - Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}`,
//!   `/apis/{group}/{version}`, `/healthz`, `/readyz`, `/livez`.
//! - OpenAPI, from the documents recorded from kube-apiserver 1.32: `/openapi/v2`, the
//!   `/openapi/v3` index and `/openapi/v3/<group-version>` for the built-in group-versions
//!   served, with content-hash URLs, ETags, 304s and immutable caching as kube-openapi sends
//!   them (JSON only; see the `openapi` module). Custom resources have no OpenAPI document.
//! - `fieldValidation=Strict` on create, update and patch: unknown fields of built-in kinds are
//!   a 400 `strict decoding error: unknown field "spec.replicass"`, checked against those
//!   schemas, which is how kubectl 1.32 validates `create -f`/`apply -f` (see the
//!   `field_validation` module). `kubectl explain` reads the v3 documents.
//! - Built-ins: v1 namespaces, pods (with `status`), configmaps, secrets, services, events,
//!   nodes; apps/v1 deployments (with `status` and `scale`); coordination.k8s.io/v1 leases;
//!   events.k8s.io/v1 events; apiextensions.k8s.io/v1 CustomResourceDefinitions, whose
//!   creation serves the resource they define (reported `Established` at once); plus custom
//!   resources from [`TestServer::register_custom_resource`].
//! - `dryRun=All` on writes: every check runs, nothing is stored.
//! - Protobuf, as kube-apiserver 1.32 speaks it, for built-in kinds: a client whose `Accept`
//!   prefers `application/vnd.kubernetes.protobuf` gets objects, lists, write results and
//!   `Status` errors in the `k8s\0` envelope, and watches as length-delimited `WatchEvent`
//!   frames (`;stream=watch`); create and update take protobuf bodies. Custom resources stay
//!   JSON (`protobuf,json` falls back to JSON, protobuf alone is 406), and Tables are JSON.
//!   The first acceptable `Accept` clause wins; see the `negotiate` module.
//!
//! # Seeding and inspecting
//!
//! [`TestServer::create`], [`get`](TestServer::get), [`update`](TestServer::update),
//! [`delete`](TestServer::delete) and [`list`](TestServer::list) take API paths and behave as
//! the HTTP verbs do (watchers see the changes), without counting as requests.
//! [`TestServer::kubeconfig`] gives a kubeconfig for kubectl or kubeconfig-loading clients.
//! - Verbs: get, list, watch (`?watch=1` and `/watch/` paths), create, update, patch (merge,
//!   JSON patch; strategic merge and server-side apply approximated as merge patches, see
//!   [`patch`](crate#patches)), delete (finalizers, uid/resourceVersion preconditions),
//!   deletecollection.
//!
//! # Semantics worth knowing
//!
//! - resourceVersions are one global counter starting above 100; every write bumps it.
//! - History is a bounded window of events ([`Config::history_window`]); lists and watches
//!   older than the window, or than the last [`Faults::compact`]/[`Faults::restart`], get 410.
//! - Watches without `timeoutSeconds` run until the client leaves or the server stops.
//!   Bookmarks come every [`Config::bookmark_interval`] (default 1 s) and just before a
//!   timeout; a watcher more than [`Config::watch_buffer`] events behind is closed.
//! - LIST with `resourceVersion=0` ignores `limit`, like the watch cache.
//! - Responses other than watch streams are gzipped when the request's `Accept-Encoding`
//!   lists `gzip` and the body is over [`GZIP_THRESHOLD_BYTES`] (128 KiB), with
//!   `Content-Encoding: gzip` and `Vary: Accept-Encoding`; watch streams (watch-list
//!   included) never are. Streamed LISTs are compressed as they stream.
//!
//! # Patches
//!
//! `application/strategic-merge-patch+json` and `application/apply-patch+yaml` are applied as
//! JSON merge patches (lists replaced, no field ownership); the apply body must be JSON, which
//! is what kubectl sends. Apply on a missing object creates it (201).
//!
//! # Differences from a real API server
//!
//! Deletion is immediate (no graceful pod termination; deleting a namespace deletes its
//! objects at once), `managedFields` are not maintained, core and
//! `events.k8s.io` events are stored separately, and objects are kept as JSON: protobuf is
//! converted at the edge through `api::scheme`. YAML is neither written (an `Accept` of
//! `application/yaml` is answered in JSON) nor read (YAML bodies get 415); DeleteOptions
//! bodies may be JSON or protobuf. Field validation knows only the built-in kinds' schemas: custom
//! resources are never rejected for unknown fields, and `fieldValidation=Warn` (the server's
//! default) sends no warnings. OpenAPI documents are JSON only: kubectl 1.32 reads v3 as JSON,
//! but a client that accepts only the protobuf form of v2 gets 406.

pub mod admin;
mod api;
mod body;
mod compression;
mod config;
mod counters;
mod crd;
mod defaults;
mod discovery;
mod error;
mod faults;
mod field_validation;
mod list;
mod negotiate;
mod objects;
mod openapi;
mod patch;
mod protobuf;
mod query;
mod resources;
mod router;
mod scale;
mod selectors;
mod server;
mod status;
mod store;
mod table;
mod tls;
mod verb;
mod watch;

pub use compression::GZIP_THRESHOLD_BYTES;
pub use config::{
    Config, DEFAULT_BOOKMARK_INTERVAL, DEFAULT_HISTORY_WINDOW, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_WATCH_BUFFER, TestServerBuilder,
};
pub use counters::RequestCount;
pub use error::Error;
pub use faults::{FaultMatch, Faults};
pub use resources::CustomResource;
pub use server::TestServer;
pub use status::{ApiError, StatusCause};
pub use verb::{UnknownVerb, Verb};
