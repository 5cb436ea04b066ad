//! [`FaultMatch`]: which requests a fault, or a request counter, applies to.
//!
//! Rust-only (the Go API server has no fault injection); it sits apart from the fault handle
//! so the counters and the shared state can use it without depending on the handle.

use crate::verb::Verb;

/// Which requests a fault (or a request counter) applies to; `None` fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultMatch {
    /// The verb, or any.
    pub verb: Option<Verb>,
    /// The resource's plural name (`pods`), or any. Non-resource requests (discovery, health)
    /// have the resource `""` and no verb.
    pub resource: Option<String>,
}

impl FaultMatch {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Matches requests with `verb` on any resource.
    pub fn verb(verb: Verb) -> Self {
        FaultMatch {
            verb: Some(verb),
            resource: None,
        }
    }

    /// Restricts the match to one resource (plural name, e.g. `pods`).
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Whether a request with this verb and resource matches.
    pub fn matches(&self, verb: Option<Verb>, resource: &str) -> bool {
        self.verb.is_none_or(|v| Some(v) == verb)
            && self.resource.as_deref().is_none_or(|r| r == resource)
    }
}
