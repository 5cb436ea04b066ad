//! The admin endpoint: fault injection and inspection over HTTP, for the binary (and for
//! clients in other languages). Served under `/testserver/` on the API port, behind the same
//! authentication; disable with [`Config::admin_endpoint`](crate::Config::admin_endpoint).
//!
//! | request | effect |
//! |---|---|
//! | `POST /testserver/faults/fail?count=2&verb=list&resource=pods&status=429&retryAfter=1` | fail the next N matching requests (`verb`, `resource` optional) |
//! | `POST /testserver/faults/drop-watches` | cut every open watch connection |
//! | `POST /testserver/faults/malformed-watch-line` | write a non-JSON line into every watch |
//! | `POST /testserver/faults/latency?ms=250` | delay every request (0 to stop) |
//! | `POST /testserver/faults/compact` | old resourceVersions and continue tokens → 410 |
//! | `POST /testserver/faults/restart` | history resets and open watches close |
//! | `POST /testserver/faults/clear` | drop pending failures and latency |
//! | `GET /testserver/requests` | request counters: `{"total": N, "counts": [{"verb", "resource", "count"}]}` |
//! | `POST /testserver/requests/reset` | zero the counters |
//! | `POST /testserver/customresources` with `{"group","version","kind","plural","namespaced"}` | serve a custom resource |
//!
//! Answers are JSON: `{"ok": true}` or a `Status` for errors.

use std::time::Duration;

use apimachinery::util::sync::RwLockExt;

use http::{Method, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::body::{self, Body};
use crate::faults::{FaultMatch, Faults};
use crate::resources::CustomResource;
use crate::state::Shared;
use crate::status::ApiError;
use crate::verb::Verb;

fn ok() -> Response<Body> {
    body::json(200, &json!({"ok": true}))
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn number<T: std::str::FromStr>(
    params: &[(String, String)],
    key: &str,
    default: T,
) -> Result<T, ApiError> {
    match param(params, key) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid {key}: {v}"))),
    }
}

/// Handles a `/testserver/...` request.
pub(crate) async fn handle(
    shared: &std::sync::Arc<Shared>,
    req: Request<Incoming>,
) -> Response<Body> {
    let faults = Faults {
        shared: std::sync::Arc::clone(shared),
    };
    let params: Vec<(String, String)> =
        form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let path = req
        .uri()
        .path()
        .trim_start_matches("/testserver/")
        .trim_end_matches('/')
        .to_owned();
    let result = match (req.method().clone(), path.as_str()) {
        (Method::POST, "faults/fail") => fail(&faults, &params),
        (Method::POST, "faults/drop-watches") => {
            faults.drop_watches();
            Ok(ok())
        }
        (Method::POST, "faults/malformed-watch-line") => {
            faults.inject_malformed_watch_line();
            Ok(ok())
        }
        (Method::POST, "faults/latency") => number(&params, "ms", 0u64).map(|ms| {
            faults.set_latency(Duration::from_millis(ms));
            ok()
        }),
        (Method::POST, "faults/compact") => {
            faults.compact();
            Ok(ok())
        }
        (Method::POST, "faults/restart") => {
            faults.restart();
            Ok(ok())
        }
        (Method::POST, "faults/clear") => {
            faults.clear();
            Ok(ok())
        }
        (Method::GET, "requests") => {
            let counts: Vec<Value> = shared
                .counters
                .snapshot()
                .into_iter()
                .map(|c| json!({"verb": c.verb.map(Verb::as_str), "resource": c.resource, "count": c.count}))
                .collect();
            Ok(body::json(
                200,
                &json!({"total": shared.counters.total(), "counts": counts}),
            ))
        }
        (Method::POST, "requests/reset") => {
            shared.counters.reset();
            Ok(ok())
        }
        (Method::POST, "customresources") => register(shared, req).await,
        _ => Err(ApiError::unknown_resource()),
    };
    result.unwrap_or_else(|e| body::error(&e))
}

fn fail(faults: &Faults, params: &[(String, String)]) -> Result<Response<Body>, ApiError> {
    let count = number(params, "count", 1usize)?;
    let status = number(params, "status", 500u16)?;
    let retry_after = match param(params, "retryAfter") {
        None => None,
        Some(v) => Some(
            v.parse::<u32>()
                .map_err(|_| ApiError::bad_request(format!("invalid retryAfter: {v}")))?,
        ),
    };
    let verb = match param(params, "verb") {
        None | Some("") => None,
        Some(v) => Some(
            v.parse::<Verb>()
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        ),
    };
    let matcher = FaultMatch {
        verb,
        resource: param(params, "resource")
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
    };
    faults.fail_next(count, matcher, status, retry_after);
    Ok(ok())
}

async fn register(shared: &Shared, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let bytes = Limited::new(req.into_body(), 64 * 1024)
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("reading body: {e}")))?
        .to_bytes();
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::bad_request(format!("missing field {k}")))
    };
    let crd = CustomResource {
        group: field("group")?,
        version: field("version")?,
        kind: field("kind")?,
        plural: field("plural")?,
        namespaced: v.get("namespaced").and_then(Value::as_bool).unwrap_or(true),
    };
    shared.registry.write_unpoisoned().register(&crd);
    Ok(ok())
}
