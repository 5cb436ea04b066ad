//! LIST: resourceVersion semantics, selectors, and `limit`/`continue` pagination.
//!
//! After the API server's `storage/cacher` and `etcd3/store.go` GetList:
//!
//! | resourceVersion | match | served from |
//! |---|---|---|
//! | absent or `""` | - | the latest state |
//! | `"0"` | - | the latest state; `limit` is ignored, as the watch cache does |
//! | `N` | `NotOlderThan` (or unset without `limit`) | the latest state; `N` in the future → 504 |
//! | `N` | `Exact` (or unset with `limit`) | the state at `N`; compacted → 410, future → 504 |
//!
//! A continue token pins the snapshot resourceVersion of the first page, so every page comes
//! from the same consistent snapshot; once history moves past it, the token gets 410 Expired
//! with a fresh token (`rv: -1`) to continue inconsistently from the latest state.
//!
//! A page holds the stored objects themselves (`Arc<StoredObject>`, no copies); the response
//! writes each one's cached JSON (see `body::list_body`), or builds a Table from the values.
//!
//! Differs from Go: a too-large resourceVersion is answered with 504 at once rather than after
//! waiting up to three seconds for the cache to catch up, since nothing lags here.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::defaults::meta_str;
use crate::objects::Scope;
use crate::query::{ListOptions, RvMatch};
use crate::status::ApiError;
use crate::store::{ObjectKey, RvError, Store, StoredObject};

/// One page of a list.
#[derive(Debug)]
pub(crate) struct ListPage {
    pub rv: u64,
    pub items: Vec<Arc<StoredObject>>,
    pub continue_token: Option<String>,
    pub remaining: Option<u64>,
}

impl ListPage {
    /// The list's `metadata`.
    pub fn metadata(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("resourceVersion".into(), json!(self.rv.to_string()));
        if let Some(c) = &self.continue_token {
            m.insert("continue".into(), json!(c));
        }
        if let Some(r) = self.remaining {
            m.insert("remainingItemCount".into(), json!(r));
        }
        m
    }
}

/// Encodes a continue token: base64url of `{"v":"meta.k8s.io/v1","rv":N,"start":"ns/name\0"}`.
fn encode_continue(rv: i64, key: &ObjectKey) -> String {
    let doc =
        json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{}/{}\u{0}", key.0, key.1)});
    URL_SAFE_NO_PAD.encode(doc.to_string())
}

fn decode_continue(token: &str) -> Result<(i64, ObjectKey), ApiError> {
    let invalid = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid("not base64"))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| invalid("not JSON"))?;
    if doc.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(invalid(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    let rv = doc
        .get("rv")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("no rv"))?;
    let start = doc
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no start"))?;
    let start = start.trim_end_matches('\u{0}');
    let (ns, name) = start.split_once('/').ok_or_else(|| invalid("bad start"))?;
    Ok((rv, (ns.to_owned(), name.to_owned())))
}

fn key_of(object: &Value) -> ObjectKey {
    (
        meta_str(object, "namespace").to_owned(),
        meta_str(object, "name").to_owned(),
    )
}

/// Lists objects per `opts`.
pub(crate) fn list(
    store: &Store,
    scope: Scope<'_>,
    opts: &ListOptions,
) -> Result<ListPage, ApiError> {
    let rv_str = opts.resource_version.as_deref().unwrap_or_default();
    let namespace = if scope.res.namespaced {
        scope.namespace
    } else {
        None
    };
    let mut limit = opts.limit;
    let (at, start_after) = if let Some(token) = &opts.continue_token {
        if !rv_str.is_empty() && rv_str != "0" {
            return Err(ApiError::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        let (rv, key) = decode_continue(token)?;
        let at = u64::try_from(rv).ok();
        if let Some(at) = at
            && at < store.floor()
        {
            let mut e = ApiError::expired(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            );
            e.continue_token = Some(encode_continue(-1, &key));
            return Err(e);
        }
        (at, Some(key))
    } else {
        match opts.rv_number()? {
            None => {
                if rv_str == "0" {
                    limit = None;
                }
                (None, None)
            }
            Some(n) => {
                let exact = opts.rv_match == Some(RvMatch::Exact)
                    || (opts.rv_match.is_none() && limit.is_some());
                if exact {
                    (Some(n), None)
                } else {
                    let current = store.current_rv();
                    if n > current {
                        return Err(ApiError::rv_too_large(n, current));
                    }
                    (None, None)
                }
            }
        }
    };
    let selecting = !opts.labels.is_empty() || !opts.fields.is_empty();
    let matches = |o: &Arc<StoredObject>| opts.labels.matches(o) && opts.fields.matches(o);
    let too_old_or_new = |e: RvError| match e {
        RvError::TooOld { .. } => {
            ApiError::expired("The resourceVersion for the provided list is too old.")
        }
        RvError::TooNew { current } => ApiError::rv_too_large(at.unwrap_or_default(), current),
    };
    let Some(limit) = limit else {
        let snapshot = store
            .snapshot(&scope.res.key, namespace, at, start_after.as_ref())
            .map_err(too_old_or_new)?;
        let items = if selecting {
            snapshot.items.into_iter().filter(matches).collect()
        } else {
            snapshot.items
        };
        return Ok(ListPage {
            rv: snapshot.rv,
            items,
            continue_token: None,
            remaining: None,
        });
    };
    let (rv, page) = if at.is_none() {
        // Latest state: walk the store under its lock and clone only the page's items.
        store.scan_latest(&scope.res.key, namespace, start_after.as_ref(), |iter| {
            paginate(iter, limit, selecting, &matches)
        })
    } else {
        let snapshot = store
            .snapshot(&scope.res.key, namespace, at, start_after.as_ref())
            .map_err(too_old_or_new)?;
        (
            snapshot.rv,
            paginate(snapshot.items.iter(), limit, selecting, &matches),
        )
    };
    let (continue_token, remaining) = if page.more {
        let last = page.items.last().map(|o| key_of(o)).unwrap_or_default();
        let rv = i64::try_from(rv).unwrap_or(i64::MAX);
        (Some(encode_continue(rv, &last)), page.remaining)
    } else {
        (None, None)
    };
    Ok(ListPage {
        rv,
        items: page.items,
        continue_token,
        remaining,
    })
}

/// One page cut from a key-ordered sequence of objects.
struct Cut {
    items: Vec<Arc<StoredObject>>,
    /// More matching objects follow.
    more: bool,
    /// How many objects follow, when known exactly (no selector, as the API server).
    remaining: Option<u64>,
}

fn paginate<'a>(
    mut iter: impl Iterator<Item = &'a Arc<StoredObject>>,
    limit: usize,
    selecting: bool,
    matches: &impl Fn(&Arc<StoredObject>) -> bool,
) -> Cut {
    let mut items = Vec::with_capacity(limit.min(1024));
    for o in iter.by_ref() {
        if matches(o) {
            items.push(Arc::clone(o));
            if items.len() == limit {
                break;
            }
        }
    }
    if selecting {
        let more = iter.any(matches);
        Cut {
            items,
            more,
            remaining: None,
        }
    } else {
        let rest = iter.count() as u64;
        Cut {
            items,
            more: rest > 0,
            remaining: (rest > 0).then_some(rest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let key = ("ns".to_owned(), "web-2".to_owned());
        let token = encode_continue(205, &key);
        assert_eq!(decode_continue(&token).ok(), Some((205, key)));
        assert!(decode_continue("not a token").is_err());
    }
}
