//! The request path: authenticate, route, count, apply injected faults, negotiate the response
//! format ([`negotiate::output`]), then dispatch to discovery, list, watch or the write
//! operations, and render the result (JSON or protobuf, a streamed list, a Table, or a
//! `Status`).
//!
//! Errors of a resource request are written in the negotiated format (a protobuf `Status` for a
//! client that prefers protobuf), except a 406, which is JSON. Create and update bodies may be
//! JSON or, for built-in kinds, protobuf ([`read_object`]).

use std::sync::Arc;

use apimachinery::util::sync::RwLockExt;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::Value;

use crate::authn::{self, ANONYMOUS, Authn};
use crate::body::{self, Body};
use crate::compression;
use crate::crd_schema::CrSchema;
use crate::discovery;
use crate::event_conversion;
use crate::field_validation;
use crate::list;
use crate::list_options_validation;
use crate::managed_fields::{self, Operation};
use crate::negotiate::{self, Format, Input};
use crate::objects::{self, Part, Scope};
use crate::openapi;
use crate::patch::PatchType;
use crate::query::ListOptions;
use crate::router::{self, ResourceRequest, Route};
use crate::state::{ConnInfo, Shared};
use crate::status::ApiError;
use crate::table;
use crate::verb::Verb;
use crate::watch::{self, WatchEnv};

/// Handles one HTTP request; never fails (errors become `Status` responses).
///
/// Every API response but a watch stream is offered to [`compression::negotiate`] when the
/// client accepts gzip (kube-apiserver compresses in `SerializeObject`, which watches bypass);
/// the body bytes then sent are counted for [`crate::TestServer::response_body_bytes`].
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    conn: ConnInfo,
) -> Response<Body> {
    // Go's `URL.Path` is the decoded path; a bad escape is a 400 before any handler runs.
    let path = match router::decode_path(req.uri().path()) {
        Ok(path) => path,
        Err(e) => return body::error(&ApiError::bad_request(e.to_string())),
    };
    if shared.config.admin_endpoint && path.starts_with("/testserver/") {
        match authn::authenticate(&shared.config, req.headers(), conn) {
            Authn::User => {}
            Authn::Rejected => return body::error(&ApiError::unauthorized()),
            Authn::Anonymous => {
                let denied =
                    authn::forbidden(ANONYMOUS, req.method(), &path, &Route::NotFound, None);
                return body::error(&denied);
            }
        }
        return crate::admin::handle(&shared, req).await;
    }
    let gzip = compression::accepts_gzip(req.headers());
    let counter = shared.counters.body_bytes_counter();
    let (verb, resp) = api_request(shared, req, conn, path).await;
    let resp = if gzip && verb != Some(Verb::Watch) {
        compression::negotiate(resp).await
    } else {
        resp
    };
    resp.map(|b| body::counted(b, counter))
}

/// An API (non-admin) request: the verb it was routed to, and the response before encoding.
async fn api_request(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    conn: ConnInfo,
    path: String,
) -> (Option<Verb>, Response<Body>) {
    let route = {
        let registry = shared.registry.read_unpoisoned();
        router::route(&registry, &path)
    };
    let watch_param = req.uri().query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "watch" && (v == "1" || v == "true"))
    });
    let (verb, resource) = match &route {
        Route::Resource(r) => (r.verb(req.method(), watch_param), r.res.plural.clone()),
        _ => (None, String::new()),
    };
    shared.counters.record(verb, &resource);
    if let (Route::Resource(r), Some(verb)) = (&route, verb) {
        let info = crate::request_info::RequestInfo::new(r, verb, req.uri().query());
        shared.counters.log(info);
    }
    tracing::debug!(method = %req.method(), %path, verb = ?verb, "request");
    let negotiated = match &route {
        Route::Resource(r) => {
            let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
            negotiate::output(accept, r.res.has_protobuf())
        }
        _ => Ok(Format::Json),
    };
    // Errors go out in the negotiated format; a failed negotiation's own 406 in JSON.
    let errors = negotiated.as_ref().map_or(Format::Json, |f| f.for_errors());
    match authn::authenticate(&shared.config, req.headers(), conn) {
        Authn::User => {}
        Authn::Rejected => return (verb, body::error_as(&ApiError::unauthorized(), errors)),
        Authn::Anonymous if authn::anonymous_allowed(req.method(), &path) => {}
        Authn::Anonymous => {
            let denied = authn::forbidden(ANONYMOUS, req.method(), &path, &route, verb);
            return (verb, body::error_as(&denied, errors));
        }
    }
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(err) = shared.faults.take(verb, &resource) {
        return (verb, body::error_as(&err, errors));
    }
    let format = match negotiated {
        Ok(format) => format,
        Err(e) => return (verb, body::error(&e)),
    };
    let result = match route {
        Route::Resource(r) => match verb {
            Some(verb) => {
                // The namespace a write may let finish terminating (see `finalize_namespace`).
                let namespace = match (&r.namespace, r.res.kind.as_str(), r.res.group.is_empty()) {
                    (Some(ns), _, _) => Some(ns.clone()),
                    (None, "Namespace", true) => r.name.clone(),
                    _ => None,
                };
                let result = resource_request(&shared, req, r, verb, format).await;
                let writes = !matches!(verb, Verb::Get | Verb::List | Verb::Watch);
                if let (true, true, Some(ns)) = (writes, result.is_ok(), namespace) {
                    objects::finalize_namespace(&shared.store, &ns);
                }
                result
            }
            None => Err(ApiError::method_not_allowed(req.method().as_str())),
        },
        Route::OpenApiV2 | Route::OpenApiV3Index | Route::OpenApiV3(_)
            if req.method() == Method::GET =>
        {
            Ok(openapi_request(&shared, &req, route))
        }
        other if req.method() == Method::GET => {
            let verbose = req
                .uri()
                .query()
                .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "verbose"));
            discovery_request(&shared, other, verbose)
        }
        _ => Err(ApiError::method_not_allowed(req.method().as_str())),
    };
    (verb, result.unwrap_or_else(|e| body::error_as(&e, errors)))
}

fn openapi_request(shared: &Shared, req: &Request<Incoming>, route: Route) -> Response<Body> {
    let registry = shared.registry.read_unpoisoned();
    let headers = req.headers();
    let crds = shared
        .store
        .snapshot(
            "apiextensions.k8s.io/customresourcedefinitions",
            None,
            None,
            None,
        )
        .map(|s| s.items)
        .unwrap_or_default();
    match route {
        Route::OpenApiV3Index => openapi::v3_index(&registry, &crds, headers),
        Route::OpenApiV3(gv) => {
            openapi::v3_document(&registry, &crds, &gv, req.uri().query(), headers)
        }
        _ => openapi::v2_document(&crds, headers),
    }
}

/// The checks a health endpoint lists with `?verbose`; all pass.
const HEALTH_CHECKS: [&str; 3] = ["ping", "log", "etcd"];

/// The body of a health endpoint: `ok`, or with `?verbose` one `[+]<check> ok` line per check
/// and `<endpoint> check passed`, as `healthz.handleRootHealth` writes them. Differs from Go:
/// only the ping, log and etcd checks are listed (the server has no post-start hooks).
fn health_text(endpoint: &str, check: Option<&str>, verbose: bool) -> String {
    match (check, verbose) {
        (Some(check), true) => format!("[+]{check} ok\n{endpoint} check passed\n"),
        (None, true) => {
            let mut out: String = HEALTH_CHECKS
                .iter()
                .map(|c| format!("[+]{c} ok\n"))
                .collect();
            out.push_str(&format!("{endpoint} check passed\n"));
            out
        }
        (_, false) => "ok".to_owned(),
    }
}

fn discovery_request(
    shared: &Shared,
    route: Route,
    verbose: bool,
) -> Result<Response<Body>, ApiError> {
    let registry = shared.registry.read_unpoisoned();
    let doc = match route {
        Route::Version => discovery::version(),
        Route::Health { endpoint, check } => {
            let text = health_text(&endpoint, check.as_deref(), verbose);
            let mut resp = body::response(200, body::full(text));
            resp.headers_mut().insert(
                CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            return Ok(resp);
        }
        Route::CoreVersions => discovery::core_versions(&shared.addr.to_string()),
        Route::Groups => discovery::groups(&registry),
        Route::Group(g) => {
            discovery::group(&registry, &g).ok_or_else(ApiError::unknown_resource)?
        }
        Route::Resources { group, version } => discovery::resources(&registry, &group, &version)
            .ok_or_else(ApiError::unknown_resource)?,
        Route::Resource(_)
        | Route::OpenApiV2
        | Route::OpenApiV3Index
        | Route::OpenApiV3(_)
        | Route::NotFound => return Err(ApiError::unknown_resource()),
    };
    Ok(body::json(200, &doc))
}

/// Reads the request body within the size limit.
async fn read_body(shared: &Shared, req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let limit = shared.config.max_body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::request_entity_too_large(limit));
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::request_entity_too_large(limit))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "error reading request body: {e}"
        ))),
    }
}

fn content_type(req: &Request<Incoming>) -> String {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Accepts `application/json` (and no content type) for create/update bodies.
fn require_json(ct: &str) -> Result<(), ApiError> {
    let media = ct.split(';').next().unwrap_or_default().trim();
    if media.is_empty() || media == "application/json" || media == "*/*" {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(ct))
    }
}

/// Reads a create or update body as the JSON object it holds: JSON as it is, protobuf (for
/// kinds that have a protobuf form) decoded through the scheme. Other media types are 415.
async fn read_object(
    shared: &Shared,
    req: Request<Incoming>,
    protobuf: bool,
) -> Result<(Value, Option<Bytes>), ApiError> {
    let input = negotiate::input(&content_type(&req), protobuf)?;
    let bytes = read_body(shared, req).await?;
    match input {
        Input::Json => parse_json(&bytes).map(|v| (v, Some(bytes))),
        Input::Protobuf => crate::protobuf::decode_body(&bytes).map(|v| (v, None)),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body could not be decoded as JSON: {e}"
        ))
    })
}

async fn resource_request(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    r: ResourceRequest,
    verb: Verb,
    format: Format,
) -> Result<Response<Body>, ApiError> {
    let mut opts = ListOptions::parse(req.uri().query(), Some(&r.res))?;
    if matches!(verb, Verb::List | Verb::Watch | Verb::DeleteCollection) {
        // A `/watch/` path is a watch whatever the query says.
        opts.watch |= verb == Verb::Watch;
        list_options_validation::validate_list_options(&opts)?;
    }
    match verb {
        Verb::Create => opts.validate_dry_run("CreateOptions", &[])?,
        Verb::Update => opts.validate_dry_run("UpdateOptions", &[])?,
        Verb::Patch => opts.validate_dry_run("PatchOptions", &[])?,
        // DeleteOptions may also carry dryRun in the body: checked once it is read.
        _ => {}
    }
    let patch_type = match verb {
        Verb::Patch => Some(content_type(&req)),
        _ => None,
    }
    .map(|ct| (PatchType::from_content_type(&ct), ct));
    if let Some((kind, _)) = &patch_type {
        managed_fields::validate_patch_options(
            *kind == Some(PatchType::Apply),
            &opts.field_manager,
            opts.force,
        )?;
    }
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let manager = managed_fields::manager_or_user_agent(&opts.field_manager, user_agent);
    let validation = field_validation::Directive::from_query(req.uri().query());
    let table = format == Format::Table;
    let protobuf = r.res.has_protobuf();
    let scope = Scope {
        res: &r.res,
        namespace: r.namespace.as_deref(),
        dry_run: opts.dry_run,
        manager: &manager,
        force: opts.force == Some(true),
    };
    let name = r.name.clone().unwrap_or_default();
    let part = if r.subresource.is_some() {
        Part::Status
    } else {
        Part::Main
    };
    let store = &shared.store;
    if r.subresource.as_deref() == Some("scale") {
        return scale_request(shared, req, scope, &name, verb, format).await;
    }
    if r.res.create_only {
        if verb != Verb::Create {
            return Err(ApiError::method_not_allowed(verb.as_str()));
        }
        let (value, _) = read_object(shared, req, protobuf).await?;
        let reviewed = crate::authorization::review(&r.res, value)?;
        return Ok(body::object(201, &reviewed, format.for_errors()));
    }
    match verb {
        Verb::Get => {
            let obj = objects::get(store, scope, &name)?;
            if table {
                let obj = event_conversion::view(&r.res, &obj);
                return Ok(body::json(200, &table::object_table(&r.res, &obj)));
            }
            Ok(body::stored_as(
                200,
                &event_conversion::view(&r.res, &obj),
                format,
            ))
        }
        Verb::List => {
            let mut page = list::list(store, scope, &opts)?;
            if event_conversion::converts(&r.res) {
                page.items = page
                    .items
                    .iter()
                    .map(|o| event_conversion::view(&r.res, o))
                    .collect();
            }
            if table {
                return Ok(body::json(
                    200,
                    &table::list_table(&r.res, &page.items, page.metadata()),
                ));
            }
            let meta = page.metadata();
            let kind = r.res.list_kind();
            if format == Format::Protobuf
                && let Some(list) =
                    body::protobuf_list_body(&kind, &r.res.api_version(), &meta, &page.items)?
            {
                return Ok(body::protobuf_stream(200, list));
            }
            Ok(body::response(
                200,
                body::list_body(
                    &kind,
                    &r.res.api_version(),
                    &meta,
                    page.items,
                    !r.res.custom,
                ),
            ))
        }
        Verb::Watch => {
            let mut opts = opts;
            if let Some(n) = &r.name {
                opts.fields.and(crate::selectors::FieldSelector::name(n));
            }
            let env = WatchEnv {
                store,
                settings: shared.watch_settings(),
                control: shared.control.subscribe(),
                shutdown: shared.shutdown.clone(),
                tracker: &shared.tracker,
                live: shared.counters.live_watch(),
            };
            let res = Arc::clone(&r.res);
            watch::start(env, res, r.namespace.clone(), opts, format)
        }
        Verb::Create => {
            let (mut value, raw) = read_object(shared, req, protobuf).await?;
            let cr = CrSchema::current(store, &r.res);
            let warnings = field_validation::decode(
                &r.res,
                cr.as_ref(),
                validation,
                raw.as_deref(),
                &mut value,
            )?;
            let obj = objects::create(store, scope, value)?;
            crate::crd::serve_if_crd(shared, scope, &obj);
            Ok(field_validation::with_warnings(
                body::stored_as(201, &event_conversion::view(&r.res, &obj), format),
                &warnings,
            ))
        }
        Verb::Update => {
            let (mut value, raw) = read_object(shared, req, protobuf).await?;
            let cr = CrSchema::current(store, &r.res);
            let warnings = field_validation::decode(
                &r.res,
                cr.as_ref(),
                validation,
                raw.as_deref(),
                &mut value,
            )?;
            let obj = objects::update(store, scope, &name, value, part)?;
            crate::crd::serve_if_crd(shared, scope, &obj);
            Ok(field_validation::with_warnings(
                body::stored_as(200, &event_conversion::view(&r.res, &obj), format),
                &warnings,
            ))
        }
        Verb::Patch => {
            let (kind, ct) = patch_type.unwrap_or_default();
            let kind = kind
                .filter(|k| !(r.res.custom && *k == PatchType::Strategic))
                .ok_or_else(|| match r.res.custom {
                    true => crate::patch::unsupported_for_custom_resources(),
                    false => ApiError::unsupported_media_type(&ct),
                })?;
            let bytes = read_body(shared, req).await?;
            // An apply configuration of a built-in kind is checked as a body, like a create;
            // other patches are checked on the object they produce, as Go's patchers do.
            let (mut warnings, body_found) = match (kind, r.res.custom) {
                (PatchType::Apply, false) => (
                    field_validation::check(&r.res, validation, &bytes)?,
                    Vec::new(),
                ),
                _ => (
                    Vec::new(),
                    field_validation::patch_body_findings(validation, kind, &bytes),
                ),
            };
            let strategic_patch = match kind {
                PatchType::Strategic if validation == field_validation::Directive::Strict => {
                    serde_json::from_slice::<Value>(&bytes).ok()
                }
                _ => None,
            };
            let cr = CrSchema::current(store, &r.res);
            let decode = |patched: &mut Value| {
                field_validation::patched(
                    &r.res,
                    cr.as_ref(),
                    validation,
                    body_found,
                    strategic_patch.as_ref(),
                    patched,
                )
            };
            let (obj, created, decoded) =
                objects::patch(store, scope, &name, kind, &bytes, part, decode)?;
            warnings.extend(decoded);
            crate::crd::serve_if_crd(shared, scope, &obj);
            let code = if created { 201 } else { 200 };
            Ok(field_validation::with_warnings(
                body::stored_as(code, &event_conversion::view(&r.res, &obj), format),
                &warnings,
            ))
        }
        Verb::Delete | Verb::DeleteCollection => {
            let ct = content_type(&req);
            let bytes = read_body(shared, req).await?;
            let options = if bytes.iter().all(u8::is_ascii_whitespace) {
                None
            } else if negotiate::input(&ct, true)? == Input::Protobuf {
                Some(crate::protobuf::decode_delete_options(&bytes)?)
            } else {
                require_json(&ct)?;
                Some(parse_json(&bytes)?)
            };
            // kubectl sends `--dry-run=server` for deletes in the DeleteOptions body.
            let body_dry_run: Vec<String> = options
                .as_ref()
                .and_then(|o| o.get("dryRun"))
                .and_then(Value::as_array)
                .map(|d| {
                    d.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            opts.validate_dry_run("DeleteOptions", &body_dry_run)?;
            let body_dry_run = !body_dry_run.is_empty();
            let scope = Scope {
                dry_run: scope.dry_run || body_dry_run,
                ..scope
            };
            let out = if verb == Verb::Delete {
                objects::delete(store, scope, &name, options.as_ref())?
            } else {
                objects::delete_collection(
                    store,
                    scope,
                    &opts.labels,
                    &opts.fields,
                    options.as_ref(),
                )?
            };
            Ok(body::object(200, &out, format))
        }
    }
}

/// GET, PUT and PATCH on `.../scale`.
async fn scale_request(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    scope: Scope<'_>,
    name: &str,
    verb: Verb,
    format: Format,
) -> Result<Response<Body>, ApiError> {
    let store = &shared.store;
    // A Scale is never shown as a Table here.
    let format = format.for_errors();
    match verb {
        Verb::Get => Ok(body::object(
            200,
            &crate::scale::view(&*objects::get(store, scope, name)?),
            format,
        )),
        Verb::Update => {
            let (wanted, _) = read_object(shared, req, scope.res.has_protobuf()).await?;
            let out = objects::update_scale(store, scope, name, Operation::Update, |_| Ok(wanted))?;
            Ok(body::object(200, &out, format))
        }
        Verb::Patch => {
            let ct = content_type(&req);
            let kind = PatchType::from_content_type(&ct)
                .ok_or_else(|| ApiError::unsupported_media_type(&ct))?;
            let patch = crate::patch::parse(kind, &read_body(shared, req).await?)?;
            // An apply of a Scale sets what it names: a merge of the configuration.
            let (kind, operation) = match kind {
                PatchType::Apply => (PatchType::Merge, Operation::Apply),
                other => (other, Operation::Update),
            };
            let out = objects::update_scale(store, scope, name, operation, |current| {
                crate::patch::apply(kind, current, &patch)
            })?;
            Ok(body::object(200, &out, format))
        }
        _ => Err(ApiError::method_not_allowed(verb.as_str())),
    }
}
