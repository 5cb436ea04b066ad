//! Port of controller-runtime's pkg/reconcile/reconcile.go: what a reconcile function returns.
//!
//! # Data flow
//!
//! ```text
//! reconcile(key, lister) ──▶ Ok(Action::Done)           ──▶ queue.forget
//!                        ──▶ Ok(Action::Requeue)        ──▶ queue.add_rate_limited
//!                        ──▶ Ok(Action::RequeueAfter(d)) ─▶ queue.forget + queue.add_after(d)
//!                        ──▶ Err(e) or a panic          ──▶ add_rate_limited while retries
//!                                                           last, then forget (dropped)
//! ```
//!
//! The success side is controller-runtime's `reconcile.Result{Requeue, RequeueAfter}`; the error
//! side is client-go's `handleErr` (examples/workqueue, sample-controller), which retries a
//! failing key a bounded number of times. [`Controller::handle_err`](crate::Controller::handle_err)
//! applies the table above.

use std::time::Duration;

/// What to do with a key after a reconcile that succeeded.
///
/// Port of controller-runtime pkg/reconcile: `Result` (`Requeue`, `RequeueAfter`), as
/// `reconcileHandler` in pkg/internal/controller/controller.go treats it. Differs from Go: one
/// enum instead of two fields, so "requeue and requeue after" cannot be said at once (Go lets
/// `RequeueAfter` win); `RequeueAfter(Duration::ZERO)` forgets the key and adds it at once,
/// where Go reads a zero `RequeueAfter` as unset.
#[doc(alias = "Result")]
#[doc(alias = "reconcile.Result")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Action {
    /// The object is in line: forget the key's back-off (Go's zero `Result{}`). The next change
    /// to the object enqueues it again.
    #[default]
    Done,
    /// Reconcile again after the key's rate-limited back-off (Go's `Result{Requeue: true}`):
    /// `AddRateLimited`, not counted as an error. Each requeue lengthens the key's next back-off
    /// and counts in its `num_requeues`, which the retry limit of errors reads, until a `Done`
    /// or `RequeueAfter` forgets it.
    Requeue,
    /// Reconcile again after this long, e.g. to poll something outside the cluster (Go's
    /// `Result{RequeueAfter: d}`): `Forget` then `AddAfter(d)`, so the key's back-off restarts.
    RequeueAfter(Duration),
}

/// Why a reconcile did not succeed, as [`Controller::handle_err`](crate::Controller::handle_err)
/// sees it: the reconcile function's own error, or a panic caught in it.
///
/// Rust-only: Go's `handleErr` takes the `error` the sync handler returned, and a panic crashes
/// the process (`HandleCrash`). Both kinds are retryable: the key is requeued with back-off while
/// it has retries left.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError<E> {
    /// The reconcile function returned `Err`. Its `Display` and `source` are the error's own.
    #[error(transparent)]
    Failed(E),
    /// The reconcile function panicked; `message` is the panic's message (or "unknown panic").
    #[error("reconcile panicked: {message}")]
    Panicked {
        /// The panic's payload, when it was a string.
        message: String,
    },
}

/// Formats an error with its whole `source()` chain, `outer: cause: root cause`, for logs.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("patching pod default/web")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("request failed")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn the_chain_names_every_cause_outermost_first() {
        let err = ReconcileError::Failed(Outer(Middle(std::io::Error::other("connection reset"))));
        assert_eq!(
            error_chain(&err),
            "patching pod default/web: request failed: connection reset"
        );
        let panicked = ReconcileError::<Outer>::Panicked {
            message: "boom".into(),
        };
        assert_eq!(error_chain(&panicked), "reconcile panicked: boom");
    }
}
