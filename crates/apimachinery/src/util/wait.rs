//! Port of apimachinery `pkg/util/wait/jitter.go`: the one jitter every waiting loop uses.
//!
//! The reflector's back-off and watch timeout and the leader elector's retry period spread
//! their waits with [`jitter`], so many clients started together do not hit the API server in
//! step.

use std::time::Duration;

/// Port of util/wait/jitter.go: `Jitter`.
///
/// Returns a duration in `[duration, duration × (1 + max_factor))`, drawn uniformly. As in Go,
/// a `max_factor` of zero or less means 1.0.
pub fn jitter(duration: Duration, max_factor: f64) -> Duration {
    jitter_with(duration, max_factor, rand::random::<f64>())
}

/// [`jitter`] with the random draw `r` in `[0, 1)` given, for exact tests.
pub(crate) fn jitter_with(duration: Duration, max_factor: f64, r: f64) -> Duration {
    let max_factor = if max_factor <= 0.0 { 1.0 } else { max_factor };
    duration + duration.mul_f64(r * max_factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_its_window() {
        let d = Duration::from_secs(2);
        assert_eq!(jitter_with(d, 1.2, 0.0), d);
        assert_eq!(jitter_with(d, 1.2, 0.5), Duration::from_millis(3200));
        for _ in 0..1000 {
            let j = jitter(d, 1.2);
            assert!(j >= d && j < d.mul_f64(2.2), "{j:?}");
        }
    }

    #[test]
    fn a_factor_of_zero_or_less_means_one() {
        let d = Duration::from_secs(1);
        assert_eq!(jitter_with(d, 0.0, 0.5), Duration::from_millis(1500));
        assert_eq!(jitter_with(d, -3.0, 0.5), Duration::from_millis(1500));
    }
}
