//! Query parameters of list, watch and write requests (`metav1.ListOptions` and friends).

use std::time::Duration;

use crate::resources::ResourceInfo;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;

/// `resourceVersionMatch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RvMatch {
    NotOlderThan,
    Exact,
}

/// Parsed list/watch options.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    /// `None` when absent, `Some("")` when given empty.
    pub resource_version: Option<String>,
    pub rv_match: Option<RvMatch>,
    /// `resourceVersionMatch` as given when not empty, for validation (any value).
    pub rv_match_raw: Option<String>,
    pub watch: bool,
    pub allow_bookmarks: bool,
    pub send_initial_events: Option<bool>,
    pub timeout: Option<Duration>,
    /// `dryRun=All`: validate but do not persist.
    pub dry_run: bool,
    /// Every `dryRun` value given, for `validate_dry_run` (`All` is the only valid one).
    pub dry_run_values: Vec<String>,
    /// `fieldValidation=Strict`: reject unknown fields (see `field_validation`).
    pub strict_fields: bool,
    /// `fieldManager` of a write, as given (empty when absent).
    pub field_manager: String,
    /// `force` of a PATCH: `None` when absent (any value counts as given, for
    /// `ValidatePatchOptions`).
    pub force: Option<bool>,
}

fn parse_bool(v: &str) -> bool {
    matches!(v, "1" | "true" | "True" | "TRUE" | "t" | "T")
}

impl ListOptions {
    /// Parses the query string for a request on `res`.
    pub fn parse(query: Option<&str>, res: Option<&ResourceInfo>) -> Result<Self, ApiError> {
        let mut o = ListOptions::default();
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "labelSelector" => {
                    o.labels = LabelSelector::parse(&v).map_err(|e| ApiError::bad_request(e.0))?;
                }
                "fieldSelector" => {
                    o.fields =
                        FieldSelector::parse(&v, res).map_err(|e| ApiError::bad_request(e.0))?;
                }
                "limit" => {
                    let n: i64 = v.parse().map_err(|_| {
                        ApiError::bad_request(format!("invalid value for limit: {v}"))
                    })?;
                    o.limit = (n > 0).then_some(usize::try_from(n).unwrap_or(usize::MAX));
                }
                "continue" if !v.is_empty() => o.continue_token = Some(v.into_owned()),
                "resourceVersion" => o.resource_version = Some(v.into_owned()),
                "resourceVersionMatch" => {
                    // Unknown values are reported by `list_options_validation`.
                    o.rv_match = match v.as_ref() {
                        "NotOlderThan" => Some(RvMatch::NotOlderThan),
                        "Exact" => Some(RvMatch::Exact),
                        _ => None,
                    };
                    o.rv_match_raw = (!v.is_empty()).then(|| v.into_owned());
                }
                "watch" => o.watch = parse_bool(&v),
                "allowWatchBookmarks" => o.allow_bookmarks = parse_bool(&v),
                "sendInitialEvents" => o.send_initial_events = Some(parse_bool(&v)),
                "timeoutSeconds" => {
                    let secs: u64 = v.parse().map_err(|_| {
                        ApiError::bad_request(format!("invalid value for timeoutSeconds: {v}"))
                    })?;
                    // 0 means "the server's default", which here is no timeout.
                    o.timeout = (secs > 0).then(|| Duration::from_secs(secs));
                }
                "dryRun" => {
                    o.dry_run_values.push(v.into_owned());
                    o.dry_run = true;
                }
                "fieldValidation" => o.strict_fields = v == "Strict",
                "fieldManager" => o.field_manager = v.into_owned(),
                "force" => o.force = Some(parse_bool(&v)),
                _ => {}
            }
        }
        Ok(o)
    }

    /// Port of apimachinery's `validation.ValidateDryRun` as the write handlers report it: a
    /// `dryRun` value other than `All` is a 422 about `<options_kind>.meta.k8s.io ""`
    /// (`CreateOptions`, `UpdateOptions`, `PatchOptions`, `DeleteOptions`). `extra` adds the
    /// values of a DeleteOptions body. Differs from Go: values are quoted Rust-style in
    /// `[]string{...}`, which matches Go's `%#v` for plain ASCII.
    pub fn validate_dry_run(&self, options_kind: &str, extra: &[String]) -> Result<(), ApiError> {
        let all: Vec<&String> = self.dry_run_values.iter().chain(extra).collect();
        if all.iter().all(|v| *v == "All") {
            return Ok(());
        }
        let quoted: Vec<String> = all.iter().map(|v| format!("{v:?}")).collect();
        let cause = crate::status::StatusCause {
            reason: "FieldValueNotSupported".into(),
            message: format!(
                "Unsupported value: []string{{{}}}: supported values: \"All\"",
                quoted.join(", ")
            ),
            field: Some("dryRun".into()),
        };
        Err(ApiError::invalid("meta.k8s.io", options_kind, "", &[cause]))
    }

    /// The resourceVersion as a number; `None` for absent, `""` and `"0"`.
    pub fn rv_number(&self) -> Result<Option<u64>, ApiError> {
        match self.resource_version.as_deref() {
            None | Some("") | Some("0") => Ok(None),
            Some(s) => s
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s}"))),
        }
    }
}
