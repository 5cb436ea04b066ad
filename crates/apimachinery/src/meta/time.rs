//! Port of apimachinery `pkg/apis/meta/v1/time.go` and `micro_time.go`: Time and MicroTime,
//! the timestamps of API objects, in RFC 3339 on the wire.
//!
//! Data flow: decoding parses the RFC 3339 text (any offset, any fraction) into seconds (or
//! microseconds) since the Unix epoch in one `i64`; encoding writes UTC with Go's layout
//! (`2006-01-02T15:04:05Z`, or `2006-01-02T15:04:05.000000Z` for MicroTime). The zero value
//! is Go's zero time (year 1), which encodes as `null`, and `null` decodes to it.
//!
//! Differs from Go: Go keeps the parsed nanoseconds of a Time in memory and drops them when
//! encoding; here they are dropped when decoding, so a Time is 8 bytes and compares as it
//! encodes.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds from 0001-01-01T00:00:00Z (Go's zero time) to the Unix epoch, negated.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// A timestamp with second precision. Port of `metav1.Time`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    unix: i64,
}

/// A timestamp with microsecond precision. Port of `metav1.MicroTime`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime {
    unix_micros: i64,
}

impl Default for Time {
    /// Go's zero time.
    fn default() -> Self {
        Time { unix: GO_ZERO_UNIX }
    }
}

impl Default for MicroTime {
    /// Go's zero time.
    fn default() -> Self {
        MicroTime {
            unix_micros: GO_ZERO_UNIX * 1_000_000,
        }
    }
}

/// A timestamp that is not RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("parsing time {0:?} as RFC 3339 (\"2006-01-02T15:04:05Z07:00\") failed")]
pub struct TimeError(pub String);

fn parse(s: &str) -> Result<OffsetDateTime, TimeError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|_| TimeError(s.to_owned()))
}

fn write_utc(f: &mut impl fmt::Write, unix: i64, micros: Option<u32>) -> fmt::Result {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(unix) else {
        return f.write_str("invalid-time");
    };
    write!(
        f,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )?;
    if let Some(us) = micros {
        write!(f, ".{us:06}")?;
    }
    f.write_str("Z")
}

impl Time {
    /// The time `secs` seconds after the Unix epoch.
    pub const fn from_unix(secs: i64) -> Self {
        Time { unix: secs }
    }

    /// Seconds since the Unix epoch.
    pub const fn unix(self) -> i64 {
        self.unix
    }

    /// The current time, truncated to seconds. Port of `metav1.Now`.
    pub fn now() -> Self {
        Time::from_unix(OffsetDateTime::now_utc().unix_timestamp())
    }

    /// True for Go's zero time. Port of `Time.IsZero`.
    pub fn is_zero(self) -> bool {
        self.unix == GO_ZERO_UNIX
    }

    /// Parses RFC 3339 text (the fraction is dropped).
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        Ok(Time::from_unix(parse(s)?.unix_timestamp()))
    }

    /// The UTC RFC 3339 text Go writes: `2006-01-02T15:04:05Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl MicroTime {
    /// The time `micros` microseconds after the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        MicroTime {
            unix_micros: micros,
        }
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.unix_micros
    }

    /// The current time, truncated to microseconds. Port of `metav1.NowMicro`.
    pub fn now() -> Self {
        let t = OffsetDateTime::now_utc();
        let us = t.unix_timestamp_nanos() / 1000;
        MicroTime::from_unix_micros(i64::try_from(us).unwrap_or(i64::MAX))
    }

    /// True for Go's zero time.
    pub fn is_zero(self) -> bool {
        self == MicroTime::default()
    }

    /// Parses RFC 3339 text (below a microsecond is dropped).
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let t = parse(s)?;
        let us = t.unix_timestamp_nanos().div_euclid(1000);
        i64::try_from(us)
            .map(MicroTime::from_unix_micros)
            .map_err(|_| TimeError(s.to_owned()))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_utc(f, self.unix, None)
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Time({self})")
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.unix_micros.div_euclid(1_000_000);
        let us = u32::try_from(self.unix_micros.rem_euclid(1_000_000)).unwrap_or(0);
        write_utc(f, secs, Some(us))
    }
}

impl fmt::Debug for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MicroTime({self})")
    }
}

impl Serialize for Time {
    /// Port of `Time.MarshalJSON`: `null` for the zero time, else UTC RFC 3339.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_zero() {
            s.serialize_none()
        } else {
            s.collect_str(self)
        }
    }
}

impl Serialize for MicroTime {
    /// Port of `MicroTime.MarshalJSON`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_zero() {
            s.serialize_none()
        } else {
            s.collect_str(self)
        }
    }
}

struct TimeVisitor<T>(fn(&str) -> Result<T, TimeError>, T);

impl<T> Visitor<'_> for TimeVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        (self.0)(s).map_err(E::custom)
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(self.1)
    }
}

impl<'de> Deserialize<'de> for Time {
    /// Port of `Time.UnmarshalJSON`: `null` is the zero time.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimeVisitor(Time::parse, Time::default()))
    }
}

impl<'de> Deserialize<'de> for MicroTime {
    /// Port of `MicroTime.UnmarshalJSON`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimeVisitor(MicroTime::parse, MicroTime::default()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn time_encodes_utc_seconds_and_null_for_zero() {
        let t: Time = serde_json::from_str("\"2026-11-25T10:00:00Z\"").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-11-25T10:00:00Z\""
        );
        let t: Time = serde_json::from_str("\"2026-11-25T12:00:00.75+02:00\"").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T10:00:00Z");
        assert_eq!(serde_json::to_string(&Time::default()).unwrap(), "null");
        assert!(serde_json::from_str::<Time>("null").unwrap().is_zero());
        assert_eq!(size_of::<Time>(), 8);
    }

    #[test]
    fn micro_time_keeps_six_digits() {
        let t: MicroTime = serde_json::from_str("\"2026-11-25T10:00:00.123456Z\"").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-11-25T10:00:00.123456Z\""
        );
        let t: MicroTime = serde_json::from_str("\"1969-12-31T23:59:59.5Z\"").unwrap();
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.500000Z");
    }

    #[test]
    fn malformed_times_are_refused_with_the_text() {
        for bad in [
            "\"yesterday\"",
            "\"2026-13-01T00:00:00Z\"",
            "\"2026-11-25\"",
            "5",
        ] {
            let e = serde_json::from_str::<Time>(bad).unwrap_err();
            assert!(!e.to_string().is_empty());
        }
        let e = serde_json::from_str::<Time>("\"yesterday\"").unwrap_err();
        assert!(e.to_string().contains("yesterday"), "{e}");
    }
}
