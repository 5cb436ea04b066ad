//! Who sent a request: the configured bearer token, a client certificate, nobody (the
//! anonymous user), or a wrong credential; and what the anonymous user may do.
//!
//! Port of the outcome of kube-apiserver's authentication chain (`x509`, bearer token, then
//! `anonymous`) and of the bootstrap RBAC role `system:public-info-viewer`, which lets
//! `system:unauthenticated` GET `/healthz`, `/livez`, `/readyz` and `/version`. Any other
//! anonymous request is denied as the authorizer denies it: 403 with the message of
//! `responsewriters.forbiddenMessage`. A credential that does not authenticate is 401.
//!
//! Differs from Go: there is one user (the token or certificate holder), allowed everything,
//! and no RBAC objects; a server configured with neither a token nor client certificates lets
//! everyone in, as the testserver always has.

use http::header::AUTHORIZATION;
use http::{HeaderMap, Method};

use crate::config::Config;
use crate::router::{ResourceRequest, Route};
use crate::state::ConnInfo;
use crate::status::ApiError;
use crate::verb::Verb;

/// The user name of unauthenticated requests (`user.Anonymous`).
pub(crate) const ANONYMOUS: &str = "system:anonymous";

/// The outcome of authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Authn {
    /// The configured token or a CA-signed client certificate (or no authentication
    /// configured): allowed everything.
    User,
    /// No credential at all: `system:anonymous`.
    Anonymous,
    /// A credential that does not authenticate: 401.
    Rejected,
}

/// Authenticates a request from its headers and connection.
pub(crate) fn authenticate(config: &Config, headers: &HeaderMap, conn: ConnInfo) -> Authn {
    if config.bearer_token.is_none() && !config.client_cert_auth {
        return Authn::User;
    }
    if config.client_cert_auth && conn.client_cert {
        return Authn::User;
    }
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Authn::Anonymous;
    };
    let presented = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (presented, &config.bearer_token) {
        (Some(p), Some(t)) if p == t => Authn::User,
        _ => Authn::Rejected,
    }
}

/// Whether the anonymous user may make this request: GET of the public-info paths
/// (`system:public-info-viewer`).
pub(crate) fn anonymous_allowed(method: &Method, path: &str) -> bool {
    *method == Method::GET
        && matches!(
            path,
            "/healthz" | "/livez" | "/readyz" | "/version" | "/version/"
        )
}

/// The 403 the authorizer's denial of `user` becomes. For a resource request the message
/// names the verb, resource (with subresource), API group and namespace; otherwise the verb
/// (the lower-cased method) and path. Port of `responsewriters.Forbidden`.
pub(crate) fn forbidden(
    user: &str,
    method: &Method,
    path: &str,
    route: &Route,
    verb: Option<Verb>,
) -> ApiError {
    match (route, verb) {
        (Route::Resource(r), Some(verb)) => forbidden_resource(user, r, verb),
        _ => {
            let verb = method.as_str().to_ascii_lowercase();
            ApiError::forbidden(
                "",
                "",
                "",
                &format!("User {user:?} cannot {verb} path {path:?}"),
            )
        }
    }
}

fn forbidden_resource(user: &str, r: &ResourceRequest, verb: Verb) -> ApiError {
    let group = r.res.group.as_str();
    let mut resource = r.res.plural.clone();
    if let Some(sub) = &r.subresource {
        resource = format!("{resource}/{sub}");
    }
    // `RequestInfo` takes a namespace's own name as its namespace.
    let namespace = match (&r.namespace, group, r.res.plural.as_str()) {
        (None, "", "namespaces") => r.name.as_ref(),
        (ns, _, _) => ns.as_ref(),
    };
    let scope = match namespace {
        Some(ns) => format!("in the namespace {ns:?}"),
        None => "at the cluster scope".to_owned(),
    };
    let reason = format!(
        "User {user:?} cannot {} resource {resource:?} in API group {group:?} {scope}",
        verb.as_str()
    );
    ApiError::forbidden(
        group,
        &r.res.plural,
        r.name.as_deref().unwrap_or_default(),
        &reason,
    )
}
