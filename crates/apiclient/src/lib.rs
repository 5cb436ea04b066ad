//! Port of client-go's REST layer: configuration (`rest/config.go`, `tools/clientcmd`), the
//! REST client and request builder (`rest/client.go`, `rest/request.go`), its retry rules
//! (`rest/with_retry.go`), client-side throttling (`util/flowcontrol`), watch decoding, the list
//! pager (`tools/pager`), typed and dynamic clients. apimachinery's metadata, errors and
//! selectors live in the `apimachinery` crate and are re-exported here (`apiclient::meta`,
//! `apiclient::error`, `apiclient::selectors`, `apiclient::pager`). Semantics of client-go
//! v0.35 (JSON by default, protobuf and gzip negotiated as it does).
//!
//! Data flow: a [`config::Config`] (from a kubeconfig, the in-cluster environment, or by hand)
//! becomes a [`rest::RestClient`]; every call goes through the rate limiter and the retry loop
//! and comes back as a typed value, a stream of [`meta::WatchEvent`]s, or an [`Error`] whose
//! predicates (`is_not_found`, `is_conflict`, ...) classify the server's `Status`.
//!
//! Every request reports to the process-wide hooks of [`metrics`] (client-go's
//! `tools/metrics`): latency, results, retries, rate-limiter waits, body sizes and exec
//! plugin runs; the optional `prometheus` feature fills component-base's
//! `rest_client_*` families. HTTP types in the API ([`http::Method`], [`http::Url`]) are
//! re-exported from [`http`], so callers need no matching HTTP client version.
//!
//! On the wire: JSON by default, as in client-go; [`ContentConfig::protobuf`] on
//! [`Config::content`] makes typed clients of built-in types send and ask for protobuf (with
//! JSON as the fallback), as kube-controller-manager does ([`rest::content`]). gzip is asked
//! for unless `Config::disable_compression` is set.
//!
//! # List pods from your kubeconfig
//!
//! With the `k8s-openapi` feature (and a k8s-openapi version feature such as `v1_33` chosen
//! by your application):
//!
//! ```no_run
//! # #[cfg(feature = "k8s-openapi")]
//! # async fn demo() -> apiclient::Result<()> {
//! use apiclient::{Config, ListOptions, Object, RestClient, TypedClient};
//! use k8s_openapi::api::core::v1::Pod;
//!
//! let client = RestClient::new(&Config::infer()?)?; // KUBECONFIG, ~/.kube/config or in-cluster
//! let pods = TypedClient::<Pod>::default_namespaced(&client);
//! for pod in pods.list(&ListOptions::default()).await?.items {
//!     println!("{} {}", pod.namespace(), pod.name());
//! }
//! # Ok(()) }
//! ```
//!
//! Without k8s-openapi, the dynamic client does the same for any resource:
//!
//! ```no_run
//! # async fn demo() -> apiclient::Result<()> {
//! use apiclient::{ApiResource, Config, DynamicClient, ListOptions, Object, RestClient};
//!
//! let client = RestClient::new(&Config::infer()?)?;
//! let pods = ApiResource {
//!     group: String::new(), version: "v1".into(), kind: "Pod".into(),
//!     plural: "pods".into(), namespaced: true,
//! };
//! let list = DynamicClient::dynamic(&client, pods, Some("default")).list(&ListOptions::default()).await?;
//! for pod in list.items {
//!     println!("{} {:?}", pod.name(), pod.data.get("status"));
//! }
//! # Ok(()) }
//! ```
//!
//! # Where Rust differs from Go
//!
//! - One [`Error`] enum with predicate methods instead of `apierrors.IsXxx(err)` functions.
//! - Watches are `Stream`s; an `ERROR` event arrives as `Err(Error::Api)`.
//! - [`TypedClient<K>`] is one generic type instead of generated code per kind.
//! - `Config::timeout` bounds connecting and response headers only, never a list or watch body.

pub mod config;
pub mod dynamic;
pub mod flowcontrol;
pub mod http;
pub mod metadata;
pub mod metrics;
pub mod rest;
pub mod typed;

// Moved to `apimachinery` (no HTTP in them); re-exported so these paths keep working.
pub use apimachinery::api::errors as error;
#[cfg(feature = "k8s-openapi")]
pub use apimachinery::k8s_openapi_impls;
pub use apimachinery::{Str, StrMap};
pub use apimachinery::{impl_object_via_metadata, meta, pager, selectors};

pub use config::Config;
pub use dynamic::{DynamicClient, DynamicObject};
pub use error::{Error, Result};
pub use meta::{
    ApiResource, DeleteOptions, List, ListMeta, ListOptions, Object, ObjectMeta, PatchType,
    Resource, Status, TypeMeta, WatchEvent,
};
pub use metadata::{MetadataClient, PartialObjectMetadata};
pub use pager::ListPager;
pub use rest::{ContentConfig, Request, RestClient, WatchStream};
pub use typed::TypedClient;
