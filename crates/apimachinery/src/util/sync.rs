//! Locks that outlive a panicking holder.
//!
//! Go's `sync.Mutex` has no poisoning: a goroutine that panics while holding a lock takes the
//! process down, so there is nothing to recover. A Rust thread can panic and unwind while
//! holding a `std::sync::Mutex`, which then reports every later `lock()` as poisoned. The
//! structures in this workspace (stores, FIFOs, queues) keep their invariants between
//! statements, so the data behind a poisoned lock is still consistent: these helpers take the
//! guard anyway instead of spreading the panic to every other user of the cache.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// `lock()` that ignores poisoning. Rust-only: Go's mutexes cannot be poisoned.
pub trait MutexExt<T: ?Sized> {
    /// Locks, taking the guard even when an earlier holder panicked.
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> MutexExt<T> for Mutex<T> {
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `read()`/`write()` that ignore poisoning. Rust-only: Go's `sync.RWMutex` cannot be poisoned.
pub trait RwLockExt<T: ?Sized> {
    /// Read-locks, taking the guard even when an earlier holder panicked.
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T>;
    /// Write-locks, taking the guard even when an earlier holder panicked.
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T> {
        self.write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_lock_poisoned_by_a_panic_is_still_usable() {
        let m = Arc::new(Mutex::new(1));
        let rw = Arc::new(RwLock::new(1));
        let (m2, rw2) = (m.clone(), rw.clone());
        let joined = std::thread::spawn(move || {
            let _g = m2.lock();
            let _w = rw2.write();
            panic!("holder panics");
        })
        .join();
        assert!(joined.is_err());
        assert!(m.is_poisoned() && rw.is_poisoned());
        *m.lock_unpoisoned() += 1;
        *rw.write_unpoisoned() += 1;
        assert_eq!((*m.lock_unpoisoned(), *rw.read_unpoisoned()), (2, 2));
    }
}
