//! Port of apimachinery pkg/apis/meta/v1 time.go and micro_time.go: how `metav1.Time` and
//! `metav1.MicroTime` are written on the wire (RFC 3339 in UTC, to the second and to the
//! microsecond).

use time::OffsetDateTime;

/// `t` as a `metav1.Time` string, e.g. `2026-11-25T18:00:00Z`. Port of `Time.MarshalJSON`.
pub(crate) fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `t` as a `metav1.MicroTime` string, e.g. `2026-11-25T18:00:00.123456Z`. Port of
/// `MicroTime.MarshalJSON`.
pub(crate) fn format_micro_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}.{:06}Z",
        format_time(t).trim_end_matches('Z'),
        t.microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_to_the_second_and_the_microsecond() {
        // 2026-11-05T07:04:09.123456789Z, seen from a +01:00 zone.
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_793_862_249_123_456_789)
            .map(|t| {
                t.to_offset(time::UtcOffset::from_hms(1, 0, 0).unwrap_or(time::UtcOffset::UTC))
            })
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(format_time(t), "2026-11-05T07:04:09Z");
        assert_eq!(format_micro_time(t), "2026-11-05T07:04:09.123456Z");
    }
}
