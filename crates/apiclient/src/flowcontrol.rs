//! Port of client-go `util/flowcontrol/throttle.go` (the token-bucket rate limiter) and the
//! throttling log of `rest/request.go` (`tryThrottleWithInfo`).
//!
//! Data flow: every request of a [`crate::rest::RestClient`] (except the first attempt of a
//! watch, as in Go) calls [`RateLimiter::wait`] before it is sent; retries call it again. The
//! bucket holds `burst` tokens and refills at `qps` per second, so a burst of `burst` requests
//! goes out at once and the rest are spaced `1/qps` apart.
//!
//! The bucket is governor's GCRA, driven by tokio's clock, so tests on a paused clock
//! (`#[tokio::test(start_paused = true)]`) measure exact rates. Differs from Go: waiting uses
//! `tokio::time::sleep` instead of a blocking `time.Sleep`, so it cancels with the future.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Gcra};

/// Default QPS of a client whose `qps` is 0. Port of rest/config.go: DefaultQPS.
pub const DEFAULT_QPS: f32 = 5.0;
/// Default burst of a client whose `burst` is 0. Port of rest/config.go: DefaultBurst.
pub const DEFAULT_BURST: u32 = 10;
/// A wait longer than this is logged at debug. Port of request.go: longThrottleLatency.
pub const LONG_THROTTLE_LATENCY: Duration = Duration::from_millis(50);
/// A wait longer than this is logged at info. Port of request.go: extraLongThrottleLatency.
pub const EXTRA_LONG_THROTTLE_LATENCY: Duration = Duration::from_secs(1);

/// governor clock reading tokio's (pausable) clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> Self::Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// A token-bucket rate limiter. Port of flowcontrol.NewTokenBucketRateLimiter.
///
/// Shared between clients by wrapping it in an `Arc` (Go shares the limiter the same way
/// through `Config.RateLimiter`).
pub struct RateLimiter {
    qps: f32,
    burst: u32,
    gcra: Gcra<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("qps", &self.qps)
            .field("burst", &self.burst)
            .finish()
    }
}

impl RateLimiter {
    /// A bucket of `burst` tokens refilled at `qps` per second; `None` when `qps` is not
    /// positive and finite (Go: a negative QPS disables throttling). A zero burst becomes 1.
    ///
    /// Port of flowcontrol.NewTokenBucketRateLimiter.
    pub fn new(qps: f32, burst: u32) -> Option<Self> {
        if !(qps.is_finite() && qps > 0.0) {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / f64::from(qps));
        let burst_nz = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)?.allow_burst(burst_nz);
        Some(RateLimiter {
            qps,
            burst,
            gcra: Gcra::direct_with_clock(quota, TokioClock),
        })
    }

    /// The configured QPS. Port of RateLimiter.QPS.
    pub fn qps(&self) -> f32 {
        self.qps
    }

    /// Takes a token if one is available now. Port of RateLimiter.TryAccept.
    pub fn try_accept(&self) -> bool {
        self.gcra.check().is_ok()
    }

    /// Waits until a token is available and takes it; returns how long it waited.
    ///
    /// Port of RateLimiter.Wait. # Cancel safety: cancel-safe; a cancelled wait takes no token.
    pub async fn wait(&self) -> Duration {
        let start = tokio::time::Instant::now();
        loop {
            match self.gcra.check() {
                Ok(()) => return start.elapsed(),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(TokioClock.now());
                    tokio::time::sleep(wait.max(Duration::from_micros(1))).await;
                }
            }
        }
    }

    /// Waits like [`RateLimiter::wait`] and logs a long wait the way client-go does:
    /// over 50 ms at debug, over 1 s at info.
    ///
    /// Port of request.go: tryThrottleWithInfo. # Cancel safety: as [`RateLimiter::wait`].
    pub async fn throttle(&self, verb: &str, url: &str, retry_info: Option<&str>) -> Duration {
        let latency = self.wait().await;
        if latency > LONG_THROTTLE_LATENCY {
            let why =
                retry_info.unwrap_or("due to client-side throttling, not priority and fairness");
            if latency > EXTRA_LONG_THROTTLE_LATENCY {
                tracing::info!(?latency, verb, url, "waited {why}");
            } else {
                tracing::debug!(?latency, verb, url, "waited {why}");
            }
        }
        latency
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn non_positive_qps_disables_throttling() {
        assert!(RateLimiter::new(-1.0, 10).is_none());
        assert!(RateLimiter::new(0.0, 10).is_none());
        assert!(RateLimiter::new(f32::NAN, 10).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn burst_goes_at_once_then_qps_spaces_requests() {
        let rl = RateLimiter::new(5.0, 10).unwrap();
        let start = tokio::time::Instant::now();
        for _ in 0..10 {
            assert_eq!(rl.wait().await, Duration::ZERO);
        }
        for _ in 0..10 {
            rl.wait().await;
        }
        let elapsed = start.elapsed();
        // 10 more tokens at 5/s: 2 s, within the clock's rounding.
        assert!(
            elapsed >= Duration::from_millis(1990) && elapsed <= Duration::from_millis(2010),
            "{elapsed:?}"
        );
        assert!(!rl.try_accept());
    }
}
