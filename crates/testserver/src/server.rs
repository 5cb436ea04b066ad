//! [`TestServer`]: binds a socket, accepts connections (TLS optional) and serves each with
//! hyper (HTTP/1.1 and HTTP/2), plus the programmatic seeding and inspection API.
//!
//! Task ownership: the accept loop, every connection and every watch run on one
//! [`TaskTracker`]; [`TestServer::shutdown`] cancels them all and waits for them. Dropping the
//! server cancels them without waiting.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use apimachinery::util::sync::{MutexExt, RwLockExt};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Error;
use crate::config::Config;
use crate::counters::{Counters, RequestCount};
use crate::event_conversion;
use crate::faults::{FaultMatch, Faults};
use crate::list;
use crate::objects::{self, NAMESPACES, Part, Scope};

/// The field manager of the in-process helpers: what kube-apiserver records for a request
/// with neither `fieldManager` nor a User-Agent (`buildManagerInfo`'s default).
const IN_PROCESS_MANAGER: &str = crate::managed_fields::UNKNOWN_MANAGER;
use crate::query::ListOptions;
use crate::request_info::RequestInfo;
use crate::resources::{CustomResource, Registry};
use crate::router::{self, Route};
use crate::state::{ConnInfo, FaultState, Shared};
use crate::store::Store;
use crate::tls::CertificateAuthority;

/// First resourceVersion; any value works, a non-trivial one catches clients that assume 0/1.
const START_RV: u64 = 100;

/// An in-process Kubernetes API server over real HTTP(S).
///
/// See the [crate docs](crate) for a walkthrough.
#[doc(alias = "kube-apiserver")]
pub struct TestServer {
    shared: Arc<Shared>,
    url: String,
    ca: Option<CertificateAuthority>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a plain-HTTP server on `127.0.0.1` at a free port, with namespace `default`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn start() -> Result<Self, Error> {
        Config::default().start().await
    }

    /// The default [`Config`], to adjust before [`Config::start`].
    pub fn builder() -> Config {
        Config::default()
    }

    pub(crate) async fn with_config(config: Config) -> Result<Self, Error> {
        let ca = if config.tls || config.client_cert_auth {
            Some(CertificateAuthority::generate()?)
        } else {
            None
        };
        let acceptor = match &ca {
            Some(ca) => Some(TlsAcceptor::from(
                ca.server_config(&config.serving_cert_names, config.client_cert_auth)?,
            )),
            None => None,
        };
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| Error::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let (control, _) = broadcast::channel(64);
        let shared = Arc::new(Shared {
            store: Store::new(START_RV, config.history_window, config.watch_buffer),
            registry: RwLock::new(Registry::with_builtins()),
            faults: FaultState::default(),
            counters: Counters::default(),
            control,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            last_sni: Mutex::new(None),
            addr,
            config,
        });
        let server = TestServer {
            url: format!("{scheme}://{addr}"),
            shared,
            ca,
        };
        server.create(
            "/api/v1/namespaces",
            serde_json::json!({"metadata": {"name": "default"}}),
        )?;
        server.shared.store.compact();
        let shared = Arc::clone(&server.shared);
        server
            .shared
            .tracker
            .spawn(accept_loop(listener, shared, acceptor));
        tracing::info!(url = %server.url, "testserver listening");
        Ok(server)
    }

    /// The base URL, `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The PEM of the CA that signed the server certificate (TLS only).
    pub fn ca_pem(&self) -> Option<String> {
        self.ca.as_ref().map(CertificateAuthority::pem)
    }

    /// A kubeconfig for this server (CA data when TLS, the bearer token when one is required),
    /// for kubectl (`--kubeconfig`) or clients that load kubeconfig files. The context is named
    /// `testserver` with namespace `default`.
    pub fn kubeconfig(&self) -> String {
        use base64::Engine;
        let mut cluster = format!("    server: {}\n", self.url);
        if let Some(pem) = self.ca_pem() {
            let data = base64::engine::general_purpose::STANDARD.encode(pem);
            cluster.push_str(&format!("    certificate-authority-data: {data}\n"));
        }
        let user = match &self.shared.config.bearer_token {
            Some(token) => format!("    token: {token}\n"),
            None => "    {}\n".to_owned(),
        };
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: testserver\n  cluster:\n{cluster}users:\n- name: testserver\n  user:\n{user}contexts:\n- name: testserver\n  context:\n    cluster: testserver\n    user: testserver\n    namespace: default\ncurrent-context: testserver\n"
        )
    }

    /// The server name (SNI) the most recent TLS handshake carried; `None` before any
    /// handshake, or when the client sent none (as clients do when connecting to an IP).
    pub fn last_sni(&self) -> Option<String> {
        self.shared.last_sni.lock_unpoisoned().clone()
    }

    /// A client certificate for `user` signed by the server's CA, as `(cert_pem, key_pem)`.
    pub fn issue_client_cert(&self, user: &str) -> Result<(String, String), Error> {
        self.ca.as_ref().ok_or(Error::NoTls)?.issue_client(user)
    }

    /// The handle for fault injection.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Every API request answered so far (admin requests excluded), including failed ones.
    pub fn request_count(&self) -> u64 {
        self.shared.counters.total()
    }

    /// API requests matching `m`, e.g. `FaultMatch::verb(Verb::List).resource("pods")`.
    pub fn request_count_for(&self, m: &FaultMatch) -> u64 {
        self.shared.counters.matching(m)
    }

    /// Per verb/resource counts.
    pub fn request_counts(&self) -> Vec<RequestCount> {
        self.shared.counters.snapshot()
    }

    /// Response body bytes sent so far by the API (admin endpoints excluded), counted as they
    /// go on the wire: after gzip when a response is compressed, so a test can tell a gzipped
    /// LIST from an identity one. Watch bodies count as they are streamed. Reset by
    /// [`TestServer::reset_request_counts`].
    pub fn response_body_bytes(&self) -> u64 {
        self.shared.counters.body_bytes()
    }

    /// Watches being served now. A watch counts from its request until its stream ends: by
    /// its timeout, by a fault, at shutdown, or as soon as its client disconnects.
    pub fn live_watches(&self) -> u64 {
        self.shared.counters.live_watches()
    }

    /// Every resource request answered so far, in arrival order, as the authorizer sees it
    /// (verb, group, resource, subresource, namespace, name), failed and faulted ones
    /// included, admin and non-resource requests (discovery, health, OpenAPI) excluded.
    /// Emptied by [`TestServer::reset_request_counts`].
    ///
    /// Port of the `RequestInfo` kube-apiserver's `WithRequestInfo` filter attaches to each
    /// request. Differs from Go: a log for tests; the real server keeps no such list.
    pub fn requests(&self) -> Vec<RequestInfo> {
        self.shared.counters.requests()
    }

    /// Resets the request counters, the [`TestServer::requests`] log and
    /// [`TestServer::response_body_bytes`].
    pub fn reset_request_counts(&self) {
        self.shared.counters.reset();
    }

    /// The current resourceVersion (of the last write).
    pub fn resource_version(&self) -> String {
        self.shared.store.current_rv().to_string()
    }

    /// Serves a custom resource from now on (and lists it in discovery).
    pub fn register_custom_resource(&self, crd: CustomResource) {
        self.shared.registry.write_unpoisoned().register(&crd);
    }

    fn resolve(&self, path: &str, want_name: bool) -> Result<router::ResourceRequest, Error> {
        let bad = |reason: &str| Error::Path {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let registry = self.shared.registry.read_unpoisoned();
        match router::route(&registry, path) {
            Route::Resource(r) if r.legacy_watch => Err(bad("watch paths are not accepted here")),
            Route::Resource(r) if r.name.is_some() == want_name => Ok(r),
            Route::Resource(_) if want_name => Err(bad("expected an object path ending in a name")),
            Route::Resource(_) => Err(bad("expected a collection path")),
            _ => Err(bad("not a served resource path")),
        }
    }

    /// Creates an object as POST would, at a collection path such as
    /// `/api/v1/namespaces/default/pods`; returns the stored object (with uid,
    /// resourceVersion, defaults, and a `managedFields` `Update` entry of manager `unknown`,
    /// what kube-apiserver records for a request with neither `fieldManager` nor a
    /// User-Agent). Watchers see it as ADDED.
    pub fn create(&self, collection_path: &str, object: Value) -> Result<Value, Error> {
        let r = self.resolve(collection_path, false)?;
        let scope = Scope {
            res: &r.res,
            namespace: r.namespace.as_deref(),
            dry_run: false,
            manager: IN_PROCESS_MANAGER,
            force: false,
        };
        let created = objects::create(&self.shared.store, scope, object)?;
        crate::crd::serve_if_crd(&self.shared, scope, &created);
        Ok(event_conversion::view(&r.res, &created).value().clone())
    }

    /// Reads an object at a path such as `/api/v1/namespaces/default/pods/web`.
    pub fn get(&self, object_path: &str) -> Result<Value, Error> {
        let r = self.resolve(object_path, true)?;
        let scope = Scope {
            res: &r.res,
            namespace: r.namespace.as_deref(),
            dry_run: false,
            manager: IN_PROCESS_MANAGER,
            force: false,
        };
        let name = r.name.as_deref().unwrap_or_default();
        let obj = objects::get(&self.shared.store, scope, name)?;
        Ok(event_conversion::view(&r.res, &obj).value().clone())
    }

    /// Replaces an object as PUT would. An empty `metadata.resourceVersion` skips the
    /// conflict check. On a `.../status` path only the status changes; on the main path a
    /// kind with a status subresource keeps its stored status, as on the API server. The
    /// change is recorded in `managedFields` as by manager `unknown`, like [`create`](Self::create).
    pub fn update(&self, object_path: &str, object: Value) -> Result<Value, Error> {
        let r = self.resolve(object_path, true)?;
        let scope = Scope {
            res: &r.res,
            namespace: r.namespace.as_deref(),
            dry_run: false,
            manager: IN_PROCESS_MANAGER,
            force: false,
        };
        let part = if r.subresource.is_some() {
            Part::Status
        } else {
            Part::Main
        };
        let name = r.name.as_deref().unwrap_or_default();
        let updated = objects::update(&self.shared.store, scope, name, object, part)?;
        if let Some(ns) = r.namespace.as_deref() {
            // Removing the last finalizer may let a terminating namespace finish.
            objects::finalize_namespace(&self.shared.store, ns);
        }
        Ok(event_conversion::view(&r.res, &updated).value().clone())
    }

    /// Deletes an object as DELETE would; returns the response body.
    pub fn delete(&self, object_path: &str) -> Result<Value, Error> {
        let r = self.resolve(object_path, true)?;
        let scope = Scope {
            res: &r.res,
            namespace: r.namespace.as_deref(),
            dry_run: false,
            manager: IN_PROCESS_MANAGER,
            force: false,
        };
        let name = r.name.as_deref().unwrap_or_default();
        let deleted = objects::delete(&self.shared.store, scope, name, None)?;
        let namespace = match r.namespace.as_deref() {
            Some(ns) => ns,
            None if r.res.kind == "Namespace" && r.res.group.is_empty() => name,
            None => "",
        };
        objects::finalize_namespace(&self.shared.store, namespace);
        Ok(deleted)
    }

    /// The objects at a collection path (`/api/v1/pods` for all namespaces).
    pub fn list(&self, collection_path: &str) -> Result<Vec<Value>, Error> {
        let r = self.resolve(collection_path, false)?;
        let scope = Scope {
            res: &r.res,
            namespace: r.namespace.as_deref(),
            dry_run: false,
            manager: IN_PROCESS_MANAGER,
            force: false,
        };
        let page = list::list(&self.shared.store, scope, &ListOptions::default())?;
        Ok(page
            .items
            .iter()
            .map(|o| event_conversion::view(&r.res, o).value().clone())
            .collect())
    }

    /// Number of objects of a resource (plural name, core group first), e.g. `"pods"`.
    pub fn count(&self, plural: &str) -> usize {
        let registry = self.shared.registry.read_unpoisoned();
        registry
            .all()
            .iter()
            .find(|r| r.plural == plural)
            .map_or(0, |r| self.shared.store.count(&r.key))
    }

    /// Creates namespace `name` (a shortcut for `create("/api/v1/namespaces", ...)`).
    pub fn create_namespace(&self, name: &str) -> Result<Value, Error> {
        debug_assert_eq!(NAMESPACES, "/namespaces");
        self.create(
            "/api/v1/namespaces",
            serde_json::json!({"metadata": {"name": name}}),
        )
    }

    /// Stops accepting, ends every connection and watch, and waits for their tasks.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the server is already told to stop when this is first polled; dropping
    /// the future only skips the wait.
    pub async fn shutdown(self) {
        self.shared.shutdown.cancel();
        self.shared.tracker.close();
        self.shared.tracker.wait().await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        self.shared.tracker.close();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, tls: Option<TlsAcceptor>) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                tracing::trace!(%peer, "connection");
                let conn_shared = Arc::clone(&shared);
                shared
                    .tracker
                    .spawn(serve_connection(conn_shared, stream, tls.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::task::yield_now().await;
            }
        }
    }
}

async fn serve_connection(shared: Arc<Shared>, stream: TcpStream, tls: Option<TlsAcceptor>) {
    let _ = stream.set_nodelay(true);
    match tls {
        Some(acceptor) => {
            let handshake = tokio::select! {
                () = shared.shutdown.cancelled() => return,
                h = acceptor.accept(stream) => h,
            };
            match handshake {
                Ok(tls_stream) => {
                    let conn = tls_stream.get_ref().1;
                    let client_cert = conn.peer_certificates().is_some_and(|c| !c.is_empty());
                    *shared.last_sni.lock_unpoisoned() = conn.server_name().map(str::to_owned);
                    serve_io(shared, TokioIo::new(tls_stream), ConnInfo { client_cert }).await;
                }
                Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
            }
        }
        None => serve_io(shared, TokioIo::new(stream), ConnInfo::default()).await,
    }
}

async fn serve_io<I>(shared: Arc<Shared>, io: I, info: ConnInfo)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc_shared = Arc::clone(&shared);
    let service = service_fn(move |req| {
        let shared = Arc::clone(&svc_shared);
        async move { Ok::<_, Infallible>(crate::api::handle(shared, req, info).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(io, service);
    tokio::select! {
        res = conn => {
            if let Err(e) = res {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = shared.shutdown.cancelled() => {}
    }
}
