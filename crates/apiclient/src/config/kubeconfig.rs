//! Port of client-go `tools/clientcmd` (loader.go, client_config.go, api/types.go): find,
//! read and merge kubeconfig files the way kubectl does, and turn a context into a [`Config`].
//!
//! Data flow: [`LoadingRules`] list the files (an explicit path; else every file of
//! `KUBECONFIG`, a path list; else `~/.kube/config`) → each file is parsed and its relative
//! paths resolved against the file's own directory → the files are merged, the first file to
//! set a key winning (`current-context` too) → [`Kubeconfig::to_config`] picks the context
//! (current, or an override) and builds the [`Config`], decoding base64 `*-data` fields.
//!
//! Invariant: every named entry remembers the file it came from, so any later error names the
//! file and the field (`users[admin].user.client-certificate-data`). Nothing here panics on
//! bad input.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use super::exec::{ExecConfig, ExecEnvVar};
use super::{Config, ImpersonationConfig, TlsConfig};
use crate::error::{Error, Result};

/// Where to look for kubeconfig files. Port of clientcmd.ClientConfigLoadingRules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadingRules {
    /// A file that must exist and is the only one read (kubectl's `--kubeconfig`).
    pub explicit_path: Option<PathBuf>,
    /// Files merged in order, the first to set a key winning; missing files are skipped.
    pub precedence: Vec<PathBuf>,
}

impl LoadingRules {
    /// `KUBECONFIG` split on the platform's path-list separator; if unset or empty,
    /// `$HOME/.kube/config`. Port of clientcmd.NewDefaultClientConfigLoadingRules.
    pub fn from_env() -> Self {
        let mut precedence: Vec<PathBuf> = std::env::var_os("KUBECONFIG")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if precedence.is_empty()
            && let Some(home) = std::env::var_os("HOME")
        {
            precedence.push(PathBuf::from(home).join(".kube").join("config"));
        }
        LoadingRules {
            explicit_path: None,
            precedence,
        }
    }

    /// Only `path`, which must exist.
    pub fn explicit(path: impl Into<PathBuf>) -> Self {
        LoadingRules {
            explicit_path: Some(path.into()),
            precedence: Vec::new(),
        }
    }

    /// True if the rules name at least one existing file.
    pub fn any_file_exists(&self) -> bool {
        self.explicit_path.is_some() || self.precedence.iter().any(|p| p.is_file())
    }
}

/// A parsed (and possibly merged) kubeconfig. Port of clientcmdapi.Config.
#[derive(Clone, Debug, Default)]
pub struct Kubeconfig {
    /// The context used when none is named.
    pub current_context: Option<String>,
    /// Named clusters.
    pub clusters: Vec<NamedCluster>,
    /// Named users (Go: AuthInfos).
    pub users: Vec<NamedUser>,
    /// Named contexts.
    pub contexts: Vec<NamedContext>,
}

/// A cluster entry and the file it came from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NamedCluster {
    /// Entry name.
    #[serde(default)]
    pub name: String,
    /// The cluster.
    #[serde(default)]
    pub cluster: Cluster,
    /// The file this entry was read from.
    #[serde(skip)]
    pub source: PathBuf,
}

/// Port of clientcmdapi.Cluster.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    /// API server URL.
    #[serde(default)]
    pub server: String,
    /// Name to verify the server certificate against.
    #[serde(default)]
    pub tls_server_name: Option<String>,
    /// Skip server certificate verification.
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
    /// CA file path (resolved against the kubeconfig's directory).
    #[serde(default)]
    pub certificate_authority: Option<String>,
    /// CA bundle, base64 of PEM.
    #[serde(default)]
    pub certificate_authority_data: Option<String>,
    /// Do not ask for gzip responses (`disable-compression`). Port of
    /// clientcmdapi.Cluster.DisableCompression; sets [`Config::disable_compression`].
    #[serde(default)]
    pub disable_compression: bool,
    /// Proxy for requests to this cluster (`proxy-url`). Port of
    /// clientcmdapi.Cluster.ProxyURL; sets [`Config::proxy_url`].
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// Named extensions. Port of clientcmdapi.Cluster.Extensions; the one named
    /// `client.authentication.k8s.io/exec` becomes the exec plugin's
    /// [`ExecConfig::config`] (client_config.go: clusterExtensionKey).
    #[serde(default)]
    pub extensions: Vec<NamedExtension>,
}

/// The extension name reserved for exec plugin settings. Port of client_config.go:
/// clusterExtensionKey.
pub const EXEC_CLUSTER_EXTENSION: &str = "client.authentication.k8s.io/exec";

/// One entry of a kubeconfig `extensions` list. Port of clientcmd/api/v1.NamedExtension.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NamedExtension {
    /// Entry name.
    #[serde(default)]
    pub name: String,
    /// The extension object, as JSON.
    #[serde(default)]
    pub extension: Option<serde_json::Value>,
}

/// A user entry and the file it came from.
#[derive(Clone, Default, Deserialize)]
pub struct NamedUser {
    /// Entry name.
    #[serde(default)]
    pub name: String,
    /// The credentials.
    #[serde(default)]
    pub user: User,
    /// The file this entry was read from.
    #[serde(skip)]
    pub source: PathBuf,
}

impl std::fmt::Debug for NamedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedUser")
            .field("name", &self.name)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Port of clientcmdapi.AuthInfo. Its `Debug` is on [`NamedUser`], which prints no secret.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct User {
    /// Client certificate file.
    #[serde(default)]
    pub client_certificate: Option<String>,
    /// Client certificate, base64 of PEM.
    #[serde(default)]
    pub client_certificate_data: Option<String>,
    /// Client key file.
    #[serde(default)]
    pub client_key: Option<String>,
    /// Client key, base64 of PEM.
    #[serde(default)]
    pub client_key_data: Option<String>,
    /// Bearer token.
    #[serde(default)]
    pub token: Option<String>,
    /// Bearer token file.
    #[serde(default, rename = "tokenFile")]
    pub token_file: Option<String>,
    /// Basic-auth user.
    #[serde(default)]
    pub username: Option<String>,
    /// Basic-auth password.
    #[serde(default)]
    pub password: Option<String>,
    /// Impersonate this user.
    #[serde(default, rename = "as")]
    pub impersonate: Option<String>,
    /// Impersonate this UID.
    #[serde(default, rename = "as-uid")]
    pub impersonate_uid: Option<String>,
    /// Impersonate these groups.
    #[serde(default, rename = "as-groups")]
    pub impersonate_groups: Vec<String>,
    /// Impersonate with these extra fields.
    #[serde(default, rename = "as-user-extra")]
    pub impersonate_extra: std::collections::BTreeMap<String, Vec<String>>,
    /// Exec credential plugin.
    #[serde(default)]
    pub exec: Option<ExecSection>,
    /// Legacy auth-provider plugins (not supported; presence is an error naming it).
    #[serde(default, rename = "auth-provider")]
    pub auth_provider: Option<serde::de::IgnoredAny>,
}

/// The `exec` section of a user. Port of clientcmdapi.ExecConfig.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecSection {
    /// `client.authentication.k8s.io/v1` or `v1beta1`.
    #[serde(default)]
    pub api_version: String,
    /// The command.
    #[serde(default)]
    pub command: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment.
    #[serde(default)]
    pub env: Vec<ExecEnvVar>,
    /// Pass the cluster's details in `KUBERNETES_EXEC_INFO`.
    #[serde(default)]
    pub provide_cluster_info: bool,
    /// Printed when the command is missing.
    #[serde(default)]
    pub install_hint: Option<String>,
    /// `Never`, `IfAvailable` or `Always`; required for `v1`, `IfAvailable` when unset for
    /// `v1beta1`. Port of clientcmdapi.ExecConfig.InteractiveMode.
    #[serde(default)]
    pub interactive_mode: Option<String>,
}

/// A context entry and the file it came from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NamedContext {
    /// Entry name.
    #[serde(default)]
    pub name: String,
    /// The context.
    #[serde(default)]
    pub context: Context,
    /// The file this entry was read from.
    #[serde(skip)]
    pub source: PathBuf,
}

/// Port of clientcmdapi.Context.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Context {
    /// Cluster entry name.
    #[serde(default)]
    pub cluster: String,
    /// User entry name.
    #[serde(default)]
    pub user: String,
    /// Default namespace.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// The file format, before merging.
#[derive(Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    current_context: Option<String>,
    #[serde(default)]
    clusters: Option<Vec<NamedCluster>>,
    #[serde(default)]
    users: Option<Vec<NamedUser>>,
    #[serde(default)]
    contexts: Option<Vec<NamedContext>>,
}

/// Resolves `p` against `base` unless it is absolute or empty. Port of loader.go: ResolvePaths.
fn resolve(base: &Path, p: &mut Option<String>) {
    if let Some(s) = p.as_mut()
        && !s.is_empty()
        && Path::new(s.as_str()).is_relative()
    {
        *s = base.join(s.as_str()).to_string_lossy().into_owned();
    }
}

impl Kubeconfig {
    /// Reads one file and resolves its relative paths. Port of clientcmd.LoadFromFile.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(Some(path), "(file)", format!("cannot read: {e}")))?;
        Self::parse(&text, path)
    }

    /// Parses kubeconfig YAML that was read from `path` (used for errors and relative paths).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            serde_norway::from_str(text).map_err(|e| {
                let field = e
                    .to_string()
                    .split(':')
                    .next()
                    .unwrap_or("(document)")
                    .to_owned();
                let field = if field.contains(' ') {
                    "(document)".to_owned()
                } else {
                    field
                };
                Error::config(Some(path), field, format!("invalid kubeconfig: {e}"))
            })?
        };
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut clusters = file.clusters.unwrap_or_default();
        for c in &mut clusters {
            c.source = path.to_path_buf();
            resolve(&base, &mut c.cluster.certificate_authority);
        }
        let mut users = file.users.unwrap_or_default();
        for u in &mut users {
            u.source = path.to_path_buf();
            resolve(&base, &mut u.user.client_certificate);
            resolve(&base, &mut u.user.client_key);
            resolve(&base, &mut u.user.token_file);
            if let Some(exec) = &mut u.user.exec
                && exec.command.contains(std::path::MAIN_SEPARATOR)
            {
                let mut cmd = Some(std::mem::take(&mut exec.command));
                resolve(&base, &mut cmd);
                exec.command = cmd.unwrap_or_default();
            }
        }
        let mut contexts = file.contexts.unwrap_or_default();
        for c in &mut contexts {
            c.source = path.to_path_buf();
        }
        Ok(Kubeconfig {
            current_context: file.current_context.filter(|c| !c.is_empty()),
            clusters,
            users,
            contexts,
        })
    }

    /// Merges `other` under `self`: entries and `current-context` already set here win.
    /// Port of loader.go: ClientConfigLoadingRules.Load's merge ("first file wins").
    pub fn merge(&mut self, other: Kubeconfig) {
        if self.current_context.is_none() {
            self.current_context = other.current_context;
        }
        for c in other.clusters {
            if !self.clusters.iter().any(|x| x.name == c.name) {
                self.clusters.push(c);
            }
        }
        for u in other.users {
            if !self.users.iter().any(|x| x.name == u.name) {
                self.users.push(u);
            }
        }
        for c in other.contexts {
            if !self.contexts.iter().any(|x| x.name == c.name) {
                self.contexts.push(c);
            }
        }
    }

    /// Loads and merges the files `rules` name. Port of ClientConfigLoadingRules.Load.
    ///
    /// An explicit path must exist; missing files in the precedence list are skipped.
    pub fn load(rules: &LoadingRules) -> Result<Self> {
        if let Some(p) = &rules.explicit_path {
            return Self::read(p);
        }
        let mut merged = Kubeconfig::default();
        let mut found = false;
        for p in &rules.precedence {
            if !p.exists() {
                continue;
            }
            found = true;
            merged.merge(Self::read(p)?);
        }
        if !found {
            return Err(Error::config(
                None,
                "KUBECONFIG",
                format!("no kubeconfig file found among {:?}", rules.precedence),
            ));
        }
        Ok(merged)
    }

    /// Builds the [`Config`] of `context` (or of `current-context`).
    /// Port of clientcmd.DirectClientConfig.ClientConfig and Namespace.
    pub fn to_config(&self, context: Option<&str>) -> Result<Config> {
        let name = match context.or(self.current_context.as_deref()) {
            Some(n) if !n.is_empty() => n,
            _ => {
                return Err(Error::config(
                    None,
                    "current-context",
                    "not set and no context given",
                ));
            }
        };
        let ctx = self
            .contexts
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::config(None, format!("contexts[{name}]"), "no such context"))?;
        let cfile = Some(ctx.source.as_path());
        let cluster = self
            .clusters
            .iter()
            .find(|c| c.name == ctx.context.cluster)
            .ok_or_else(|| {
                Error::config(
                    cfile,
                    format!("contexts[{name}].context.cluster"),
                    format!("cluster {:?} not found", ctx.context.cluster),
                )
            })?;
        let cl = &cluster.cluster;
        let src = Some(cluster.source.as_path());
        let field = |f: &str| format!("clusters[{}].cluster.{f}", cluster.name);
        if cl.server.is_empty() {
            return Err(Error::config(src, field("server"), "missing"));
        }
        let mut config = Config::new(cl.server.clone());
        config.namespace = ctx
            .context
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into());
        config.disable_compression = cl.disable_compression;
        config.proxy_url = cl.proxy_url.clone().filter(|p| !p.is_empty());
        config.tls = TlsConfig {
            insecure: cl.insecure_skip_tls_verify,
            server_name: cl.tls_server_name.clone().filter(|s| !s.is_empty()),
            ca_data: decode_b64(
                src,
                &field("certificate-authority-data"),
                &cl.certificate_authority_data,
            )?,
            ca_file: cl
                .certificate_authority
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            ..TlsConfig::default()
        };
        if ctx.context.user.is_empty() {
            return Ok(config);
        }
        let user = self
            .users
            .iter()
            .find(|u| u.name == ctx.context.user)
            .ok_or_else(|| {
                Error::config(
                    cfile,
                    format!("contexts[{name}].context.user"),
                    format!("user {:?} not found", ctx.context.user),
                )
            })?;
        let u = &user.user;
        let src = Some(user.source.as_path());
        let field = |f: &str| format!("users[{}].user.{f}", user.name);
        if u.auth_provider.is_some() {
            return Err(Error::config(
                src,
                field("auth-provider"),
                "auth-provider plugins are not supported; use exec",
            ));
        }
        config.tls.cert_data = decode_b64(
            src,
            &field("client-certificate-data"),
            &u.client_certificate_data,
        )?;
        config.tls.key_data = decode_b64(src, &field("client-key-data"), &u.client_key_data)?;
        config.tls.cert_file = u
            .client_certificate
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        config.tls.key_file = u
            .client_key
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        let has_cert = config.tls.cert_data.is_some() || config.tls.cert_file.is_some();
        let has_key = config.tls.key_data.is_some() || config.tls.key_file.is_some();
        if has_cert != has_key {
            let missing = if has_cert {
                "client-key"
            } else {
                "client-certificate"
            };
            return Err(Error::config(
                src,
                field(missing),
                "client certificate and key must be given together",
            ));
        }
        config.bearer_token = u.token.clone().filter(|t| !t.is_empty());
        config.bearer_token_file = u
            .token_file
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        config.username = u.username.clone();
        config.password = u.password.clone();
        config.impersonate = ImpersonationConfig {
            user_name: u.impersonate.clone(),
            uid: u.impersonate_uid.clone(),
            groups: u.impersonate_groups.clone(),
            extra: u.impersonate_extra.clone(),
        };
        if let Some(exec) = &u.exec {
            if exec.command.is_empty() {
                return Err(Error::config(src, field("exec.command"), "missing"));
            }
            if !exec::is_supported_api_version(&exec.api_version) {
                return Err(Error::config(
                    src,
                    field("exec.apiVersion"),
                    format!(
                        "unsupported {:?}; want client.authentication.k8s.io/v1 or v1beta1",
                        exec.api_version
                    ),
                ));
            }
            // Port of validation.go: validateAuthInfo's interactiveMode check, after
            // defaults.go: SetDefaults_ExecConfig.
            let interactive_mode = match exec.interactive_mode.as_deref().unwrap_or("") {
                "" => match exec::ExecInteractiveMode::default_for(&exec.api_version) {
                    Some(m) => m,
                    None => {
                        return Err(Error::config(
                            src,
                            field("exec.interactiveMode"),
                            format!(
                                "interactiveMode must be specified for {} to use exec \
                                 authentication plugin",
                                user.name
                            ),
                        ));
                    }
                },
                m => exec::ExecInteractiveMode::parse(m).ok_or_else(|| {
                    Error::config(
                        src,
                        field("exec.interactiveMode"),
                        format!("invalid interactiveMode for {}: {m:?}", user.name),
                    )
                })?,
            };
            config.exec = Some(ExecConfig {
                api_version: exec.api_version.clone(),
                command: exec.command.clone(),
                args: exec.args.clone(),
                env: exec
                    .env
                    .iter()
                    .map(|e| (e.name.clone(), e.value.clone()))
                    .collect(),
                provide_cluster_info: exec.provide_cluster_info,
                install_hint: exec.install_hint.clone(),
                interactive_mode: Some(interactive_mode),
                stdin_unavailable: false,
                stdin_unavailable_message: None,
                config: cl
                    .extensions
                    .iter()
                    .find(|e| e.name == EXEC_CLUSTER_EXTENSION)
                    .and_then(|e| e.extension.clone()),
            });
        }
        Ok(config)
    }
}

use super::exec;

fn decode_b64(file: Option<&Path>, field: &str, value: &Option<String>) -> Result<Option<Vec<u8>>> {
    let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map(Some)
        .map_err(|e| Error::config(file, field, format!("invalid base64: {e}")))
}

impl Config {
    /// Loads kubeconfig like kubectl (`path`, else `KUBECONFIG`, else `~/.kube/config`) and
    /// builds the config of `context` (or the current context).
    ///
    /// Port of clientcmd.BuildConfigFromFlags / NewNonInteractiveDeferredLoadingClientConfig.
    pub fn from_kubeconfig(path: Option<&Path>, context: Option<&str>) -> Result<Config> {
        let rules = match path {
            Some(p) => LoadingRules::explicit(p),
            None => LoadingRules::from_env(),
        };
        Kubeconfig::load(&rules)?.to_config(context)
    }
}
