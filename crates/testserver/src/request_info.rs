//! Port of apiserver's `pkg/endpoints/request/requestinfo.go`: what a resource request is
//! about, in the terms authorization uses (verb, API group, resource, subresource, namespace,
//! name), recorded in order so tests can compare what a client did with RBAC rules.

use crate::router::ResourceRequest;
use crate::verb::Verb;

/// One resource request as the API server's authorizer sees it.
///
/// Port of `request.RequestInfo` (the resource-request fields). Differs from Go: only
/// resource requests are recorded (discovery, health and OpenAPI requests are non-resource
/// requests in Go and carry only a path there), and `verb` is a typed [`Verb`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestInfo {
    /// The Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: Verb,
    /// API group, `""` for the core group.
    pub api_group: String,
    /// API version, e.g. `v1`.
    pub api_version: String,
    /// The resource's plural name, e.g. `pods`.
    pub resource: String,
    /// `status`, `scale`, or `""`.
    pub subresource: String,
    /// The namespace, `""` for cluster-scoped requests and lists across namespaces. A request
    /// on a namespace itself (`/api/v1/namespaces/x`) has namespace `x`, as in Go.
    pub namespace: String,
    /// The object's name; for list and watch, the name a `metadata.name=` field selector
    /// requires, as Go's `RequestInfoFactory` sets it; `""` otherwise.
    pub name: String,
}

impl RequestInfo {
    /// The record for `r` under `verb`, given the request's query string.
    pub(crate) fn new(r: &ResourceRequest, verb: Verb, query: Option<&str>) -> Self {
        let mut name = r.name.clone().unwrap_or_default();
        if name.is_empty() && matches!(verb, Verb::List | Verb::Watch) {
            name = selected_name(query).unwrap_or_default();
        }
        let namespace = match (
            &r.namespace,
            r.res.group.is_empty() && r.res.plural == "namespaces",
        ) {
            (Some(ns), _) => ns.clone(),
            // `/api/v1/namespaces/{name}` names its own namespace.
            (None, true) => r.name.clone().unwrap_or_default(),
            (None, false) => String::new(),
        };
        RequestInfo {
            verb,
            api_group: r.res.group.clone(),
            api_version: r.res.version.clone(),
            resource: r.res.plural.clone(),
            subresource: r.subresource.clone().unwrap_or_default(),
            namespace,
            name,
        }
    }
}

/// The name an exact `metadata.name` field selector requires (`metadata.name=x` or `==x`),
/// as `fields.Selector.RequiresExactMatch` reports it; only a valid path segment counts.
fn selected_name(query: Option<&str>) -> Option<String> {
    let selector = form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "fieldSelector")
        .map(|(_, v)| v.into_owned())?;
    selector.split(',').find_map(|term| {
        let (key, value) = term.split_once("==").or_else(|| term.split_once('='))?;
        let valid = !value.is_empty()
            && value != "."
            && value != ".."
            && !value.contains('/')
            && !value.contains('%');
        (key.trim() == "metadata.name" && !key.ends_with('!') && valid).then(|| value.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_name_selector_names_the_request() {
        let q = |s: &str| selected_name(Some(s));
        assert_eq!(q("fieldSelector=metadata.name%3Dx").as_deref(), Some("x"));
        assert_eq!(
            q("fieldSelector=a%3Db,metadata.name%3D%3Dy").as_deref(),
            Some("y")
        );
        assert_eq!(q("fieldSelector=metadata.name!%3Dx"), None);
        assert_eq!(q("fieldSelector=metadata.namespace%3Dx"), None);
        assert_eq!(q("limit=1"), None);
    }
}
