//! [`ByteString`]: Go's `[]byte` fields (Secret `data`, ConfigMap `binaryData`, CSR
//! `request`), which JSON carries as standard base64.
//!
//! Port of `encoding/json`'s rule for `[]byte`: encode as base64 with padding; decode base64,
//! and `null` as empty.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// Bytes that travel as base64 in JSON. Differs from Go: `Debug` prints the length only, as
/// these fields hold secrets.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ByteString(pub Vec<u8>);

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ByteString({} bytes)", self.0.len())
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("base64-encoded bytes")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ByteString, E> {
                STANDARD
                    .decode(s)
                    .map(ByteString)
                    .map_err(|e| E::custom(format_args!("illegal base64 data: {e}")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ByteString, E> {
                Ok(ByteString::default())
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_debug_hides_the_content() {
        let b: ByteString = serde_json::from_str("\"c2VjcmV0\"").unwrap();
        assert_eq!(b.0, b"secret");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"c2VjcmV0\"");
        assert_eq!(format!("{b:?}"), "ByteString(6 bytes)");
        assert!(serde_json::from_str::<ByteString>("\"not base64!\"").is_err());
    }
}
