//! Port of client-go `rest/config.go`: InClusterConfig, and of `transport/token_source.go`:
//! the cached file token source that re-reads a rotated service-account token.
//!
//! Data flow: `KUBERNETES_SERVICE_HOST`/`_PORT` give the server; the pod's service-account
//! directory gives `token` (as a token *file*, re-read by [`TokenFile`] about once a minute),
//! `ca.crt` and `namespace`. Anything missing is an error that says what was looked for.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Config;
use crate::error::{Error, Result};

/// The service-account directory mounted into every pod.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How long a token read from a file is used before the file is read again.
/// Port of transport.NewCachedFileTokenSource's one-minute period.
pub const TOKEN_FILE_REFRESH: Duration = Duration::from_secs(60);

/// The in-cluster config from the process environment and [`SERVICE_ACCOUNT_DIR`].
/// Port of rest.InClusterConfig.
pub fn in_cluster_config() -> Result<Config> {
    in_cluster_config_from(|k| std::env::var(k).ok(), Path::new(SERVICE_ACCOUNT_DIR))
}

/// [`in_cluster_config`] with the environment and the service-account directory injected.
pub fn in_cluster_config_from(
    env: impl Fn(&str) -> Option<String>,
    sa_dir: &Path,
) -> Result<Config> {
    let host = env("KUBERNETES_SERVICE_HOST").filter(|s| !s.is_empty());
    let port = env("KUBERNETES_SERVICE_PORT").filter(|s| !s.is_empty());
    let (Some(host), Some(port)) = (host, port) else {
        return Err(Error::config(
            None,
            "KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT",
            "unable to load in-cluster configuration: both must be defined",
        ));
    };
    let token = sa_dir.join("token");
    match std::fs::read_to_string(&token) {
        Ok(t) if !t.trim().is_empty() => {}
        Ok(_) => {
            return Err(Error::config(
                Some(&token),
                "token",
                "service-account token file is empty",
            ));
        }
        Err(e) => {
            return Err(Error::config(
                Some(&token),
                "token",
                format!("cannot read service-account token: {e}"),
            ));
        }
    }
    // net.JoinHostPort: IPv6 literals need brackets.
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let mut config = Config::new(format!("https://{host}:{port}"));
    config.bearer_token_file = Some(token);
    let ca = sa_dir.join("ca.crt");
    if ca.is_file() {
        config.tls.ca_file = Some(ca);
    } else {
        // Go logs and continues with the system roots; so do we.
        tracing::warn!(path = %ca.display(), "in-cluster CA file missing; using system roots");
    }
    if let Ok(ns) = std::fs::read_to_string(sa_dir.join("namespace"))
        && !ns.trim().is_empty()
    {
        config.namespace = ns.trim().to_owned();
    }
    Ok(config)
}

/// A bearer token read from a file and re-read after [`TOKEN_FILE_REFRESH`], so rotated
/// service-account tokens are picked up. Port of transport.cachedFileTokenSource.
///
/// If a re-read fails, the last good token is kept (and the failure logged), as in Go.
pub struct TokenFile {
    path: PathBuf,
    period: Duration,
    /// The token and when it was read (tokio's clock, so paused-clock tests control expiry).
    cached: tokio::sync::Mutex<Option<(String, tokio::time::Instant)>>,
}

impl fmt::Debug for TokenFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFile")
            .field("path", &self.path)
            .field("period", &self.period)
            .finish()
    }
}

impl TokenFile {
    /// A token source for `path` with the default one-minute refresh.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenFile {
            path: path.into(),
            period: TOKEN_FILE_REFRESH,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The token, re-reading the file when the cached one is older than the period.
    ///
    /// # Cancel safety
    /// Cancel-safe.
    pub async fn token(&self) -> Result<String> {
        let mut cached = self.cached.lock().await;
        let now = tokio::time::Instant::now();
        if let Some((t, at)) = cached.as_ref()
            && now.duration_since(*at) < self.period
        {
            return Ok(t.clone());
        }
        match tokio::fs::read_to_string(&self.path).await {
            Ok(t) if !t.trim().is_empty() => {
                let t = t.trim().to_owned();
                *cached = Some((t.clone(), now));
                Ok(t)
            }
            other => {
                let why = match other {
                    Ok(_) => "file is empty".to_owned(),
                    Err(e) => e.to_string(),
                };
                if let Some((t, _)) = cached.as_ref() {
                    tracing::warn!(path = %self.path.display(), why, "cannot re-read token file; using the cached token");
                    return Ok(t.clone());
                }
                Err(Error::Auth {
                    context: format!("token file {}", self.path.display()),
                    message: why,
                })
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn missing_env_names_both_variables() {
        let e = in_cluster_config_from(|_| None, Path::new("/nonexistent")).unwrap_err();
        assert!(e.to_string().contains("KUBERNETES_SERVICE_HOST"), "{e}");
    }

    #[test]
    fn reads_service_account_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "tok\n").unwrap();
        std::fs::write(dir.path().join("namespace"), "team-a").unwrap();
        std::fs::write(dir.path().join("ca.crt"), "pem").unwrap();
        let env = |k: &str| match k {
            "KUBERNETES_SERVICE_HOST" => Some("fd00::1".to_owned()),
            "KUBERNETES_SERVICE_PORT" => Some("443".to_owned()),
            _ => None,
        };
        let c = in_cluster_config_from(env, dir.path()).unwrap();
        assert_eq!(c.host, "https://[fd00::1]:443");
        assert_eq!(c.namespace, "team-a");
        assert_eq!(
            c.bearer_token_file.as_deref(),
            Some(dir.path().join("token").as_path())
        );
        assert!(c.tls.ca_file.is_some());
        let missing = tempfile::tempdir().unwrap();
        let e = in_cluster_config_from(env, missing.path()).unwrap_err();
        assert!(e.to_string().contains("token"), "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn token_file_is_reread_after_a_minute() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "one").unwrap();
        let tf = TokenFile::new(&path);
        assert_eq!(tf.token().await.unwrap(), "one");
        std::fs::write(&path, "two").unwrap();
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(tf.token().await.unwrap(), "one", "still cached");
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(tf.token().await.unwrap(), "two", "re-read after the period");
        std::fs::remove_file(&path).unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(tf.token().await.unwrap(), "two", "last good token kept");
    }
}
