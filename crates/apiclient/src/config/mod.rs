//! Port of client-go `rest/config.go`: everything a client needs to reach an API server —
//! where it is, how to authenticate, how to trust it, and how fast to talk to it.
//!
//! Data flow: a [`Config`] comes from a kubeconfig ([`kubeconfig`]), the pod's service account
//! ([`in_cluster`]), [`Config::infer`] (the first of the two that is configured), or by hand;
//! [`crate::rest::RestClient::new`] turns it into a client. Secrets in it (tokens, passwords,
//! keys, certificates, exec environments) never appear in its `Debug` output.
//!
//! ```no_run
//! # async fn demo() -> apiclient::Result<()> {
//! use apiclient::{config::Config, rest::RestClient};
//! let config = Config::infer()?;
//! let client = RestClient::new(&config)?;
//! # Ok(()) }
//! ```

pub mod exec;
mod exec_metrics;
pub mod in_cluster;
pub mod kubeconfig;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::flowcontrol::RateLimiter;

pub use exec::{ExecCluster, ExecConfig, ExecInteractiveMode};

/// Client configuration. Port of rest.Config.
///
/// Differs from Go: it also carries the default namespace (Go returns it separately from
/// clientcmd), so one value is enough to start listing pods.
#[derive(Clone)]
pub struct Config {
    /// Base URL of the API server, e.g. `https://10.0.0.1:6443` (a path prefix is allowed).
    pub host: String,
    /// Prefix added before every request path; usually empty. Port of Config.APIPath.
    pub api_path: String,
    /// Namespace used when a request does not name one (kubeconfig context, or the pod's).
    pub namespace: String,
    /// Bearer token. Port of Config.BearerToken.
    pub bearer_token: Option<String>,
    /// File holding a bearer token, re-read about once a minute so rotated tokens are used.
    /// Takes precedence over `bearer_token`. Port of Config.BearerTokenFile.
    pub bearer_token_file: Option<PathBuf>,
    /// HTTP basic auth user name. Port of Config.Username.
    pub username: Option<String>,
    /// HTTP basic auth password. Port of Config.Password.
    pub password: Option<String>,
    /// TLS settings. Port of Config.TLSClientConfig.
    pub tls: TlsConfig,
    /// Exec credential plugin. Port of Config.ExecProvider.
    pub exec: Option<ExecConfig>,
    /// Impersonation headers. Port of Config.Impersonate.
    pub impersonate: ImpersonationConfig,
    /// Requests per second; 0 means [`crate::flowcontrol::DEFAULT_QPS`] (5), negative disables
    /// throttling. Port of Config.QPS.
    pub qps: f32,
    /// Burst; 0 means [`crate::flowcontrol::DEFAULT_BURST`] (10). Port of Config.Burst.
    pub burst: u32,
    /// A limiter shared with other clients; overrides `qps`/`burst`. Port of Config.RateLimiter.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// Timeout for connecting and receiving response headers; `None` waits forever.
    /// Differs from Go (whole-request timeout): bodies of lists and watches may take as long
    /// as they take, so the timeout stops at the headers.
    pub timeout: Option<Duration>,
    /// `User-Agent`; `None` means `apiclient/<version> (<os>/<arch>)`. Port of Config.UserAgent.
    pub user_agent: Option<String>,
    /// Maximum retries on Retry-After and transient errors (Go: 10).
    pub max_retries: u32,
    /// Opts out of gzip on the wire. Port of Config.DisableCompression.
    ///
    /// `false` (the default, as in Go): every request carries `Accept-Encoding: gzip`, and a
    /// response with `Content-Encoding: gzip` is decompressed as its bytes arrive, so LIST and
    /// watch bodies are still decoded while they are being received. kube-apiserver gzips
    /// non-watch responses over 128 KiB when asked; watch streams are never compressed.
    /// `true`: no `Accept-Encoding` is sent and nothing is decompressed, which saves the CPU of
    /// compressing and decompressing where the link is fast (kubectl's `--disable-compression`).
    ///
    /// Differs from Go: Go's transport decompresses only when it added `Accept-Encoding`
    /// itself; here a gzip response is decompressed whenever compression is enabled, even if
    /// a caller set its own `Accept-Encoding` header, because reqwest's decoder works that way.
    pub disable_compression: bool,
    /// Proxy for every request (`http://` or `https://`), e.g. from the kubeconfig
    /// cluster's `proxy-url`. Port of Config.Proxy as clientcmd sets it (`http.ProxyURL`).
    ///
    /// Differs from Go: `socks5://` is refused (the HTTP client is built without SOCKS), and
    /// `None` uses no proxy, where Go's default reads `HTTPS_PROXY`/`NO_PROXY`.
    pub proxy_url: Option<String>,
    /// Media types of request bodies and of `Accept`. Port of Config.ContentConfig
    /// (`ContentType`, `AcceptContentTypes`); the default is JSON, as in Go. Protobuf applies
    /// to built-in types only; see [`crate::rest::content`].
    pub content: crate::rest::content::ContentConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: String::new(),
            api_path: String::new(),
            namespace: "default".to_owned(),
            bearer_token: None,
            bearer_token_file: None,
            username: None,
            password: None,
            tls: TlsConfig::default(),
            exec: None,
            impersonate: ImpersonationConfig::default(),
            qps: 0.0,
            burst: 0,
            rate_limiter: None,
            timeout: None,
            user_agent: None,
            max_retries: 10,
            disable_compression: false,
            proxy_url: None,
            content: crate::rest::content::ContentConfig::default(),
        }
    }
}

fn redact<T>(v: &Option<T>) -> &'static str {
    if v.is_some() { "<redacted>" } else { "<none>" }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("api_path", &self.api_path)
            .field("namespace", &self.namespace)
            .field("bearer_token", &redact(&self.bearer_token))
            .field("bearer_token_file", &self.bearer_token_file)
            .field("username", &self.username)
            .field("password", &redact(&self.password))
            .field("tls", &self.tls)
            .field("exec", &self.exec)
            .field("impersonate", &self.impersonate)
            .field("qps", &self.qps)
            .field("burst", &self.burst)
            .field("rate_limiter", &self.rate_limiter)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("max_retries", &self.max_retries)
            .field("disable_compression", &self.disable_compression)
            .field("proxy_url", &self.proxy_url.as_ref().map(|_| "<set>"))
            .field("content", &self.content)
            .finish()
    }
}

impl Config {
    /// A config for `host` with every other field at its default.
    pub fn new(host: impl Into<String>) -> Self {
        Config {
            host: host.into(),
            ..Config::default()
        }
    }

    /// Sets the bearer token.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Sets the CA bundle (PEM).
    #[must_use]
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.ca_data = Some(pem.into());
        self
    }

    /// Sets QPS and burst.
    #[must_use]
    pub fn rate(mut self, qps: f32, burst: u32) -> Self {
        self.qps = qps;
        self.burst = burst;
        self
    }

    /// Sets [`Config::disable_compression`]: `true` stops asking for gzip responses.
    /// Port of rest.Config.DisableCompression.
    #[must_use]
    pub fn disable_compression(mut self, disable: bool) -> Self {
        self.disable_compression = disable;
        self
    }

    /// The kubeconfig if one is configured (`KUBECONFIG` or `~/.kube/config`), else the
    /// in-cluster config, else an error that says what was tried.
    ///
    /// Port of clientcmd's default loading rules plus rest.InClusterConfig, as
    /// `ctrl.GetConfig` does.
    pub fn infer() -> Result<Self> {
        let rules = kubeconfig::LoadingRules::from_env();
        if rules.any_file_exists() {
            return kubeconfig::Kubeconfig::load(&rules)?.to_config(None);
        }
        match in_cluster::in_cluster_config() {
            Ok(c) => Ok(c),
            Err(in_cluster_err) => Err(Error::config(
                None,
                "config",
                format!(
                    "no kubeconfig found (KUBECONFIG unset or empty, no ~/.kube/config) and not \
                     in a cluster: {in_cluster_err}"
                ),
            )),
        }
    }

    /// The effective rate limiter: the shared one, or one built from `qps`/`burst`.
    pub(crate) fn effective_rate_limiter(&self) -> Option<Arc<RateLimiter>> {
        if let Some(rl) = &self.rate_limiter {
            return Some(rl.clone());
        }
        let qps = if self.qps == 0.0 {
            crate::flowcontrol::DEFAULT_QPS
        } else {
            self.qps
        };
        let burst = if self.burst == 0 {
            crate::flowcontrol::DEFAULT_BURST
        } else {
            self.burst
        };
        RateLimiter::new(qps, burst).map(Arc::new)
    }
}

/// TLS settings. Port of rest.TLSClientConfig.
///
/// `*_data` fields win over the matching `*_file` fields, as in Go.
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// Skip server certificate verification (testing only). Port of Insecure.
    pub insecure: bool,
    /// Name sent as SNI and verified against the server certificate instead of the URL's
    /// host; connections still go to the host. An IP address here is verified but not sent,
    /// as in Go. Port of ServerName (kubeconfig `tls-server-name`).
    pub server_name: Option<String>,
    /// Trusted root certificates, PEM. Port of CAData.
    pub ca_data: Option<Vec<u8>>,
    /// File of trusted root certificates. Port of CAFile.
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain, PEM. Port of CertData.
    pub cert_data: Option<Vec<u8>>,
    /// Client certificate file. Port of CertFile.
    pub cert_file: Option<PathBuf>,
    /// Client private key, PEM. Port of KeyData.
    pub key_data: Option<Vec<u8>>,
    /// Client private key file. Port of KeyFile.
    pub key_file: Option<PathBuf>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("insecure", &self.insecure)
            .field("server_name", &self.server_name)
            .field(
                "ca_data",
                &self
                    .ca_data
                    .as_ref()
                    .map(|d| format!("<{} bytes>", d.len())),
            )
            .field("ca_file", &self.ca_file)
            .field("cert_data", &redact(&self.cert_data))
            .field("cert_file", &self.cert_file)
            .field("key_data", &redact(&self.key_data))
            .field("key_file", &self.key_file)
            .finish()
    }
}

/// Impersonation. Port of rest.ImpersonationConfig.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImpersonationConfig {
    /// `Impersonate-User`.
    pub user_name: Option<String>,
    /// `Impersonate-Uid`.
    pub uid: Option<String>,
    /// `Impersonate-Group`, one header per group.
    pub groups: Vec<String>,
    /// `Impersonate-Extra-<key>`, one header per value.
    pub extra: BTreeMap<String, Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_every_secret() {
        let mut c = Config::new("https://h").bearer_token("s3cr3t-token");
        c.password = Some("s3cr3t-pass".into());
        c.tls.key_data = Some(b"s3cr3t-key".to_vec());
        c.tls.cert_data = Some(b"s3cr3t-cert".to_vec());
        c.exec = Some(ExecConfig {
            command: "plugin".into(),
            env: vec![("TOKEN".into(), "s3cr3t-env".into())],
            ..ExecConfig::default()
        });
        let out = format!("{c:?}");
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(out.contains("https://h"));
    }
}
