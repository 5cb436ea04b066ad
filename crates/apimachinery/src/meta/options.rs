//! Port of apimachinery `pkg/apis/meta/v1/types.go` (ListOptions, DeleteOptions,
//! CreateOptions/UpdateOptions/PatchOptions, Preconditions) and `pkg/types/patch.go`
//! (PatchType): the options of each call, turned into query parameters or a body.
//!
//! Invariant: `query_pairs()` emits only set, non-empty options, named as the server expects.

use serde::{Deserialize, Serialize};

use super::TypeMeta;

/// Port of metav1.ResourceVersionMatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceVersionMatch {
    /// `NotOlderThan`: any data at least as new as the given resourceVersion.
    NotOlderThan,
    /// `Exact`: data at exactly the given resourceVersion.
    Exact,
}

impl ResourceVersionMatch {
    /// The query-parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceVersionMatch::NotOlderThan => "NotOlderThan",
            ResourceVersionMatch::Exact => "Exact",
        }
    }
}

/// Port of metav1.ListOptions: the query parameters of list and watch calls.
///
/// Differs from Go: `watch` is not a field; [`crate::rest::Request::watch`] and the typed
/// clients' `watch` set it, so a list call cannot accidentally become a watch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// A label selector string (see [`crate::selectors::LabelSelector`]).
    pub label_selector: Option<String>,
    /// A field selector string, e.g. `metadata.name=web-1`.
    pub field_selector: Option<String>,
    /// `""` (absent): most recent, consistent read; `"0"`: any cached state; otherwise a version.
    pub resource_version: Option<String>,
    /// How `resource_version` is applied to lists.
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// Maximum items per page; the server returns a continue token when it cuts.
    pub limit: Option<i64>,
    /// Continue token from the previous page.
    pub continue_token: Option<String>,
    /// Server-side timeout for a list or watch call.
    pub timeout_seconds: Option<i64>,
    /// Ask for BOOKMARK events on a watch.
    pub allow_watch_bookmarks: bool,
    /// Ask a watch to begin with synthetic ADDED events for the current state.
    pub send_initial_events: Option<bool>,
}

impl ListOptions {
    /// Sets `label_selector`.
    #[must_use]
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }

    /// Sets `field_selector`.
    #[must_use]
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }

    /// Sets `resource_version`.
    #[must_use]
    pub fn resource_version(mut self, rv: impl Into<String>) -> Self {
        self.resource_version = Some(rv.into());
        self
    }

    /// Sets `limit`.
    #[must_use]
    pub fn limit(mut self, limit: i64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets `timeout_seconds`.
    #[must_use]
    pub fn timeout_seconds(mut self, secs: i64) -> Self {
        self.timeout_seconds = Some(secs);
        self
    }

    /// Sets `allow_watch_bookmarks`.
    #[must_use]
    pub fn bookmarks(mut self, on: bool) -> Self {
        self.allow_watch_bookmarks = on;
        self
    }

    /// The non-empty options as query pairs, named as the server expects them.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        let mut put = |k: &'static str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                q.push((k, v));
            }
        };
        put("labelSelector", self.label_selector.clone());
        put("fieldSelector", self.field_selector.clone());
        put("resourceVersion", self.resource_version.clone());
        put(
            "resourceVersionMatch",
            self.resource_version_match.map(|m| m.as_str().to_owned()),
        );
        put(
            "limit",
            self.limit.filter(|l| *l > 0).map(|l| l.to_string()),
        );
        put("continue", self.continue_token.clone());
        put(
            "timeoutSeconds",
            self.timeout_seconds.map(|t| t.to_string()),
        );
        if self.allow_watch_bookmarks {
            put("allowWatchBookmarks", Some("true".to_owned()));
        }
        put(
            "sendInitialEvents",
            self.send_initial_events.map(|b| b.to_string()),
        );
        q
    }
}

/// Port of metav1.DeletionPropagation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PropagationPolicy {
    /// Leave dependents in place.
    Orphan,
    /// Delete the object now, dependents in the background.
    Background,
    /// Delete dependents first, then the object.
    Foreground,
}

/// Port of metav1.Preconditions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// Delete only if the UID matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Delete only if the resourceVersion matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// Port of metav1.DeleteOptions, sent as the body of DELETE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    /// `meta.k8s.io/v1` / `DeleteOptions`.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// Seconds before the object is deleted; 0 means now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    /// Conditions that must hold for the delete to proceed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
    /// How dependents are handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<PropagationPolicy>,
    /// `["All"]` for a dry run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dry_run: Vec<String>,
    /// Deprecated: use `propagation_policy`. Orphan the dependents (true) or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphan_dependents: Option<bool>,
    /// Delete even an object the server cannot read (corrupt or undecryptable); may break the
    /// cluster, so it needs its own permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_store_read_error_with_cluster_breaking_potential: Option<bool>,
}

impl Default for DeleteOptions {
    fn default() -> Self {
        DeleteOptions {
            types: TypeMeta {
                api_version: "meta.k8s.io/v1".into(),
                kind: "DeleteOptions".into(),
            },
            grace_period_seconds: None,
            preconditions: None,
            propagation_policy: None,
            dry_run: Vec::new(),
            orphan_dependents: None,
            ignore_store_read_error_with_cluster_breaking_potential: None,
        }
    }
}

/// Port of metav1.CreateOptions / UpdateOptions / PatchOptions: the query parameters of writes.
///
/// Differs from Go: one struct for the three, since they share every field but `force`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// The field manager recorded in managedFields (required for server-side apply).
    pub field_manager: Option<String>,
    /// Validate and return the result without persisting it.
    pub dry_run: bool,
    /// Server-side apply only: take ownership of conflicting fields.
    pub force: bool,
}

impl WriteOptions {
    /// The non-empty options as query pairs.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(m) = self.field_manager.as_ref().filter(|m| !m.is_empty()) {
            q.push(("fieldManager", m.clone()));
        }
        if self.dry_run {
            q.push(("dryRun", "All".to_owned()));
        }
        if self.force {
            q.push(("force", "true".to_owned()));
        }
        q
    }
}

/// Port of apimachinery `pkg/types`.PatchType: the content type of a PATCH body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 6902 JSON patch.
    Json,
    /// RFC 7386 JSON merge patch.
    Merge,
    /// Kubernetes strategic merge patch (built-in types only).
    StrategicMerge,
    /// Server-side apply; needs a field manager.
    Apply,
}

impl PatchType {
    /// The `Content-Type` header value.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::StrategicMerge => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn delete_options_keep_every_field_go_has() {
        let text = r#"{"apiVersion":"meta.k8s.io/v1","kind":"DeleteOptions","gracePeriodSeconds":0,"orphanDependents":false,"ignoreStoreReadErrorWithClusterBreakingPotential":true}"#;
        let o: DeleteOptions = serde_json::from_str(text).unwrap();
        assert_eq!(o.orphan_dependents, Some(false));
        assert_eq!(
            serde_json::to_value(&o).unwrap(),
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }

    #[test]
    fn list_options_skip_empty_values() {
        let o = ListOptions::default()
            .labels("a=b")
            .limit(0)
            .bookmarks(true);
        assert_eq!(
            o.query_pairs(),
            vec![
                ("labelSelector", "a=b".to_owned()),
                ("allowWatchBookmarks", "true".to_owned())
            ]
        );
    }
}
