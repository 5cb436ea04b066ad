//! Port of the `Queue` interface of tools/cache/fifo.go: what the controller loop needs of a
//! FIFO, so [`crate::DeltaFifo`] and [`crate::RealFifo`] are interchangeable per informer.
//!
//! Data flow: the reflector pushes through the [`ReflectorStore`] half; the controller loop
//! calls [`Queue::pop`] with a `process` callback that runs *under the queue's lock*, so the
//! informer's cache (the queue's "known objects") is updated before the next `Replace` or
//! `Resync` compares against it.

use futures::future::BoxFuture;

use crate::delta::Deltas;
use crate::error::Result;
use crate::store::ReflectorStore;

/// The callback [`Queue::pop`] runs under the queue's lock: the popped deltas and whether they
/// belong to the initial list. Port of `PopProcessFunc`.
///
/// Differs from Go: returns nothing; a processing error is the callback's to log, since
/// informers never requeue (Go's `RetryOnError` is always false for them).
pub type PopProcess<'a, K> = dyn FnMut(&Deltas<K>, bool) + Send + 'a;

/// Which FIFO an informer uses. Go: the `InOrderInformers` feature gate.
///
/// Differs from Go: a per-informer option instead of a process-wide gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FifoKind {
    /// [`crate::RealFifo`]: every event in arrival order; client-go's default since 1.33.
    #[default]
    Real,
    /// [`crate::DeltaFifo`]: per-key accumulated deltas, the classic design.
    Delta,
}

/// A producer/consumer queue of deltas. Port of `Queue`.
pub trait Queue<K>: ReflectorStore<K> {
    /// Waits for the next item, removes it, runs `process` on it under the lock and returns it.
    /// Errors with [`crate::Error::FifoClosed`] once the queue is closed and empty.
    ///
    /// # Cancel safety
    /// Cancel-safe: an item is removed only in the same poll that returns it.
    fn pop<'a>(&'a self, process: &'a mut PopProcess<'_, K>) -> BoxFuture<'a, Result<Deltas<K>>>;
    /// Closes the queue: pending and future `pop`s return once it is empty.
    fn close(&self);
    /// True once closed.
    fn is_closed(&self) -> bool;
    /// True once the first `replace`'s items (or any first add/update/delete) were popped.
    fn has_synced(&self) -> bool;
}

/// The sync bookkeeping both FIFOs share: Go's `populated` and `initialPopulationCount`.
///
/// Synced once the first `replace` ran (or an add/update/delete came before any `replace`) and
/// every item that first `replace` queued has been popped.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InitialPopulation {
    populated: bool,
    /// Items of the first `replace` not yet popped.
    remaining: usize,
}

impl InitialPopulation {
    /// An add, update or delete arrived: if no `replace` came first, nothing is awaited.
    pub(crate) fn mark_populated(&mut self) {
        self.populated = true;
    }

    /// A `replace` queued `items` entries; only the first one sets the initial population.
    pub(crate) fn first_replace(&mut self, items: usize) {
        if !self.populated {
            self.populated = true;
            self.remaining = items;
        }
    }

    /// Port of `HasSynced`: populated, and the initial population fully popped.
    pub(crate) fn is_synced(&self) -> bool {
        self.populated && self.remaining == 0
    }

    /// Counts one pop; returns whether it belonged to the initial list (`isInInitialList`).
    pub(crate) fn pop(&mut self) -> bool {
        let initial = !self.is_synced();
        self.remaining = self.remaining.saturating_sub(1);
        initial
    }

    /// Items of the first `replace` not yet popped.
    #[cfg(test)]
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }
}
