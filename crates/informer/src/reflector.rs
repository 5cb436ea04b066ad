//! Port of tools/cache/reflector.go: `ListAndWatch` as an explicit state machine.
//!
//! Data flow: the reflector gets a full picture of a collection (a LIST, or a watch with
//! initial events), writes it into its [`ReflectorStore`] with `replace`, then watches from the
//! picture's resourceVersion and writes every event with `add`/`update`/`delete`. It remembers
//! the last resourceVersion it synced to, so a broken watch resumes where it stopped, and a
//! relist asks for data at least that new.
//!
//! ```text
//!            ┌──────────── list / watch-list fails ─────────────┐
//!            ▼                                                  │
//!   ┌──▶ [Sync] ── ok ──▶ [OpenWatch] ── ok ──▶ [Watching] ─────┤ 410, other error,
//!   │        │ watch-list ok (same stream) ───────────▲ │        │ very short watch
//!   │        │                     ▲ 429 / refused    │ │ clean close
//!   │        │                     └──[Backoff]◀──────┼─┘──▶ [OpenWatch] (no relist)
//!   └────────┴───────────── [Backoff] ◀───────────────┘
//! ```
//!
//! Rules (each from reflector.go, each tested below on a scripted [`ListerWatcher`]):
//! - The first LIST asks for resourceVersion `"0"` (any cached state); later LISTs ask for the
//!   last synced resourceVersion; `""` (a consistent read) only after a LIST itself failed with
//!   410 Expired/Gone or "too large resource version", and then at once, in the same attempt.
//! - Paging: 500 per page unless the LIST is pinned to a resourceVersion other than `""`/`"0"`
//!   (served from the watch cache, unpaged), or a page size was configured, or an RV=`"0"` LIST
//!   once came back paginated (no watch cache: keep paging). An expired continue token falls
//!   back to one full list ([`apimachinery::pager::ListPager`]).
//! - Watches ask for bookmarks and a server timeout jittered in [5 min, 10 min).
//! - Watch triage: 410 in the stream → relist from the last resourceVersion; 429 or connection
//!   refused when opening (or 429 in the stream) → back off and re-watch without relisting;
//!   any other error → relist; a clean close → re-watch at once; a close within 1 s with no
//!   event ("very short watch") → relist.
//! - Watch triage, InternalError: with [`ReflectorConfig::max_internal_error_retry_duration`]
//!   set, a watch ending with an InternalError is re-opened at once from the last
//!   resourceVersion while the burst of such errors is younger than that duration (errors a
//!   minute apart start a new burst), then the reflector relists; zero (the default, as Go's
//!   `MaxInternalErrorRetryDuration`) relists at once. See [`RetryWithDeadline`].
//! - Every relist waits on the back-off: 800 ms doubling to 30 s, each delay jittered by up to
//!   +100 % (`wait.Jitter(d, 1.0)`: [d, 2d)), reset after 2 min without trouble.
//! - Every watch event (ADDED, MODIFIED, DELETED, BOOKMARK) advances the resourceVersion (for
//!   ADDED, see the next rule), even when the store refused the event: the refusal is logged
//!   and the watch goes on, as Go's `handleAnyWatch` does (`utilruntime.HandleError`); a
//!   relist would meet the same object again.
//! - Differs from client-go 1.35: a watch started at `""`/`"0"` does not advance the
//!   resourceVersion on ADDED events until some other event arrived, because those first ADDED
//!   events are the synthetic initial state in no resourceVersion order, and resuming from one
//!   of them could skip objects not yet seen. client-go 1.36 made the same change
//!   (`propagateRVFromStart`, `eventReceivedBesidesAdded`).
//! - Watch-list (on by default, as in client-go ≥ 1.35): a watch with `sendInitialEvents=true`
//!   and `resourceVersionMatch=NotOlderThan`, collected until the bookmark annotated
//!   `k8s.io/initial-events-end`, then `replace`d into the store while the same watch goes on.
//!   If the server refuses it, or the stream ends without that bookmark, this attempt falls
//!   back to LIST/WATCH; the next relist tries watch-list again, as Go's `ListAndWatch` does
//!   (Go retries a stream that ended without the bookmark at once; here it falls back to LIST
//!   so a server that ignores `sendInitialEvents` still gets synced).
//! - A resync timer calls the store's `resync` when the `should_resync` hook agrees.

use apimachinery::api::errors::error_chain;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use apimachinery::meta::ResourceVersionMatch;
use apimachinery::pager::{DEFAULT_PAGE_SIZE, ListPager};
use apimachinery::util::sync::MutexExt;
use apimachinery::util::wait::jitter;
use apimachinery::{ListOptions, Object, WatchEvent};
use futures::StreamExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::listwatch::{ListerWatcher, WatchEventStream};
use crate::retry_with_deadline::RetryWithDeadline;
use crate::store::{ReflectorStore, meta_namespace_key_func};

/// Jitter factor of the back-off and of the watch timeout: each is drawn from [d, 2d).
/// Port of `defaultBackoffJitter` (1.0) and the watch timeout's `rand.Float64() + 1.0`.
const JITTER: f64 = 1.0;

/// How far apart two InternalErrors may be and still belong to one burst (Go passes
/// `time.Minute` to `NewRetryWithDeadline` in `Reflector.watch`).
const INTERNAL_ERROR_RESET_PERIOD: Duration = Duration::from_secs(60);

/// Called whenever a list or a watch open fails and the reflector is about to back off.
/// Port of `WatchErrorHandler`; receives the reflector's name and the error.
pub type WatchErrorHandler = Arc<dyn Fn(&str, &Error) + Send + Sync>;

/// Asked at each resync tick whether to resync now. Port of `ShouldResyncFunc`.
pub type ShouldResyncFunc = Arc<dyn Fn() -> bool + Send + Sync>;

/// The default watch-error handler: logs at a level that fits the error. Port of
/// `DefaultWatchErrorHandler`.
pub fn default_watch_error_handler(name: &str, err: &Error) {
    match err {
        Error::Api { source, .. } if source.is_resource_expired() || source.is_gone() => {
            tracing::debug!(reflector = name, error = %error_chain(&err), "watch closed (expired)");
        }
        _ => {
            tracing::warn!(reflector = name, error = %error_chain(&err), "failed to list or watch")
        }
    }
}

/// Settings of a [`Reflector`]. Port of `ReflectorOptions` plus the exported fields of
/// `Reflector` (`WatchListPageSize`, `UseWatchList`). Defaults cite reflector.go.
#[derive(Clone, Debug)]
pub struct ReflectorConfig {
    /// Name in log lines.
    pub name: String,
    /// How often to consider a resync; zero disables resyncs.
    pub resync_period: Duration,
    /// Minimum server-side watch timeout; values under 5 min are raised to 5 min
    /// (`defaultMinWatchTimeout`). The actual timeout is jittered in [min, 2 × min).
    pub min_watch_timeout: Duration,
    /// Page size for lists; 0 picks per the paging rules in the module docs
    /// (`WatchListPageSize`).
    pub page_size: i64,
    /// Try watch-list before LIST (`UseWatchList`; client-go ≥ 1.35 default: on).
    pub use_watch_list: bool,
    /// First back-off delay (800 ms).
    pub initial_backoff: Duration,
    /// Largest back-off delay before jitter (30 s).
    pub max_backoff: Duration,
    /// Time without trouble after which the back-off starts over (2 min).
    pub backoff_reset: Duration,
    /// How long a watch ending with an InternalError is re-opened (without relisting) before
    /// the reflector relists; zero: relist at once. Port of `MaxInternalErrorRetryDuration`
    /// (Go's default: 0).
    pub max_internal_error_retry_duration: Duration,
}

impl Default for ReflectorConfig {
    fn default() -> Self {
        ReflectorConfig {
            name: "reflector".into(),
            resync_period: Duration::ZERO,
            min_watch_timeout: Duration::from_secs(5 * 60),
            page_size: 0,
            use_watch_list: true,
            initial_backoff: Duration::from_millis(800),
            max_backoff: Duration::from_secs(30),
            backoff_reset: Duration::from_secs(2 * 60),
            max_internal_error_retry_duration: Duration::ZERO,
        }
    }
}

#[derive(Debug, Default)]
struct RvState {
    /// The resourceVersion last synced with the store.
    last_sync: String,
    /// The last list at `last_sync` failed with Expired/Gone or too-large: list at `""`.
    unavailable: bool,
}

/// A cloneable reader of a reflector's last synced resourceVersion.
/// Port of `LastSyncResourceVersion()` made shareable.
#[derive(Clone, Debug, Default)]
pub struct LastSyncResourceVersion(Arc<Mutex<RvState>>);

impl LastSyncResourceVersion {
    fn lock(&self) -> MutexGuard<'_, RvState> {
        self.0.lock_unpoisoned()
    }

    /// The resourceVersion last synced with the store (`""` before the first list).
    pub fn get(&self) -> String {
        self.lock().last_sync.clone()
    }
}

/// Exponential back-off with jitter and reset. Port of `exponentialBackoffManagerImpl`
/// (`NewExponentialBackoffManager(800ms, 30s, 2min, 2.0, 1.0)` in reflector.go): delays drawn
/// from [0.8, 1.6) s, [1.6, 3.2) s, … doubling until the 30 s cap, then [30, 60) s.
#[derive(Debug)]
struct Backoff {
    initial: Duration,
    cap: Duration,
    reset_after: Duration,
    current: Duration,
    last_start: Option<Instant>,
}

impl Backoff {
    fn new(c: &ReflectorConfig) -> Self {
        Backoff {
            initial: c.initial_backoff,
            cap: c.max_backoff,
            reset_after: c.backoff_reset,
            current: c.initial_backoff,
            last_start: None,
        }
    }

    fn next(&mut self) -> Duration {
        let now = Instant::now();
        if self
            .last_start
            .is_none_or(|l| now.duration_since(l) > self.reset_after)
        {
            self.current = self.initial;
        }
        self.last_start = Some(now);
        let base = self.current;
        self.current = (self.current * 2).min(self.cap);
        jitter(base, JITTER)
    }
}

/// Where the state machine is. Each variant's handler returns the next state.
enum State<K> {
    /// Get a full picture: watch-list, or LIST.
    Sync,
    /// Open a watch from the last synced resourceVersion.
    OpenWatch,
    /// Consume a watch.
    Watching(Watch<K>),
    /// Wait on the back-off, then go to `then`.
    Backoff { then: Box<State<K>> },
}

struct Watch<K> {
    stream: WatchEventStream<K>,
    started: Instant,
    /// The resourceVersion the watch started at.
    start_rv: String,
}

/// How a watch ended.
enum WatchEnd {
    /// Clean close: re-watch at once.
    Closed,
    /// Back off, then re-watch without relisting (429).
    Rewatch,
    /// Back off, then relist.
    Relist,
}

/// Port of `isExpiredError`: Expired, or Gone for servers before 1.18.
fn is_expired(e: &apimachinery::Error) -> bool {
    e.is_resource_expired() || e.is_gone()
}

/// Port of `isTooLargeResourceVersionError`.
fn is_too_large_resource_version(e: &apimachinery::Error) -> bool {
    let Some(s) = e.status() else { return false };
    let causes = s
        .details
        .as_ref()
        .map(|d| d.causes.as_slice())
        .unwrap_or(&[]);
    if causes.iter().any(|c| c.reason == "ResourceVersionTooLarge") {
        return true;
    }
    e.is_timeout()
        && (causes
            .iter()
            .any(|c| c.message == "Too large resource version")
            || s.message.contains("Too large resource version"))
}

/// Port of `isWatchErrorRetriable`: connection refused or 429 → back off and re-watch.
fn is_watch_error_retriable(e: &apimachinery::Error) -> bool {
    e.is_transport(apimachinery::api::errors::TransportKind::Connect) || e.is_too_many_requests()
}

/// Keeps a [`ReflectorStore`] in step with a collection on the API server. Port of
/// `Reflector`.
///
/// Differs from Go: the loop is an explicit `enum State` (see the module docs), time comes
/// from tokio (so tests run on a paused clock), and `run` takes a [`CancellationToken`].
pub struct Reflector<K> {
    config: ReflectorConfig,
    lw: Arc<dyn ListerWatcher<K>>,
    store: Arc<dyn ReflectorStore<K>>,
    rv: LastSyncResourceVersion,
    backoff: Backoff,
    /// An RV="0" list came back paginated: the server has no watch cache; keep paging.
    paginated_result: bool,
    should_resync: Option<ShouldResyncFunc>,
    watch_error_handler: WatchErrorHandler,
    /// When the resync timer fires next; `None`: no resync. Go runs `startResync` in its own
    /// goroutine; here the [`State::Watching`] loop selects on this deadline.
    next_resync: Option<Instant>,
    /// How long InternalErrors are retried by re-watching. Go builds a new one in each
    /// `Reflector.watch` call, i.e. after each successful list; so does `sync` here.
    internal_error_retry: RetryWithDeadline,
    description: String,
}

/// The one retryable kind for [`Reflector::internal_error_retry`]: `apierrors.IsInternalError`.
fn new_internal_error_retry(config: &ReflectorConfig) -> RetryWithDeadline {
    RetryWithDeadline::new(
        config.max_internal_error_retry_duration,
        INTERNAL_ERROR_RESET_PERIOD,
        apimachinery::Error::is_internal_error,
    )
}

impl<K: Object + Send + Sync + 'static> Reflector<K> {
    /// A reflector from `lw` into `store`. Port of `NewReflectorWithOptions`.
    pub fn new(
        lw: Arc<dyn ListerWatcher<K>>,
        store: Arc<dyn ReflectorStore<K>>,
        mut config: ReflectorConfig,
    ) -> Self {
        config.min_watch_timeout = config.min_watch_timeout.max(Duration::from_secs(5 * 60));
        let description = lw.describe();
        Reflector {
            backoff: Backoff::new(&config),
            internal_error_retry: new_internal_error_retry(&config),
            config,
            lw,
            store,
            rv: LastSyncResourceVersion::default(),
            paginated_result: false,
            should_resync: None,
            watch_error_handler: Arc::new(default_watch_error_handler),
            next_resync: None,
            description,
        }
    }

    /// Sets the hook consulted at each resync tick (default: always resync).
    /// Port of `Reflector.ShouldResync`.
    pub fn set_should_resync(&mut self, f: ShouldResyncFunc) {
        self.should_resync = Some(f);
    }

    /// Sets the handler called when a list or watch open fails.
    /// Port of `SetWatchErrorHandler`.
    pub fn set_watch_error_handler(&mut self, f: WatchErrorHandler) {
        self.watch_error_handler = f;
    }

    /// The resourceVersion last synced with the store. Port of `LastSyncResourceVersion`.
    pub fn last_sync_resource_version(&self) -> String {
        self.rv.get()
    }

    /// A reader of the last synced resourceVersion that outlives `&self`.
    pub fn last_sync_resource_version_reader(&self) -> LastSyncResourceVersion {
        self.rv.clone()
    }

    /// Lists and watches until `shutdown` fires. Port of `Run` (`wait.BackoffUntil` around
    /// `ListAndWatch`).
    ///
    /// Go: `ListAndWatch` is one pass of list (or watch-list) then watch, which `Run` repeats;
    /// here the pass is the states `Sync` → `OpenWatch` → `Watching` of the module docs'
    /// diagram, and the repetition is this loop.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future (or cancelling `shutdown`) closes any open watch; the
    /// store keeps what it received.
    pub async fn run(&mut self, shutdown: CancellationToken) {
        tracing::debug!(reflector = %self.config.name, what = %self.description, "starting reflector");
        let mut state = State::Sync;
        loop {
            state = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                next = self.step(state) => next,
            };
        }
        tracing::debug!(reflector = %self.config.name, "stopping reflector");
    }

    async fn step(&mut self, state: State<K>) -> State<K> {
        match state {
            State::Sync => self.sync().await,
            State::OpenWatch => self.open_watch().await,
            State::Watching(w) => match self.watch(w).await {
                WatchEnd::Closed => State::OpenWatch,
                WatchEnd::Rewatch => State::Backoff {
                    then: Box::new(State::OpenWatch),
                },
                WatchEnd::Relist => State::Backoff {
                    then: Box::new(State::Sync),
                },
            },
            State::Backoff { then } => {
                let d = self.backoff.next();
                tracing::debug!(reflector = %self.config.name, delay_ms = d.as_millis() as u64, "backing off");
                tokio::time::sleep(d).await;
                *then
            }
        }
    }

    /// The resourceVersion to LIST at: `""` after an Expired/too-large answer, `"0"` before
    /// the first sync, else the last synced one. Port of `relistResourceVersion`.
    fn relist_resource_version(&self) -> String {
        let g = self.rv.lock();
        if g.unavailable {
            String::new()
        } else if g.last_sync.is_empty() {
            "0".into()
        } else {
            g.last_sync.clone()
        }
    }

    /// The resourceVersion to start a watch-list at: `""` after an Expired/too-large answer,
    /// else the last synced one. Port of `rewatchResourceVersion`.
    fn rewatch_resource_version(&self) -> String {
        let g = self.rv.lock();
        if g.unavailable {
            String::new()
        } else {
            g.last_sync.clone()
        }
    }

    /// Port of `setIsLastSyncResourceVersionUnavailable`.
    fn set_is_last_sync_resource_version_unavailable(&self, v: bool) {
        self.rv.lock().unavailable = v;
    }

    /// Port of `setLastSyncResourceVersion`.
    fn set_last_sync_resource_version(&self, rv: &str) {
        self.rv.lock().last_sync = rv.to_owned();
    }

    /// Server-side watch timeout in [min, 2 × min) seconds, truncated as Go's
    /// `int64(r.minWatchTimeout.Seconds() * (rand.Float64() + 1.0))`.
    fn watch_timeout_seconds(&self) -> i64 {
        jitter(self.config.min_watch_timeout, JITTER).as_secs() as i64
    }

    /// Writes a complete list into the store and records its resourceVersion. Port of
    /// `syncWith` (plus the `setLastSyncResourceVersion` that follows it in `list`).
    fn sync_with(&self, items: Vec<K>, resource_version: &str) -> Result<()> {
        self.store.replace(items, resource_version)?;
        self.set_last_sync_resource_version(resource_version);
        Ok(())
    }

    fn fail(&self, verb: &'static str, source: apimachinery::Error) -> Error {
        let err = Error::Api {
            verb,
            resource: self.description.clone(),
            source,
        };
        (self.watch_error_handler)(&self.config.name, &err);
        err
    }

    /// (Re)arms the resync timer. Port of `resyncChan`; the timer's firing is handled in
    /// [`Reflector::watch`] (Go: `startResync`).
    fn restart_resync_timer(&mut self) {
        self.next_resync = (!self.config.resync_period.is_zero())
            .then(|| Instant::now() + self.config.resync_period);
    }

    /// [`State::Sync`]: watch-list if enabled, else (or if it fails) LIST. The first half of
    /// Go's `ListAndWatch`.
    async fn sync(&mut self) -> State<K> {
        // Go creates the InternalError retry anew in each `Reflector.watch`, i.e. per pass.
        self.internal_error_retry = new_internal_error_retry(&self.config);
        if self.config.use_watch_list {
            match self.watch_list().await {
                Ok(w) => {
                    self.restart_resync_timer();
                    return State::Watching(w);
                }
                Err(e) => {
                    tracing::warn!(reflector = %self.config.name, error = %error_chain(&e),
                        "watch-list failed; falling back to LIST/WATCH because progress beats deadlock");
                }
            }
        }
        match self.list().await {
            Ok(()) => {
                self.restart_resync_timer();
                State::OpenWatch
            }
            Err(e) => {
                tracing::debug!(reflector = %self.config.name, error = %error_chain(&e), "list failed; will relist after back-off");
                State::Backoff {
                    then: Box::new(State::Sync),
                }
            }
        }
    }

    /// One LIST (paged per the rules), then `replace`. Port of `Reflector.list`.
    async fn list(&mut self) -> Result<()> {
        let rv = self.relist_resource_version();
        let page_size = if self.config.page_size != 0 {
            self.config.page_size
        } else if self.paginated_result {
            DEFAULT_PAGE_SIZE
        } else if !rv.is_empty() && rv != "0" {
            0
        } else {
            DEFAULT_PAGE_SIZE
        };
        let opts = ListOptions {
            resource_version: Some(rv.clone()),
            ..ListOptions::default()
        };
        tracing::debug!(reflector = %self.config.name, resource_version = %rv, page_size, "list start");
        let lw = self.lw.clone();
        let mut pager = ListPager::new(|o: ListOptions| lw.list(o)).page_size(page_size);
        let mut result = pager.list(opts).await;
        if let Err(e) = &result
            && (is_expired(e) || is_too_large_resource_version(e))
        {
            tracing::debug!(reflector = %self.config.name, error = %error_chain(&e),
                "list at resourceVersion {rv:?} unavailable; relisting with a consistent read");
            self.set_is_last_sync_resource_version_unavailable(true);
            let opts = ListOptions {
                resource_version: Some(self.relist_resource_version()),
                ..ListOptions::default()
            };
            result = pager.list(opts).await;
        }
        let (list, paginated) = result.map_err(|e| self.fail("list", e))?;
        if rv == "0" && paginated {
            self.paginated_result = true;
        }
        self.set_is_last_sync_resource_version_unavailable(false);
        let list_rv = list.metadata.resource_version.clone().unwrap_or_default();
        tracing::debug!(reflector = %self.config.name, resource_version = %list_rv,
            count = list.items.len(), paginated, "list end");
        self.sync_with(list.items, &list_rv)
    }

    /// The watch-list protocol. Port of `Reflector.watchList`.
    async fn watch_list(&mut self) -> Result<Watch<K>> {
        loop {
            let rv = self.rewatch_resource_version();
            let opts = ListOptions {
                resource_version: Some(rv.clone()),
                resource_version_match: Some(ResourceVersionMatch::NotOlderThan),
                send_initial_events: Some(true),
                allow_watch_bookmarks: true,
                timeout_seconds: Some(self.watch_timeout_seconds()),
                ..ListOptions::default()
            };
            tracing::debug!(reflector = %self.config.name, resource_version = %rv, "watch-list start");
            let started = Instant::now();
            let err = match self.lw.watch(opts).await {
                Err(e) => e,
                Ok(mut stream) => {
                    // Go's temporary store for the initial events (a map by key).
                    let mut items: std::collections::HashMap<
                        String,
                        K,
                        foldhash::fast::RandomState,
                    > = Default::default();
                    let outcome = loop {
                        match stream.next().await {
                            None => break None,
                            Some(Err(e)) => break Some(Err(e)),
                            Some(Ok(WatchEvent::Added(o) | WatchEvent::Modified(o))) => {
                                let key = meta_namespace_key_func(&o).unwrap_or_default();
                                items.insert(key, o);
                            }
                            Some(Ok(WatchEvent::Deleted(o))) => {
                                let key = meta_namespace_key_func(&o).unwrap_or_default();
                                items.remove(&key);
                            }
                            Some(Ok(WatchEvent::Bookmark(b))) => {
                                if b.is_initial_events_end() {
                                    break Some(Ok(b.metadata.resource_version));
                                }
                            }
                        }
                    };
                    match outcome {
                        Some(Ok(bookmark_rv)) => {
                            self.set_is_last_sync_resource_version_unavailable(false);
                            tracing::debug!(reflector = %self.config.name, resource_version = %bookmark_rv,
                                count = items.len(), "watch-list end: initial events complete; replacing store");
                            self.sync_with(items.into_values().collect(), &bookmark_rv)?;
                            self.store.update_resource_version(&bookmark_rv);
                            return Ok(Watch {
                                stream,
                                started: Instant::now(),
                                start_rv: bookmark_rv,
                            });
                        }
                        Some(Err(e)) => e,
                        None => {
                            // A dropped connection, or a server that ignores
                            // `sendInitialEvents` and never sends the bookmark.
                            tracing::warn!(reflector = %self.config.name,
                                elapsed_ms = started.elapsed().as_millis() as u64,
                                "watch-list stream ended without the initial-events-end bookmark; falling back to LIST");
                            return Err(Error::Api {
                                verb: "watch",
                                resource: self.description.clone(),
                                source: apimachinery::Error::InvalidRequest(
                                    "server does not support watch-list".into(),
                                ),
                            });
                        }
                    }
                }
            };
            if is_watch_error_retriable(&err) {
                let d = self.backoff.next();
                tracing::debug!(reflector = %self.config.name, error = %error_chain(&err), delay_ms = d.as_millis() as u64,
                    "watch-list refused for now; backing off");
                tokio::time::sleep(d).await;
                continue;
            }
            if is_expired(&err) || is_too_large_resource_version(&err) {
                tracing::debug!(reflector = %self.config.name, error = %error_chain(&err),
                    "watch-list resourceVersion unavailable; retrying from the most recent state");
                self.set_is_last_sync_resource_version_unavailable(true);
                continue;
            }
            return Err(Error::Api {
                verb: "watch",
                resource: self.description.clone(),
                source: err,
            });
        }
    }

    /// [`State::OpenWatch`]. Port of the opening half of `Reflector.watch`.
    async fn open_watch(&mut self) -> State<K> {
        let rv = self.rv.get();
        let timeout = self.watch_timeout_seconds();
        let opts = ListOptions {
            resource_version: Some(rv.clone()),
            timeout_seconds: Some(timeout),
            allow_watch_bookmarks: true,
            ..ListOptions::default()
        };
        tracing::debug!(reflector = %self.config.name, resource_version = %rv, timeout_seconds = timeout, "watch open");
        let started = Instant::now();
        match self.lw.watch(opts).await {
            Ok(stream) => State::Watching(Watch {
                stream,
                started,
                start_rv: rv,
            }),
            Err(e) if is_watch_error_retriable(&e) => {
                tracing::debug!(reflector = %self.config.name, error = %error_chain(&e),
                    "watch open refused (429 or connection refused); backing off, then re-watching without relisting");
                State::Backoff {
                    then: Box::new(State::OpenWatch),
                }
            }
            Err(e) => {
                let err = self.fail("watch", e);
                tracing::debug!(reflector = %self.config.name, error = %error_chain(&err), "watch open failed; relisting");
                State::Backoff {
                    then: Box::new(State::Sync),
                }
            }
        }
    }

    /// [`State::Watching`]: apply events until the watch ends, then triage how it ended. Port
    /// of `handleAnyWatch` (`handleWatch` for a plain watch; `watchHandler` in older Go)
    /// and of the triage in `Reflector.watch`; the resync timer handled here is Go's
    /// `startResync`.
    #[doc(
        alias = "handleAnyWatch",
        alias = "watchHandler",
        alias = "startResync"
    )]
    async fn watch(&mut self, mut w: Watch<K>) -> WatchEnd {
        let name = self.config.name.clone();
        // Go 1.36's `propagateRVFromStart`: a watch from a real resourceVersion sends events in
        // resourceVersion order; one from `""`/`"0"` first replays the state as ADDED events
        // in no particular order.
        let propagate_rv_from_start = !(w.start_rv.is_empty() || w.start_rv == "0");
        let mut event_received_besides_added = false;
        let mut events = 0u64;
        loop {
            let resync_at = self.next_resync;
            let next = tokio::select! {
                ev = w.stream.next() => ev,
                _ = async {
                    match resync_at {
                        Some(t) => tokio::time::sleep_until(t).await,
                        None => futures::future::pending().await,
                    }
                } => {
                    self.restart_resync_timer();
                    let due = self.should_resync.as_ref().is_none_or(|f| f());
                    if due {
                        tracing::debug!(reflector = %name, "resync timer fired: forcing resync");
                        if let Err(e) = self.store.resync() {
                            tracing::warn!(reflector = %name, error = %error_chain(&e), "resync failed; relisting");
                            return WatchEnd::Relist;
                        }
                    }
                    continue;
                }
            };
            let ev = match next {
                None => {
                    let elapsed = w.started.elapsed();
                    if elapsed < Duration::from_secs(1) && events == 0 {
                        tracing::warn!(reflector = %name,
                            "very short watch: closed within a second with no event; relisting");
                        return WatchEnd::Relist;
                    }
                    tracing::debug!(reflector = %name, events, "watch closed; re-watching from the last resourceVersion");
                    return WatchEnd::Closed;
                }
                Some(Err(e)) => return self.triage_watch_error(&e),
                Some(Ok(ev)) => ev,
            };
            events += 1;
            let (rv, applied) = match ev {
                WatchEvent::Added(o) => {
                    let rv = o.resource_version().to_owned();
                    tracing::debug!(reflector = %name, name = o.name(), resource_version = %rv, "watch event: ADDED");
                    (rv, self.store.add(o))
                }
                WatchEvent::Modified(o) => {
                    event_received_besides_added = true;
                    let rv = o.resource_version().to_owned();
                    tracing::debug!(reflector = %name, name = o.name(), resource_version = %rv, "watch event: MODIFIED");
                    (rv, self.store.update(o))
                }
                WatchEvent::Deleted(o) => {
                    event_received_besides_added = true;
                    let rv = o.resource_version().to_owned();
                    tracing::debug!(reflector = %name, name = o.name(), resource_version = %rv, "watch event: DELETED");
                    (rv, self.store.delete(o))
                }
                WatchEvent::Bookmark(b) => {
                    event_received_besides_added = true;
                    tracing::debug!(reflector = %name, resource_version = %b.metadata.resource_version,
                        "watch event: BOOKMARK; advancing resourceVersion");
                    (b.metadata.resource_version, Ok(()))
                }
            };
            if let Err(e) = applied {
                // Go: utilruntime.HandleError, then on to the next event. A relist would
                // meet the same object and fail the same way.
                tracing::error!(reflector = %name, error = %error_chain(&e), resource_version = %rv,
                    "unable to apply a watch event to the store; skipping it");
            }
            // Differs from Go: an event without a resourceVersion keeps the last one (Go
            // would store `""`, and the next watch would replay the whole state).
            if !rv.is_empty() && (propagate_rv_from_start || event_received_besides_added) {
                self.set_last_sync_resource_version(&rv);
                self.store.update_resource_version(&rv);
            }
        }
    }

    /// What to do after a watch stream reported `e`. Port of the error switch at the end of
    /// `Reflector.watch`, with its `RetryWithDeadline` (`retry.After`, `retry.ShouldRetry`).
    fn triage_watch_error(&mut self, e: &apimachinery::Error) -> WatchEnd {
        let name = &self.config.name;
        self.internal_error_retry.after(Some(e));
        if is_expired(e) {
            tracing::debug!(reflector = %name, error = %error_chain(&e),
                "watch expired (410); relisting from the last resourceVersion");
            return WatchEnd::Relist;
        }
        if e.is_too_many_requests() {
            tracing::debug!(reflector = %name, "watch returned 429; backing off, then re-watching");
            return WatchEnd::Rewatch;
        }
        if e.is_internal_error() && self.internal_error_retry.should_retry() {
            tracing::debug!(reflector = %name, error = %error_chain(&e),
                "retrying watch after internal error (within MaxInternalErrorRetryDuration)");
            return WatchEnd::Closed;
        }
        tracing::warn!(reflector = %name, error = %error_chain(&e), "watch ended with an error; relisting");
        WatchEnd::Relist
    }
}

#[cfg(test)]
#[path = "reflector_tests.rs"]
mod tests;
