//! Port of client-go's REST layer: configuration (`rest/config.go`, `tools/clientcmd`), the
//! REST client and request builder (`rest/client.go`, `rest/request.go`), its retry rules
//! (`rest/with_retry.go`), client-side throttling (`util/flowcontrol`), watch decoding, the list
//! pager (`tools/pager`), typed and dynamic clients, and apimachinery's metadata, errors and
//! selectors.
//!
//! Data flow: a [`config::Config`] (from a kubeconfig, the in-cluster environment, or by hand)
//! becomes a [`rest::RestClient`]; every call goes through the rate limiter and the retry loop
//! and comes back as a typed value, a stream of [`meta::WatchEvent`]s, or an [`Error`] whose
//! predicates (`is_not_found`, `is_conflict`, ...) classify the server's `Status`.

pub mod config;
pub mod dynamic;
pub mod error;
pub mod flowcontrol;
#[cfg(feature = "k8s-openapi")]
pub mod k8s_openapi_impls;
pub mod meta;
pub mod metadata;
pub mod pager;
pub mod rest;
pub mod selectors;
pub mod typed;

pub use config::Config;
pub use dynamic::{DynamicClient, DynamicObject};
pub use error::{Error, Result};
pub use meta::{
    ApiResource, DeleteOptions, List, ListMeta, ListOptions, Object, ObjectMeta, PatchType,
    Resource, Status, TypeMeta, WatchEvent,
};
pub use metadata::{MetadataClient, PartialObjectMetadata};
pub use pager::ListPager;
pub use rest::{Request, RestClient, WatchStream};
pub use typed::TypedClient;
