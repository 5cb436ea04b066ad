//! The client-go controller pattern, on this workspace's own crates: the worker loop with
//! rate-limited retries, leader election (`tools/leaderelection`) and event recording
//! (`tools/record`).
//!
//! | Rust | Go |
//! |---|---|
//! | [`leaderelection`] | `k8s.io/client-go/tools/leaderelection` |
//! | [`record`] | `k8s.io/client-go/tools/record` |
//! | [`signals`] | sample-controller's `pkg/signals` |

pub mod leaderelection;
pub mod record;
pub mod signals;
