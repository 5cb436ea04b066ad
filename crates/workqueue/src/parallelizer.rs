//! Port of util/workqueue/parallelizer.go: run `pieces` independent pieces of work on up to
//! `workers` threads.
//!
//! # Data flow
//!
//! The pieces `0..pieces` are cut into chunks of `chunk_size`. Each worker claims the next chunk,
//! runs its pieces in order, and checks for cancellation before each piece. The call returns when
//! every worker has stopped.
//!
//! Differs from Go: workers are scoped OS threads (`std::thread::scope`), so the work function may
//! borrow from the caller; chunks are handed out by an atomic counter instead of a pre-filled
//! channel. Like Go's `ParallelizeUntil`, the call blocks.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_util::sync::CancellationToken;

/// Runs `work(piece)` for every piece in `0..pieces` on up to `workers` threads, stopping early
/// once `cancel` is cancelled.
///
/// Port of parallelizer.go: `ParallelizeUntil` with `WithChunkSize(chunk_size)`. A `chunk_size`
/// below 1 means 1; the number of threads is `min(workers, chunks)`; cancellation is checked
/// before each piece, so a piece already running finishes but no new one starts.
///
/// # Panics
///
/// If `work` panics, the panic is propagated to the caller once the other workers have stopped
/// (Go's `HandleCrash` crashes the process instead).
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use tokio_util::sync::CancellationToken;
///
/// let sum = AtomicUsize::new(0);
/// workqueue::parallelize_until(4, 100, 10, &CancellationToken::new(), |piece| {
///     sum.fetch_add(piece, Ordering::Relaxed);
/// });
/// assert_eq!(sum.into_inner(), (0..100).sum());
/// ```
#[doc(alias = "ParallelizeUntil")]
pub fn parallelize_until<F>(
    workers: usize,
    pieces: usize,
    chunk_size: usize,
    cancel: &CancellationToken,
    work: F,
) where
    F: Fn(usize) + Sync,
{
    if pieces == 0 {
        return;
    }
    let chunk_size = chunk_size.max(1);
    let chunks = pieces.div_ceil(chunk_size);
    let workers = workers.min(chunks);
    let next_chunk = AtomicUsize::new(0);
    let worker = || {
        loop {
            let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
            if chunk >= chunks {
                return;
            }
            let start = chunk * chunk_size;
            let end = (start + chunk_size).min(pieces);
            for piece in start..end {
                if cancel.is_cancelled() {
                    return;
                }
                work(piece);
            }
        }
    };
    if workers == 1 {
        // No thread for a single worker: same behaviour, less overhead.
        worker();
        return;
    }
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(worker);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::MutexExt;
    use std::sync::Mutex;

    fn run(workers: usize, pieces: usize, chunk_size: usize) -> Vec<usize> {
        let seen = Mutex::new(vec![0usize; pieces]);
        parallelize_until(
            workers,
            pieces,
            chunk_size,
            &CancellationToken::new(),
            |p| {
                seen.lock_unpoisoned()[p] += 1;
            },
        );
        std::mem::take(&mut *seen.lock_unpoisoned())
    }

    #[test]
    fn every_piece_runs_exactly_once_for_any_shape() {
        // The cases of Go's TestParallelizeUntil.
        for (workers, pieces, chunk_size) in [
            (1, 1000, 1),
            (10, 1000, 1),
            (10, 1000, 10),
            (10, 1000, 100),
            (10, 1000, 999),
            (10, 1000, 1000),
            (10, 1000, 2000),
            (4, 7, 3),
            (8, 3, 0),
        ] {
            let seen = run(workers, pieces, chunk_size);
            assert!(
                seen.iter().all(|n| *n == 1),
                "workers={workers} pieces={pieces} chunk={chunk_size}: {seen:?}"
            );
        }
    }

    #[test]
    fn zero_pieces_or_zero_workers_runs_nothing() {
        assert!(run(4, 0, 1).is_empty());
        assert!(run(0, 10, 1).iter().all(|n| *n == 0));
    }

    #[test]
    fn never_uses_more_threads_than_chunks() {
        let threads = Mutex::new(std::collections::HashSet::new());
        parallelize_until(16, 4, 2, &CancellationToken::new(), |_| {
            threads
                .lock_unpoisoned()
                .insert(std::thread::current().id());
        });
        let n = threads.lock_unpoisoned().len();
        assert!(
            n <= 2,
            "4 pieces in chunks of 2 need at most 2 threads, used {n}"
        );
    }

    #[test]
    fn cancellation_is_checked_before_each_piece() {
        let cancel = CancellationToken::new();
        let done = AtomicUsize::new(0);
        parallelize_until(1, 100, 10, &cancel, |piece| {
            done.fetch_add(1, Ordering::Relaxed);
            if piece == 14 {
                cancel.cancel();
            }
        });
        // Pieces 0..=14 ran; the check before piece 15 stopped the worker mid-chunk.
        assert_eq!(done.into_inner(), 15);
    }

    #[test]
    fn already_cancelled_runs_nothing() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let done = AtomicUsize::new(0);
        parallelize_until(4, 100, 1, &cancel, |_| {
            done.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(done.into_inner(), 0);
    }
}
