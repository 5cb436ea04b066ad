//! Port of `WaitForCacheSync` / `WaitForNamedCacheSync` from tools/cache/shared_informer.go,
//! and the sync signal they wait on.
//!
//! Data flow: a FIFO raises its [`SyncFlag`] once the items of the first list have been popped
//! and processed; informers, handler registrations and factories hand out [`CacheSynced`]
//! views of such flags; [`wait_for_cache_sync`] waits until every view reports synced, or the
//! shutdown token fires.
//!
//! Differs from Go: event-driven (a `tokio::sync::watch` channel per flag) instead of polling
//! every 100 ms, so a sync is noticed the moment it happens.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// A one-way "has synced" flag that can be raised once and waited on.
///
/// Port of the `populated && initialPopulationCount == 0` state of Go's FIFOs, made observable.
#[derive(Clone, Debug)]
pub struct SyncFlag {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for SyncFlag {
    fn default() -> Self {
        SyncFlag::new()
    }
}

impl SyncFlag {
    /// A lowered flag.
    pub fn new() -> Self {
        SyncFlag {
            tx: Arc::new(watch::channel(false).0),
        }
    }

    /// Raises the flag (idempotent) and wakes every waiter.
    pub fn set(&self) {
        self.tx.send_if_modified(|v| !std::mem::replace(v, true));
    }

    /// True once raised.
    pub fn is_set(&self) -> bool {
        *self.tx.borrow()
    }

    /// A read-only view to hand out.
    pub fn signal(&self) -> SyncedSignal {
        SyncedSignal {
            rx: self.tx.subscribe(),
        }
    }
}

/// A read-only view of a [`SyncFlag`]. Port of `InformerSynced` (Go's `func() bool`).
#[derive(Clone, Debug)]
pub struct SyncedSignal {
    rx: watch::Receiver<bool>,
}

impl SyncedSignal {
    /// True once the source has synced.
    pub fn has_synced(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once the source has synced; returns `false` if the source was dropped first.
    ///
    /// # Cancel safety
    /// Cancel-safe: nothing is consumed.
    pub async fn wait(&self) -> bool {
        let mut rx = self.rx.clone();
        rx.wait_for(|v| *v).await.is_ok()
    }
}

/// Anything that can tell whether it has synced, and wait for it.
///
/// Port of `InformerSynced`; implemented by [`SyncedSignal`], informers and handler
/// registrations.
pub trait CacheSynced: Send + Sync {
    /// True once synced.
    fn has_synced(&self) -> bool;
    /// Resolves `true` once synced, or `false` if the source went away first.
    fn wait_synced(&self) -> BoxFuture<'static, bool>;
}

impl CacheSynced for SyncedSignal {
    fn has_synced(&self) -> bool {
        SyncedSignal::has_synced(self)
    }
    fn wait_synced(&self) -> BoxFuture<'static, bool> {
        let s = self.clone();
        Box::pin(async move { s.wait().await })
    }
}

/// Waits until every source has synced. Returns `false` if `shutdown` fired first (or a source
/// went away). Port of `WaitForCacheSync`.
///
/// # Cancel safety
/// Cancel-safe: waiting consumes nothing.
#[doc(alias = "WaitForCacheSync")]
pub async fn wait_for_cache_sync(
    shutdown: &CancellationToken,
    sources: &[&dyn CacheSynced],
) -> bool {
    let waits: Vec<_> = sources.iter().map(|s| s.wait_synced()).collect();
    tokio::select! {
        _ = shutdown.cancelled() => {
            tracing::debug!("wait for cache sync: stop requested");
            false
        }
        all = futures::future::join_all(waits) => {
            let ok = all.into_iter().all(|b| b);
            tracing::debug!(ok, "wait for cache sync: caches populated");
            ok
        }
    }
}

/// [`wait_for_cache_sync`] with log lines naming the waiting controller.
/// Port of `WaitForNamedCacheSync`.
///
/// # Cancel safety
/// Cancel-safe.
#[doc(alias = "WaitForNamedCacheSync")]
pub async fn wait_for_named_cache_sync(
    controller_name: &str,
    shutdown: &CancellationToken,
    sources: &[&dyn CacheSynced],
) -> bool {
    tracing::info!(controller = controller_name, "waiting for caches to sync");
    let ok = wait_for_cache_sync(shutdown, sources).await;
    if ok {
        tracing::info!(controller = controller_name, "caches are synced");
    } else {
        tracing::error!(controller = controller_name, "unable to sync caches");
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_for_every_source_and_stops_on_shutdown() {
        let a = SyncFlag::new();
        let b = SyncFlag::new();
        let (sa, sb) = (a.signal(), b.signal());
        let stop = CancellationToken::new();
        let s2 = stop.clone();
        let (sa2, sb2) = (sa.clone(), sb.clone());
        let waiter = tokio::spawn(async move { wait_for_cache_sync(&s2, &[&sa2, &sb2]).await });
        a.set();
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        b.set();
        assert!(waiter.await.unwrap_or(false));

        let c = SyncFlag::new();
        let sc = c.signal();
        stop.cancel();
        assert!(!wait_for_cache_sync(&stop, &[&sc]).await);
    }
}
