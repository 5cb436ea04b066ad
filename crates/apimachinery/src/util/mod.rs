//! Port of apimachinery `pkg/util`: [`intstr`] for the types, [`wait`]'s jitter for every
//! waiting loop, and [`sync`], the Rust-only poison-tolerant lock helpers.

pub mod intstr;
pub mod sync;
pub mod wait;
