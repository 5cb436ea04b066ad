//! Poison-tolerant locking for every mutex in this crate.
//!
//! Rust-only: Go's `sync.Mutex` cannot be poisoned. A Rust thread that panics while holding a
//! `std::sync::Mutex` poisons it, and every later `lock()` reports an error. Each critical section
//! in this crate finishes its bookkeeping before it can call out to user code, so the data behind
//! a poisoned lock is still consistent and the queue keeps going, as Go's would. This is the same
//! helper as `apimachinery::util::sync::MutexExt`, kept here because this crate depends on nothing
//! else in the workspace.

use std::sync::{Mutex, MutexGuard};

/// `lock()` that ignores poisoning.
pub(crate) trait MutexExt<T: ?Sized> {
    /// Locks, taking the guard even when an earlier holder panicked.
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> MutexExt<T> for Mutex<T> {
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_lock_poisoned_by_a_panic_is_still_usable() {
        let m = Arc::new(Mutex::new(1));
        let m2 = Arc::clone(&m);
        let joined = std::thread::spawn(move || {
            let _g = m2.lock();
            panic!("holder panics");
        })
        .join();
        assert!(joined.is_err());
        assert!(m.is_poisoned());
        *m.lock_unpoisoned() += 1;
        assert_eq!(*m.lock_unpoisoned(), 2);
    }
}
