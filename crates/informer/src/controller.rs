//! Port of tools/cache/controller.go: the low-level controller (reflector → FIFO →
//! `process_deltas` → store + handler), the [`ResourceEventHandler`] trait, its closure
//! adapter and its filtering adapter.
//!
//! Data flow: [`Controller::run`] starts a [`Reflector`] that fills a FIFO, and pops that FIFO
//! in a loop. Each popped [`Deltas`] goes through [`process_deltas`], which applies every delta
//! to the cache (the FIFO's known objects) and calls the handler: `Added`/`Updated`/
//! `Replaced`/`Sync` become `on_add` (key not cached yet) or `on_update(old, new)`, `Deleted`
//! becomes `on_delete` with the final object or a tombstone.
//!
//! ```
//! use informer::{ResourceEventHandlerFuncs, ResourceEventHandler};
//! use std::sync::Arc;
//! let h = ResourceEventHandlerFuncs::<apimachinery::ObjectMeta>::new()
//!     .on_add(|o, initial| println!("add {:?} (initial list: {initial})", o.name));
//! ResourceEventHandler::on_add(&h, &Arc::new(apimachinery::ObjectMeta::default()), true);
//! ```

use apimachinery::api::errors::error_chain;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::Object;
use tokio_util::sync::CancellationToken;

use crate::delta::{Delta, Deltas, ObjectOrTombstone};
use crate::delta_fifo::{DeltaFifo, DeltaFifoOptions, TransformFunc};
use crate::error::{Error, Result};
use crate::fifo::{FifoKind, Queue};
use crate::index::Indexers;
use crate::listwatch::ListerWatcher;
use crate::reflector::{
    LastSyncResourceVersion, Reflector, ReflectorConfig, ShouldResyncFunc, WatchErrorHandler,
};
use crate::store::{KnownObjects, Store, default_key_func};
use crate::the_real_fifo::{RealFifo, RealFifoOptions};
use crate::wait::{SyncFlag, SyncedSignal};

/// Receives notifications about changes to cached objects. Port of `ResourceEventHandler`.
///
/// Calls for one handler are sequential; `old` in `on_update` is the last state the handler
/// was told about (intermediate states may be skipped). `on_update` is also called on a relist
/// or resync even if nothing changed. `on_delete` gets the final state if known, otherwise a
/// [`crate::DeletedFinalStateUnknown`] tombstone.
///
/// Differs from Go: typed, objects are `&Arc<K>` (cheap to keep, impossible to mutate).
pub trait ResourceEventHandler<K>: Send + Sync {
    /// An object appeared; `is_in_initial_list` is true for objects of the first list (and
    /// for the catch-up adds a late handler receives). Port of `OnAdd`.
    #[doc(alias = "OnAdd")]
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool);
    /// An object changed (or was re-delivered by a relist or resync). Port of `OnUpdate`.
    #[doc(alias = "OnUpdate")]
    fn on_update(&self, old: &Arc<K>, new: &Arc<K>);
    /// An object was deleted. Port of `OnDelete`.
    #[doc(alias = "OnDelete")]
    fn on_delete(&self, obj: &ObjectOrTombstone<K>);
}

type AddFn<K> = Box<dyn Fn(&Arc<K>, bool) + Send + Sync>;
type UpdateFn<K> = Box<dyn Fn(&Arc<K>, &Arc<K>) + Send + Sync>;
type DeleteFn<K> = Box<dyn Fn(&ObjectOrTombstone<K>) + Send + Sync>;

/// A handler made of optional closures. Port of `ResourceEventHandlerFuncs` (and
/// `ResourceEventHandlerDetailedFuncs`, since `on_add` always gets `is_in_initial_list`).
pub struct ResourceEventHandlerFuncs<K> {
    add: Option<AddFn<K>>,
    update: Option<UpdateFn<K>>,
    delete: Option<DeleteFn<K>>,
}

impl<K> Default for ResourceEventHandlerFuncs<K> {
    fn default() -> Self {
        ResourceEventHandlerFuncs {
            add: None,
            update: None,
            delete: None,
        }
    }
}

impl<K> ResourceEventHandlerFuncs<K> {
    /// A handler that ignores everything until closures are set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the add closure. Port of the `AddFunc` field.
    #[must_use]
    pub fn on_add(mut self, f: impl Fn(&Arc<K>, bool) + Send + Sync + 'static) -> Self {
        self.add = Some(Box::new(f));
        self
    }

    /// Sets the update closure. Port of the `UpdateFunc` field.
    #[must_use]
    pub fn on_update(mut self, f: impl Fn(&Arc<K>, &Arc<K>) + Send + Sync + 'static) -> Self {
        self.update = Some(Box::new(f));
        self
    }

    /// Sets the delete closure. Port of the `DeleteFunc` field.
    #[must_use]
    pub fn on_delete(mut self, f: impl Fn(&ObjectOrTombstone<K>) + Send + Sync + 'static) -> Self {
        self.delete = Some(Box::new(f));
        self
    }
}

impl<K> ResourceEventHandler<K> for ResourceEventHandlerFuncs<K> {
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool) {
        if let Some(f) = &self.add {
            f(obj, is_in_initial_list);
        }
    }
    fn on_update(&self, old: &Arc<K>, new: &Arc<K>) {
        if let Some(f) = &self.update {
            f(old, new);
        }
    }
    fn on_delete(&self, obj: &ObjectOrTombstone<K>) {
        if let Some(f) = &self.delete {
            f(obj);
        }
    }
}

/// Passes on only objects that satisfy a filter; an update that makes an object start
/// passing becomes an add, one that makes it stop passing becomes a delete.
/// Port of `FilteringResourceEventHandler`.
pub struct FilteringResourceEventHandler<K, H> {
    filter: Box<dyn Fn(&K) -> bool + Send + Sync>,
    handler: H,
}

impl<K, H> FilteringResourceEventHandler<K, H> {
    /// Wraps `handler` behind `filter`.
    pub fn new(filter: impl Fn(&K) -> bool + Send + Sync + 'static, handler: H) -> Self {
        FilteringResourceEventHandler {
            filter: Box::new(filter),
            handler,
        }
    }
}

impl<K: Send + Sync, H: ResourceEventHandler<K>> ResourceEventHandler<K>
    for FilteringResourceEventHandler<K, H>
{
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool) {
        if (self.filter)(obj) {
            self.handler.on_add(obj, is_in_initial_list);
        }
    }
    fn on_update(&self, old: &Arc<K>, new: &Arc<K>) {
        match ((self.filter)(old), (self.filter)(new)) {
            (true, true) => self.handler.on_update(old, new),
            (false, true) => self.handler.on_add(new, false),
            (true, false) => self
                .handler
                .on_delete(&ObjectOrTombstone::Object(old.clone())),
            (false, false) => {}
        }
    }
    fn on_delete(&self, obj: &ObjectOrTombstone<K>) {
        // A tombstone without an object cannot be filtered: pass it on.
        if obj.object().is_none_or(|o| (self.filter)(o)) {
            self.handler.on_delete(obj);
        }
    }
}

/// Applies `deltas` (oldest first) to `store` and notifies `handler`. Port of
/// `processDeltas`.
///
/// Errors if the store refuses a write (a key or index function failed); the deltas after
/// the failing one are not applied.
pub fn process_deltas<K: Send + Sync + 'static>(
    handler: &dyn ResourceEventHandler<K>,
    store: &Store<K>,
    deltas: &Deltas<K>,
    is_in_initial_list: bool,
) -> Result<()> {
    for d in deltas {
        match d {
            Delta::Added(obj) | Delta::Updated(obj) | Delta::Replaced(obj) | Delta::Sync(obj) => {
                let key = store.key_of(obj)?;
                match store.get_by_key(&key) {
                    Some(old) => {
                        store.update(obj.clone())?;
                        tracing::debug!(%key, delta = ?d.kind(), "process delta: cached object updated; notifying on_update");
                        handler.on_update(&old, obj);
                    }
                    None => {
                        store.add(obj.clone())?;
                        tracing::debug!(%key, delta = ?d.kind(), is_in_initial_list, "process delta: new object cached; notifying on_add");
                        handler.on_add(obj, is_in_initial_list);
                    }
                }
            }
            Delta::Deleted(obj) => {
                let key = store.key_of_deleted(obj)?;
                store.delete_by_key(&key);
                tracing::debug!(%key, tombstone = obj.is_tombstone(), "process delta: object removed from cache; notifying on_delete");
                handler.on_delete(obj);
            }
        }
    }
    Ok(())
}

/// Builds the FIFO an informer uses, over `known` (the cache).
pub(crate) fn new_fifo<K: Object + Send + Sync + 'static>(
    kind: FifoKind,
    known: Arc<Store<K>>,
    transformer: Option<TransformFunc<K>>,
    synced: SyncFlag,
) -> Arc<dyn Queue<K>> {
    let known: Arc<dyn KnownObjects<K>> = known;
    match kind {
        FifoKind::Real => Arc::new(RealFifo::new(RealFifoOptions {
            key_function: None,
            known_objects: known,
            transformer,
            synced,
        })),
        FifoKind::Delta => Arc::new(DeltaFifo::new(DeltaFifoOptions {
            key_function: None,
            known_objects: Some(known),
            emit_delta_type_replaced: true,
            transformer,
            synced,
        })),
    }
}

/// What the controller runs on each popped item, under the queue's lock. Port of
/// `ProcessFunc`.
pub type ProcessFunc<K> = Box<dyn FnMut(&Deltas<K>, bool) + Send>;

/// Settings of a [`Controller`]. Port of `Config`.
pub struct ControllerConfig<K> {
    /// The queue the reflector fills and the loop pops.
    pub queue: Arc<dyn Queue<K>>,
    /// The source.
    pub lister_watcher: Arc<dyn ListerWatcher<K>>,
    /// Runs under the queue's lock for each popped item (Go's `Process`).
    pub process: ProcessFunc<K>,
    /// Reflector settings; `resync_period` is Go's `FullResyncPeriod`.
    pub reflector: ReflectorConfig,
    /// Consulted at each resync tick. Port of `ShouldResync`.
    pub should_resync: Option<ShouldResyncFunc>,
    /// Called on list/watch failures. Port of `WatchErrorHandler`.
    pub watch_error_handler: Option<WatchErrorHandler>,
}

/// Runs a reflector into a queue and pops the queue into a process function.
/// Port of `controller` (`New(&Config)`).
///
/// Differs from Go: `run` consumes the controller, and stopping closes the queue and waits
/// for the reflector task.
pub struct Controller<K> {
    queue: Arc<dyn Queue<K>>,
    process: ProcessFunc<K>,
    reflector: Reflector<K>,
    rv: LastSyncResourceVersion,
}

impl<K: Object + Send + Sync + 'static> Controller<K> {
    /// A controller from `config`. Port of `New`.
    pub fn new(config: ControllerConfig<K>) -> Self {
        let mut reflector = Reflector::new(
            config.lister_watcher,
            config.queue.clone() as Arc<dyn crate::store::ReflectorStore<K>>,
            config.reflector,
        );
        if let Some(f) = config.should_resync {
            reflector.set_should_resync(f);
        }
        if let Some(h) = config.watch_error_handler {
            reflector.set_watch_error_handler(h);
        }
        let rv = reflector.last_sync_resource_version_reader();
        Controller {
            queue: config.queue,
            process: config.process,
            reflector,
            rv,
        }
    }

    /// True once the queue's initial population was processed. Port of `HasSynced`.
    pub fn has_synced(&self) -> bool {
        self.queue.has_synced()
    }

    /// A reader of the reflector's last synced resourceVersion. Port of
    /// `LastSyncResourceVersion`.
    pub fn last_sync_resource_version(&self) -> LastSyncResourceVersion {
        self.rv.clone()
    }

    /// Runs the reflector and the pop loop until `shutdown` fires; then closes the queue and
    /// waits for the reflector task. Port of `controller.Run` and `processLoop`.
    ///
    /// # Cancel safety
    /// Prefer cancelling `shutdown`: dropping the future aborts the reflector task (its
    /// owner is this future) but cannot wait for it.
    pub async fn run(self, shutdown: CancellationToken) {
        let Controller {
            queue,
            mut process,
            mut reflector,
            ..
        } = self;
        let stop = shutdown.clone();
        let reflector_task =
            AbortOnDrop::new(tokio::spawn(async move { reflector.run(stop).await }));
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                popped = queue.pop(&mut *process) => {
                    if let Err(Error::FifoClosed) = popped {
                        break;
                    }
                }
            }
        }
        queue.close();
        reflector_task.join().await;
        tracing::debug!("controller stopped");
    }
}

/// Owns a task: aborts it if dropped before being joined.
pub(crate) struct AbortOnDrop<T>(Option<tokio::task::JoinHandle<T>>);

impl<T> AbortOnDrop<T> {
    /// Takes ownership of `handle`.
    pub(crate) fn new(handle: tokio::task::JoinHandle<T>) -> Self {
        AbortOnDrop(Some(handle))
    }

    /// Waits for the task; a panic inside it is logged, not propagated.
    pub(crate) async fn join(mut self) {
        if let Some(h) = self.0.take()
            && let Err(e) = h.await
            && e.is_panic()
        {
            tracing::error!("task panicked: {e}");
        }
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        if let Some(h) = &self.0 {
            h.abort();
        }
    }
}

/// A cache plus a controller that keeps it filled and notifies `handler`.
/// Port of `NewIndexerInformer` (`NewInformer` with no indexers).
///
/// Returns the cache (read it, do not write it), the controller to `run`, and its sync
/// signal.
pub fn new_informer<K: Object + Send + Sync + 'static>(
    lw: Arc<dyn ListerWatcher<K>>,
    handler: Arc<dyn ResourceEventHandler<K>>,
    resync_period: Duration,
    indexers: Indexers<K>,
    fifo: FifoKind,
) -> (Arc<Store<K>>, Controller<K>, SyncedSignal) {
    let store = Arc::new(Store::new(default_key_func(), indexers));
    let synced = SyncFlag::new();
    let queue = new_fifo(fifo, store.clone(), None, synced.clone());
    let s = store.clone();
    let process = Box::new(move |deltas: &Deltas<K>, initial: bool| {
        if let Err(e) = process_deltas(handler.as_ref(), &s, deltas, initial) {
            tracing::error!(error = %error_chain(&e), "informer: failed to apply deltas to the cache");
        }
    });
    let controller = Controller::new(ControllerConfig {
        queue,
        lister_watcher: lw,
        process,
        reflector: ReflectorConfig {
            resync_period,
            ..ReflectorConfig::default()
        },
        should_resync: None,
        watch_error_handler: None,
    });
    (store, controller, synced.signal())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::listwatch::scripted::{Scripted, WatchScript, bookmark, meta};
    use apimachinery::{ObjectMeta, WatchEvent};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl ResourceEventHandler<ObjectMeta> for Log {
        fn on_add(&self, o: &Arc<ObjectMeta>, initial: bool) {
            self.0.lock().unwrap().push(format!(
                "add {}@{} {initial}",
                o.name(),
                o.resource_version()
            ));
        }
        fn on_update(&self, old: &Arc<ObjectMeta>, new: &Arc<ObjectMeta>) {
            self.0.lock().unwrap().push(format!(
                "update {}@{}->{}",
                new.name(),
                old.resource_version(),
                new.resource_version()
            ));
        }
        fn on_delete(&self, o: &ObjectOrTombstone<ObjectMeta>) {
            let t = if o.is_tombstone() { " tombstone" } else { "" };
            let name = o.object().map(|o| o.name().to_owned()).unwrap_or_default();
            self.0.lock().unwrap().push(format!("delete {name}{t}"));
        }
    }

    #[test]
    fn process_deltas_turns_deltas_into_add_update_delete() {
        let store = Store::new(default_key_func(), Indexers::new());
        let log = Log::default();
        let deltas: Deltas<ObjectMeta> = vec![
            Delta::Added(Arc::new(meta("a", "1"))),
            Delta::Updated(Arc::new(meta("a", "2"))),
            Delta::Replaced(Arc::new(meta("b", "3"))),
            Delta::Deleted(ObjectOrTombstone::Object(Arc::new(meta("a", "4")))),
        ];
        process_deltas(&log, &store, &deltas, true).unwrap();
        assert_eq!(
            *log.0.lock().unwrap(),
            vec!["add a@1 true", "update a@1->2", "add b@3 true", "delete a"]
        );
        assert_eq!(store.list_keys(), vec!["ns/b"]);
    }

    #[test]
    fn the_filtering_handler_turns_filter_transitions_into_add_and_delete() {
        let log = Arc::new(Log::default());
        struct Fwd(Arc<Log>);
        impl ResourceEventHandler<ObjectMeta> for Fwd {
            fn on_add(&self, o: &Arc<ObjectMeta>, i: bool) {
                self.0.on_add(o, i)
            }
            fn on_update(&self, a: &Arc<ObjectMeta>, b: &Arc<ObjectMeta>) {
                self.0.on_update(a, b)
            }
            fn on_delete(&self, o: &ObjectOrTombstone<ObjectMeta>) {
                self.0.on_delete(o)
            }
        }
        let h = FilteringResourceEventHandler::new(
            |o: &ObjectMeta| o.resource_version() != "0",
            Fwd(log.clone()),
        );
        let (out, inn) = (Arc::new(meta("a", "0")), Arc::new(meta("a", "1")));
        h.on_add(&out, false);
        h.on_update(&out, &inn);
        h.on_update(&inn, &inn);
        h.on_update(&inn, &out);
        h.on_delete(&ObjectOrTombstone::Object(out.clone()));
        assert_eq!(
            *log.0.lock().unwrap(),
            vec!["add a@1 false", "update a@1->1", "delete a"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_controller_fills_the_cache_notifies_and_stops_cleanly() {
        for fifo in [FifoKind::Real, FifoKind::Delta] {
            let lw = Arc::new(Scripted::default());
            // Watch-list is on by default: the initial state arrives on the watch itself.
            lw.watch(WatchScript::EventsThenHang(vec![
                Ok(WatchEvent::Added(meta("a", "1"))),
                Ok(WatchEvent::Added(meta("b", "2"))),
                bookmark("10", true),
                Ok(WatchEvent::Modified(meta("a", "11"))),
                Ok(WatchEvent::Deleted(meta("b", "12"))),
            ]));
            let log = Arc::new(Log::default());
            let (store, controller, synced) = new_informer(
                lw.clone(),
                log.clone(),
                Duration::ZERO,
                Indexers::new(),
                fifo,
            );
            let stop = CancellationToken::new();
            let task = tokio::spawn(controller.run(stop.clone()));
            assert!(synced.wait().await);
            lw.wait_calls(1).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(store.list_keys(), vec!["ns/a"]);
            assert_eq!(store.get_by_key("ns/a").unwrap().resource_version(), "11");
            let mut got = log.0.lock().unwrap().clone();
            got.sort();
            assert_eq!(
                got,
                vec!["add a@1 true", "add b@2 true", "delete b", "update a@1->11"],
                "{fifo:?}"
            );
            stop.cancel();
            task.await.unwrap();
        }
    }
}
