//! Port of client-go informers/factory.go: one shared informer per resource type, started,
//! synced and shut down together.
//!
//! Data flow: controllers ask the factory for `informer_for::<Pod>()`; the first call builds a
//! [`SharedIndexInformer`] (a [`ListWatch`] over the factory's client, namespace and option
//! tweak, with the namespace index) and later calls return the same one. `start` runs every
//! informer not yet running, each in a task the factory owns; `wait_for_cache_sync` waits on
//! their sync signals (no polling); `shutdown` stops them all and waits for every task.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use apiclient::{Object, Resource, RestClient};
use apimachinery::util::sync::MutexExt;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::fifo::FifoKind;
use crate::index::namespace_indexers;
use crate::listwatch::{ListWatch, TweakListOptions};
use crate::reflector::ReflectorConfig;
use crate::shared_informer::{InformerOptions, SharedIndexInformer};
use crate::wait::SyncedSignal;

/// Settings of a [`SharedInformerFactory`]. Port of the factory's `SharedInformerOption`s
/// (`WithNamespace`, `WithTweakListOptions`) and its default resync.
#[derive(Clone, Default)]
pub struct FactoryOptions {
    /// Restrict every informer to one namespace (`None`: all namespaces).
    pub namespace: Option<String>,
    /// Adjust every list and watch call (e.g. a label selector).
    pub tweak_list_options: Option<TweakListOptions>,
    /// Default resync period of the informers (zero: none).
    pub default_resync: Duration,
    /// Which FIFO the informers use.
    pub fifo: FifoKind,
    /// Reflector settings for every informer.
    pub reflector: ReflectorConfig,
    /// Decode every informer's objects without `metadata.managedFields` (see
    /// [`ListWatch::strip_managed_fields`]); the factory-wide form of Go's
    /// `WithTransform` with a transform that clears the field.
    pub strip_managed_fields: bool,
    /// Media types of every informer's lists and watches. `None`: protobuf for built-in
    /// types with JSON as the fallback in `Accept`
    /// ([`apiclient::ContentConfig::protobuf`]), as kube-controller-manager configures its
    /// informers. Differs from client-go, whose bare default is JSON; types without a
    /// protobuf form (custom resources) stay on JSON either way.
    pub content: Option<apiclient::ContentConfig>,
}

/// The type-erased view of an informer the factory needs to run and sync it.
trait ErasedInformer: Send + Sync {
    fn run(&self, shutdown: CancellationToken) -> BoxFuture<'static, ()>;
    fn synced(&self) -> SyncedSignal;
}

impl<K: Object + Send + Sync + 'static> ErasedInformer for SharedIndexInformer<K> {
    fn run(&self, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
        let me = self.clone();
        Box::pin(async move { me.run(shutdown).await })
    }
    fn synced(&self) -> SyncedSignal {
        SharedIndexInformer::synced(self)
    }
}

struct Entry {
    name: &'static str,
    typed: Box<dyn Any + Send + Sync>,
    erased: Arc<dyn ErasedInformer>,
}

struct FactoryState {
    informers: HashMap<TypeId, Entry>,
    started: HashSet<TypeId>,
    /// Every informer's `run`, owned here and joined by `shutdown`.
    tasks: JoinSet<()>,
    shutting_down: bool,
}

/// Shares one informer per resource type. Port of `sharedInformerFactory`.
///
/// Differs from Go: generic `informer_for::<K>()` instead of generated accessors
/// (`factory.Core().V1().Pods()`); the factory owns its stop token, so [`Self::shutdown`]
/// stops and then waits, rather than waiting for the caller to close a channel.
#[doc(alias = "sharedInformerFactory", alias = "NewSharedInformerFactory")]
pub struct SharedInformerFactory {
    client: RestClient,
    options: FactoryOptions,
    stop: CancellationToken,
    state: Mutex<FactoryState>,
}

impl std::fmt::Debug for SharedInformerFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("SharedInformerFactory")
            .field("namespace", &self.options.namespace)
            .field(
                "informers",
                &st.informers.values().map(|e| e.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SharedInformerFactory {
    /// A factory over `client`. Port of `NewSharedInformerFactoryWithOptions`.
    pub fn new(client: RestClient, options: FactoryOptions) -> Self {
        SharedInformerFactory {
            client,
            options,
            stop: CancellationToken::new(),
            state: Mutex::new(FactoryState {
                informers: HashMap::new(),
                started: HashSet::new(),
                tasks: JoinSet::new(),
                shutting_down: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FactoryState> {
        self.state.lock_unpoisoned()
    }

    /// The shared informer for `K`, created on first use with a [`ListWatch`] and the
    /// namespace index. Port of `InformerFor` with the generated `defaultInformer`.
    pub fn informer_for<K>(&self) -> SharedIndexInformer<K>
    where
        K: Resource + Object + DeserializeOwned + Send + Sync + 'static,
    {
        self.informer_for_with(|client, options| {
            let mut lw = ListWatch::<K>::for_resource(client.clone(), options.namespace.as_deref());
            if let Some(t) = &options.tweak_list_options {
                lw = lw.tweak(t.clone());
            }
            if options.strip_managed_fields {
                lw = lw.strip_managed_fields();
            }
            lw = lw.content_config(
                options
                    .content
                    .clone()
                    .unwrap_or_else(apiclient::ContentConfig::protobuf),
            );
            SharedIndexInformer::new(
                Arc::new(lw),
                InformerOptions {
                    resync_period: options.default_resync,
                    indexers: namespace_indexers(),
                    fifo: options.fifo,
                    reflector: ReflectorConfig {
                        name: K::PLURAL.to_owned(),
                        ..options.reflector.clone()
                    },
                },
            )
        })
    }

    /// The shared informer for `K`, created by `new` on first use (e.g. with a transform, or
    /// for a metadata-only type). Port of `InformerFor(obj, newFunc)`.
    pub fn informer_for_with<K>(
        &self,
        new: impl FnOnce(&RestClient, &FactoryOptions) -> SharedIndexInformer<K>,
    ) -> SharedIndexInformer<K>
    where
        K: Object + Send + Sync + 'static,
    {
        let mut st = self.lock();
        if let Some(e) = st.informers.get(&TypeId::of::<K>())
            && let Some(i) = e.typed.downcast_ref::<SharedIndexInformer<K>>()
        {
            return i.clone();
        }
        let informer = new(&self.client, &self.options);
        tracing::debug!(
            kind = std::any::type_name::<K>(),
            "factory: created shared informer"
        );
        st.informers.insert(
            TypeId::of::<K>(),
            Entry {
                name: std::any::type_name::<K>(),
                typed: Box::new(informer.clone()),
                erased: Arc::new(informer.clone()),
            },
        );
        informer
    }

    /// Runs every informer not yet running, each in a task owned by the factory. Port of
    /// `Start`.
    ///
    /// # Panics
    /// Outside a tokio runtime (it spawns tasks).
    pub fn start(&self) {
        let mut st = self.lock();
        if st.shutting_down {
            return;
        }
        let todo: Vec<(TypeId, &'static str, Arc<dyn ErasedInformer>)> = st
            .informers
            .iter()
            .filter(|(t, _)| !st.started.contains(*t))
            .map(|(t, e)| (*t, e.name, e.erased.clone()))
            .collect();
        for (t, name, i) in todo {
            tracing::debug!(kind = name, "factory: starting informer");
            st.tasks.spawn(i.run(self.stop.clone()));
            st.started.insert(t);
        }
    }

    /// Waits until every started informer has synced, or `shutdown` fires. Returns each
    /// informer's type name and whether it synced. Port of `WaitForCacheSync` (event-driven).
    ///
    /// # Cancel safety
    /// Cancel-safe.
    pub async fn wait_for_cache_sync(
        &self,
        shutdown: &CancellationToken,
    ) -> BTreeMap<&'static str, bool> {
        let waits: Vec<(&'static str, SyncedSignal)> = {
            let st = self.lock();
            st.informers
                .iter()
                .filter(|(t, _)| st.started.contains(*t))
                .map(|(_, e)| (e.name, e.erased.synced()))
                .collect()
        };
        let mut out = BTreeMap::new();
        for (name, s) in waits {
            let ok = tokio::select! {
                _ = shutdown.cancelled() => false,
                _ = self.stop.cancelled() => false,
                ok = s.wait() => ok,
            };
            out.insert(name, ok || s.has_synced());
        }
        out
    }

    /// Stops every informer and waits for all of their tasks; later `start` calls do
    /// nothing. Port of `Shutdown`.
    ///
    /// # Cancel safety
    /// If dropped while waiting, the remaining tasks are aborted when the factory is dropped.
    pub async fn shutdown(&self) {
        let mut tasks = {
            let mut st = self.lock();
            st.shutting_down = true;
            std::mem::take(&mut st.tasks)
        };
        self.stop.cancel();
        while let Some(r) = tasks.join_next().await {
            if let Err(e) = r
                && e.is_panic()
            {
                tracing::error!("informer task panicked: {e}");
            }
        }
        tracing::debug!("factory: every informer stopped");
    }
}
