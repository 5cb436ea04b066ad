//! Port of the SNI half of client-go's `rest.TLSClientConfig.ServerName` (kubeconfig
//! `tls-server-name`), which `transport/transport.go` (TLSConfigFor) copies into Go's
//! `tls.Config.ServerName` (an IP address is never sent as SNI: Go's `hostnameInSNI`).
//!
//! In Go that one field names both the SNI the client sends and the name the server's
//! certificate is checked against, while the TCP connection still goes to the URL's host.
//! reqwest takes SNI and the verified name from the request URL's host and offers no override,
//! so when `server_name` is a DNS name other than the host, [`route`] moves it into the URL:
//! the base URL's host becomes `server_name` and a [`ServerNameResolver`] resolves that name
//! to the original host's addresses. rustls then sends `server_name` as SNI and checks the
//! certificate against it; the verifier in [`super::tls`] checks against `server_name` in every
//! other case too, so verification never falls back to the URL's host.
//!
//! Differs from Go: with the rewrite the request's `Host`/`:authority` and the URL in errors
//! carry `server_name:port` instead of the URL's host, because reqwest derives SNI from them.
//!
//! Differs from Go: when an HTTPS proxy is set in the environment the URL is left alone (the
//! proxy would be asked to CONNECT to `server_name`), so SNI is the URL's host; the certificate
//! is still verified against `server_name`.

use std::net::{IpAddr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::TlsConfig;

/// Environment variables through which reqwest picks a proxy for `https://` URLs.
const HTTPS_PROXY_VARS: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];

/// Sends `server_name` to the URL's original host. Used only by [`route`].
#[derive(Debug)]
pub(crate) struct ServerNameResolver {
    /// The name that replaced the host in the base URL (lowercase, as URLs hold it).
    server_name: String,
    /// Where connections to `server_name` really go: the URL's original host.
    target: Target,
}

#[derive(Debug)]
enum Target {
    Ip(IpAddr),
    Host(String),
}

/// Rewrites `base` so that reqwest sends `tls.server_name` as SNI, and returns the resolver
/// that keeps connections going to the original host. `None` leaves `base` unchanged: no
/// `server_name`, plain HTTP, a name equal to the host, an IP address (Go sends no SNI for
/// one; see [`super::tls`]), or an HTTPS proxy in the environment.
pub(crate) fn route(base: &mut Url, tls: &TlsConfig) -> Option<ServerNameResolver> {
    let name = tls.server_name.as_deref()?;
    if base.scheme() != "https" || name.parse::<IpAddr>().is_ok() || https_proxy_set() {
        return None;
    }
    let host = base.host_str()?.to_owned();
    if host.eq_ignore_ascii_case(name) {
        return None;
    }
    let target = match host.trim_start_matches('[').trim_end_matches(']').parse() {
        Ok(ip) => Target::Ip(ip),
        Err(_) => Target::Host(host),
    };
    // A name the URL cannot hold (it fails later as a TLS server name) stays out of the URL.
    base.set_host(Some(name)).ok()?;
    let server_name = base.host_str()?.to_owned();
    Some(ServerNameResolver {
        server_name,
        target,
    })
}

fn https_proxy_set() -> bool {
    HTTPS_PROXY_VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

impl Resolve for ServerNameResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = if name.as_str().eq_ignore_ascii_case(&self.server_name) {
            match &self.target {
                Target::Ip(ip) => {
                    let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(*ip, 0)));
                    return Box::pin(std::future::ready(Ok(addrs)));
                }
                Target::Host(h) => h.clone(),
            }
        } else {
            name.as_str().to_owned()
        };
        Box::pin(async move {
            // Port 0: the connector puts the URL's port on every address.
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((lookup.as_str(), 0))
                .await?
                .collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(name: &str) -> TlsConfig {
        TlsConfig {
            server_name: Some(name.into()),
            ..TlsConfig::default()
        }
    }

    #[test]
    fn dns_server_name_replaces_the_host_and_keeps_the_port() {
        if https_proxy_set() {
            return;
        }
        let mut base = Url::parse("https://127.0.0.1:6443/api").unwrap_or_else(|e| panic!("{e}"));
        let r = route(&mut base, &tls("Kubernetes.Default.svc"));
        assert_eq!(base.as_str(), "https://kubernetes.default.svc:6443/api");
        assert!(matches!(
            r.map(|r| r.target),
            Some(Target::Ip(ip)) if ip == IpAddr::from([127, 0, 0, 1])
        ));
    }

    #[test]
    fn ip_server_name_plain_http_and_same_host_leave_the_url_alone() {
        for (url, name) in [
            ("https://example.com:6443", "10.0.0.1"),
            ("http://127.0.0.1:8080", "kubernetes"),
            ("https://api.example.com", "API.example.com"),
        ] {
            let mut base = Url::parse(url).unwrap_or_else(|e| panic!("{e}"));
            let before = base.clone();
            assert!(route(&mut base, &tls(name)).is_none(), "{url} {name}");
            assert_eq!(base, before);
        }
    }
}
