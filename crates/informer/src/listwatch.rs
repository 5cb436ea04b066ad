//! Port of tools/cache/listwatch.go: the [`ListerWatcher`] seam between the reflector and the
//! API server, and `ListWatch`, its HTTP implementation over an `apiclient` client (feature
//! `apiclient`, on by default).
//!
//! Data flow: the reflector calls `list(opts)` for a snapshot and `watch(opts)` for the stream
//! of changes after it. `ListWatch` adds its namespace, selectors and option tweak to every
//! call and sends it through `apiclient::typed::TypedClient`. Tests replace it with a
//! scripted implementation, so every reflector rule can be checked without HTTP; a program
//! that brings its own `ListerWatcher` can leave the `apiclient` feature off.

use std::sync::Arc;

#[cfg(feature = "apiclient")]
use apiclient::typed::TypedClient;
#[cfg(feature = "apiclient")]
use apiclient::{ApiResource, Resource, RestClient};
use apimachinery::{List, ListOptions, WatchEvent};
#[cfg(feature = "apiclient")]
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
#[cfg(feature = "apiclient")]
use serde::de::DeserializeOwned;

/// The stream a watch returns: events, or an error that ends it (e.g. a 410 `ERROR` event).
/// Port of `watch.Interface`; dropping it stops the watch.
pub type WatchEventStream<K> = BoxStream<'static, apimachinery::Result<WatchEvent<K>>>;

/// Lists and watches one collection. Port of `ListerWatcher` (`Lister` + `Watcher`).
///
/// Differs from Go: async, typed, and errors are [`apimachinery::Error`] so the reflector can ask
/// them `is_gone()`, `is_too_many_requests()`, etc.
pub trait ListerWatcher<K>: Send + Sync {
    /// One list call (one page when `opts.limit` is set).
    fn list(&self, opts: ListOptions) -> BoxFuture<'_, apimachinery::Result<List<K>>>;
    /// Opens a watch.
    fn watch(&self, opts: ListOptions) -> BoxFuture<'_, apimachinery::Result<WatchEventStream<K>>>;
    /// What is listed, for log lines (e.g. `pods`).
    fn describe(&self) -> String {
        std::any::type_name::<K>().to_owned()
    }
}

/// Adjusts the options of every list and watch call. Port of the `optionsModifier` of
/// `NewFilteredListWatchFromClient` (and the factory's `internalinterfaces.TweakListOptionsFunc`).
pub type TweakListOptions = Arc<dyn Fn(&mut ListOptions) + Send + Sync>;

#[cfg(feature = "apiclient")]
/// A [`ListerWatcher`] over HTTP. Port of `ListWatch` / `NewFilteredListWatchFromClient`.
///
/// Differs from Go: built from a typed client rather than a pair of closures; use
/// [`ListerWatcher`] directly for closures.
pub struct ListWatch<K> {
    client: TypedClient<K>,
    label_selector: Option<String>,
    field_selector: Option<String>,
    tweak: Option<TweakListOptions>,
}

#[cfg(feature = "apiclient")]
impl<K> Clone for ListWatch<K> {
    fn clone(&self) -> Self {
        ListWatch {
            client: self.client.clone(),
            label_selector: self.label_selector.clone(),
            field_selector: self.field_selector.clone(),
            tweak: self.tweak.clone(),
        }
    }
}

#[cfg(feature = "apiclient")]
impl<K> std::fmt::Debug for ListWatch<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListWatch")
            .field("resource", &self.client.resource().plural)
            .field("namespace", &self.client.namespace())
            .field("label_selector", &self.label_selector)
            .field("field_selector", &self.field_selector)
            .finish()
    }
}

#[cfg(feature = "apiclient")]
impl<K: Resource> ListWatch<K> {
    /// Lists and watches `K` in `namespace` (`None`: all namespaces, or cluster-scoped).
    /// Port of `NewListWatchFromClient`.
    ///
    /// A built-in type speaks protobuf when the client's [`apiclient::Config::content`] (or
    /// [`ListWatch::content_config`]) asks for it; see `apiclient::rest::content`.
    pub fn for_resource(client: RestClient, namespace: Option<&str>) -> Self {
        let typed = match namespace.filter(|n| !n.is_empty()) {
            Some(ns) => TypedClient::namespaced(&client, ns),
            None => TypedClient::all(&client),
        };
        ListWatch {
            client: typed,
            label_selector: None,
            field_selector: None,
            tweak: None,
        }
    }
}

#[cfg(feature = "apiclient")]
impl<K> ListWatch<K> {
    /// Lists and watches `resource` in `namespace`. Port of `NewFilteredListWatchFromClient`.
    pub fn new(client: RestClient, resource: ApiResource, namespace: Option<&str>) -> Self {
        ListWatch {
            client: TypedClient::for_resource(&client, resource, namespace),
            label_selector: None,
            field_selector: None,
            tweak: None,
        }
    }

    /// Restricts to objects matching a label selector.
    #[must_use]
    pub fn label_selector(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }

    /// Restricts to objects matching a field selector.
    #[must_use]
    pub fn field_selector(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }

    /// Decodes listed and watched objects without `metadata.managedFields`, so the cache
    /// never holds them. Go's counterpart is a transform that clears the field after
    /// decoding; skipping it while decoding also saves the time to build it (about half the
    /// decode time of a typical pod). See `apiclient::meta::managed_fields`.
    #[must_use]
    pub fn strip_managed_fields(mut self) -> Self {
        self.client = self.client.strip_managed_fields(true);
        self
    }

    /// Lists and watches in these media types instead of the client's. Port of the
    /// `ContentConfig` of the `rest.Config` an informer's clientset is built from.
    #[must_use]
    pub fn content_config(mut self, content: apiclient::ContentConfig) -> Self {
        self.client = self.client.content_config(content);
        self
    }

    /// Adjusts the options of every call, after the selectors are applied.
    #[must_use]
    pub fn tweak(mut self, f: TweakListOptions) -> Self {
        self.tweak = Some(f);
        self
    }

    fn options(&self, mut opts: ListOptions) -> ListOptions {
        if self.label_selector.is_some() {
            opts.label_selector = self.label_selector.clone();
        }
        if self.field_selector.is_some() {
            opts.field_selector = self.field_selector.clone();
        }
        if let Some(t) = &self.tweak {
            t(&mut opts);
        }
        opts
    }
}

#[cfg(feature = "apiclient")]
impl<K: DeserializeOwned + Send + 'static> ListerWatcher<K> for ListWatch<K> {
    fn list(&self, opts: ListOptions) -> BoxFuture<'_, apimachinery::Result<List<K>>> {
        let opts = self.options(opts);
        Box::pin(async move { self.client.list(&opts).await })
    }

    fn watch(&self, opts: ListOptions) -> BoxFuture<'_, apimachinery::Result<WatchEventStream<K>>> {
        let opts = self.options(opts);
        Box::pin(async move { Ok(self.client.watch(&opts).await?.boxed()) })
    }

    fn describe(&self) -> String {
        let r = self.client.resource();
        match self.client.namespace() {
            Some(ns) => format!("{} in {ns}", r.plural),
            None => r.plural.clone(),
        }
    }
}

/// A scripted [`ListerWatcher`] for tests: answers come from queues, every call is recorded.
#[cfg(test)]
pub(crate) mod scripted {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use apimachinery::meta::{Bookmark, BookmarkMeta, INITIAL_EVENTS_END_ANNOTATION};
    use apimachinery::{ObjectMeta, Status};
    use tokio::sync::{Notify, mpsc};

    use super::*;

    /// How one scripted watch call answers.
    pub(crate) enum WatchScript<K> {
        /// The call fails.
        Fail(apimachinery::Error),
        /// These events, then the stream ends.
        Events(Vec<apimachinery::Result<WatchEvent<K>>>),
        /// These events, then the stream stays open.
        EventsThenHang(Vec<apimachinery::Result<WatchEvent<K>>>),
        /// Events pushed by the test.
        Channel(mpsc::UnboundedReceiver<apimachinery::Result<WatchEvent<K>>>),
    }

    /// Which call was made.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Call {
        List,
        Watch,
    }

    pub(crate) struct Scripted<K> {
        lists: Mutex<VecDeque<apimachinery::Result<List<K>>>>,
        watches: Mutex<VecDeque<WatchScript<K>>>,
        calls: Mutex<Vec<(Call, ListOptions, tokio::time::Instant)>>,
        notify: Notify,
    }

    impl<K> Default for Scripted<K> {
        fn default() -> Self {
            Scripted {
                lists: Mutex::default(),
                watches: Mutex::default(),
                calls: Mutex::default(),
                notify: Notify::new(),
            }
        }
    }

    #[allow(clippy::unwrap_used)]
    impl<K> Scripted<K> {
        pub(crate) fn list(&self, r: apimachinery::Result<List<K>>) -> &Self {
            self.lists.lock().unwrap().push_back(r);
            self
        }
        pub(crate) fn watch(&self, w: WatchScript<K>) -> &Self {
            self.watches.lock().unwrap().push_back(w);
            self
        }
        pub(crate) fn calls(&self) -> Vec<(Call, ListOptions, tokio::time::Instant)> {
            self.calls.lock().unwrap().clone()
        }
        /// Waits (on the paused clock) until at least `n` calls were made.
        pub(crate) async fn wait_calls(
            &self,
            n: usize,
        ) -> Vec<(Call, ListOptions, tokio::time::Instant)> {
            loop {
                let notified = self.notify.notified();
                if self.calls.lock().unwrap().len() >= n {
                    return self.calls();
                }
                notified.await;
            }
        }
        fn record(&self, c: Call, o: &ListOptions) {
            self.calls
                .lock()
                .unwrap()
                .push((c, o.clone(), tokio::time::Instant::now()));
            self.notify.notify_waiters();
        }
    }

    #[allow(clippy::unwrap_used)]
    impl<K: Send + 'static> ListerWatcher<K> for Scripted<K> {
        fn list(&self, opts: ListOptions) -> BoxFuture<'_, apimachinery::Result<List<K>>> {
            self.record(Call::List, &opts);
            let next = self.lists.lock().unwrap().pop_front();
            Box::pin(async move {
                match next {
                    Some(r) => r,
                    None => futures::future::pending().await,
                }
            })
        }

        fn watch(
            &self,
            opts: ListOptions,
        ) -> BoxFuture<'_, apimachinery::Result<WatchEventStream<K>>> {
            self.record(Call::Watch, &opts);
            let next = self.watches.lock().unwrap().pop_front();
            Box::pin(async move {
                match next {
                    None => Ok(futures::stream::pending().boxed()),
                    Some(WatchScript::Fail(e)) => Err(e),
                    Some(WatchScript::Events(ev)) => Ok(futures::stream::iter(ev).boxed()),
                    Some(WatchScript::EventsThenHang(ev)) => Ok(futures::stream::iter(ev)
                        .chain(futures::stream::pending())
                        .boxed()),
                    Some(WatchScript::Channel(mut rx)) => {
                        Ok(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed())
                    }
                }
            })
        }
    }

    /// An object with `namespace/name` `ns/name` at `rv`.
    pub(crate) fn meta(name: &str, rv: &str) -> ObjectMeta {
        ObjectMeta {
            namespace: Some("ns".into()),
            name: Some(name.into()),
            resource_version: Some(rv.into()),
            ..ObjectMeta::default()
        }
    }

    pub(crate) fn list_of(
        rv: &str,
        items: Vec<ObjectMeta>,
    ) -> apimachinery::Result<List<ObjectMeta>> {
        let mut l = List::default();
        l.metadata.resource_version = (!rv.is_empty()).then(|| rv.to_owned());
        l.items = items;
        Ok(l)
    }

    pub(crate) fn bookmark<K>(rv: &str, initial_end: bool) -> apimachinery::Result<WatchEvent<K>> {
        let mut m = BookmarkMeta {
            resource_version: rv.into(),
            ..BookmarkMeta::default()
        };
        if initial_end {
            m.annotations.insert(
                INITIAL_EVENTS_END_ANNOTATION,
                apimachinery::Str::from("true"),
            );
        }
        Ok(WatchEvent::Bookmark(Bookmark {
            metadata: m,
            ..Bookmark::default()
        }))
    }

    pub(crate) fn status_error(code: i32, reason: &str) -> apimachinery::Error {
        apimachinery::Error::from_status(Status {
            code,
            reason: reason.into(),
            ..Status::default()
        })
    }

    pub(crate) fn connection_refused() -> apimachinery::Error {
        apimachinery::Error::Transport {
            verb: "GET".into(),
            url: "http://127.0.0.1:1/api/v1/pods".into(),
            kind: apimachinery::api::errors::TransportKind::Connect,
            source: "connection refused".into(),
        }
    }
}
