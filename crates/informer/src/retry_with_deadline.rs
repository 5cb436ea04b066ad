//! Port of tools/cache/retry_with_deadline.go: how long the reflector keeps re-opening a watch
//! that ends with an InternalError before it gives up and relists.
//!
//! Data flow: after every watch, the reflector reports how it ended with
//! [`RetryWithDeadline::after`]; when the end was a retryable error (for the reflector:
//! `apierrors.IsInternalError`), it asks [`RetryWithDeadline::should_retry`]. A burst of such
//! errors is retried while it is younger than `max_retry_duration`; errors further apart than
//! `min_reset_period` start a new burst. A zero `max_retry_duration` never retries, which is
//! Go's default (`Reflector.MaxInternalErrorRetryDuration` is 0 unless set).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use informer::RetryWithDeadline;
//! let internal = |e: &apimachinery::Error| e.is_internal_error();
//! let mut retry = RetryWithDeadline::new(Duration::from_secs(30), Duration::from_secs(60), internal);
//! let err = apimachinery::Error::from_status(apimachinery::Status {
//!     code: 500, reason: "InternalError".into(), ..Default::default()
//! });
//! retry.after(Some(&err));
//! assert!(retry.should_retry());
//! tokio::time::advance(Duration::from_secs(31)).await;
//! retry.after(Some(&err));
//! assert!(!retry.should_retry()); // the burst is older than 30 s: relist
//! # }
//! ```

use std::time::Duration;

use tokio::time::Instant;

/// Decides whether an error is of the kind [`RetryWithDeadline`] retries.
pub type IsRetryable = fn(&apimachinery::Error) -> bool;

/// Retries a kind of error for a bounded time. Port of `RetryWithDeadline`
/// (`retryWithDeadlineImpl`, `NewRetryWithDeadline`).
///
/// Differs from Go: a concrete struct on tokio's clock (so tests run on a paused clock) instead
/// of an interface with an injected `clock.Clock`; "no error yet" is `None` instead of the zero
/// `time.Time`.
#[derive(Debug, Clone)]
#[doc(alias = "retryWithDeadlineImpl", alias = "NewRetryWithDeadline")]
pub struct RetryWithDeadline {
    /// When the current burst of retryable errors began; `None` when there is none.
    first_error: Option<Instant>,
    /// When the last retryable error was seen; `None` exactly when `first_error` is `None`.
    last_error: Option<Instant>,
    max_retry_duration: Duration,
    min_reset_period: Duration,
    is_retryable: IsRetryable,
}

impl RetryWithDeadline {
    /// Retries errors for which `is_retryable` holds while the burst is at most
    /// `max_retry_duration` old; a gap of `min_reset_period` between two such errors starts a
    /// new burst. Port of `NewRetryWithDeadline`.
    pub fn new(
        max_retry_duration: Duration,
        min_reset_period: Duration,
        is_retryable: IsRetryable,
    ) -> Self {
        RetryWithDeadline {
            first_error: None,
            last_error: None,
            max_retry_duration,
            min_reset_period,
            is_retryable,
        }
    }

    fn reset(&mut self) {
        self.first_error = None;
        self.last_error = None;
    }

    /// Records how an attempt ended (`None`: no error). Only retryable errors count. Port of
    /// `After`.
    pub fn after(&mut self, err: Option<&apimachinery::Error>) {
        let Some(err) = err else { return };
        if !(self.is_retryable)(err) {
            return;
        }
        let now = Instant::now();
        // Go compares against the zero time, so a first error always "resets"; same here.
        if self
            .last_error
            .is_none_or(|last| now.duration_since(last) >= self.min_reset_period)
        {
            self.reset();
        }
        self.first_error.get_or_insert(now);
        self.last_error = Some(now);
    }

    /// True while the current burst is at most `max_retry_duration` old; false (and the burst
    /// forgotten) after that, and always false when `max_retry_duration` is zero. Port of
    /// `ShouldRetry`.
    pub fn should_retry(&mut self) -> bool {
        if self.max_retry_duration.is_zero() {
            return false;
        }
        // Go measures from the zero time when no error was recorded, which is never within
        // the deadline; `None` answers the same.
        let within = self
            .first_error
            .is_some_and(|first| Instant::now().duration_since(first) <= self.max_retry_duration);
        if !within {
            self.reset();
        }
        within
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::Status;

    fn err(code: i32, reason: &str) -> apimachinery::Error {
        apimachinery::Error::from_status(Status {
            code,
            reason: reason.into(),
            ..Status::default()
        })
    }

    fn internal() -> RetryWithDeadline {
        RetryWithDeadline::new(
            Duration::from_secs(30),
            Duration::from_secs(60),
            apimachinery::Error::is_internal_error,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn zero_max_duration_never_retries() {
        let mut r = RetryWithDeadline::new(
            Duration::ZERO,
            Duration::from_secs(60),
            apimachinery::Error::is_internal_error,
        );
        r.after(Some(&err(500, "InternalError")));
        assert!(!r.should_retry());
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_retried_until_it_is_older_than_the_max_duration() {
        let mut r = internal();
        let e = err(500, "InternalError");
        r.after(Some(&e));
        assert!(r.should_retry());
        tokio::time::advance(Duration::from_secs(20)).await;
        r.after(Some(&e));
        assert!(r.should_retry());
        tokio::time::advance(Duration::from_secs(10)).await;
        r.after(Some(&e));
        assert!(
            r.should_retry(),
            "exactly 30 s old is still within the deadline"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        r.after(Some(&e));
        assert!(!r.should_retry());
        // Giving up forgot the burst: the next error starts a new one.
        r.after(Some(&e));
        assert!(r.should_retry());
    }

    #[tokio::test(start_paused = true)]
    async fn errors_a_reset_period_apart_start_a_new_burst() {
        let mut r = internal();
        let e = err(500, "InternalError");
        r.after(Some(&e));
        tokio::time::advance(Duration::from_secs(60)).await;
        r.after(Some(&e));
        assert!(
            r.should_retry(),
            "60 s after the last error the burst starts over"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_and_successes_are_not_counted() {
        let mut r = internal();
        r.after(None);
        r.after(Some(&err(410, "Expired")));
        assert!(!r.should_retry(), "no retryable error was recorded");
        r.after(Some(&err(500, "InternalError")));
        tokio::time::advance(Duration::from_secs(25)).await;
        r.after(Some(&err(410, "Expired")));
        r.after(None);
        assert!(r.should_retry(), "the burst is 25 s old");
    }
}
