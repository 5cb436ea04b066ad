//! Port of k8s.io/apimachinery (semantics of client-go v0.35, whose apimachinery is v0.35):
//! the types and rules every Kubernetes object shares, with no HTTP.
//!
//! | Rust | Go (`k8s.io/apimachinery/pkg/…`) |
//! |---|---|
//! | [`meta`]: [`ObjectMeta`](meta::ObjectMeta), [`ListMeta`](meta::ListMeta), [`Status`](meta::Status), [`Time`](meta::Time), [`List`](meta::List), [`WatchEvent`](meta::WatchEvent), options, the [`Object`](meta::Object) and [`Resource`](meta::Resource) traits | `apis/meta/v1`, `runtime/schema` |
//! | [`api::resource::Quantity`] | `api/resource` |
//! | [`api::errors`]: the [`Error`](api::errors::Error) with `is_not_found()` and friends | `api/errors` |
//! | [`util::intstr::IntOrString`] | `util/intstr` |
//! | [`runtime`]: [`RawExtension`](runtime::RawExtension), [`Unknown`](runtime::Unknown) | `runtime/types.go` |
//! | [`selectors`]: label and field selectors | `labels`, `fields` |
//! | [`pager`]: [`ListPager`](pager::ListPager) | client-go `tools/pager` (no HTTP, so it lives here for the reflector) |
//!
//! # Laid out for caches
//!
//! An informer keeps every object of a type in memory, so the layout of these types (and of
//! the generated ones in the `api` crate) is chosen for that:
//! - strings are [`Str`]: 8 bytes, and equal strings decoded anywhere in the process share one
//!   allocation ([`intern`]);
//! - maps are [`StrMap`]: one exact-size sorted slice;
//! - vectors are [`ThinVec`]s (one pointer, so an absent one costs 8 bytes), decoded
//!   exact-size ([`compact`]);
//! - `managedFields[].fieldsV1`, [`RawExtension`](runtime::RawExtension) and other free-form
//!   JSON stay raw text, as Go keeps them as `[]byte`;
//! - [`Time`](meta::Time) is one `i64`, [`Quantity`](api::resource::Quantity) one [`Str`].
//!
//! ```
//! use apimachinery::meta::{Object, ObjectMeta};
//!
//! let meta: ObjectMeta = serde_json::from_str(
//!     r#"{"name":"web","namespace":"default","labels":{"app":"web"},
//!         "creationTimestamp":"2026-11-25T10:00:00Z"}"#)?;
//! assert_eq!(meta.name(), "web");
//! assert_eq!(meta.labels().get("app").map(|v| v.as_str()), Some("web"));
//! assert_eq!(meta.creation_timestamp.map(|t| t.to_string()).as_deref(), Some("2026-11-25T10:00:00Z"));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod api;
mod byte_string;
pub mod compact;
pub mod intern;
#[cfg(feature = "k8s-openapi")]
pub mod k8s_openapi_impls;
pub mod meta;
pub mod pager;
pub mod runtime;
pub mod selectors;
mod str_map;
pub mod util;

pub use api::errors::{Error, Result};
pub use byte_string::ByteString;
pub use intern::Str;
pub use meta::{
    ApiResource, DeleteOptions, List, ListMeta, ListOptions, Object, ObjectMeta, PatchType,
    Resource, Status, TypeMeta, WatchEvent,
};
pub use str_map::StrMap;
pub use thin_vec::{ThinVec, thin_vec};
