//! client-go's machinery, ported to Rust one to one.
//!
//! This facade re-exports the workspace's crates so a program can depend on one package:
//!
//! | module | client-go counterpart |
//! |---|---|
//! | [`workqueue`] | `k8s.io/client-go/util/workqueue` |
//!
//! Each crate can also be used on its own.

pub use workqueue;
