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
//! Differs from Go: open connections are not closed when a client certificate rotates; new
//! connections use the new certificate.

use std::fmt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::SystemTime;

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
    /// Send the cluster's server in `KUBERNETES_EXEC_INFO`.
    pub provide_cluster_info: bool,
    /// Shown when the command cannot be started.
    pub install_hint: Option<String>,
    /// The cluster's server URL, for `provide_cluster_info`.
    pub cluster_server: String,
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
            .finish_non_exhaustive()
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
    interactive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<ExecInfoCluster<'a>>,
}

#[derive(Serialize)]
struct ExecInfoCluster<'a> {
    server: &'a str,
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

/// Runs the plugin and caches its credential. Port of exec.Authenticator.
pub struct ExecAuthenticator {
    config: ExecConfig,
    /// The last credential; replaced when expired or invalidated.
    cache: tokio::sync::Mutex<Option<Arc<ExecCredential>>>,
}

impl fmt::Debug for ExecAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecAuthenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ExecAuthenticator {
    /// An authenticator for `config`; the command first runs on the first request.
    pub fn new(config: ExecConfig) -> Self {
        ExecAuthenticator {
            config,
            cache: tokio::sync::Mutex::new(None),
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
        let info = ExecInfo {
            api_version: &self.config.api_version,
            kind: "ExecCredential",
            spec: ExecInfoSpec {
                interactive: false,
                cluster: self.config.provide_cluster_info.then_some(ExecInfoCluster {
                    server: &self.config.cluster_server,
                }),
            },
        };
        let info = serde_json::to_string(&info).map_err(|e| Error::Auth {
            context: self.ctx(),
            message: e.to_string(),
        })?;
        let mut cmd = tokio::process::Command::new(&self.config.command);
        cmd.args(&self.config.args)
            .envs(self.config.env.iter().map(|(k, v)| (k, v)))
            .env("KUBERNETES_EXEC_INFO", info)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let out = cmd.output().await.map_err(|e| {
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
        ExecAuthenticator::new(ExecConfig {
            api_version: SUPPORTED_API_VERSIONS[0].into(),
            command: "x".into(),
            ..ExecConfig::default()
        })
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
}
