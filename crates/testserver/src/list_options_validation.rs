//! Port of apimachinery `pkg/apis/meta/internalversion/validation/validation.go`:
//! `ValidateListOptions`, the checks kube-apiserver runs on the query of every LIST, WATCH and
//! DELETECOLLECTION before it reaches storage. Failures are 422 Invalid about
//! `ListOptions.meta.k8s.io ""`, one cause per field error, as `handlers/get.go` reports them.
//!
//! The recorded server ran with the WatchList feature gate on, so `sendInitialEvents` is
//! allowed on watches (`isWatchListFeatureEnabled` is always true here).

use crate::query::ListOptions;
use crate::status::{ApiError, StatusCause};

/// `metav1.GroupName`, the group of the `ListOptions` kind in the error.
const META_GROUP: &str = "meta.k8s.io";

fn forbidden(field: &str, message: &str) -> StatusCause {
    StatusCause {
        reason: "FieldValueForbidden".into(),
        message: format!("Forbidden: {message}"),
        field: Some(field.into()),
    }
}

fn not_supported(field: &str, value: &str, supported: &[&str]) -> StatusCause {
    let supported: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
    StatusCause {
        reason: "FieldValueNotSupported".into(),
        message: format!(
            "Unsupported value: {value:?}: supported values: {}",
            supported.join(", ")
        ),
        field: Some(field.into()),
    }
}

/// The field errors of `opts`, in the order Go appends them.
#[doc(alias = "ValidateListOptions")]
pub(crate) fn list_options_errors(opts: &ListOptions) -> Vec<StatusCause> {
    if opts.watch {
        return watch_options_errors(opts);
    }
    let mut errs = Vec::new();
    let rv = opts.resource_version.as_deref().unwrap_or_default();
    if let Some(m) = opts.rv_match_raw.as_deref() {
        if rv.is_empty() {
            errs.push(forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if opts.continue_token.is_some() {
            errs.push(forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
        if m != "Exact" && m != "NotOlderThan" {
            errs.push(not_supported(
                "resourceVersionMatch",
                m,
                &["Exact", "NotOlderThan", ""],
            ));
        }
        if m == "Exact" && rv == "0" {
            errs.push(forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
    }
    if opts.send_initial_events.is_some() {
        errs.push(forbidden(
            "sendInitialEvents",
            "sendInitialEvents is forbidden for list",
        ));
    }
    errs
}

/// `validateWatchOptions`.
fn watch_options_errors(opts: &ListOptions) -> Vec<StatusCause> {
    let mut errs = Vec::new();
    let m = opts.rv_match_raw.as_deref();
    if opts.send_initial_events.is_some() && m != Some("NotOlderThan") {
        errs.push(forbidden(
            "resourceVersionMatch",
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ));
    }
    if let Some(m) = m {
        if opts.send_initial_events.is_none() {
            errs.push(forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ));
        }
        if m != "NotOlderThan" {
            errs.push(not_supported("resourceVersionMatch", m, &["NotOlderThan"]));
        }
        if opts.continue_token.is_some() {
            errs.push(forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
    }
    errs
}

/// 422 when [`list_options_errors`] finds any, as `handlers/get.go` answers.
pub(crate) fn validate_list_options(opts: &ListOptions) -> Result<(), ApiError> {
    let errs = list_options_errors(opts);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(META_GROUP, "ListOptions", "", &errs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(query: &str) -> Vec<String> {
        let opts = ListOptions::parse(Some(query), None).unwrap_or_default();
        list_options_errors(&opts)
            .into_iter()
            .map(|c| c.message)
            .collect()
    }

    #[test]
    fn list_combinations_are_checked_like_validate_list_options() {
        assert!(errors("resourceVersion=5&resourceVersionMatch=Exact").is_empty());
        assert!(errors("limit=5&continue=abc").is_empty());
        assert_eq!(
            errors("resourceVersionMatch=NotOlderThan"),
            ["Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"]
        );
        assert_eq!(
            errors("resourceVersion=0&resourceVersionMatch=Exact"),
            ["Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""]
        );
        assert_eq!(
            errors("resourceVersion=3&resourceVersionMatch=Exact&continue=abc"),
            ["Forbidden: resourceVersionMatch is forbidden when continue is provided"]
        );
        assert_eq!(
            errors("resourceVersion=3&resourceVersionMatch=Newest"),
            ["Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\""]
        );
        assert_eq!(
            errors("sendInitialEvents=true"),
            ["Forbidden: sendInitialEvents is forbidden for list"]
        );
    }

    #[test]
    fn watch_combinations_are_checked_like_validate_watch_options() {
        assert!(
            errors("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan").is_empty()
        );
        assert!(errors("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true").is_empty());
        assert_eq!(
            errors("watch=1&sendInitialEvents=false"),
            ["Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"]
        );
        assert_eq!(
            errors("watch=1&resourceVersionMatch=Exact"),
            [
                "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                "Unsupported value: \"Exact\": supported values: \"NotOlderThan\""
            ]
        );
    }
}
