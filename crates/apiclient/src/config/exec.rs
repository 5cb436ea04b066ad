//! Port of client-go `plugin/pkg/client/auth/exec/exec.go` (and the `ExecProvider` of
//! `rest/config.go`): credentials from an external command, as `kubectl` gets them from
//! `aws eks get-token`, `gke-gcloud-auth-plugin` or `kubelogin`.
//!
//! Data flow: before a request, [`ExecAuthenticator::credential`] returns the cached
//! credential if it has not reached its `expirationTimestamp`; otherwise it runs the command
//! with its args and env (plus `KUBERNETES_EXEC_INFO`, a JSON `ExecCredential` with the
//! spec), reads the `ExecCredential` the command prints, and caches its `status`: a token, or
//! a client certificate and key (which the TLS layer picks up for new connections). On a 401
//! the client calls [`ExecAuthenticator::invalidate`] with the credential it used, so the next
//! call runs the command again; a credential refreshed meanwhile by another request is kept.
//!
//! Standard input goes to the plugin only as its `interactive_mode` allows
//! ([`ExecInteractiveMode`]: `Always` needs a terminal on stdin, `IfAvailable` passes it when
//! it is one, `Never` never), and `spec.interactive` tells the plugin which it got. With
//! `provide_cluster_info`, `spec.cluster` carries the whole [`ExecCluster`] (server, TLS
//! settings, CA bundle, proxy, compression and the cluster's
//! `client.authentication.k8s.io/exec` extension). Each run is reported to
//! [`crate::metrics`] (`ExecPluginCalls`).
//!
//! Differs from Go: open connections are not closed when a client certificate rotates; new
//! connections use the new certificate.

use std::fmt;
use std::io::IsTerminal as _;
use std::process::Stdio;
use std::sync::Arc;
use std::time::SystemTime;

use apimachinery::util::sync::MutexExt as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The exec API versions this client speaks.
pub const SUPPORTED_API_VERSIONS: [&str; 2] = [
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];

/// True for a supported `client.authentication.k8s.io` version.
pub fn is_supported_api_version(v: &str) -> bool {
    SUPPORTED_API_VERSIONS.contains(&v)
}

/// An exec plugin. Port of clientcmdapi.ExecConfig as carried by rest.Config.ExecProvider.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExecConfig {
    /// `client.authentication.k8s.io/v1` or `/v1beta1`.
    pub api_version: String,
    /// The command to run.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables (values may be secrets; never printed).
    pub env: Vec<(String, String)>,
    /// Send the cluster ([`ExecCluster`]) in `KUBERNETES_EXEC_INFO`'s `spec.cluster`.
    /// Port of ExecConfig.ProvideClusterInfo.
    pub provide_cluster_info: bool,
    /// Shown when the command cannot be started.
    pub install_hint: Option<String>,
    /// The plugin's relationship with standard input. `None` (unset) is an error for
    /// `v1`, and means [`ExecInteractiveMode::IfAvailable`] for `v1beta1`, as client-go's
    /// defaulting (`SetDefaults_ExecConfig`) does. Port of ExecConfig.InteractiveMode.
    pub interactive_mode: Option<ExecInteractiveMode>,
    /// Standard input is in use by this process, so the plugin cannot have it (a program
    /// reading its input from stdin sets this). Port of ExecConfig.StdinUnavailable.
    pub stdin_unavailable: bool,
    /// Said when `interactive_mode` is `Always` and `stdin_unavailable` is set. Port of
    /// ExecConfig.StdinUnavailableMessage.
    pub stdin_unavailable_message: Option<String>,
    /// Plugin-specific settings: the cluster's extension named
    /// `client.authentication.k8s.io/exec`, passed as `spec.cluster.config`. Port of
    /// ExecConfig.Config (a `runtime.Object` in Go, any JSON value here).
    pub config: Option<serde_json::Value>,
}

impl fmt::Debug for ExecConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, _)| format!("{k}=<redacted>"))
            .collect();
        f.debug_struct("ExecConfig")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &env)
            .field("provide_cluster_info", &self.provide_cluster_info)
            .field("interactive_mode", &self.interactive_mode)
            .field("stdin_unavailable", &self.stdin_unavailable)
            .field("config", &self.config.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// An exec plugin's relationship with standard input. Port of clientcmdapi.ExecInteractiveMode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExecInteractiveMode {
    /// Never gets standard input. Port of NeverExecInteractiveMode.
    Never,
    /// Gets standard input when it is a terminal. Port of IfAvailableExecInteractiveMode.
    IfAvailable,
    /// Needs standard input: running it without a terminal on stdin is an error. Port of
    /// AlwaysExecInteractiveMode.
    Always,
}

impl ExecInteractiveMode {
    /// The kubeconfig spelling (`Never`, `IfAvailable`, `Always`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExecInteractiveMode::Never => "Never",
            ExecInteractiveMode::IfAvailable => "IfAvailable",
            ExecInteractiveMode::Always => "Always",
        }
    }

    /// Parses the kubeconfig spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Never" => Some(ExecInteractiveMode::Never),
            "IfAvailable" => Some(ExecInteractiveMode::IfAvailable),
            "Always" => Some(ExecInteractiveMode::Always),
            _ => None,
        }
    }

    /// The mode an exec section without `interactiveMode` gets: `IfAvailable` for `v1beta1`
    /// (for backwards compatibility), none for `v1`, which must say. Port of
    /// clientcmd/api/v1/defaults.go: SetDefaults_ExecConfig.
    pub fn default_for(api_version: &str) -> Option<Self> {
        match api_version {
            "client.authentication.k8s.io/v1beta1" | "client.authentication.k8s.io/v1alpha1" => {
                Some(ExecInteractiveMode::IfAvailable)
            }
            _ => None,
        }
    }
}

/// The cluster an exec plugin is told about when `provide_cluster_info` is set: the
/// `spec.cluster` of `KUBERNETES_EXEC_INFO`. Port of clientauthentication/v1.Cluster, built
/// from the client's [`super::Config`] as rest.ConfigToExecCluster does.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[doc(alias = "Cluster")]
pub struct ExecCluster {
    /// The API server URL (`Config::host`).
    pub server: String,
    /// `Config::tls.server_name`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tls_server_name: String,
    /// `Config::tls.insecure`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_tls_verify: bool,
    /// The CA bundle (PEM): `Config::tls.ca_data`, or the contents of `ca_file`. Sent as
    /// base64, as Go's `[]byte`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_base64"
    )]
    pub certificate_authority_data: Vec<u8>,
    /// `Config::proxy_url`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub proxy_url: String,
    /// `Config::disable_compression`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable_compression: bool,
    /// [`ExecConfig::config`]; `null` when unset, as Go's empty `runtime.RawExtension`.
    pub config: Option<serde_json::Value>,
}

fn serialize_base64<S: serde::Serializer>(v: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    use base64::Engine as _;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
}

impl fmt::Debug for ExecCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecCluster")
            .field("server", &self.server)
            .field("tls_server_name", &self.tls_server_name)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field(
                "certificate_authority_data",
                &format!("<{} bytes>", self.certificate_authority_data.len()),
            )
            .field("proxy_url", &self.proxy_url)
            .field("disable_compression", &self.disable_compression)
            .field("config", &self.config.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl ExecCluster {
    /// The cluster of `config`, its CA file read. Port of rest.ConfigToExecCluster.
    ///
    /// Errors: the CA file cannot be read.
    pub fn from_config(config: &super::Config) -> Result<Self> {
        let ca = match (&config.tls.ca_data, &config.tls.ca_file) {
            (Some(d), _) => d.clone(),
            (None, Some(f)) => std::fs::read(f).map_err(|e| {
                Error::config(
                    Some(f),
                    "certificate-authority",
                    format!("failed to load CA bundle for execProvider: {e}"),
                )
            })?,
            (None, None) => Vec::new(),
        };
        Ok(ExecCluster {
            server: config.host.clone(),
            tls_server_name: config.tls.server_name.clone().unwrap_or_default(),
            insecure_skip_tls_verify: config.tls.insecure,
            certificate_authority_data: ca,
            proxy_url: config.proxy_url.clone().unwrap_or_default(),
            disable_compression: config.disable_compression,
            config: config.exec.as_ref().and_then(|e| e.config.clone()),
        })
    }
}

/// One `env` entry of a kubeconfig exec section.
#[derive(Clone, Default, Deserialize)]
pub struct ExecEnvVar {
    /// Variable name.
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

/// A credential returned by the plugin. Port of clientauthentication.ExecCredentialStatus.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExecCredential {
    /// Bearer token.
    pub token: Option<String>,
    /// Client certificate, PEM.
    pub client_certificate_data: Option<String>,
    /// Client key, PEM.
    pub client_key_data: Option<String>,
    /// When the credential expires; `None` means it is used until a 401.
    pub expiration: Option<SystemTime>,
}

impl fmt::Debug for ExecCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecCredential")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field(
                "client_certificate",
                &self.client_certificate_data.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "client_key",
                &self.client_key_data.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecInfo<'a> {
    api_version: &'a str,
    kind: &'static str,
    spec: ExecInfoSpec<'a>,
}

#[derive(Serialize)]
struct ExecInfoSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a ExecCluster>,
    interactive: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecOutput {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: Option<ExecOutputStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecOutputStatus {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    client_certificate_data: Option<String>,
    #[serde(default)]
    client_key_data: Option<String>,
    #[serde(default)]
    expiration_timestamp: Option<String>,
}

/// Whether the plugin gets standard input, or why it cannot run. Port of exec.go:
/// isInteractive; `stdin_is_terminal` is `std::io::stdin().is_terminal()`.
fn is_interactive(
    config: &ExecConfig,
    stdin_is_terminal: bool,
) -> std::result::Result<bool, String> {
    let mode = config
        .interactive_mode
        .or_else(|| ExecInteractiveMode::default_for(&config.api_version));
    match mode {
        Some(ExecInteractiveMode::Never) => Ok(false),
        Some(ExecInteractiveMode::IfAvailable) => {
            Ok(!config.stdin_unavailable && stdin_is_terminal)
        }
        Some(ExecInteractiveMode::Always) => {
            if !stdin_is_terminal {
                return Err("standard input is not a terminal".into());
            }
            if config.stdin_unavailable {
                let suffix = config
                    .stdin_unavailable_message
                    .as_deref()
                    .filter(|m| !m.is_empty())
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                return Err(format!("standard input is unavailable{suffix}"));
            }
            Ok(true)
        }
        None => Err("unknown interactiveMode: \"\"".into()),
    }
}

/// Runs the plugin and caches its credential. Port of exec.Authenticator.
pub struct ExecAuthenticator {
    config: ExecConfig,
    /// `spec.cluster` of the plugin's input; `Some` exactly when `provide_cluster_info`.
    cluster: Option<ExecCluster>,
    /// Whether this process's standard input is a terminal; injected for tests.
    stdin_is_terminal: fn() -> bool,
    /// The plugin's stdin when it is interactive: this process's (Go's `a.stdin`, os.Stdin);
    /// injected for tests.
    interactive_stdin: Box<dyn Fn() -> Stdio + Send + Sync>,
    /// The last credential; replaced when expired or invalidated.
    cache: tokio::sync::Mutex<Option<Arc<ExecCredential>>>,
    /// The client certificate metrics of this authenticator.
    certs: std::sync::Mutex<super::exec_metrics::CertTracker>,
}

impl fmt::Debug for ExecAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecAuthenticator")
            .field("config", &self.config)
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

impl ExecAuthenticator {
    /// An authenticator for `config`; the command first runs on the first request. `cluster`
    /// is sent as `spec.cluster` when `config.provide_cluster_info` is set (build it with
    /// [`ExecCluster::from_config`]). Port of exec.GetAuthenticator.
    ///
    /// Differs from Go: not shared through a process-wide cache; each
    /// [`crate::rest::RestClient`] (and its clones) has one.
    pub fn new(config: ExecConfig, cluster: Option<ExecCluster>) -> Self {
        let cluster = cluster.filter(|_| config.provide_cluster_info);
        ExecAuthenticator {
            config,
            cluster,
            stdin_is_terminal,
            interactive_stdin: Box::new(Stdio::inherit),
            cache: tokio::sync::Mutex::new(None),
            certs: std::sync::Mutex::new(super::exec_metrics::CertTracker::new()),
        }
    }

    /// The current credential, running the command if there is none or it expired.
    ///
    /// # Cancel safety
    /// Cancel-safe: a cancelled call leaves the cache as it was (the child is killed on drop).
    pub async fn credential(&self) -> Result<Arc<ExecCredential>> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && c.expiration.is_none_or(|exp| SystemTime::now() < exp)
        {
            return Ok(c.clone());
        }
        let fresh = Arc::new(self.run().await?);
        self.certs
            .lock_unpoisoned()
            .refreshed(fresh.client_certificate_data.as_deref());
        *cache = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forgets `used` after the server rejected it (401), unless it was already replaced.
    /// Port of Authenticator.MaybeRefreshCredentials... via the 401 round tripper.
    pub async fn invalidate(&self, used: &Arc<ExecCredential>) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| Arc::ptr_eq(c, used)) {
            *cache = None;
        }
    }

    fn ctx(&self) -> String {
        format!("exec plugin {:?}", self.config.command)
    }

    /// Runs the command once and parses its output. Port of Authenticator.refreshCredsLocked.
    async fn run(&self) -> Result<ExecCredential> {
        let interactive =
            is_interactive(&self.config, (self.stdin_is_terminal)()).map_err(|e| Error::Auth {
                context: self.ctx(),
                message: format!("exec plugin cannot support interactive mode: {e}"),
            })?;
        let info = ExecInfo {
            api_version: &self.config.api_version,
            kind: "ExecCredential",
            spec: ExecInfoSpec {
                cluster: self.cluster.as_ref(),
                interactive,
            },
        };
        let info = serde_json::to_string(&info).map_err(|e| Error::Auth {
            context: self.ctx(),
            message: format!("encode ExecCredentials: {e}"),
        })?;
        let mut cmd = tokio::process::Command::new(&self.config.command);
        cmd.args(&self.config.args)
            .envs(self.config.env.iter().map(|(k, v)| (k, v)))
            .env("KUBERNETES_EXEC_INFO", info)
            .stdin(if interactive {
                (self.interactive_stdin)()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let out = cmd.output().await;
        super::exec_metrics::report_call(&out);
        let out = out.map_err(|e| {
            let hint = self
                .config
                .install_hint
                .as_deref()
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            Error::Auth {
                context: self.ctx(),
                message: format!("cannot run: {e}{hint}"),
            }
        })?;
        if !out.status.success() {
            // stderr is the plugin's diagnostics, not its credential output.
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(Error::Auth {
                context: self.ctx(),
                message: format!("exited with {}: {}", out.status, stderr.trim()),
            });
        }
        self.parse(&out.stdout)
    }

    fn parse(&self, stdout: &[u8]) -> Result<ExecCredential> {
        let fail = |message: String| Error::Auth {
            context: self.ctx(),
            message,
        };
        let parsed: ExecOutput = serde_json::from_slice(stdout)
            .map_err(|e| fail(format!("output is not an ExecCredential: {e}")))?;
        if parsed.kind != "ExecCredential" {
            return Err(fail(format!(
                "output kind is {:?}, want ExecCredential",
                parsed.kind
            )));
        }
        if parsed.api_version != self.config.api_version {
            return Err(fail(format!(
                "output apiVersion {:?} does not match the configured {:?}",
                parsed.api_version, self.config.api_version
            )));
        }
        let status = parsed
            .status
            .ok_or_else(|| fail("output has no status".into()))?;
        let expiration = match status
            .expiration_timestamp
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => {
                let t =
                    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                        .map_err(|e| fail(format!("bad expirationTimestamp {s:?}: {e}")))?;
                Some(SystemTime::from(t))
            }
        };
        let token = status.token.filter(|t| !t.is_empty());
        let cert = status.client_certificate_data.filter(|t| !t.is_empty());
        let key = status.client_key_data.filter(|t| !t.is_empty());
        if cert.is_some() != key.is_some() {
            return Err(fail(
                "clientCertificateData and clientKeyData must be given together".into(),
            ));
        }
        if token.is_none() && cert.is_none() {
            return Err(fail(
                "status has neither a token nor a client certificate".into(),
            ));
        }
        Ok(ExecCredential {
            token,
            client_certificate_data: cert,
            client_key_data: key,
            expiration,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn auth() -> ExecAuthenticator {
        ExecAuthenticator::new(
            ExecConfig {
                api_version: SUPPORTED_API_VERSIONS[0].into(),
                command: "x".into(),
                ..ExecConfig::default()
            },
            None,
        )
    }

    #[test]
    fn parses_token_and_expiry() {
        let c = auth()
            .parse(br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"2030-01-01T00:00:00Z"}}"#)
            .unwrap();
        assert_eq!(c.token.as_deref(), Some("t"));
        assert!(c.expiration.is_some());
        assert!(!format!("{c:?}").contains("\"t\""));
    }

    #[test]
    fn rejects_wrong_version_and_empty_status() {
        let a = auth();
        assert!(
            a.parse(br#"{"apiVersion":"v9","kind":"ExecCredential","status":{"token":"t"}}"#)
                .is_err()
        );
        assert!(a.parse(br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}"#).is_err());
        assert!(a.parse(b"not json").is_err());
    }

    fn mode(api_version: &str, mode: Option<ExecInteractiveMode>) -> ExecConfig {
        ExecConfig {
            api_version: api_version.into(),
            command: "x".into(),
            interactive_mode: mode,
            ..ExecConfig::default()
        }
    }

    #[test]
    fn interactive_mode_decides_stdin_as_client_go() {
        use ExecInteractiveMode::*;
        let v1 = SUPPORTED_API_VERSIONS[0];
        let beta = SUPPORTED_API_VERSIONS[1];
        assert_eq!(is_interactive(&mode(v1, Some(Never)), true), Ok(false));
        assert_eq!(is_interactive(&mode(v1, Some(IfAvailable)), true), Ok(true));
        assert_eq!(
            is_interactive(&mode(v1, Some(IfAvailable)), false),
            Ok(false)
        );
        assert_eq!(is_interactive(&mode(v1, Some(Always)), true), Ok(true));
        assert_eq!(
            is_interactive(&mode(v1, Some(Always)), false),
            Err("standard input is not a terminal".into())
        );
        let mut unavailable = mode(v1, Some(Always));
        unavailable.stdin_unavailable = true;
        unavailable.stdin_unavailable_message = Some("stdin is the manifest".into());
        assert_eq!(
            is_interactive(&unavailable, true),
            Err("standard input is unavailable: stdin is the manifest".into())
        );
        unavailable.interactive_mode = Some(IfAvailable);
        assert_eq!(is_interactive(&unavailable, true), Ok(false));
        // Unset: v1beta1 defaults to IfAvailable, v1 must say.
        assert_eq!(is_interactive(&mode(beta, None), true), Ok(true));
        assert_eq!(
            is_interactive(&mode(v1, None), true),
            Err("unknown interactiveMode: \"\"".into())
        );
    }

    #[tokio::test]
    async fn always_without_a_terminal_fails_before_running_the_plugin() {
        let mut a = ExecAuthenticator::new(
            mode(SUPPORTED_API_VERSIONS[0], Some(ExecInteractiveMode::Always)),
            None,
        );
        a.stdin_is_terminal = || false;
        let e = a.credential().await.unwrap_err().to_string();
        assert!(
            e.contains(
                "exec plugin cannot support interactive mode: standard input is not a terminal"
            ),
            "{e}"
        );
    }

    /// A plugin that saves what it reads on stdin, run with a file of known bytes as "this
    /// process's" stdin.
    async fn stdin_seen_by_plugin(interactive: ExecInteractiveMode, terminal: bool) -> String {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("input");
        std::fs::write(&input, "typed by the user").unwrap();
        let plugin = dir.path().join("plugin.sh");
        std::fs::write(
            &plugin,
            format!(
                "#!/bin/sh\ncat > '{}/seen'\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"t\"}}}}'\n",
                dir.path().display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut config = mode(SUPPORTED_API_VERSIONS[0], Some(interactive));
        config.command = plugin.to_string_lossy().into_owned();
        let mut a = ExecAuthenticator::new(config, None);
        a.stdin_is_terminal = if terminal { || true } else { || false };
        a.interactive_stdin = Box::new(move || Stdio::from(std::fs::File::open(&input).unwrap()));
        a.credential().await.unwrap();
        std::fs::read_to_string(dir.path().join("seen")).unwrap()
    }

    #[tokio::test]
    async fn the_plugin_gets_stdin_only_when_interactive() {
        use ExecInteractiveMode::*;
        assert_eq!(
            stdin_seen_by_plugin(Always, true).await,
            "typed by the user"
        );
        assert_eq!(
            stdin_seen_by_plugin(IfAvailable, true).await,
            "typed by the user"
        );
        assert_eq!(stdin_seen_by_plugin(IfAvailable, false).await, "");
        assert_eq!(stdin_seen_by_plugin(Never, true).await, "");
    }

    #[test]
    fn cluster_info_serialises_as_client_go() {
        let cluster = ExecCluster {
            server: "https://h:6443".into(),
            tls_server_name: "kube".into(),
            insecure_skip_tls_verify: false,
            certificate_authority_data: b"PEM".to_vec(),
            proxy_url: String::new(),
            disable_compression: true,
            config: Some(serde_json::json!({"audience": "a"})),
        };
        let v = serde_json::to_value(&cluster).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "server": "https://h:6443",
                "tls-server-name": "kube",
                "certificate-authority-data": "UEVN",
                "disable-compression": true,
                "config": {"audience": "a"},
            })
        );
    }
}
