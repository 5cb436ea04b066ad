//! Port of client-go `tools/cache` (and `informers/factory.go`): the machinery that keeps a
//! local, indexed copy of API objects up to date and tells handlers what changed. Semantics of
//! client-go v0.35: watch-list and RealFIFO on by default.
//!
//! # Data flow
//!
//! ```text
//!  API server ──list/watch──▶ Reflector ──add/update/delete/replace──▶ FIFO (RealFifo | DeltaFifo)
//!                              (reflector.rs)                          (the_real_fifo.rs, delta_fifo.rs)
//!                                                                            │ pop
//!                                                                            ▼
//!   Lister ◀── Store/Indexer ◀──── process_deltas (controller.rs) ───▶ SharedProcessor
//!  (listers.rs) (store.rs, thread_safe_store.rs, index.rs)                 │ one task per handler
//!                                                                          ▼ (processor_listener.rs)
//!                                                               ResourceEventHandler::on_add/on_update/on_delete
//! ```
//!
//! The [`Reflector`] lists, then watches from the list's resourceVersion, and relists when the
//! watch breaks in a way that may have lost events; every object it sees goes into a FIFO.
//! The informer's loop pops the FIFO, applies each delta to the [`Store`] (which keeps the
//! indices) and hands a notification to each registered handler's own queue, so a slow handler
//! never blocks the others. [`SharedIndexInformer`] bundles all of this; [`SharedInformerFactory`]
//! shares one informer per type. The informer alone writes its cache: users read it through a
//! [`ReadOnlyStore`] (Go hands out the writable `Indexer` and relies on convention). Every
//! stage emits `tracing` debug events (target `informer`).
//!
//! | Rust | Go (`k8s.io/client-go/tools/cache`) |
//! |---|---|
//! | [`listwatch`]: [`ListerWatcher`], [`ListWatch`] | `listwatch.go` |
//! | [`reflector`]: [`Reflector`] | `reflector.go` |
//! | [`the_real_fifo`]: [`RealFifo`] | `the_real_fifo.go` |
//! | [`delta`]: [`Delta`], [`DeltaType`], [`DeletedFinalStateUnknown`], [`ObjectOrTombstone`] | `delta_fifo.go` (the change types) |
//! | [`delta_fifo`]: [`DeltaFifo`] | `delta_fifo.go` |
//! | [`fifo`]: [`Queue`] | `fifo.go` (the `Queue` interface) |
//! | [`store`]: [`Store`], [`ReadOnlyStore`], key functions | `store.go` |
//! | [`retry_with_deadline`]: [`RetryWithDeadline`] | `retry_with_deadline.go` |
//! | [`thread_safe_store`], [`index`] | `thread_safe_store.go`, `index.go` |
//! | [`controller`]: [`Controller`], [`ResourceEventHandler`], [`process_deltas`] | `controller.go` |
//! | [`shared_informer`]: [`SharedIndexInformer`] | `shared_informer.go` |
//! | [`processor_listener`] | `shared_informer.go` (`processorListener`, `sharedProcessor`) |
//! | [`wait`]: [`wait_for_cache_sync`] | `shared_informer.go` (`WaitForCacheSync`) |
//! | [`listers`]: [`Lister`] | `listers.go` |
//! | [`factory`]: [`SharedInformerFactory`] | `informers/factory.go` |
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use informer::{ListWatch, ResourceEventHandlerFuncs, SharedIndexInformer, InformerOptions};
//! # #[derive(Clone, Debug, serde::Deserialize)] struct Pod { metadata: apimachinery::ObjectMeta }
//! # apimachinery::impl_object_via_metadata!(Pod);
//! # impl apimachinery::Resource for Pod { const GROUP: &'static str = ""; const VERSION: &'static str = "v1";
//! #   const KIND: &'static str = "Pod"; const PLURAL: &'static str = "pods"; const NAMESPACED: bool = true; }
//! let client = apiclient::RestClient::new(&apiclient::Config::infer()?)?;
//! let lw = ListWatch::<Pod>::for_resource(client, None);
//! let informer = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
//! informer.add_event_handler(ResourceEventHandlerFuncs::new()
//!     .on_add(|pod: &Arc<Pod>, _initial| println!("added {}", apimachinery::Object::name(pod.as_ref()))))?;
//! let stop = tokio_util::sync::CancellationToken::new();
//! let run = tokio::spawn({ let i = informer.clone(); let s = stop.clone(); async move { i.run(s).await } });
//! informer.synced().wait().await;
//! stop.cancel();
//! run.await?;
//! # Ok(()) }
//! ```

pub mod controller;
pub mod delta;
pub mod delta_fifo;
pub mod error;
#[cfg(feature = "apiclient")]
pub mod factory;
pub mod fifo;
pub mod index;
pub mod listers;
pub mod listwatch;
pub mod processor_listener;
pub mod reflector;
pub mod retry_with_deadline;
pub mod shared_informer;
pub mod store;
pub mod the_real_fifo;
pub mod thread_safe_store;
pub mod wait;

pub use controller::{
    Controller, ControllerConfig, FilteringResourceEventHandler, ResourceEventHandler,
    ResourceEventHandlerFuncs, new_informer, process_deltas,
};
pub use delta::{DeletedFinalStateUnknown, Delta, DeltaType, Deltas, ObjectOrTombstone};
pub use delta_fifo::{DeltaFifo, DeltaFifoOptions, TransformFunc};
pub use error::{Error, Result};
#[cfg(feature = "apiclient")]
pub use factory::{FactoryOptions, SharedInformerFactory};
pub use fifo::{FifoKind, Queue};
pub use index::{IndexFunc, Indexers, NAMESPACE_INDEX};
pub use listers::{Lister, NamespaceLister};
#[cfg(feature = "apiclient")]
pub use listwatch::ListWatch;
pub use listwatch::{ListerWatcher, WatchEventStream};
pub use processor_listener::ResourceEventHandlerRegistration;
pub use reflector::{Reflector, ReflectorConfig, WatchErrorHandler};
pub use retry_with_deadline::RetryWithDeadline;
pub use shared_informer::{InformerOptions, SharedIndexInformer};
pub use store::{KeyFunc, KnownObjects, ReadOnlyStore, ReflectorStore, Store};
pub use the_real_fifo::{RealFifo, RealFifoOptions};
pub use wait::{CacheSynced, SyncFlag, SyncedSignal, wait_for_cache_sync};
