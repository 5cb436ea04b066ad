//! Port of client-go's `examples/workqueue/main.go` and sample-controller's `controller.go`: the
//! controller loop every Kubernetes controller is built on.
//!
//! # Data flow
//!
//! ```text
//! SharedIndexInformer ── on_add / on_update / on_delete ──▶ key "namespace/name"
//!        │ (cache)                                             │ queue.add
//!        ▼                                                     ▼
//!     Lister ◀──── reconcile(key, lister) ◀──── worker ◀── RateLimitingQueue
//!                        │ Result<Action, E>                   ▲
//!                        └── handle_err ───────────────────────┘
//!                              Err / panic: add_rate_limited (≤ max_retries), then forget
//!                              Requeue: add_rate_limited; RequeueAfter(d): forget + add_after
//! ```
//!
//! Handlers only turn changes into keys; workers reconcile keys against the cache. Because the
//! queue collapses repeated keys and never hands one key to two workers, a burst of changes to an
//! object costs one reconcile, and reconciles of one object never overlap. The reconcile function
//! sees the key and the cache, never the queue: "the retry logic should not be part of the
//! business logic". It says what should happen next with an [`Action`] or an error of its own
//! type, and [`Controller::handle_err`] turns that into queue calls.
//!
//! # Examples
//!
//! ```no_run
//! use api::core::v1::Pod;
//! use controller::{Action, Controller, ControllerConfig};
//! use informer::Lister;
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("bad key {0}")]
//! struct BadKey(String);
//!
//! async fn reconcile(key: String, pods: Lister<Pod>) -> Result<Action, BadKey> {
//!     let (ns, name) = key.split_once('/').ok_or_else(|| BadKey(key.clone()))?;
//!     if pods.namespace(ns).get(name).is_err() {
//!         return Ok(Action::Done); // deleted: nothing to do
//!     }
//!     Ok(Action::Done)
//! }
//!
//! # async fn demo(informer: informer::SharedIndexInformer<Pod>) -> Result<(), controller::Error> {
//! let controller = Controller::new(informer, ControllerConfig::default())?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! controller.run(2, shutdown, reconcile).await
//! # }
//! ```
//!
//! # Invariant
//!
//! Every key taken from the queue is passed to `done` exactly once, whatever the reconcile does
//! (including panicking); that is what lets [`Controller::run`] drain the queue on shutdown.

use std::error::Error as StdError;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use apiclient::Object;
use futures::FutureExt;
use informer::store::{deletion_handling_meta_namespace_key_func, meta_namespace_key_func};
use informer::{Lister, ResourceEventHandlerFuncs, SharedIndexInformer};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use workqueue::{QueueConfig, RateLimitingQueue, default_controller_rate_limiter};

use crate::reconcile::{Action, ReconcileError, error_chain};

/// How many times a key is retried before it is dropped. Port of the examples' `maxRetries`.
pub const DEFAULT_MAX_RETRIES: usize = 5;

/// How long a worker loop waits before restarting if it ever returns (Go's `wait.Until` period).
const WORKER_RESTART_PERIOD: Duration = Duration::from_secs(1);

/// Why [`Controller::run`] could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Shutdown came before the informer's cache synced. Port of the examples' "Timed out
    /// waiting for caches to sync".
    #[error("controller {name}: shut down before the caches synced")]
    CacheSyncFailed {
        /// The controller's name.
        name: String,
    },
    /// The informer refused the controller's event handler (it was already stopped).
    #[error("controller {name}: registering event handlers: {source}")]
    Informer {
        /// The controller's name.
        name: String,
        /// The informer's error.
        #[source]
        source: Box<informer::Error>,
    },
}

/// Settings of a [`Controller`].
#[derive(Clone)]
pub struct ControllerConfig {
    /// The controller's name: the queue's metrics name and the prefix of its logs.
    pub name: String,
    /// Retries of a failing key before it is dropped ([`DEFAULT_MAX_RETRIES`]).
    pub max_retries: usize,
    /// The queue's metrics; `None` for none.
    pub metrics_provider: Option<Arc<dyn workqueue::MetricsProvider>>,
}

impl std::fmt::Debug for ControllerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerConfig")
            .field("name", &self.name)
            .field("max_retries", &self.max_retries)
            .field("metrics_provider", &self.metrics_provider.is_some())
            .finish()
    }
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            name: "controller".into(),
            max_retries: DEFAULT_MAX_RETRIES,
            metrics_provider: None,
        }
    }
}

/// A controller for objects of type `K`: an informer feeding a rate-limited queue of keys, and
/// workers reconciling them.
///
/// Port of examples/workqueue: `Controller` (`indexer`, `queue`, `informer`). Differs from Go:
/// the stop channel is the `shutdown` token given to [`Controller::run`]; the API client is
/// whatever the reconcile function captures.
pub struct Controller<K> {
    name: String,
    max_retries: usize,
    queue: RateLimitingQueue<String>,
    informer: SharedIndexInformer<K>,
    lister: Lister<K>,
}

impl<K> std::fmt::Debug for Controller<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("name", &self.name)
            .field("max_retries", &self.max_retries)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl<K: Object + Send + Sync + 'static> Controller<K> {
    /// Creates the queue and wires the informer's handlers to it: adds and updates enqueue the
    /// object's `namespace/name` key, deletes enqueue the key of the object or its tombstone.
    ///
    /// Port of examples/workqueue: `NewController` plus the `cache.ResourceEventHandlerFuncs` in
    /// its `main`.
    ///
    /// Works outside a tokio runtime: the queue starts its delaying task on first use inside one.
    pub fn new(informer: SharedIndexInformer<K>, config: ControllerConfig) -> Result<Self, Error> {
        let mut queue_config = QueueConfig::named(config.name.clone());
        queue_config.metrics_provider = config.metrics_provider.clone();
        let queue = RateLimitingQueue::new(default_controller_rate_limiter(), queue_config);
        let (on_add, on_update, on_delete) = (queue.clone(), queue.clone(), queue.clone());
        let handlers = ResourceEventHandlerFuncs::new()
            .on_add(move |obj: &Arc<K>, _initial| enqueue(&on_add, obj.as_ref()))
            .on_update(move |_old: &Arc<K>, new: &Arc<K>| enqueue(&on_update, new.as_ref()))
            .on_delete(move |obj| {
                let key = deletion_handling_meta_namespace_key_func(obj);
                tracing::debug!(%key, "delete: queue add");
                on_delete.add(key);
            });
        informer
            .add_event_handler(handlers)
            .map_err(|source| Error::Informer {
                name: config.name.clone(),
                source: Box::new(source),
            })?;
        let lister = informer.lister(config.name.clone());
        Ok(Self {
            name: config.name,
            max_retries: config.max_retries,
            queue,
            informer,
            lister,
        })
    }

    /// The work queue, for callers that enqueue keys themselves (e.g. from a second informer).
    /// Go: the `Controller.workqueue` field.
    pub fn queue(&self) -> &RateLimitingQueue<String> {
        &self.queue
    }

    /// The cache the reconcile function reads.
    pub fn lister(&self) -> &Lister<K> {
        &self.lister
    }

    /// Runs the informer (unless it already runs), waits for its cache to sync, then runs
    /// `workers` workers until `shutdown` is cancelled; then drains the queue (workers finish the
    /// keys they hold and what is still queued) and waits for every task it started.
    ///
    /// Port of examples/workqueue: `Controller.Run`. Fails with [`Error::CacheSyncFailed`] if
    /// `shutdown` comes before the cache syncs. `reconcile` is Go's `syncHandler` (sample-controller)
    /// or `syncToStdout` (examples/workqueue).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future aborts the informer and workers it started (their
    /// tasks are owned by the future) without draining the queue. Cancel `shutdown` instead.
    pub async fn run<R, Fut, E>(
        self,
        workers: usize,
        shutdown: CancellationToken,
        reconcile: R,
    ) -> Result<(), Error>
    where
        R: Fn(String, Lister<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        E: StdError + Send + Sync + 'static,
    {
        let this = Arc::new(self);
        let reconcile = Arc::new(reconcile);
        tracing::info!(controller = %this.name, "starting controller");

        let informer_stop = CancellationToken::new();
        let informer_task = (!this.informer.has_started()).then(|| {
            let informer = this.informer.clone();
            let stop = informer_stop.clone();
            AbortOnDropHandle::new(tokio::spawn(async move { informer.run(stop).await }))
        });
        let stop_informer = || async {
            informer_stop.cancel();
            if let Some(task) = informer_task
                && let Err(err) = task.await
            {
                tracing::error!(error = %apimachinery::api::errors::error_chain(&err), "informer task failed");
            }
        };

        let synced = this.informer.synced();
        let synced = tokio::select! {
            ok = synced.wait() => ok,
            _ = shutdown.cancelled() => false,
        };
        if !synced {
            this.queue.shut_down();
            stop_informer().await;
            return Err(Error::CacheSyncFailed {
                name: this.name.clone(),
            });
        }
        tracing::info!(controller = %this.name, workers, "caches synced; starting workers");

        let tasks: Vec<_> = (0..workers)
            .map(|worker| {
                let this = this.clone();
                let reconcile = reconcile.clone();
                let shutdown = shutdown.clone();
                AbortOnDropHandle::new(tokio::spawn(async move {
                    this.run_worker(worker, &*reconcile, &shutdown).await
                }))
            })
            .collect();

        shutdown.cancelled().await;
        tracing::info!(controller = %this.name, "shutting down: draining the queue");
        this.queue.shut_down_with_drain().await;
        for task in tasks {
            if let Err(err) = task.await {
                tracing::error!(%err, "worker task failed");
            }
        }
        stop_informer().await;
        tracing::info!(controller = %this.name, "controller stopped");
        Ok(())
    }

    /// Port of examples/workqueue: `runWorker` inside `wait.Until(c.runWorker, time.Second,
    /// stopCh)`: loops on `process_next_item`, and restarts after a second if the loop ever ends
    /// while the controller still runs.
    async fn run_worker<R, Fut, E>(
        &self,
        worker: usize,
        reconcile: &R,
        shutdown: &CancellationToken,
    ) where
        R: Fn(String, Lister<K>) -> Fut + Send + Sync,
        Fut: Future<Output = Result<Action, E>> + Send,
        E: StdError + Send + Sync + 'static,
    {
        loop {
            while self.process_next_item(reconcile).await {}
            if self.queue.shutting_down() {
                tracing::debug!(worker, "worker stopped: queue shut down");
                return;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(WORKER_RESTART_PERIOD) => {}
            }
        }
    }

    /// Takes one key, reconciles it, records the outcome, and marks it done. Returns false once
    /// the queue is shut down and empty.
    ///
    /// Port of examples/workqueue: `processNextItem` (controller-runtime:
    /// `processNextWorkItem`). A reconcile that panics is caught and treated as an error (Go's
    /// `HandleCrash` would crash the process; controller-runtime recovers it the same way).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe once a key was taken: dropping the future then leaves the key processing
    /// forever. Workers should run it to completion.
    pub async fn process_next_item<R, Fut, E>(&self, reconcile: &R) -> bool
    where
        R: Fn(String, Lister<K>) -> Fut + Send + Sync,
        Fut: Future<Output = Result<Action, E>> + Send,
        E: StdError + Send + Sync + 'static,
    {
        let Some(key) = self.queue.get().await else {
            return false;
        };
        tracing::debug!(controller = %self.name, %key, "worker: reconciling");
        let outcome = AssertUnwindSafe(reconcile(key.clone(), self.lister.clone()))
            .catch_unwind()
            .await;
        let result = match outcome {
            Ok(result) => result.map_err(ReconcileError::Failed),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(ReconcileError::Panicked { message })
            }
        };
        self.handle_err(&key, result);
        self.queue.done(&key);
        true
    }

    /// Applies a reconcile's outcome to the queue:
    ///
    /// | outcome | queue |
    /// |---|---|
    /// | `Ok(Action::Done)` | `forget` |
    /// | `Ok(Action::Requeue)` | `add_rate_limited` |
    /// | `Ok(Action::RequeueAfter(d))` | `forget`, then `add_after(d)` |
    /// | `Err(_)`, fewer than `max_retries` requeues | `add_rate_limited` |
    /// | `Err(_)`, retries used up | `forget` (the key is dropped until the object changes) |
    ///
    /// Errors are logged with their whole `source()` chain.
    ///
    /// Port of examples/workqueue: `handleErr` for errors, and of controller-runtime
    /// pkg/internal/controller/controller.go: `reconcileHandler` for [`Action`]. Differs from
    /// controller-runtime: errors are retried at most `max_retries` times, as client-go's
    /// examples do (controller-runtime retries forever).
    pub fn handle_err<E>(&self, key: &String, result: Result<Action, ReconcileError<E>>)
    where
        E: StdError + 'static,
    {
        match result {
            Ok(Action::Done) => {
                self.queue.forget(key);
            }
            Ok(Action::Requeue) => {
                tracing::debug!(controller = %self.name, %key, "reconcile asked to requeue");
                self.queue.add_rate_limited(key.clone());
            }
            Ok(Action::RequeueAfter(after)) => {
                tracing::debug!(controller = %self.name, %key, ?after, "reconcile asked to requeue after");
                self.queue.forget(key);
                self.queue.add_after(key.clone(), after);
            }
            Err(err) if self.queue.num_requeues(key) < self.max_retries => {
                tracing::info!(
                    controller = %self.name, %key, error = %error_chain(&err),
                    retry = self.queue.num_requeues(key) + 1,
                    "error syncing; requeuing with back-off"
                );
                self.queue.add_rate_limited(key.clone());
            }
            Err(err) => {
                self.queue.forget(key);
                tracing::warn!(
                    controller = %self.name, %key, error = %error_chain(&err),
                    retries = self.max_retries,
                    "dropping key out of the queue"
                );
            }
        }
    }
}

/// Adds the object's `namespace/name` key to the queue. Port of sample-controller's `enqueueFoo`.
fn enqueue<K: Object>(queue: &RateLimitingQueue<String>, obj: &K) {
    match meta_namespace_key_func(obj) {
        Ok(key) => {
            tracing::debug!(%key, "handler: queue add");
            queue.add(key);
        }
        Err(err) => tracing::error!(%err, "cannot compute the object's key"),
    }
}
