//! Port of apimachinery `pkg/api/resource/quantity_proto.go`: a Quantity travels as the
//! message `{1: string}` holding its text.
//!
//! Differs from Go: Go writes the canonical form (`String()`); this writes the text as it was
//! parsed or received, which the JSON form also keeps. Both parse to the same value.

use crate::api::resource::Quantity;
use crate::runtime::wire::{
    Field, ProtoError, Reader, WireType, put_single_bytes, read_single_bytes, single_bytes_len,
};

impl Field for Quantity {
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        if let Some(b) = read_single_bytes("Quantity", wire, r)? {
            let s = std::str::from_utf8(b).map_err(|_| ProtoError::InvalidUtf8)?;
            *self = Quantity::parse(s).map_err(|e| ProtoError::Invalid(e.to_string()))?;
        }
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        single_bytes_len(field, self.as_str().as_bytes(), true)
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        put_single_bytes(out, field, self.as_str().as_bytes(), true);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::runtime::wire::{put_key, put_len_field, put_varint};

    #[test]
    fn a_quantity_round_trips_and_a_malformed_one_is_an_error() {
        let q = Quantity::parse("1500m").unwrap();
        let mut out = Vec::new();
        q.encode_field(3, &mut out);
        assert_eq!(out.len(), q.field_len(3));
        let mut r = Reader::new(&out);
        let (_, w) = r.key().unwrap().unwrap();
        let mut got = Quantity::default();
        got.merge_field(w, &mut r).unwrap();
        assert_eq!(got, q);

        let mut bad = Vec::new();
        put_key(&mut bad, 3, WireType::Len);
        put_varint(&mut bad, 5);
        put_len_field(&mut bad, 1, b"1x2");
        let mut r = Reader::new(&bad);
        let (_, w) = r.key().unwrap().unwrap();
        assert!(matches!(
            Quantity::default().merge_field(w, &mut r),
            Err(ProtoError::Invalid(_))
        ));
    }
}
