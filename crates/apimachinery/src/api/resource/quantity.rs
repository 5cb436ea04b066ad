//! Port of apimachinery `pkg/api/resource/quantity.go`: Quantity, a fixed-point number with
//! an SI or binary suffix (`100m`, `128Mi`, `1.5`, `2e3`).
//!
//! Data flow: decoding checks the text against Go's grammar (`ParseQuantity`) and keeps the
//! text itself, shared like every [`Str`]; the numeric value is computed when asked for
//! ([`Quantity::milli_value`], [`Quantity::value`], [`Quantity::as_approximate_float64`]).
//! A cached pod's requests and limits thus cost one pointer each.
//!
//! Differs from Go: Go re-encodes a quantity in canonical form (`1000m` becomes `1`); here the
//! text round-trips exactly as the server sent it (which is canonical already); Go's
//! `CanonicalizeBytes` is not ported.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use crate::Str;

/// A quantity such as `100m` or `128Mi`. Port of `resource.Quantity`.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Quantity(Str);

/// A quantity string that does not match Go's grammar. Port of `ErrFormatWrong` /
/// `ErrSuffix` / `ErrNumeric`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {0:?}"
)]
pub struct QuantityError(pub String);

/// A parsed quantity: `sign · digits · 10^exp10 · 2^exp2`, with `digits` the decimal digits
/// without the point.
struct Parsed<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
    exp10: i32,
    exp2: i32,
}

fn parse(s: &str) -> Option<Parsed<'_>> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let num_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (num, suffix) = rest.split_at(num_end);
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    let (exp10, exp2) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => {
            // Decimal exponent: e or E, then a signed integer.
            let exp = suffix.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (exp.parse::<i32>().ok()?, 0)
        }
    };
    Some(Parsed {
        negative,
        int,
        frac,
        exp10,
        exp2,
    })
}

impl Quantity {
    /// Parses `s` (surrounding spaces trimmed, as Go does). Port of `ParseQuantity`.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let t = s.trim();
        if t.is_empty() || parse(t).is_none() {
            return Err(QuantityError(s.to_owned()));
        }
        Ok(Quantity(Str::from(t)))
    }

    /// The text, as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value scaled by 10^`scale`, rounded up (away from zero for positive values, as Go's
    /// `ScaledValue` rounds with `math.Ceil`). Saturates at the `i64` range.
    fn scaled(&self, scale: i32) -> i64 {
        let Some(p) = parse(&self.0) else { return 0 };
        // digits · 10^(exp10 - len(frac) + scale) · 2^exp2, computed in i128 with saturation.
        let mut v: i128 = 0;
        for b in p.int.bytes().chain(p.frac.bytes()) {
            v = v.saturating_mul(10).saturating_add(i128::from(b - b'0'));
        }
        let frac_len = i32::try_from(p.frac.len()).unwrap_or(i32::MAX);
        let mut e10 = p.exp10.saturating_sub(frac_len).saturating_add(scale);
        let mut e2 = p.exp2;
        while e2 > 0 {
            v = v.saturating_mul(2);
            e2 -= 1;
        }
        let mut round_up = false;
        while e10 > 0 {
            v = v.saturating_mul(10);
            e10 -= 1;
        }
        while e10 < 0 {
            if v % 10 != 0 {
                round_up = true;
            }
            v /= 10;
            e10 += 1;
            if v == 0 {
                break;
            }
        }
        if p.negative {
            v = -v;
        } else if round_up {
            v += 1;
        }
        i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
    }

    /// The value in whole units, rounded up. Port of `Quantity.Value`.
    pub fn value(&self) -> i64 {
        self.scaled(0)
    }

    /// The value in thousandths, rounded up (`100m` → 100, `1` → 1000). Port of
    /// `Quantity.MilliValue`.
    pub fn milli_value(&self) -> i64 {
        self.scaled(3)
    }

    /// The value as a float, possibly rounded. Port of `Quantity.AsApproximateFloat64`.
    pub fn as_approximate_float64(&self) -> f64 {
        let Some(p) = parse(&self.0) else { return 0.0 };
        let mut text = String::with_capacity(p.int.len() + p.frac.len() + 2);
        text.push_str(if p.int.is_empty() { "0" } else { p.int });
        if !p.frac.is_empty() {
            text.push('.');
            text.push_str(p.frac);
        }
        let base: f64 = text.parse().unwrap_or(0.0);
        let v = base * 10f64.powi(p.exp10) * 2f64.powi(p.exp2);
        if p.negative { -v } else { v }
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quantity({:?})", self.0.as_str())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    /// Port of `Quantity.UnmarshalJSON`: a string, or a bare JSON number (which Go accepts).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as \"100m\" or \"128Mi\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Quantity, E> {
                Quantity::parse(s).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Quantity, E> {
                Ok(Quantity(Str::from(n.to_string())))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Quantity, E> {
                Ok(Quantity(Str::from(n.to_string())))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Quantity, E> {
                Quantity::parse(&n.to_string()).map_err(E::custom)
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
    fn values_follow_go_scaling_and_round_up() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        assert_eq!(q("100m").milli_value(), 100);
        assert_eq!(q("1").milli_value(), 1000);
        assert_eq!(q("1.5").milli_value(), 1500);
        assert_eq!(q("128Mi").value(), 128 << 20);
        assert_eq!(q("1Ki").value(), 1024);
        assert_eq!(q("2e3").value(), 2000);
        assert_eq!(
            q("100m").value(),
            1,
            "Value rounds up like Go's ScaledValue"
        );
        assert_eq!(q("1n").milli_value(), 1);
        assert_eq!(q("-1.5").milli_value(), -1500);
        assert_eq!(q("0.5Gi").as_approximate_float64(), 536_870_912.0);
    }

    #[test]
    fn malformed_quantities_are_refused() {
        for bad in ["", "12xyz", "1.2.3", "Mi", "1e", "1e+", "--1", "1 Mi", "."] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?}");
        }
        let e = serde_json::from_str::<Quantity>("\"12xyz\"").unwrap_err();
        assert!(e.to_string().contains("12xyz"), "{e}");
    }

    #[test]
    fn text_round_trips_and_bare_numbers_decode() {
        let q: Quantity = serde_json::from_str("\"500m\"").unwrap();
        assert_eq!(serde_json::to_string(&q).unwrap(), "\"500m\"");
        let q: Quantity = serde_json::from_str("3").unwrap();
        assert_eq!(q.as_str(), "3");
    }
}
