//! Exact-size decoding of JSON arrays into [`ThinVec`]s, for `#[serde(deserialize_with = …)]`.
//!
//! No Go counterpart: Go's `encoding/json` grows slices by appending too, but here the object
//! lives in a cache for hours, so growth slack would stay: a pod's two containers would sit in
//! room for four. These functions collect the array, then allocate it once at its exact length.
//! A [`ThinVec`] keeps its length and capacity in its heap block, so the field itself is one
//! pointer and an absent or empty array costs 8 bytes.
//!
//! `null` decodes as empty (or `None`), as Go decodes `null` into a nil slice: the server
//! writes nil slices as `null` even in required fields (a watch BOOKMARK's pod has
//! `"containers": null`).

use serde::{Deserialize, Deserializer};

use crate::ThinVec;

fn exact<T>(v: Vec<T>) -> ThinVec<T> {
    let mut out = ThinVec::with_capacity(v.len());
    out.extend(v);
    out
}

/// Decodes a JSON array (or `null`, as empty) into an exact-size `ThinVec`.
pub fn vec<'de, D, T>(d: D) -> Result<ThinVec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.map_or_else(ThinVec::new, exact))
}

/// Decodes an optional JSON array (`null` is `None`) into an exact-size `ThinVec`.
pub fn opt_vec<'de, D, T>(d: D) -> Result<Option<ThinVec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.map(exact))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::ThinVec;

    #[derive(serde::Deserialize)]
    struct S {
        #[serde(default, deserialize_with = "super::opt_vec")]
        a: Option<ThinVec<u32>>,
        #[serde(default, deserialize_with = "super::vec")]
        b: ThinVec<u32>,
    }

    #[test]
    fn decoded_vectors_have_no_spare_capacity() {
        let s: S = serde_json::from_str(r#"{"a":[1,2,3,4,5],"b":[1]}"#).unwrap();
        let a = s.a.unwrap();
        assert_eq!((a.len(), a.capacity()), (5, 5));
        assert_eq!((s.b.len(), s.b.capacity()), (1, 1));
    }

    #[test]
    fn null_is_none_or_empty_as_go_reads_a_nil_slice() {
        let s: S = serde_json::from_str(r#"{"a":null,"b":null}"#).unwrap();
        assert!(s.a.is_none() && s.b.is_empty());
        assert_eq!(size_of::<Option<ThinVec<u32>>>(), 8);
    }
}
