//! Port of apimachinery `pkg/api`: [`resource`] (Quantity) and [`errors`] (StatusError and
//! its predicates).

pub mod errors;
pub mod resource;
