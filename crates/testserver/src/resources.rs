//! The resource types the server knows: built-ins plus custom resources registered at run time.
//!
//! A [`ResourceInfo`] says how one resource is addressed (group, version, plural), what its
//! objects are called (kind, list kind) and which storage rules apply (namespaced, status
//! subresource, generation tracking). The [`Registry`] resolves URL segments to a `ResourceInfo`
//! and feeds discovery.

use std::sync::Arc;

/// A custom resource to serve, like a CustomResourceDefinition reduced to what routing needs.
///
/// # Examples
///
/// ```
/// let crd = testserver::CustomResource {
///     group: "example.com".into(),
///     version: "v1".into(),
///     kind: "Widget".into(),
///     plural: "widgets".into(),
///     namespaced: true,
/// };
/// assert_eq!(crd.plural, "widgets");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomResource {
    /// API group, e.g. `example.com`.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Widget`.
    pub kind: String,
    /// Plural resource name used in URLs, e.g. `widgets`.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

/// Everything the server needs to know about one resource type.
#[derive(Clone, Debug)]
pub(crate) struct ResourceInfo {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    /// Serves a `status` subresource; updates of the main resource keep the stored status.
    pub has_status: bool,
    /// Serves a `scale` subresource (`autoscaling/v1` Scale over `spec.replicas`).
    pub has_scale: bool,
    /// `metadata.generation` is set on create and bumped when `spec` changes.
    pub tracks_generation: bool,
    /// DELETE answers with the deleted object (pods, custom resources) rather than a `Status`.
    pub returns_deleted_object: bool,
    /// Registered at run time: list items keep their kind and apiVersion.
    pub custom: bool,
    /// Only `create` is served and nothing is stored (the access reviews).
    pub create_only: bool,
    /// Storage key: `group/plural` (version-independent).
    pub key: Arc<str>,
}

impl ResourceInfo {
    fn builtin(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            namespaced,
            short_names: Vec::new(),
            has_status: false,
            has_scale: false,
            tracks_generation: false,
            returns_deleted_object: false,
            custom: false,
            create_only: false,
            key: Arc::from(format!("{group}/{plural}")),
        }
    }

    #[must_use]
    fn short(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    #[must_use]
    fn status(mut self) -> Self {
        self.has_status = true;
        self
    }

    #[must_use]
    fn create_only(mut self) -> Self {
        self.create_only = true;
        self
    }

    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// True if objects of this resource can be written and read in protobuf: a built-in kind
    /// the scheme knows. Custom resources never can, as on a real API server.
    pub fn has_protobuf(&self) -> bool {
        !self.custom && crate::protobuf::has_protobuf(&self.api_version(), &self.kind)
    }

    /// `PodList` for `Pod`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

/// The API group of the access reviews (see the `authorization` module).
const AUTHORIZATION: &str = "authorization.k8s.io";

/// The RBAC API group.
const RBAC: &str = "rbac.authorization.k8s.io";

/// The set of served resources.
#[derive(Debug)]
pub(crate) struct Registry {
    resources: Vec<Arc<ResourceInfo>>,
}

impl Registry {
    /// The built-in resources.
    pub fn with_builtins() -> Self {
        let mut pods = ResourceInfo::builtin("", "v1", "Pod", "pods", true)
            .short(&["po"])
            .status();
        pods.returns_deleted_object = true;
        let mut deployments =
            ResourceInfo::builtin("apps", "v1", "Deployment", "deployments", true)
                .short(&["deploy"])
                .status();
        deployments.tracks_generation = true;
        deployments.has_scale = true;
        // One store for both Event APIs, kept as core Events (see `event_conversion`).
        let mut events_v1 =
            ResourceInfo::builtin("events.k8s.io", "v1", "Event", "events", true).short(&["ev"]);
        events_v1.key = Arc::from("/events");
        let resources = vec![
            ResourceInfo::builtin("", "v1", "Namespace", "namespaces", false)
                .short(&["ns"])
                .status(),
            pods,
            ResourceInfo::builtin("", "v1", "ConfigMap", "configmaps", true).short(&["cm"]),
            ResourceInfo::builtin("", "v1", "Secret", "secrets", true),
            ResourceInfo::builtin("", "v1", "Service", "services", true)
                .short(&["svc"])
                .status(),
            ResourceInfo::builtin("", "v1", "Event", "events", true).short(&["ev"]),
            ResourceInfo::builtin("", "v1", "Node", "nodes", false)
                .short(&["no"])
                .status(),
            deployments,
            ResourceInfo::builtin("", "v1", "ServiceAccount", "serviceaccounts", true)
                .short(&["sa"]),
            ResourceInfo::builtin("coordination.k8s.io", "v1", "Lease", "leases", true),
            events_v1,
            ResourceInfo::builtin(RBAC, "v1", "Role", "roles", true),
            ResourceInfo::builtin(RBAC, "v1", "RoleBinding", "rolebindings", true),
            ResourceInfo::builtin(RBAC, "v1", "ClusterRole", "clusterroles", false),
            ResourceInfo::builtin(
                RBAC,
                "v1",
                "ClusterRoleBinding",
                "clusterrolebindings",
                false,
            ),
            ResourceInfo::builtin(
                AUTHORIZATION,
                "v1",
                "SelfSubjectAccessReview",
                "selfsubjectaccessreviews",
                false,
            )
            .create_only(),
            ResourceInfo::builtin(
                AUTHORIZATION,
                "v1",
                "SelfSubjectRulesReview",
                "selfsubjectrulesreviews",
                false,
            )
            .create_only(),
            ResourceInfo::builtin(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
                "customresourcedefinitions",
                false,
            )
            .short(&["crd", "crds"])
            .status(),
        ];
        Registry {
            resources: resources.into_iter().map(Arc::new).collect(),
        }
    }

    /// Adds a custom resource; replaces an earlier registration of the same group/version/plural.
    pub fn register(&mut self, crd: &CustomResource) {
        self.resources.retain(|r| {
            !(r.group == crd.group && r.version == crd.version && r.plural == crd.plural)
        });
        let info = ResourceInfo {
            group: crd.group.clone(),
            version: crd.version.clone(),
            kind: crd.kind.clone(),
            plural: crd.plural.clone(),
            singular: crd.kind.to_lowercase(),
            namespaced: crd.namespaced,
            short_names: Vec::new(),
            has_status: true,
            has_scale: false,
            tracks_generation: true,
            returns_deleted_object: true,
            custom: true,
            create_only: false,
            key: Arc::from(format!("{}/{}", crd.group, crd.plural)),
        };
        self.resources.push(Arc::new(info));
    }

    /// Resolves `group`, `version`, `plural` to a resource.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    /// Every resource, in registration order.
    pub fn all(&self) -> &[Arc<ResourceInfo>] {
        &self.resources
    }

    /// Whether any resource is served under `group`/`version`.
    pub fn serves_group_version(&self, group: &str, version: &str) -> bool {
        self.resources
            .iter()
            .any(|r| r.group == group && r.version == version)
    }

    /// Non-core groups with their versions, in first-registration order.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in self.resources.iter().filter(|r| !r.group.is_empty()) {
            match out.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, versions)) => {
                    if !versions.contains(&r.version) {
                        versions.push(r.version.clone());
                    }
                }
                None => out.push((r.group.clone(), vec![r.version.clone()])),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_resources_resolve_after_registration() {
        let mut reg = Registry::with_builtins();
        assert!(reg.lookup("example.com", "v1", "widgets").is_none());
        reg.register(&CustomResource {
            group: "example.com".into(),
            version: "v1".into(),
            kind: "Widget".into(),
            plural: "widgets".into(),
            namespaced: true,
        });
        let w = reg.lookup("example.com", "v1", "widgets");
        assert_eq!(w.map(|w| w.list_kind()), Some("WidgetList".to_owned()));
        assert!(reg.groups().iter().any(|(g, _)| g == "example.com"));
    }
}
