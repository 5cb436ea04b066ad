//! client-go's machinery, ported to Rust one to one.
//!
//! This facade re-exports the workspace's crates so a program can depend on one package:
//!
//! | module | Go counterpart |
//! |---|---|
//! | [`apimachinery`] | `k8s.io/apimachinery` (`apis/meta/v1`, `api/errors`, `api/resource`, `labels`, `runtime`), client-go `tools/pager` |
//! | [`api`] | `k8s.io/api` (default features: core, apps, coordination, events) |
//! | [`workqueue`] | `k8s.io/client-go/util/workqueue` |
//! | [`apiclient`] | `rest`, `tools/clientcmd`, `util/flowcontrol`, `dynamic`, `metadata` |
//! | [`informer`] | `tools/cache`, `informers` |
//! | [`controller`] | the controller pattern, `tools/leaderelection`, `tools/record` |
//!
//! Each crate can also be used on its own.

pub use api;
pub use apiclient;
pub use apimachinery;
pub use controller;
pub use informer;
pub use workqueue;
