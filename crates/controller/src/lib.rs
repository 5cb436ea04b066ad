//! The client-go controller pattern, on this workspace's own crates: the worker loop with
//! rate-limited retries, leader election (`tools/leaderelection`) and event recording
//! (`tools/record`). Semantics of client-go v0.35 (and controller-runtime's reconcile result).
//!
//! | Rust | Go |
//! |---|---|
//! | [`Controller`] | `examples/workqueue/main.go`, sample-controller's `controller.go` |
//! | [`Action`], [`ReconcileError`] | controller-runtime's `pkg/reconcile` `Result`; the `error` given to `handleErr` |
//! | [`leaderelection`] | `k8s.io/client-go/tools/leaderelection` |
//! | [`record`] | `k8s.io/client-go/tools/record` |
//! | [`signals`] | sample-controller's `pkg/signals` |

mod controller;
pub mod leaderelection;
mod reconcile;
pub mod record;
pub mod signals;

pub use controller::{Controller, ControllerConfig, DEFAULT_MAX_RETRIES, Error};
pub use reconcile::{Action, ReconcileError};

/// The `prometheus-client` the `metrics` feature's families are built on, for a program's
/// registry and `/metrics` encoding.
#[cfg(feature = "metrics")]
pub use prometheus_client;
