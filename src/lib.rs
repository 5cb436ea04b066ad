//! client-go's machinery, ported to Rust one to one.
//!
//! This facade re-exports the workspace's crates so a program can depend on one package:
//!
//! | module | client-go counterpart |
//! |---|---|
//! | [`workqueue`] | `k8s.io/client-go/util/workqueue` |
//! | [`apiclient`] | `rest`, `tools/clientcmd`, `tools/pager`, `util/flowcontrol`, `dynamic`, apimachinery `meta/v1` |
//! | [`informer`] | `tools/cache`, `informers` |
//! | [`controller`] | the controller pattern, `tools/leaderelection`, `tools/record` |
//!
//! Each crate can also be used on its own.

pub use apiclient;
pub use controller;
pub use informer;
pub use workqueue;
