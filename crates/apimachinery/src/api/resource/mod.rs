//! Port of apimachinery `pkg/api/resource`.

pub mod quantity;

pub use quantity::{Quantity, QuantityError};
