//! Port of client-go `rest/client.go` (RESTClient) and the transport wrappers of
//! `transport/round_trippers.go` (user agent, bearer/basic auth, impersonation headers).
//!
//! Data flow: [`RestClient::new`] turns a [`Config`] into one shared HTTP client (rustls on
//! `ring`, TCP_NODELAY, HTTP/2 by ALPN, gzip unless `Config::disable_compression`), an authenticator, a rate limiter and default headers.
//! Cloning a `RestClient` is cheap and shares all of them, like sharing Go's `*RESTClient`.
//! Each call starts a [`Request`] builder.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::header::{HeaderMap, HeaderName, HeaderValue};
use crate::http::{Method, Url};
use base64::Engine as _;

use super::request::Request;
use super::server_name;
use super::tls::{self, ClientCertSlot};
use crate::config::Config;
use crate::config::exec::{ExecAuthenticator, ExecCluster, ExecCredential};
use crate::config::in_cluster::TokenFile;
use crate::error::{Error, Result};
use crate::flowcontrol::RateLimiter;

/// Bound on connecting: the dial and the TLS handshake together. Go: `TLSHandshakeTimeout`.
///
/// The rest of `utilnet.SetTransportDefaults` and client-go's transport is set on the reqwest
/// builder in [`RestClient::new`]: TCP `KeepAlive` 30 s, `MaxIdleConnsPerHost` 25,
/// `IdleConnTimeout` 90 s, and HTTP/2 pings (`ReadIdleTimeout` 30 s, `PingTimeout` 15 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a request is authenticated. Port of the auth round trippers of transport/.
enum Auth {
    None,
    Bearer(HeaderValue),
    TokenFile(TokenFile),
    Basic(HeaderValue),
    Exec(Box<ExecAuthenticator>),
}

/// The credential a request was sent with, so a 401 can invalidate exactly that one.
pub(crate) enum UsedCredential {
    None,
    Exec(Arc<ExecCredential>),
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) namespace: String,
    auth: Auth,
    pub(crate) limiter: Option<Arc<RateLimiter>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_retries: u32,
    /// Media types for built-in types. Port of ClientContentConfig.
    pub(crate) content: super::content::ContentConfig,
    cert_slot: Arc<ClientCertSlot>,
    /// Address of the exec credential whose certificate is in `cert_slot`.
    applied_exec_cert: Mutex<usize>,
    /// The configured base URL (before any TLS-server-name rewrite), for URL templates of
    /// the metrics. Port of RESTClient.base as finalURLTemplate uses it.
    pub(crate) metrics_base: Url,
    /// `host[:port]` of `metrics_base`: the `host` label of the metrics.
    pub(crate) metrics_host: String,
}

/// `host[:port]` of `url`, as Go's `url.URL.Host`; `none` without a host (Go's
/// request.go: sanitize).
fn host_label(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => "none".to_owned(),
    }
}

/// A proxy for every request. Port of clientcmd's use of `http.ProxyURL(proxy-url)`;
/// `socks5` is refused (the HTTP client is built without SOCKS support).
fn proxy_for(proxy_url: &str) -> Result<reqwest::Proxy> {
    let bad = |m: String| Error::config(None, "proxy-url", m);
    let url = Url::parse(proxy_url).map_err(|e| bad(format!("{proxy_url:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!(
            "unsupported proxy scheme {:?}; http and https are supported",
            url.scheme()
        )));
    }
    reqwest::Proxy::all(url).map_err(|e| bad(format!("{proxy_url:?}: {e}")))
}

/// A client for one API server. Port of rest.RESTClient.
///
/// Differs from Go: not bound to one group/version (Go's RESTClient has a fixed
/// `APIPath`/`GroupVersion`); each [`Request`] names its own prefix, so one client and one
/// connection pool serve every API group.
#[derive(Clone)]
pub struct RestClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.inner.base.as_str())
            .field("namespace", &self.inner.namespace)
            .field("limiter", &self.inner.limiter)
            .finish_non_exhaustive()
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|e| Error::InvalidRequest(format!("header name {name:?}: {e}")))?;
    let v = HeaderValue::from_str(value)
        .map_err(|e| Error::InvalidRequest(format!("header {name}: {e}")))?;
    Ok((n, v))
}

fn secret_header(value: String) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(&value)
        .map_err(|_| Error::InvalidRequest("credential is not a valid header value".into()))?;
    v.set_sensitive(true);
    Ok(v)
}

/// The default user agent. Port of rest.DefaultKubernetesUserAgent.
pub fn default_user_agent() -> String {
    format!(
        "apiclient/{} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

impl RestClient {
    /// Builds a client. Port of rest.RESTClientFor / HTTPClientFor.
    ///
    /// Errors: a bad host URL, unreadable TLS files or PEM, a token and a password both set.
    pub fn new(config: &Config) -> Result<Self> {
        let tls_set = config.tls.insecure
            || config.tls.ca_data.is_some()
            || config.tls.ca_file.is_some()
            || config.tls.cert_data.is_some()
            || config.tls.cert_file.is_some();
        let host = config.host.trim_end_matches('/');
        if host.is_empty() {
            return Err(Error::config(None, "host", "must be set"));
        }
        let host = if host.contains("://") {
            host.to_owned()
        } else if tls_set {
            format!("https://{host}")
        } else {
            format!("http://{host}")
        };
        let mut base = Url::parse(&format!("{host}{}", config.api_path.trim_end_matches('/')))
            .map_err(|e| {
                Error::config(None, "host", format!("{:?} is not a URL: {e}", config.host))
            })?;

        let has_token = config.bearer_token.is_some() || config.bearer_token_file.is_some();
        let has_basic = config.username.is_some() || config.password.is_some();
        if has_token && has_basic {
            return Err(Error::config(
                None,
                "username/password, bearer token",
                "username/password or bearer token may be set, but not both",
            ));
        }
        config.content.validate()?;
        let auth = if let Some(f) = &config.bearer_token_file {
            Auth::TokenFile(TokenFile::new(f))
        } else if let Some(t) = &config.bearer_token {
            Auth::Bearer(secret_header(format!("Bearer {t}"))?)
        } else if has_basic {
            let raw = format!(
                "{}:{}",
                config.username.as_deref().unwrap_or(""),
                config.password.as_deref().unwrap_or("")
            );
            let enc = base64::engine::general_purpose::STANDARD.encode(raw);
            Auth::Basic(secret_header(format!("Basic {enc}"))?)
        } else if let Some(exec) = &config.exec {
            // Port of rest/transport.go: the cluster is read only when the plugin wants it.
            let cluster = if exec.provide_cluster_info {
                Some(ExecCluster::from_config(config)?)
            } else {
                None
            };
            Auth::Exec(Box::new(ExecAuthenticator::new(exec.clone(), cluster)))
        } else {
            Auth::None
        };

        let mut headers = HeaderMap::new();
        let ua = config.user_agent.clone().unwrap_or_else(default_user_agent);
        let (n, v) = header("user-agent", &ua)?;
        headers.insert(n, v);
        let (n, v) = header("accept", "application/json")?;
        headers.insert(n, v);
        let imp = &config.impersonate;
        if let Some(u) = &imp.user_name {
            let (n, v) = header("impersonate-user", u)?;
            headers.append(n, v);
        }
        if let Some(u) = &imp.uid {
            let (n, v) = header("impersonate-uid", u)?;
            headers.append(n, v);
        }
        for g in &imp.groups {
            let (n, v) = header("impersonate-group", g)?;
            headers.append(n, v);
        }
        for (k, vals) in &imp.extra {
            for val in vals {
                let (n, v) = header(&format!("impersonate-extra-{k}"), val)?;
                headers.append(n, v);
            }
        }

        let (tls_config, cert_slot) = tls::client_config(&config.tls)?;
        // Port of transport/cache.go (`http.Transport{DisableCompression}`): unless
        // DisableCompression, every request says `Accept-Encoding: gzip` and a gzip body is
        // inflated as its bytes arrive (reqwest's decoder is a stream), so the LIST and watch
        // decoders above it keep decoding while the body is still on the wire. A corrupt gzip
        // body surfaces as a body read error, which `transport_error` turns into
        // `Error::Transport`.
        // Port of client-go's transport defaults (transport/cache.go and
        // utilnet.SetTransportDefaults): keep-alive 30 s, 25 idle connections per host kept
        // 90 s, HTTP/2 health pings after 30 s without a frame, answered within 15 s
        // (`ReadIdleTimeout`, `PingTimeout`). Differs from Go: reqwest has one timeout for
        // connecting, covering the dial and the TLS handshake, so it is Go's handshake bound
        // (`TLSHandshakeTimeout`, 10 s) where Go gives the dial 30 s more; a server that
        // accepts TCP but never finishes TLS fails a request after 10 s, as with kubectl.
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config)
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_keepalive(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(25)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(15))
            .http2_keep_alive_while_idle(true)
            .tcp_nodelay(true)
            .default_headers(headers)
            .gzip(!config.disable_compression);
        if let Some(proxy) = config.proxy_url.as_deref().filter(|p| !p.is_empty()) {
            builder = builder.proxy(proxy_for(proxy)?);
        }
        // The metrics' host label and URL templates use the configured host, as Go's
        // `c.base`, before `server_name::route` may rewrite `base` to the TLS server name.
        let metrics_base = base.clone();
        // tls-server-name as SNI: `base` now names it, and the resolver connects to the host.
        if let Some(resolver) = server_name::route(&mut base, &config.tls) {
            builder = builder.dns_resolver(Arc::new(resolver));
        }
        let http = builder.build().map_err(|e| Error::Tls {
            context: "building the HTTP client".into(),
            source: e.into(),
        })?;
        Ok(RestClient {
            inner: Arc::new(Inner {
                http,
                base,
                namespace: config.namespace.clone(),
                auth,
                limiter: config.effective_rate_limiter(),
                timeout: config.timeout,
                max_retries: config.max_retries,
                content: config.content.clone(),
                cert_slot,
                applied_exec_cert: Mutex::new(0),
                metrics_host: host_label(&metrics_base),
                metrics_base,
            }),
        })
    }

    /// The media types built-in types are sent and asked for in (from
    /// [`Config::content`]). Port of RESTClient.content.
    pub fn content_config(&self) -> &super::content::ContentConfig {
        &self.inner.content
    }

    /// The default namespace of the config this client was built from.
    pub fn default_namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The rate limiter every request passes, if throttling is on.
    pub fn rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        self.inner.limiter.as_ref()
    }

    /// A request with `verb`. Port of RESTClient.Verb.
    pub fn verb(&self, verb: Method) -> Request {
        Request::new(self.clone(), verb)
    }

    /// Port of RESTClient.Get.
    pub fn get(&self) -> Request {
        self.verb(Method::GET)
    }

    /// Port of RESTClient.Post.
    pub fn post(&self) -> Request {
        self.verb(Method::POST)
    }

    /// Port of RESTClient.Put.
    pub fn put(&self) -> Request {
        self.verb(Method::PUT)
    }

    /// Port of RESTClient.Patch; the patch type sets the body's content type.
    pub fn patch(&self, pt: crate::meta::PatchType) -> Request {
        self.verb(Method::PATCH).content_type(pt.content_type())
    }

    /// Port of RESTClient.Delete.
    pub fn delete(&self) -> Request {
        self.verb(Method::DELETE)
    }

    /// Adds the credential to `req`. Port of the bearer/basic/exec round trippers.
    pub(crate) async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(reqwest::RequestBuilder, UsedCredential)> {
        let inner = &self.inner;
        Ok(match &inner.auth {
            Auth::None => (req, UsedCredential::None),
            Auth::Bearer(v) | Auth::Basic(v) => (
                req.header(reqwest::header::AUTHORIZATION, v.clone()),
                UsedCredential::None,
            ),
            Auth::TokenFile(tf) => {
                let v = secret_header(format!("Bearer {}", tf.token().await?))?;
                (
                    req.header(reqwest::header::AUTHORIZATION, v),
                    UsedCredential::None,
                )
            }
            Auth::Exec(a) => {
                let cred = a.credential().await?;
                let mut req = req;
                if let Some(t) = &cred.token {
                    req = req.header(
                        reqwest::header::AUTHORIZATION,
                        secret_header(format!("Bearer {t}"))?,
                    );
                }
                if let (Some(c), Some(k)) = (&cred.client_certificate_data, &cred.client_key_data) {
                    let addr = Arc::as_ptr(&cred) as usize;
                    let fresh = inner
                        .applied_exec_cert
                        .lock()
                        .map(|g| *g != addr)
                        .unwrap_or(true);
                    if fresh {
                        inner.cert_slot.set_pem(c.as_bytes(), k.as_bytes())?;
                        if let Ok(mut g) = inner.applied_exec_cert.lock() {
                            *g = addr;
                        }
                    }
                }
                (req, UsedCredential::Exec(cred))
            }
        })
    }

    /// After a 401: forget the exec credential used. Returns true if a fresh one may help.
    pub(crate) async fn unauthorized(&self, used: &UsedCredential) -> bool {
        match (&self.inner.auth, used) {
            (Auth::Exec(a), UsedCredential::Exec(c)) => {
                a.invalidate(c).await;
                true
            }
            _ => false,
        }
    }
}
