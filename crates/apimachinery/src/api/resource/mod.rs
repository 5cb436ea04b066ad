//! Port of apimachinery `pkg/api/resource`.

pub mod quantity;
mod quantity_proto;

pub use quantity::{Quantity, QuantityError};
