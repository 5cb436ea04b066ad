//! Port of apimachinery `pkg/util/intstr/intstr.go`: IntOrString, a field that holds either
//! an integer or a string (a port number or name, `25%` or `3` in a rollout).
//!
//! Differs from Go: an enum instead of a struct with a `Type` tag and both fields; the string
//! side is a shared [`Str`].

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use crate::Str;

/// An int32 or a string. Port of `intstr.IntOrString`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// Go: `Type == intstr.Int`, `IntVal`.
    Int(i32),
    /// Go: `Type == intstr.String`, `StrVal`.
    String(Str),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl IntOrString {
    /// Go: `FromInt32`.
    pub fn from_int(i: i32) -> Self {
        IntOrString::Int(i)
    }

    /// Go: `FromString`.
    #[doc(alias = "FromString")]
    pub fn from_string(s: &str) -> Self {
        IntOrString::String(Str::from(s))
    }

    /// The integer, or the string parsed as one (0 if it is not). Port of `IntValue`.
    pub fn int_value(&self) -> i32 {
        match self {
            IntOrString::Int(i) => *i,
            IntOrString::String(s) => s.parse().unwrap_or(0),
        }
    }
}

impl fmt::Display for IntOrString {
    /// Port of `String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(i) => s.serialize_i32(*i),
            IntOrString::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    /// Port of `UnmarshalJSON`: a JSON string is a string, a JSON number an int32.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an int32 or a string")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<IntOrString, E> {
                i32::try_from(n)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format_args!("{n} is out of range for an int32")))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<IntOrString, E> {
                i32::try_from(n)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format_args!("{n} is out of range for an int32")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(Str::from(s)))
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
    fn numbers_and_strings_keep_their_json_type() {
        let i: IntOrString = serde_json::from_str("8080").unwrap();
        let s: IntOrString = serde_json::from_str("\"25%\"").unwrap();
        assert_eq!(i, IntOrString::Int(8080));
        assert_eq!(s.to_string(), "25%");
        assert_eq!(serde_json::to_string(&i).unwrap(), "8080");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"25%\"");
        assert!(serde_json::from_str::<IntOrString>("99999999999").is_err());
        assert!(serde_json::from_str::<IntOrString>("true").is_err());
        assert_eq!(IntOrString::from_string("42").int_value(), 42);
    }
}

/// Port of intstr's `generated.pb.go`: `{1: type, 2: intVal, 3: strVal}`, all three written
/// always, as Go writes them.
mod proto {
    use super::IntOrString;
    use crate::Str;
    use crate::runtime::wire::{
        Field, ProtoError, Reader, WireType, len_field_len, merge, put_key, put_len_field,
        put_varint,
    };

    fn parts(v: &IntOrString) -> (i64, i32, &str) {
        match v {
            IntOrString::Int(i) => (0, *i, ""),
            IntOrString::String(s) => (1, 0, s.as_str()),
        }
    }

    fn body_len(v: &IntOrString) -> usize {
        let (t, i, s) = parts(v);
        t.field_len(1) + i.field_len(2) + len_field_len(3, s.len())
    }

    impl Field for IntOrString {
        fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
            const N: &str = "IntOrString";
            if wire != WireType::Len {
                return Err(ProtoError::wrong_wire_type(N, 0, wire));
            }
            let mut m = r.nested()?;
            let (mut t, mut i, mut s) = (0i64, 0i32, Str::default());
            while let Some((f, w)) = m.key()? {
                match f {
                    1 => merge(&mut t, N, f, w, &mut m)?,
                    2 => merge(&mut i, N, f, w, &mut m)?,
                    3 => merge(&mut s, N, f, w, &mut m)?,
                    _ => m.skip(w)?,
                }
            }
            *self = match t {
                0 => IntOrString::Int(i),
                1 => IntOrString::String(s),
                other => {
                    return Err(ProtoError::Invalid(format!(
                        "IntOrString type {other} is neither 0 (int) nor 1 (string)"
                    )));
                }
            };
            Ok(())
        }
        fn field_len(&self, field: u32) -> usize {
            len_field_len(field, body_len(self))
        }
        fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
            put_key(out, field, WireType::Len);
            put_varint(out, body_len(self) as u64);
            let (t, i, s) = parts(self);
            t.encode_field(1, out);
            i.encode_field(2, out);
            put_len_field(out, 3, s.as_bytes());
        }
    }

    #[cfg(test)]
    #[allow(clippy::unwrap_used)]
    mod tests {
        use super::*;

        #[test]
        fn both_forms_round_trip_and_an_unknown_type_is_an_error() {
            for v in [IntOrString::Int(-8080), IntOrString::from_string("25%")] {
                let mut out = Vec::new();
                v.encode_field(4, &mut out);
                assert_eq!(out.len(), v.field_len(4));
                let mut r = Reader::new(&out);
                let (_, w) = r.key().unwrap().unwrap();
                let mut got = IntOrString::default();
                got.merge_field(w, &mut r).unwrap();
                assert_eq!(got, v);
            }
            let bad = [0x22, 0x02, 0x08, 0x07];
            let mut r = Reader::new(&bad);
            let (_, w) = r.key().unwrap().unwrap();
            assert!(matches!(
                IntOrString::default().merge_field(w, &mut r),
                Err(ProtoError::Invalid(_))
            ));
        }
    }
}
