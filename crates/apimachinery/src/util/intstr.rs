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
