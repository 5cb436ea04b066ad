//! Port of apimachinery `pkg/util`: only [`intstr`] is needed by the types.

pub mod intstr;
