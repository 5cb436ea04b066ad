//! URL paths to routes: discovery documents, health checks and resource requests, after the
//! API server's `RequestInfoFactory` (`/api/v1/...`, `/apis/{group}/{version}/...`,
//! `namespaces/{ns}/...`, legacy `/watch/` prefixes, `{name}/status` subresources).

use std::sync::Arc;

use http::Method;

use crate::resources::{Registry, ResourceInfo};
use crate::verb::Verb;

/// A resource request.
#[derive(Clone, Debug)]
pub(crate) struct ResourceRequest {
    pub res: Arc<ResourceInfo>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// `Some("status")` or `Some("scale")` for those subresources.
    pub subresource: Option<String>,
    /// Reached through a `/watch/` path.
    pub legacy_watch: bool,
}

impl ResourceRequest {
    /// The verb, given the method and whether the query asked to watch.
    pub fn verb(&self, method: &Method, watch_param: bool) -> Option<Verb> {
        let watch = self.legacy_watch || watch_param;
        Some(match (method.as_str(), self.name.is_some()) {
            ("GET", _) if watch => Verb::Watch,
            ("GET", true) => Verb::Get,
            ("GET", false) => Verb::List,
            ("POST", false) => Verb::Create,
            ("PUT", true) => Verb::Update,
            ("PATCH", true) => Verb::Patch,
            ("DELETE", true) => Verb::Delete,
            ("DELETE", false) => Verb::DeleteCollection,
            _ => return None,
        })
    }
}

/// Where a path leads.
#[derive(Clone, Debug)]
pub(crate) enum Route {
    Version,
    /// `/healthz`, `/livez`, `/readyz` (the endpoint's name), or one of their checks
    /// (`/readyz/ping`: `Some("ping")`).
    Health {
        endpoint: String,
        check: Option<String>,
    },
    CoreVersions,
    Groups,
    Group(String),
    Resources {
        group: String,
        version: String,
    },
    Resource(ResourceRequest),
    /// `/openapi/v2`.
    OpenApiV2,
    /// `/openapi/v3`, the index.
    OpenApiV3Index,
    /// `/openapi/v3/<group-version>`, e.g. `apis/apps/v1`.
    OpenApiV3(String),
    NotFound,
}

/// A `%` not followed by two hex digits in a request path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL escape {escape:?}")]
pub(crate) struct InvalidEscape {
    /// The offending `%` and what followed it (up to two bytes).
    pub escape: String,
}

/// The request path with its percent-escapes decoded, as Go's `url.URL.Path` holds it: the
/// API server routes (go-restful) and builds `RequestInfo` from that decoded path, so
/// `configmaps/patch%6De` is `configmaps/patche` and an escaped `%2F` separates segments.
/// `+` stays a `+` (it means a space only in queries). Port of the path half of Go's
/// `url.PathUnescape`; a bad escape is an error there too (net/http answers 400).
pub(crate) fn decode_path(raw: &str) -> Result<String, InvalidEscape> {
    if !raw.contains('%') {
        return Ok(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
            match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits make at most 0xff.
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
                    i += 3;
                    continue;
                }
                _ => {
                    let end = (i + 3).min(bytes.len());
                    return Err(InvalidEscape {
                        escape: String::from_utf8_lossy(&bytes[i..end]).into_owned(),
                    });
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Resolves `path` (already decoded by [`decode_path`]).
pub(crate) fn route(registry: &Registry, path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        [endpoint @ ("healthz" | "readyz" | "livez")] => Route::Health {
            endpoint: (*endpoint).to_owned(),
            check: None,
        },
        [endpoint @ ("healthz" | "readyz" | "livez"), check @ ..] => Route::Health {
            endpoint: (*endpoint).to_owned(),
            check: Some(check.join("/")),
        },
        ["api"] => Route::CoreVersions,
        ["api", v] => Route::Resources {
            group: String::new(),
            version: (*v).to_owned(),
        },
        ["api", v, rest @ ..] => resource(registry, "", v, rest),
        ["apis"] => Route::Groups,
        ["apis", g] => Route::Group((*g).to_owned()),
        ["apis", g, v] => Route::Resources {
            group: (*g).to_owned(),
            version: (*v).to_owned(),
        },
        ["apis", g, v, rest @ ..] => resource(registry, g, v, rest),
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3"] => Route::OpenApiV3Index,
        ["openapi", "v3", rest @ ..] => Route::OpenApiV3(rest.join("/")),
        _ => Route::NotFound,
    }
}

fn resource(registry: &Registry, group: &str, version: &str, rest: &[&str]) -> Route {
    let (legacy_watch, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let namespaced = match rest {
        ["namespaces", ns, plural, tail @ ..] => registry
            .lookup(group, version, plural)
            .filter(|r| r.namespaced)
            .map(|res| (res, Some((*ns).to_owned()), tail)),
        _ => None,
    };
    let (res, namespace, tail) = match namespaced {
        Some(found) => found,
        None => match rest {
            [plural, tail @ ..] => match registry.lookup(group, version, plural) {
                Some(res) => (res, None, tail),
                None => return Route::NotFound,
            },
            [] => return Route::NotFound,
        },
    };
    let (name, subresource) = match tail {
        [] => (None, None),
        [name] => (Some((*name).to_owned()), None),
        [name, "status"] if res.has_status => (Some((*name).to_owned()), Some("status".to_owned())),
        [name, "scale"] if res.has_scale => (Some((*name).to_owned()), Some("scale".to_owned())),
        _ => return Route::NotFound,
    };
    // A namespaced object must be addressed inside its namespace.
    if res.namespaced && namespace.is_none() && name.is_some() {
        return Route::NotFound;
    }
    Route::Resource(ResourceRequest {
        res,
        namespace,
        name,
        subresource,
        legacy_watch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Resolved = (String, Option<String>, Option<String>, Option<String>, bool);

    fn resolve(path: &str) -> Option<Resolved> {
        match route(&Registry::with_builtins(), path) {
            Route::Resource(r) => Some((
                r.res.plural.clone(),
                r.namespace,
                r.name,
                r.subresource,
                r.legacy_watch,
            )),
            _ => None,
        }
    }

    #[test]
    fn paths_resolve_like_request_info() {
        assert_eq!(
            resolve("/api/v1/pods"),
            Some(("pods".into(), None, None, None, false))
        );
        assert_eq!(
            resolve("/api/v1/namespaces/ns/pods/p/status"),
            Some((
                "pods".into(),
                Some("ns".into()),
                Some("p".into()),
                Some("status".into()),
                false
            ))
        );
        assert_eq!(
            resolve("/api/v1/namespaces/ns"),
            Some(("namespaces".into(), None, Some("ns".into()), None, false))
        );
        assert_eq!(
            resolve("/api/v1/namespaces/ns/status"),
            Some((
                "namespaces".into(),
                None,
                Some("ns".into()),
                Some("status".into()),
                false
            ))
        );
        assert_eq!(
            resolve("/api/v1/watch/namespaces/ns/pods"),
            Some(("pods".into(), Some("ns".into()), None, None, true))
        );
        assert_eq!(
            resolve("/apis/apps/v1/namespaces/ns/deployments/d"),
            Some((
                "deployments".into(),
                Some("ns".into()),
                Some("d".into()),
                None,
                false
            ))
        );
        assert!(resolve("/api/v1/namespaces/ns/widgets").is_none());
        assert!(resolve("/api/v1/pods/p").is_none());
        assert!(resolve("/api/v1/namespaces/ns/configmaps/c/status").is_none());
    }

    #[test]
    fn escaped_paths_decode_like_go_url_path() {
        assert_eq!(
            decode_path("/api/v1/namespaces/default/configmaps/patch%6De").as_deref(),
            Ok("/api/v1/namespaces/default/configmaps/patchme")
        );
        assert_eq!(
            decode_path("/api/v1/namespaces/probe%2Db").as_deref(),
            Ok("/api/v1/namespaces/probe-b")
        );
        assert_eq!(decode_path("/a%2Fb+c").as_deref(), Ok("/a/b+c"));
        assert!(decode_path("/a%zz").is_err());
        assert!(decode_path("/a%4").is_err());
        assert_eq!(
            resolve(&decode_path("/api/v1/namespaces/ns/pods/a%2Fb").unwrap_or_default()),
            None
        );
    }

    proptest::proptest! {
        #[test]
        fn decoding_any_path_never_panics(path in "[a-z%0-9A-F/]{0,24}") {
            let _ = decode_path(&path);
        }


        #[test]
        fn routing_any_path_never_panics(path in "(/[a-z0-9.\\-]{0,12}){0,8}") {
            let _ = route(&Registry::with_builtins(), &path);
        }
    }
}
