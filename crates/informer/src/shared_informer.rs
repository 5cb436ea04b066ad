//! Port of tools/cache/shared_informer.go: `SharedIndexInformer`, one cache and one watch
//! shared by many handlers.
//!
//! Data flow: `run` builds a FIFO whose known objects are the informer's [`Store`], and a
//! [`Controller`] that runs the reflector into it. Each popped delta is applied to the store and
//! turned into a notification for the [`SharedProcessor`](crate::processor_listener), which
//! queues it for every handler (see `processor_listener.rs`). Handlers added after start first
//! receive the current cache content as adds with `is_in_initial_list = true`, while delta
//! processing is blocked so they neither miss nor double-see a change.
//!
//! Resync: the informer's resync *check* period is the smallest handler period requested
//! before start (minimum 1 s); the reflector's resync timer asks the processor which handlers
//! are due, and only those receive the resync updates (same old and new resourceVersion).
//!
//! Shutdown: cancelling the token given to `run` stops the reflector, the pop loop and then
//! every listener task; `run` returns only after all of them ended.

use apimachinery::api::errors::error_chain;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use apimachinery::Object;
use apimachinery::util::sync::MutexExt;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::controller::{
    Controller, ControllerConfig, ResourceEventHandler, new_fifo, process_deltas,
};
use crate::delta::{Deltas, ObjectOrTombstone};
use crate::delta_fifo::TransformFunc;
use crate::error::{Error, Result};
use crate::fifo::FifoKind;
use crate::index::Indexers;
use crate::listers::Lister;
use crate::listwatch::ListerWatcher;
use crate::processor_listener::{
    Notification, ProcessorListener, ResourceEventHandlerRegistration, SharedProcessor,
    determine_resync_period,
};
use crate::reflector::{LastSyncResourceVersion, ReflectorConfig, WatchErrorHandler};
use crate::store::{ReadOnlyStore, Store, default_key_func};
use crate::wait::{CacheSynced, SyncFlag, SyncedSignal};

/// The smallest resync period a handler can ask for. Port of `minimumResyncPeriod`.
pub const MINIMUM_RESYNC_PERIOD: Duration = Duration::from_secs(1);

/// Settings of a [`SharedIndexInformer`]. Port of `SharedIndexInformerOptions`.
pub struct InformerOptions<K> {
    /// Default handler resync period and initial resync check period; zero: no resyncs.
    pub resync_period: Duration,
    /// Indexers of the cache.
    pub indexers: Indexers<K>,
    /// Which FIFO to use ([`FifoKind::Real`] by default, as client-go ≥ 1.33).
    pub fifo: FifoKind,
    /// Reflector settings (name, watch-list, page size...); its `resync_period` is ignored.
    pub reflector: ReflectorConfig,
}

impl<K> Default for InformerOptions<K> {
    fn default() -> Self {
        InformerOptions {
            resync_period: Duration::ZERO,
            indexers: Indexers::new(),
            fifo: FifoKind::default(),
            reflector: ReflectorConfig::default(),
        }
    }
}

struct StartState<K> {
    started: bool,
    stopped: bool,
    transform: Option<TransformFunc<K>>,
    watch_error_handler: Option<WatchErrorHandler>,
    /// How often the reflector asks whether a handler is due for a resync.
    resync_check_period: Duration,
    rv: Option<LastSyncResourceVersion>,
}

struct Inner<K> {
    /// The cache. Only the informer writes it (in `run`'s process callback); users get a
    /// [`ReadOnlyStore`] view.
    indexer: Arc<Store<K>>,
    lw: Arc<dyn ListerWatcher<K>>,
    processor: SharedProcessor<K>,
    state: Mutex<StartState<K>>,
    /// Held while deltas are processed, and while a late handler catches up.
    /// Port of `blockDeltas`.
    block_deltas: Mutex<()>,
    synced: SyncFlag,
    default_handler_resync: Duration,
    fifo: FifoKind,
    reflector: ReflectorConfig,
}

/// One cache and one watch of a resource, shared by many event handlers. Port of
/// `SharedIndexInformer` (`sharedIndexInformer`).
///
/// Cloning is cheap and yields a handle to the same informer.
///
/// Differs from Go: `run` is async and takes a [`CancellationToken`]; `has_synced` is also a
/// [`SyncedSignal`] to await; handlers are typed and get `Arc<K>`; a handler that panics loses
/// one notification and keeps running (Go waits one second and restarts its loop).
#[doc(alias = "SharedInformer", alias = "sharedIndexInformer")]
pub struct SharedIndexInformer<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for SharedIndexInformer<K> {
    fn clone(&self) -> Self {
        SharedIndexInformer {
            inner: self.inner.clone(),
        }
    }
}

/// The informer's own handler: every change it applies to the cache becomes a notification.
struct Distributor<'a, K>(&'a SharedProcessor<K>);

impl<K: Object + Send + Sync + 'static> ResourceEventHandler<K> for Distributor<'_, K> {
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool) {
        self.0.distribute(
            Notification::Add {
                obj: obj.clone(),
                is_in_initial_list,
            },
            false,
        );
    }
    fn on_update(&self, old: &Arc<K>, new: &Arc<K>) {
        // Same resourceVersion: a resync (or an unchanged relist item); only due handlers.
        let is_sync = old.resource_version() == new.resource_version();
        self.0.distribute(
            Notification::Update {
                old: old.clone(),
                new: new.clone(),
            },
            is_sync,
        );
    }
    fn on_delete(&self, obj: &ObjectOrTombstone<K>) {
        self.0.distribute(Notification::Delete(obj.clone()), false);
    }
}

impl<K: Object + Send + Sync + 'static> SharedIndexInformer<K> {
    /// A new, not yet running informer. Port of `NewSharedIndexInformerWithOptions`.
    pub fn new(lw: Arc<dyn ListerWatcher<K>>, options: InformerOptions<K>) -> Self {
        SharedIndexInformer {
            inner: Arc::new(Inner {
                indexer: Arc::new(Store::new(default_key_func(), options.indexers)),
                lw,
                processor: SharedProcessor::new(),
                state: Mutex::new(StartState {
                    started: false,
                    stopped: false,
                    transform: None,
                    watch_error_handler: None,
                    resync_check_period: options.resync_period,
                    rv: None,
                }),
                block_deltas: Mutex::new(()),
                synced: SyncFlag::new(),
                default_handler_resync: options.resync_period,
                fifo: options.fifo,
                reflector: options.reflector,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, StartState<K>> {
        self.inner.state.lock_unpoisoned()
    }

    /// A read-only view of the cache. Port of `GetIndexer` / `GetStore`.
    ///
    /// Differs from Go: Go returns the writable `Indexer` and relies on convention (a write
    /// would desynchronise the cache from the handlers); here the writer stays inside the
    /// informer and the view has read methods only (see [`ReadOnlyStore`]).
    #[doc(alias = "GetIndexer", alias = "GetStore")]
    pub fn indexer(&self) -> ReadOnlyStore<K> {
        ReadOnlyStore::new(self.inner.indexer.clone())
    }

    /// A lister over the cache; `resource` names the resource in NotFound errors.
    pub fn lister(&self, resource: impl Into<String>) -> Lister<K> {
        Lister::new(self.indexer(), resource)
    }

    /// Adds indexers; refused once started. Port of `AddIndexers`.
    pub fn add_indexers(&self, indexers: Indexers<K>) -> Result<()> {
        let st = self.state();
        if st.started {
            return Err(Error::AlreadyStarted);
        }
        self.inner.indexer.add_indexers(indexers)
    }

    /// Sets a transform applied to every object before it is cached (e.g. drop
    /// `managedFields`); refused once started. Port of `SetTransform`.
    pub fn set_transform(&self, f: TransformFunc<K>) -> Result<()> {
        let mut st = self.state();
        if st.started {
            return Err(Error::AlreadyStarted);
        }
        st.transform = Some(f);
        Ok(())
    }

    /// Sets the handler for list/watch failures; refused once started. Port of
    /// `SetWatchErrorHandler`.
    pub fn set_watch_error_handler(&self, f: WatchErrorHandler) -> Result<()> {
        let mut st = self.state();
        if st.started {
            return Err(Error::AlreadyStarted);
        }
        st.watch_error_handler = Some(f);
        Ok(())
    }

    /// True once the cache holds a full list. Port of `HasSynced`.
    pub fn has_synced(&self) -> bool {
        self.inner.synced.is_set()
    }

    /// The sync signal, to await or pass to [`crate::wait_for_cache_sync`].
    pub fn synced(&self) -> SyncedSignal {
        self.inner.synced.signal()
    }

    /// The reflector's last synced resourceVersion (`""` before start). Port of
    /// `LastSyncResourceVersion`.
    pub fn last_sync_resource_version(&self) -> String {
        self.state()
            .rv
            .as_ref()
            .map(|r| r.get())
            .unwrap_or_default()
    }

    /// True once `run` was called. Port of `HasStarted`.
    pub fn has_started(&self) -> bool {
        self.state().started
    }

    /// True once `run` returned; no handler can be added any more. Port of `IsStopped`.
    pub fn is_stopped(&self) -> bool {
        self.state().stopped
    }

    /// Registers `handler` with the informer's default resync period. Port of
    /// `AddEventHandler`.
    pub fn add_event_handler(
        &self,
        handler: impl ResourceEventHandler<K> + 'static,
    ) -> Result<ResourceEventHandlerRegistration> {
        self.add_event_handler_with_resync_period(handler, self.inner.default_handler_resync)
    }

    /// Registers `handler` with its own resync period (zero: no resyncs). Port of
    /// `AddEventHandlerWithResyncPeriod`, including its adjustment rules: at least 1 s; if
    /// shorter than the check period, the check period shrinks before start and the handler's
    /// period grows after start.
    pub fn add_event_handler_with_resync_period(
        &self,
        handler: impl ResourceEventHandler<K> + 'static,
        resync_period: Duration,
    ) -> Result<ResourceEventHandlerRegistration> {
        let mut st = self.state();
        if st.stopped {
            return Err(Error::Stopped);
        }
        let mut period = resync_period;
        if !period.is_zero() {
            if period < MINIMUM_RESYNC_PERIOD {
                tracing::warn!(?period, "resync period too small; using the 1 s minimum");
                period = MINIMUM_RESYNC_PERIOD;
            }
            if period < st.resync_check_period {
                if st.started {
                    tracing::warn!(?period, check = ?st.resync_check_period,
                        "informer already started: resync period raised to the check period");
                    period = st.resync_check_period;
                } else {
                    st.resync_check_period = period;
                    self.inner.processor.resync_check_period_changed(period);
                }
            }
        }
        let listener = ProcessorListener::new(
            Arc::new(handler),
            period,
            determine_resync_period(period, st.resync_check_period),
        );
        let registration = listener.registration(self.inner.synced.signal());
        if !st.started {
            self.inner.processor.add_listener(listener);
            tracing::debug!(
                handlers = self.inner.processor.len(),
                "handler registered before start"
            );
            return Ok(registration);
        }
        // Join safely: stop delta processing, catch up from the cache, resume.
        let _blocked = self.inner.block_deltas.lock_unpoisoned();
        self.inner.processor.add_listener(listener.clone());
        let items = self.inner.indexer.list();
        tracing::debug!(
            catch_up = items.len(),
            "late handler registered; replaying the cache as initial adds"
        );
        for obj in items {
            listener.add(Notification::Add {
                obj,
                is_in_initial_list: true,
            });
        }
        Ok(registration)
    }

    /// Unregisters a handler and stops its task; pending notifications are dropped.
    /// Returns false if it was not registered. Port of `RemoveEventHandler`.
    pub fn remove_event_handler(&self, registration: &ResourceEventHandlerRegistration) -> bool {
        let _st = self.state();
        let _blocked = self.inner.block_deltas.lock_unpoisoned();
        self.inner.processor.remove_listener(registration.id())
    }

    /// Runs the informer until `shutdown` fires, then stops every task it started and waits
    /// for them. A second call returns at once. Port of `Run`.
    ///
    /// # Cancel safety
    /// Prefer cancelling `shutdown`. Dropping the future aborts the tasks it owns (reflector
    /// and handler tasks) without waiting for them.
    pub async fn run(&self, shutdown: CancellationToken) {
        let (transform, watch_error_handler, check) = {
            let mut st = self.state();
            if st.started {
                tracing::warn!(
                    "the shared informer has already started; run more than once is not allowed"
                );
                return;
            }
            st.started = true;
            (
                st.transform.clone(),
                st.watch_error_handler.clone(),
                st.resync_check_period,
            )
        };
        let inner = self.inner.clone();
        let queue = new_fifo(
            inner.fifo,
            inner.indexer.clone(),
            transform,
            inner.synced.clone(),
        );
        let me = inner.clone();
        let process = Box::new(move |deltas: &Deltas<K>, initial: bool| {
            me.handle_deltas(deltas, initial);
        });
        let resync_me = inner.clone();
        let controller = Controller::new(ControllerConfig {
            queue,
            lister_watcher: inner.lw.clone(),
            process,
            reflector: ReflectorConfig {
                resync_period: check,
                ..inner.reflector.clone()
            },
            should_resync: Some(Arc::new(move || resync_me.processor.should_resync())),
            watch_error_handler,
        });
        self.state().rv = Some(controller.last_sync_resource_version());
        inner.processor.start(tokio::runtime::Handle::current());
        tracing::debug!(what = %inner.lw.describe(), "shared informer started");

        // If this future is dropped, abort the listeners' tasks too.
        let guard = AbortListenersOnDrop(&inner.processor);
        controller.run(shutdown).await;
        self.state().stopped = true;
        inner.processor.stop().await;
        std::mem::forget(guard);
        tracing::debug!(what = %inner.lw.describe(), "shared informer stopped");
    }
}

impl<K: Object + Send + Sync + 'static> Inner<K> {
    /// Applies popped deltas to the cache and tells every handler, with late handlers kept
    /// out meanwhile (`block_deltas`). Port of `sharedIndexInformer.HandleDeltas`.
    ///
    /// Differs from Go: a failed cache write is logged here; Go returns it through `Pop` to
    /// `processLoop`, which drops it silently. In both, the remaining deltas are not applied.
    fn handle_deltas(&self, deltas: &Deltas<K>, is_in_initial_list: bool) {
        let _blocked = self.block_deltas.lock_unpoisoned();
        if let Err(e) = process_deltas(
            &Distributor(&self.processor),
            &self.indexer,
            deltas,
            is_in_initial_list,
        ) {
            tracing::error!(error = %error_chain(&e), "informer: failed to apply deltas to the cache");
        }
    }
}

/// Aborts every listener task when dropped; forgotten once `run` stopped them in order.
struct AbortListenersOnDrop<'a, K: Send + Sync + 'static>(&'a SharedProcessor<K>);

impl<K: Send + Sync + 'static> Drop for AbortListenersOnDrop<'_, K> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<K: Object + Send + Sync + 'static> CacheSynced for SharedIndexInformer<K> {
    fn has_synced(&self) -> bool {
        SharedIndexInformer::has_synced(self)
    }
    fn wait_synced(&self) -> BoxFuture<'static, bool> {
        let s = self.synced();
        Box::pin(async move { s.wait().await })
    }
}

#[cfg(test)]
#[path = "shared_informer_tests.rs"]
mod tests;
