//! Port of util/workqueue/default_rate_limiters.go: how long a failed item waits before its next
//! try.
//!
//! # Data flow
//!
//! [`RateLimitingQueue::add_rate_limited`](crate::RateLimitingQueue::add_rate_limited) asks a
//! [`RateLimiter`] `when` the item may come back; that call also records the failure. `forget`
//! clears the record after a success. Limiters compose: [`default_controller_rate_limiter`] is the
//! maximum of a per-item exponential back-off and an overall token bucket, so one failing key
//! backs off on its own while a storm of failures cannot exceed 10 retries per second overall.
//!
//! Defaults cite default_rate_limiters.go: 5 ms doubling to 1000 s per item, 10 qps with a burst of
//! 100 overall.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::Quota;
use governor::clock::{Clock, DefaultClock, Reference};

use crate::lock::MutexExt;
use crate::queue::HashMap;

/// Decides how long an item waits before it is retried.
///
/// Port of default_rate_limiters.go: `RateLimiter` (`TypedRateLimiter[T]`). Implementations use
/// interior mutability because one limiter serves every worker.
pub trait RateLimiter<T>: Send + Sync {
    /// Records a failure of `item` and returns how long to wait before retrying it.
    fn when(&self, item: &T) -> Duration;
    /// Stops tracking `item`, whether it succeeded or was given up on.
    fn forget(&self, item: &T);
    /// How many failures of `item` are being tracked.
    fn num_requeues(&self, item: &T) -> usize;
}

impl<T, L: RateLimiter<T> + ?Sized> RateLimiter<T> for Box<L> {
    fn when(&self, item: &T) -> Duration {
        (**self).when(item)
    }
    fn forget(&self, item: &T) {
        (**self).forget(item)
    }
    fn num_requeues(&self, item: &T) -> usize {
        (**self).num_requeues(item)
    }
}

impl<T, L: RateLimiter<T> + ?Sized> RateLimiter<T> for Arc<L> {
    fn when(&self, item: &T) -> Duration {
        (**self).when(item)
    }
    fn forget(&self, item: &T) {
        (**self).forget(item)
    }
    fn num_requeues(&self, item: &T) -> usize {
        (**self).num_requeues(item)
    }
}

/// Per-item failure counts, for the per-item limiters.
struct FailureCounts<T, N> {
    map: Mutex<HashMap<T, N>>,
    /// `map.len()`, stored under the lock after every change, so `forget` and `num_requeues` for
    /// an item when nothing is tracked (every success of a healthy controller) take no lock and
    /// hash nothing. A failure recorded before the item went back through the queue (whose lock
    /// orders the two) is always seen here.
    len: AtomicUsize,
}

impl<T: Eq + Hash, N: Copy> FailureCounts<T, N> {
    fn new() -> Self {
        Self {
            map: Mutex::new(HashMap::default()),
            len: AtomicUsize::new(0),
        }
    }

    /// Changes the counts under the lock.
    fn update<R>(&self, change: impl FnOnce(&mut HashMap<T, N>) -> R) -> R {
        // Every change is a single map update: a poisoned lock is still consistent.
        let mut map: MutexGuard<'_, HashMap<T, N>> = self.map.lock_unpoisoned();
        let result = change(&mut map);
        self.len.store(map.len(), Ordering::Release);
        result
    }

    fn forget(&self, item: &T) {
        if self.len.load(Ordering::Acquire) > 0 {
            self.update(|map| map.remove(item));
        }
    }

    fn get(&self, item: &T) -> Option<N> {
        if self.len.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.map.lock_unpoisoned().get(item).copied()
    }
}

/// The limiter controllers use unless told otherwise: the larger of a per-item exponential back-off
/// (5 ms doubling to 1000 s) and an overall token bucket (10 qps, burst 100).
///
/// Port of default_rate_limiters.go: `DefaultControllerRateLimiter`.
pub fn default_controller_rate_limiter<T>() -> MaxOfRateLimiter<T>
where
    T: Clone + Eq + Hash + Send + Sync + 'static,
{
    controller_rate_limiter_with(BucketRateLimiter::new(default_controller_quota()))
}

/// The overall bucket of [`default_controller_rate_limiter`]: 10 qps, burst 100.
fn default_controller_quota() -> Quota {
    const QPS: NonZeroU32 = match NonZeroU32::new(10) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    };
    const BURST: NonZeroU32 = match NonZeroU32::new(100) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    };
    Quota::per_second(QPS).allow_burst(BURST)
}

/// [`default_controller_rate_limiter`] around a given bucket (tests pass one on a fake clock).
fn controller_rate_limiter_with<T, B>(bucket: B) -> MaxOfRateLimiter<T>
where
    T: Clone + Eq + Hash + Send + Sync + 'static,
    B: RateLimiter<T> + 'static,
{
    MaxOfRateLimiter::new(vec![
        Box::new(ItemExponentialFailureRateLimiter::new(
            Duration::from_millis(5),
            Duration::from_secs(1000),
        )),
        Box::new(bucket),
    ])
}

/// A per-item exponential back-off from 1 ms to 1000 s.
///
/// Port of default_rate_limiters.go: `DefaultItemBasedRateLimiter`.
pub fn default_item_based_rate_limiter<T: Clone + Eq + Hash + Send + Sync>()
-> ItemExponentialFailureRateLimiter<T> {
    ItemExponentialFailureRateLimiter::new(Duration::from_millis(1), Duration::from_secs(1000))
}

/// An overall token bucket: every call takes a token, and waits for it if the bucket is empty.
///
/// Port of default_rate_limiters.go: `BucketRateLimiter` over `rate.Limiter.Reserve().Delay()`.
/// The bucket starts full. Differs from Go: governor refuses a request it cannot serve now instead
/// of reserving a future token, so this keeps governor's [`Quota`] and [`Clock`] but does the
/// reservation itself (a GCRA whose theoretical arrival time may run ahead of now), which is
/// exactly `Reserve`: a call always consumes a token, even one that is only available later.
/// Not per item: `forget` does nothing and `num_requeues` is 0.
pub struct BucketRateLimiter<C: Clock = DefaultClock> {
    clock: C,
    start: C::Instant,
    /// The replenish interval (1 / rate), in nanoseconds.
    interval: u64,
    /// How far ahead of now the theoretical arrival time may be before callers must wait:
    /// `burst × interval`.
    tolerance: u64,
    /// Theoretical arrival time of the next token, in nanoseconds since `start`.
    tat: AtomicU64,
}

impl<C: Clock> std::fmt::Debug for BucketRateLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BucketRateLimiter")
            .field("interval", &Duration::from_nanos(self.interval))
            .field("tolerance", &Duration::from_nanos(self.tolerance))
            .finish()
    }
}

impl BucketRateLimiter {
    /// A bucket with the given rate and burst, on the real clock.
    pub fn new(quota: Quota) -> Self {
        Self::with_clock(quota, DefaultClock::default())
    }
}

impl<C: Clock> BucketRateLimiter<C> {
    /// A bucket on the given clock (governor's `FakeRelativeClock` in tests).
    pub fn with_clock(quota: Quota, clock: C) -> Self {
        let interval = u64::try_from(quota.replenish_interval().as_nanos()).unwrap_or(u64::MAX);
        let tolerance = interval.saturating_mul(u64::from(quota.burst_size().get()));
        let start = clock.now();
        Self {
            clock,
            start,
            interval,
            tolerance,
            tat: AtomicU64::new(0),
        }
    }
}

impl<T, C> RateLimiter<T> for BucketRateLimiter<C>
where
    C: Clock + Send + Sync,
    C::Instant: Send + Sync,
{
    fn when(&self, _item: &T) -> Duration {
        let now = self.clock.now().duration_since(self.start).as_u64();
        let interval = self.interval;
        let mut new_tat = 0;
        // The closure always returns Some, so fetch_update cannot fail; the result is ignored.
        let _ = self
            .tat
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |tat| {
                new_tat = tat.max(now).saturating_add(interval);
                Some(new_tat)
            });
        Duration::from_nanos(new_tat.saturating_sub(now.saturating_add(self.tolerance)))
    }

    fn forget(&self, _item: &T) {}

    fn num_requeues(&self, _item: &T) -> usize {
        0
    }
}

/// Waits `base × 2^failures`, capped at `max`, counting failures per item.
///
/// Port of default_rate_limiters.go: `ItemExponentialFailureRateLimiter`. The exponent is the
/// number of failures *before* this one, so the first wait is `base`. A product too large for an
/// `i64` of nanoseconds returns `max`, like Go's overflow guard.
pub struct ItemExponentialFailureRateLimiter<T> {
    failures: FailureCounts<T, u32>,
    base_delay: Duration,
    max_delay: Duration,
}

impl<T> std::fmt::Debug for ItemExponentialFailureRateLimiter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemExponentialFailureRateLimiter")
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Eq + Hash> ItemExponentialFailureRateLimiter<T> {
    /// Port of default_rate_limiters.go: `NewItemExponentialFailureRateLimiter`.
    pub fn new(base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            failures: FailureCounts::new(),
            base_delay,
            max_delay,
        }
    }
}

/// `base × 2^exp` as a duration, or `None` past `i64::MAX` nanoseconds (Go's overflow guard).
fn exponential(base: Duration, exp: u32) -> Option<Duration> {
    let factor = 1u128.checked_shl(exp).filter(|_| exp < 127)?;
    let nanos = base.as_nanos().checked_mul(factor)?;
    if nanos > i64::MAX as u128 {
        return None;
    }
    u64::try_from(nanos).ok().map(Duration::from_nanos)
}

impl<T: Clone + Eq + Hash + Send + Sync> RateLimiter<T> for ItemExponentialFailureRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let exp = self
            .failures
            .update(|failures| match failures.get_mut(item) {
                Some(count) => {
                    let exp = *count;
                    *count = count.saturating_add(1);
                    exp
                }
                None => {
                    failures.insert(item.clone(), 1);
                    0
                }
            });
        match exponential(self.base_delay, exp) {
            Some(backoff) => backoff.min(self.max_delay),
            None => self.max_delay,
        }
    }

    fn forget(&self, item: &T) {
        self.failures.forget(item);
    }

    fn num_requeues(&self, item: &T) -> usize {
        self.failures.get(item).map_or(0, |n| n as usize)
    }
}

/// Retries quickly a few times, then slowly.
///
/// Port of default_rate_limiters.go: `ItemFastSlowRateLimiter`: the first `max_fast_attempts`
/// failures of an item wait `fast_delay`, later ones `slow_delay`.
pub struct ItemFastSlowRateLimiter<T> {
    failures: FailureCounts<T, usize>,
    fast_delay: Duration,
    slow_delay: Duration,
    max_fast_attempts: usize,
}

impl<T> std::fmt::Debug for ItemFastSlowRateLimiter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemFastSlowRateLimiter")
            .field("fast_delay", &self.fast_delay)
            .field("slow_delay", &self.slow_delay)
            .field("max_fast_attempts", &self.max_fast_attempts)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Eq + Hash> ItemFastSlowRateLimiter<T> {
    /// Port of default_rate_limiters.go: `NewItemFastSlowRateLimiter`.
    pub fn new(fast_delay: Duration, slow_delay: Duration, max_fast_attempts: usize) -> Self {
        Self {
            failures: FailureCounts::new(),
            fast_delay,
            slow_delay,
            max_fast_attempts,
        }
    }
}

impl<T: Clone + Eq + Hash + Send + Sync> RateLimiter<T> for ItemFastSlowRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let count = self
            .failures
            .update(|failures| match failures.get_mut(item) {
                Some(count) => {
                    *count += 1;
                    *count
                }
                None => {
                    failures.insert(item.clone(), 1);
                    1
                }
            });
        if count <= self.max_fast_attempts {
            self.fast_delay
        } else {
            self.slow_delay
        }
    }

    fn forget(&self, item: &T) {
        self.failures.forget(item);
    }

    fn num_requeues(&self, item: &T) -> usize {
        self.failures.get(item).unwrap_or(0)
    }
}

/// The largest wait of several limiters.
///
/// Port of default_rate_limiters.go: `MaxOfRateLimiter`. Every limiter's `when` is called (each
/// records the failure), not just until one answers; `num_requeues` is the largest count and
/// `forget` reaches every limiter.
pub struct MaxOfRateLimiter<T> {
    limiters: Vec<Box<dyn RateLimiter<T>>>,
}

impl<T> std::fmt::Debug for MaxOfRateLimiter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaxOfRateLimiter")
            .field("limiters", &self.limiters.len())
            .finish()
    }
}

impl<T> MaxOfRateLimiter<T> {
    /// Port of default_rate_limiters.go: `NewMaxOfRateLimiter`.
    pub fn new(limiters: Vec<Box<dyn RateLimiter<T>>>) -> Self {
        Self { limiters }
    }
}

impl<T> RateLimiter<T> for MaxOfRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        self.limiters
            .iter()
            .map(|l| l.when(item))
            .fold(Duration::ZERO, Duration::max)
    }

    fn forget(&self, item: &T) {
        for l in &self.limiters {
            l.forget(item);
        }
    }

    fn num_requeues(&self, item: &T) -> usize {
        self.limiters
            .iter()
            .map(|l| l.num_requeues(item))
            .max()
            .unwrap_or(0)
    }
}

/// Caps another limiter's wait at `max_delay`.
///
/// Port of default_rate_limiters.go: `WithMaxWaitRateLimiter`.
#[derive(Debug)]
pub struct WithMaxWaitRateLimiter<L> {
    limiter: L,
    max_delay: Duration,
}

impl<L> WithMaxWaitRateLimiter<L> {
    /// Port of default_rate_limiters.go: `NewWithMaxWaitRateLimiter`.
    pub fn new(limiter: L, max_delay: Duration) -> Self {
        Self { limiter, max_delay }
    }
}

impl<T, L: RateLimiter<T>> RateLimiter<T> for WithMaxWaitRateLimiter<L> {
    fn when(&self, item: &T) -> Duration {
        self.limiter.when(item).min(self.max_delay)
    }

    fn forget(&self, item: &T) {
        self.limiter.forget(item);
    }

    fn num_requeues(&self, item: &T) -> usize {
        self.limiter.num_requeues(item)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn exponential_backoff_doubles_from_base_and_caps_at_max() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(1), Duration::from_secs(1));
        let waits: Vec<_> = (0..5).map(|_| limiter.when(&"one")).collect();
        assert_eq!(waits, [ms(1), ms(2), ms(4), ms(8), ms(16)]);
        assert_eq!(limiter.num_requeues(&"one"), 5);

        assert_eq!(limiter.when(&"two"), ms(1));
        assert_eq!(limiter.when(&"two"), ms(2));
        assert_eq!(limiter.num_requeues(&"two"), 2);

        limiter.forget(&"one");
        assert_eq!(limiter.num_requeues(&"one"), 0);
        assert_eq!(limiter.when(&"one"), ms(1));

        for _ in 0..20 {
            limiter.when(&"one");
        }
        assert_eq!(limiter.when(&"one"), Duration::from_secs(1));
    }

    #[test]
    fn exponential_backoff_returns_max_instead_of_overflowing() {
        let max = Duration::from_secs(1000);
        let limiter = ItemExponentialFailureRateLimiter::new(ms(1), max);
        for _ in 0..5 {
            limiter.when(&"one");
        }
        // Go's TestExponentialBackoffOverflow: push the exponent past anything representable.
        limiter.failures.update(|m| m.insert("one", 10_000));
        assert_eq!(limiter.when(&"one"), max);
        limiter.failures.update(|m| m.insert("one", u32::MAX));
        assert_eq!(limiter.when(&"one"), max);
        assert_eq!(limiter.num_requeues(&"one"), u32::MAX as usize);
    }

    #[test]
    fn exponential_guard_matches_int64_nanoseconds() {
        // 2^62 ns fits in an int64, 2^63 does not.
        assert_eq!(
            exponential(Duration::from_nanos(1), 62),
            Some(Duration::from_nanos(1 << 62))
        );
        assert_eq!(exponential(Duration::from_nanos(1), 63), None);
        assert_eq!(exponential(Duration::from_nanos(1), 200), None);
    }

    #[test]
    fn fast_slow_backoff_switches_after_max_fast_attempts() {
        let limiter = ItemFastSlowRateLimiter::new(ms(5), Duration::from_secs(10), 3);
        let waits: Vec<_> = (0..5).map(|_| limiter.when(&"one")).collect();
        assert_eq!(
            waits,
            [
                ms(5),
                ms(5),
                ms(5),
                Duration::from_secs(10),
                Duration::from_secs(10)
            ]
        );
        assert_eq!(limiter.num_requeues(&"one"), 5);
        assert_eq!(limiter.when(&"two"), ms(5));
        limiter.forget(&"one");
        assert_eq!(limiter.num_requeues(&"one"), 0);
        assert_eq!(limiter.when(&"one"), ms(5));
    }

    #[test]
    fn max_of_returns_the_largest_wait_and_feeds_every_limiter() {
        let limiter: MaxOfRateLimiter<&str> = MaxOfRateLimiter::new(vec![
            Box::new(ItemFastSlowRateLimiter::new(
                ms(5),
                Duration::from_secs(3),
                3,
            )),
            Box::new(ItemExponentialFailureRateLimiter::new(
                ms(1),
                Duration::from_secs(1),
            )),
        ]);
        let waits: Vec<_> = (0..5).map(|_| limiter.when(&"one")).collect();
        assert_eq!(
            waits,
            [
                ms(5),
                ms(5),
                ms(5),
                Duration::from_secs(3),
                Duration::from_secs(3)
            ]
        );
        assert_eq!(limiter.num_requeues(&"one"), 5);
        limiter.forget(&"one");
        assert_eq!(limiter.num_requeues(&"one"), 0);
        assert_eq!(limiter.when(&"one"), ms(5));
    }

    #[test]
    fn with_max_wait_caps_the_inner_wait() {
        let limiter = WithMaxWaitRateLimiter::new(
            ItemExponentialFailureRateLimiter::new(ms(100), Duration::from_secs(100)),
            ms(350),
        );
        let waits: Vec<_> = (0..4).map(|_| limiter.when(&"one")).collect();
        assert_eq!(waits, [ms(100), ms(200), ms(350), ms(350)]);
        assert_eq!(limiter.num_requeues(&"one"), 4);
        limiter.forget(&"one");
        assert_eq!(limiter.num_requeues(&"one"), 0);
    }

    #[test]
    fn bucket_serves_the_burst_then_reserves_future_tokens() {
        let clock = FakeRelativeClock::default();
        let quota = Quota::per_second(NonZeroU32::new(10).unwrap())
            .allow_burst(NonZeroU32::new(3).unwrap());
        let limiter = BucketRateLimiter::with_clock(quota, clock.clone());
        let when = |l: &BucketRateLimiter<FakeRelativeClock>| RateLimiter::<()>::when(l, &());
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), Duration::ZERO);
        // Each further call consumes a token that only exists later: 100 ms, 200 ms, ...
        assert_eq!(when(&limiter), ms(100));
        assert_eq!(when(&limiter), ms(200));
        // After 250 ms, the next free token (the sixth) is at 300 ms.
        clock.advance(ms(250));
        assert_eq!(when(&limiter), ms(50));
        // After a long idle spell the bucket is full again, but never fuller than the burst.
        clock.advance(Duration::from_secs(60));
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), ms(100));
    }

    #[test]
    fn default_controller_limiter_is_exponential_until_the_bucket_runs_dry() {
        // The bucket on a clock that stands still, so no token comes back while the test runs
        // (on the real clock a slow machine refills tokens between calls).
        let clock = FakeRelativeClock::default();
        let limiter = controller_rate_limiter_with::<u32, _>(BucketRateLimiter::with_clock(
            default_controller_quota(),
            clock,
        ));
        // One key: 5 ms, 10 ms, 20 ms, ... while the bucket still has tokens.
        assert_eq!(limiter.when(&1), ms(5));
        assert_eq!(limiter.when(&1), ms(10));
        assert_eq!(limiter.when(&1), ms(20));
        assert_eq!(limiter.num_requeues(&1), 3);
        // Exhaust the 100-token burst with distinct keys: from then on the 10 qps bucket dominates.
        for key in 2..=98 {
            assert_eq!(limiter.when(&key), ms(5));
        }
        // The 101st token is 100 ms away at 10 qps.
        assert_eq!(limiter.when(&99), ms(100));
        assert_eq!(limiter.num_requeues(&99), 1);
    }

    #[test]
    fn default_item_based_limiter_starts_at_one_millisecond() {
        let limiter = default_item_based_rate_limiter::<&str>();
        assert_eq!(limiter.when(&"a"), ms(1));
        assert_eq!(limiter.when(&"a"), ms(2));
        for _ in 0..40 {
            limiter.when(&"a");
        }
        assert_eq!(limiter.when(&"a"), Duration::from_secs(1000));
    }
}
