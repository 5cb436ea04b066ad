//! Exact-size decoding of JSON arrays, for `#[serde(deserialize_with = …)]` on `Vec` fields.
//!
//! No Go counterpart: Go's `encoding/json` grows slices by appending too, but Rust's derive
//! leaves the growth slack in place for the object's lifetime: a pod's two containers sit in
//! room for four. These functions decode the array, then shrink the vector to its length, so a
//! cached object holds no spare capacity.

use serde::{Deserialize, Deserializer};

/// Decodes a JSON array into a `Vec` whose capacity equals its length.
pub fn vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut v = Vec::<T>::deserialize(d)?;
    v.shrink_to_fit();
    Ok(v)
}

/// Decodes an optional JSON array (`null` is `None`) into an exact-size `Vec`.
pub fn opt_vec<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut v = Option::<Vec<T>>::deserialize(d)?;
    if let Some(v) = &mut v {
        v.shrink_to_fit();
    }
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[derive(serde::Deserialize)]
    struct S {
        #[serde(default, deserialize_with = "super::opt_vec")]
        a: Option<Vec<u32>>,
        #[serde(default, deserialize_with = "super::vec")]
        b: Vec<u32>,
    }

    #[test]
    fn decoded_vectors_have_no_spare_capacity() {
        let s: S = serde_json::from_str(r#"{"a":[1,2,3,4,5],"b":[1]}"#).unwrap();
        let a = s.a.unwrap();
        assert_eq!((a.len(), a.capacity()), (5, 5));
        assert_eq!((s.b.len(), s.b.capacity()), (1, 1));
        let s: S = serde_json::from_str(r#"{"a":null}"#).unwrap();
        assert!(s.a.is_none() && s.b.is_empty());
    }
}
