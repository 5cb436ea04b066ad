//! An in-process Kubernetes API server over real HTTP(S), for testing clients. It answers as
//! the recorded kube-apiserver v1.32 does.
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
//!   them (JSON only; see the `openapi` module). CustomResourceDefinitions add their
//!   group-version's document to the v3 index (with a content hash) and their definitions to
//!   v2, as kube-apiserver publishes them, so `kubectl explain` and validated `kubectl apply`
//!   work for custom resources.
//! - Field validation on create, update and patch (`fieldValidation`): unknown and duplicate
//!   fields of built-in kinds are a 400 `strict decoding error: unknown field "spec.replicass",
//!   duplicate field "data.k"` under `Strict`, one `Warning: 299 - "unknown field \"…\""`
//!   header each under `Warn` (also the default), and nothing under `Ignore` (see the
//!   `field_validation` module); whatever the directive, unknown fields are not stored, as
//!   decoding into the Go type drops them. `kubectl explain` reads the v3 documents.
//! - Custom resources shaped by their CRD version's `openAPIV3Schema`, as the apiextensions
//!   server does: unknown fields pruned (except under `x-kubernetes-preserve-unknown-fields`;
//!   `metadata` kept as ObjectMeta, also in `x-kubernetes-embedded-resource` objects) and
//!   reported under `fieldValidation` like a built-in's; schema violations (`type`,
//!   `required`, `enum`, bounds, lengths, `pattern`, item counts) a 422 with one cause each
//!   (`spec.replicas: Invalid value: "string": spec.replicas in body must be of type
//!   integer: "string"`); a strategic merge patch a 415.
//! - Built-ins: v1 namespaces, pods (with `status`), configmaps, secrets, services, events,
//!   nodes, serviceaccounts; apps/v1 deployments (with `status` and `scale`);
//!   coordination.k8s.io/v1 leases; events.k8s.io/v1 events (the same objects as the core
//!   events, converted field by field as kube-apiserver does: `note`↔`message`,
//!   `regarding`↔`involvedObject`, `deprecatedSource`↔`source`, ...);
//!   rbac.authorization.k8s.io/v1 roles, rolebindings, clusterroles, clusterrolebindings
//!   (stored only: nothing is enforced); apiextensions.k8s.io/v1 CustomResourceDefinitions, whose
//!   creation serves the resource they define (reported `Established` at once); plus custom
//!   resources from [`TestServer::register_custom_resource`].
//! - `dryRun=All` on writes (query, or a DeleteOptions body): every check runs, the answer is
//!   what the write would have returned (an update keeps the stored resourceVersion, as in Go),
//!   nothing is stored and watchers see nothing. Any other
//!   `dryRun` value is a 422 about `CreateOptions.meta.k8s.io` (or `UpdateOptions`,
//!   `PatchOptions`, `DeleteOptions`), as `ValidateDryRun` reports it.
//! - authorization.k8s.io/v1 SelfSubjectAccessReview and SelfSubjectRulesReview (create
//!   only): every authenticated user is the cluster admin, so access is always
//!   `allowed: true` and the rules are those a `system:masters` member gets
//!   (`kubectl auth can-i` works).
//! - Namespace deletion as the API server does it: DELETE answers the Namespace in phase
//!   `Terminating` (`deletionTimestamp` set, `spec.finalizers: [kubernetes]`); the namespace's
//!   objects are then deleted (those with finalizers get a `deletionTimestamp` and stay until
//!   their finalizers go), and when it is empty the namespace goes. Creating into it meanwhile
//!   is 403 `unable to create new content in namespace x because it is being terminated`.
//!   Watchers see MODIFIED then DELETED.
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
//! [`TestServer::requests`] lists every resource request answered, in order, as a
//! [`RequestInfo`] (verb, group, resource, subresource, namespace, name, as kube-apiserver's
//! `RequestInfo`), to compare what a client did with the RBAC rules it is deployed with.
//! - Verbs: get, list, watch (`?watch=1` and `/watch/` paths), create, update, patch (merge,
//!   JSON patch, strategic merge by the schemas' merge keys with every directive (built-in
//!   kinds; custom resources answer 415, as in Go); server-side
//!   apply with field ownership, see [field management](crate#field-management)), delete (finalizers, uid/resourceVersion preconditions),
//!   deletecollection.
//!
//! # Semantics worth knowing
//!
//! - resourceVersions are one global counter starting above 100; every write bumps it.
//! - History is a bounded window of events ([`Config::history_window`]); lists and watches
//!   older than the window, or than the last [`Faults::compact`]/[`Faults::restart`], get 410.
//! - Watches without `timeoutSeconds` run until the client leaves (the task ends as soon as
//!   the connection closes; [`TestServer::live_watches`] counts those running) or the server
//!   stops. A watch at a resourceVersion ahead of the store opens and skips events up to it;
//!   a watch-list (`sendInitialEvents=true`) there waits up to 3 s, then sends an ERROR event
//!   with the 504 "Too large resource version" `Status`, as the cacher does.
//! - Invalid `resourceVersion`/`resourceVersionMatch`/`continue`/`sendInitialEvents`
//!   combinations are 422 about `ListOptions.meta.k8s.io`, as `ValidateListOptions` reports
//!   them; errors about non-core resources carry `details.group`.
//! - Paths are percent-decoded before routing, as Go's `URL.Path` is (`%2F` splits segments).
//! - With a bearer token or client certificates configured, a request without credentials is
//!   the anonymous user: `/healthz`, `/livez`, `/readyz` (and `?verbose`) and `/version`
//!   answer, anything else is 403 `User "system:anonymous" cannot ...`; a wrong token is 401.
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
//! `application/strategic-merge-patch+json` merges lists by the
//! `x-kubernetes-patch-merge-key`/`x-kubernetes-patch-strategy` of the recorded OpenAPI schemas,
//! as apimachinery's `strategicpatch` does (`$patch`, `$retainKeys`, `$setElementOrder`,
//! `$deleteFromPrimitiveList`; malformed patches answer 400/422/500 as the API server does).
//! `application/apply-patch+yaml` (or `+json`, YAML or JSON body) is server-side apply, see
//! below. Tables print the columns of kube-apiserver's printers (wide columns at priority 1)
//! for pods, configmaps, secrets, services, namespaces, nodes, events (core and events.k8s.io/v1 alike), deployments, leases,
//! serviceaccounts, rolebindings and clusterrolebindings; roles and clusterroles print NAME
//! and CREATED AT, as apiserver's default table convertor does; other kinds NAME and AGE.
//!
//! # Field management
//!
//! Every create, update and patch keeps `metadata.managedFields` as kube-apiserver's field
//! manager does: an `Update` entry for the writer (`?fieldManager=`, else the User-Agent up to
//! its first `/`, else `unknown`; [`TestServer::create`]/[`update`](TestServer::update)
//! record `unknown`), with the request's apiVersion and subresource (`status`, `scale`); the
//! main resource never owns `status` and a status write owns only `status`, as the
//! strategies' reset fields say. A PATCH of type `application/apply-patch+yaml` is
//! server-side apply: `fieldManager` is required (422), `force=true` takes fields other
//! managers own, otherwise their fields are a 409 `Apply failed with 1 conflict: conflict
//! with "kubectl-create" using v1: .data.a` with one `FieldManagerConflict` cause each;
//! fields the applier no longer applies and nobody else owns are removed; a missing object
//! is created (201). `force` on another patch type is a 422. Dry runs answer with the
//! managedFields the write would have stored.
//!
//! # Differences from a real API server
//!
//! Deletion is immediate (no graceful pod termination), the namespace finalizer runs inline
//! right after each write that touches a terminating namespace (no controller loop),
//! authorization is not enforced (RBAC objects are only stored), field management types
//! custom resources with structured-merge-diff's deduced type (maps granular, lists atomic)
//! rather than their CRD schema and manages `events.k8s.io/v1` writes in their stored core
//! `v1` form, an apply through `scale` takes `spec.replicas` without conflict checks, the
//! `fieldManager` of a create or update is not checked for length, CRD `selectableFields` are not served (custom resources select on
//! `metadata.name`/`metadata.namespace` only), and
//! objects are kept as JSON: protobuf is
//! converted at the edge through `api::scheme`. YAML is neither written (an `Accept` of
//! `application/yaml` is answered in JSON) nor read (YAML bodies get 415, apply
//! configurations excepted); DeleteOptions
//! bodies may be JSON or protobuf. CRD schemas are not checked for being structural, apply no
//! defaults, and validate without `format`, CEL rules, `allOf`/`anyOf`/`oneOf`/`not` or
//! ratcheting (see the `crd_validation` module). OpenAPI documents are JSON only: kubectl 1.32 reads v3 as JSON,
//! but a client that accepts only the protobuf form of v2 gets 406.

pub mod admin;
mod api;
mod authn;
mod authorization;
mod body;
mod compression;
mod config;
mod counters;
mod crd;
mod crd_schema;
mod crd_validation;
mod defaults;
mod discovery;
mod error;
mod event_conversion;
mod fault_match;
mod faults;
mod field_validation;
mod fieldpath;
mod list;
mod list_options_validation;
mod managed_fields;
mod negotiate;
mod objectmeta;
mod objects;
mod openapi;
mod openapi_builder;
mod patch;
mod protobuf;
mod pruning;
mod query;
mod request_info;
mod resources;
mod router;
mod scale;
mod schemaconv;
mod selectors;
mod server;
mod state;
mod status;
mod store;
mod strategic_merge;
mod structured_merge;
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
pub use request_info::RequestInfo;
pub use resources::CustomResource;
pub use server::TestServer;
pub use status::{ApiError, StatusCause};
pub use verb::{UnknownVerb, Verb};
