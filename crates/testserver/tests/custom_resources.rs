//! Custom resources shaped by their CRD's schema over HTTP, as kube-apiserver 1.32 shapes
//! them: unknown fields pruned (and reported under `fieldValidation`), schema violations a 422
//! with the apiextensions server's causes, strategic merge patches a 415; and unknown fields
//! of built-in kinds dropped from what is stored.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::kubectl::{run_failing, run_with_stderr, scratch};
use http::Method;
use serde_json::{Value, json};
use testserver::TestServer;

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";

fn widget_crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "required": ["spec"], "properties": {
                    "spec": {"type": "object", "required": ["color"], "properties": {
                        "color": {"type": "string", "enum": ["red", "blue"]},
                        "replicas": {"type": "integer", "minimum": 0},
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                            "properties": {"spec": {"type": "object",
                                "properties": {"image": {"type": "string"}}}}}}},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]}})
}

async fn server_with_widgets() -> (TestServer, common::Client) {
    let server = TestServer::start().await.unwrap();
    server.create(CRDS, widget_crd()).unwrap();
    let client = common::Client::new(&server);
    (server, client)
}

fn widget(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec})
}

fn warnings(resp: &common::Resp) -> Vec<String> {
    resp.headers
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn post(c: &common::Client, query: &str, body: &Value) -> common::Resp {
    c.post(&format!("{WIDGETS}{query}"), body).await
}

#[tokio::test]
async fn strict_rejects_unknown_fields_of_a_custom_resource_with_the_strict_decoding_text() {
    let (_server, c) = server_with_widgets().await;
    let mut body = widget("w", json!({"color": "red", "foo": 1}));
    body["metadata"]["bogus"] = json!(true);
    body["zzz"] = json!(1);
    let resp = post(&c, "?fieldValidation=Strict", &body).await;
    assert_eq!(resp.status, 400);
    let status = resp.json();
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(
        status["message"],
        "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: \
         unknown field \"metadata.bogus\", unknown field \"spec.foo\", unknown field \"zzz\""
    );
    assert_eq!(c.get(&format!("{WIDGETS}/w")).await.status, 404);
}

#[tokio::test]
async fn strict_names_duplicate_fields_of_a_custom_resource_first() {
    let (_server, c) = server_with_widgets().await;
    let body = br#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"color":"red","color":"blue","foo":1}}"#;
    let resp = c
        .request(
            Method::POST,
            &format!("{WIDGETS}?fieldValidation=Strict"),
            Some("application/json"),
            body.to_vec(),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.json()["message"],
        "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: \
         duplicate field \"spec.color\", unknown field \"spec.foo\""
    );
}

#[tokio::test]
async fn warn_sends_a_warning_per_unknown_field_and_prunes_them_from_the_stored_object() {
    let (_server, c) = server_with_widgets().await;
    let body = widget("w", json!({"color": "red", "foo": 1, "bar": {"x": 1}}));
    let resp = post(&c, "?fieldValidation=Warn", &body).await;
    assert_eq!(resp.status, 201);
    assert_eq!(
        warnings(&resp),
        [
            r#"299 - "unknown field \"spec.bar\"""#,
            r#"299 - "unknown field \"spec.foo\"""#,
        ]
    );
    assert_eq!(resp.json()["spec"], json!({"color": "red"}));
    let stored = c.get(&format!("{WIDGETS}/w")).await.json();
    assert_eq!(stored["spec"], json!({"color": "red"}));
}

#[tokio::test]
async fn ignore_prunes_unknown_fields_silently() {
    let (_server, c) = server_with_widgets().await;
    let body = widget("w", json!({"color": "red", "foo": 1}));
    let resp = post(&c, "?fieldValidation=Ignore", &body).await;
    assert_eq!(resp.status, 201);
    assert!(warnings(&resp).is_empty());
    let stored = c.get(&format!("{WIDGETS}/w")).await.json();
    assert_eq!(stored["spec"], json!({"color": "red"}));
}

#[tokio::test]
async fn a_preserve_unknown_fields_subtree_is_kept_whole() {
    let (_server, c) = server_with_widgets().await;
    let extra = json!({"anything": {"goes": [1, {"here": true}]}});
    let body = widget("w", json!({"color": "red", "extra": extra}));
    let resp = post(&c, "?fieldValidation=Strict", &body).await;
    assert_eq!(resp.status, 201, "{:?}", resp.json());
    let stored = c.get(&format!("{WIDGETS}/w")).await.json();
    assert_eq!(stored["spec"]["extra"], extra);
}

#[tokio::test]
async fn an_embedded_resource_keeps_its_type_and_object_meta_and_loses_the_rest() {
    let (_server, c) = server_with_widgets().await;
    let template = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "x"}, "nonsense": 1},
        "spec": {"image": "nginx", "imagee": "typo"}, "other": 2});
    let body = widget("w", json!({"color": "red", "template": template}));
    let resp = post(&c, "", &body).await;
    assert_eq!(resp.status, 201);
    assert_eq!(
        warnings(&resp),
        [
            r#"299 - "unknown field \"spec.template.other\"""#,
            r#"299 - "unknown field \"spec.template.spec.imagee\"""#,
            r#"299 - "unknown field \"spec.template.metadata.nonsense\"""#,
        ]
    );
    let stored = c.get(&format!("{WIDGETS}/w")).await.json();
    assert_eq!(
        stored["spec"]["template"],
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"app": "x"}}, "spec": {"image": "nginx"}})
    );
}

#[tokio::test]
async fn a_wrong_type_is_a_422_with_the_apiextensions_wording() {
    let (_server, c) = server_with_widgets().await;
    let resp = post(
        &c,
        "",
        &widget("w", json!({"color": "red", "replicas": "string"})),
    )
    .await;
    assert_eq!(resp.status, 422);
    let status = resp.json();
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(
        status["message"],
        "Widget.example.com \"w\" is invalid: spec.replicas: Invalid value: \"string\": \
         spec.replicas in body must be of type integer: \"string\""
    );
    assert_eq!(
        status["details"],
        json!({"name": "w", "group": "example.com", "kind": "Widget", "causes": [{
            "reason": "FieldValueTypeInvalid",
            "message": "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"",
            "field": "spec.replicas"}]})
    );
}

#[tokio::test]
async fn missing_required_fields_and_enum_misses_are_422_with_one_cause_each() {
    let (_server, c) = server_with_widgets().await;
    let resp = post(&c, "", &widget("w", json!({"replicas": -1}))).await;
    assert_eq!(resp.status, 422);
    let status = resp.json();
    assert_eq!(
        status["message"],
        "Widget.example.com \"w\" is invalid: [spec.replicas: Invalid value: -1: spec.replicas in \
         body should be greater than or equal to 0, spec.color: Required value]"
    );
    assert_eq!(
        status["details"]["causes"],
        json!([
            {"reason": "FieldValueInvalid", "field": "spec.replicas",
             "message": "Invalid value: -1: spec.replicas in body should be greater than or equal to 0"},
            {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.color"},
        ])
    );

    let resp = post(&c, "", &widget("w", json!({"color": "pink"}))).await;
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.json()["details"]["causes"],
        json!([{"reason": "FieldValueNotSupported", "field": "spec.color",
            "message": "Unsupported value: \"pink\": supported values: \"red\", \"blue\""}])
    );

    let no_spec =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    let resp = post(&c, "", &no_spec).await;
    assert_eq!(
        resp.json()["message"],
        "Widget.example.com \"w\" is invalid: spec: Required value"
    );
}

#[tokio::test]
async fn updates_and_patches_are_validated_and_pruned_too() {
    let (_server, c) = server_with_widgets().await;
    assert_eq!(
        post(&c, "", &widget("w", json!({"color": "red"})))
            .await
            .status,
        201
    );
    let one = format!("{WIDGETS}/w");

    let mut bad = c.get(&one).await.json();
    bad["spec"]["color"] = json!("green");
    assert_eq!(c.put(&one, &bad).await.status, 422);

    let patch = json!({"spec": {"replicas": 2, "foo": 1}});
    let resp = c.patch(&one, "application/merge-patch+json", &patch).await;
    assert_eq!(resp.status, 200);
    assert_eq!(warnings(&resp), [r#"299 - "unknown field \"spec.foo\"""#]);
    assert_eq!(resp.json()["spec"], json!({"color": "red", "replicas": 2}));

    let strict = format!("{one}?fieldValidation=Strict");
    let resp = c
        .patch(&strict, "application/merge-patch+json", &patch)
        .await;
    assert_eq!(resp.status, 422);
    let status = resp.json();
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with(" \"\" is invalid: patch: Invalid value: \"{"),
        "{message}"
    );
    assert!(
        message.ends_with("\": strict decoding error: unknown field \"spec.foo\""),
        "{message}"
    );
    assert_eq!(status["details"]["causes"][0]["field"], "patch");

    let resp = c
        .patch(
            &one,
            "application/json-patch+json",
            &json!([{"op": "replace", "path": "/spec/replicas", "value": "many"}]),
        )
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.json()["details"]["causes"][0]["field"],
        "spec.replicas"
    );
}

#[tokio::test]
async fn a_strategic_merge_patch_of_a_custom_resource_is_415() {
    let (_server, c) = server_with_widgets().await;
    assert_eq!(
        post(&c, "", &widget("w", json!({"color": "red"})))
            .await
            .status,
        201
    );
    for name in ["w", "missing"] {
        let resp = c
            .patch(
                &format!("{WIDGETS}/{name}"),
                "application/strategic-merge-patch+json",
                &json!({"spec": {"color": "blue"}}),
            )
            .await;
        assert_eq!(resp.status, 415, "{name}");
        assert_eq!(
            resp.json(),
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "the body of the request was in an unknown format - accepted media types \
                    include: application/json-patch+json, application/merge-patch+json, \
                    application/apply-patch+yaml",
                "reason": "UnsupportedMediaType", "code": 415})
        );
    }
    let stored = c.get(&format!("{WIDGETS}/w")).await.json();
    assert_eq!(stored["spec"]["color"], "red");
}

#[tokio::test]
async fn unknown_fields_of_built_in_kinds_are_dropped_from_what_is_stored() {
    let server = TestServer::start().await.unwrap();
    let c = common::Client::new(&server);
    let cms = "/api/v1/namespaces/default/configmaps";
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "bogus": 1}, "data": {"k": "v"}, "foo": 1});
    for (query, warned) in [("?fieldValidation=Warn", 2), ("?fieldValidation=Ignore", 0)] {
        let resp = c.post(&format!("{cms}{query}"), &body).await;
        assert_eq!(resp.status, 201, "{query}");
        assert_eq!(warnings(&resp).len(), warned, "{query}");
        let stored = c.get(&format!("{cms}/c")).await.json();
        assert!(stored.get("foo").is_none(), "{query}: {stored}");
        assert!(
            stored["metadata"].get("bogus").is_none(),
            "{query}: {stored}"
        );
        assert_eq!(stored["data"], json!({"k": "v"}));
        assert_eq!(c.delete(&format!("{cms}/c")).await.status, 200);
    }
    server
        .create(cms, json!({"metadata": {"name": "p"}, "data": {"k": "v"}}))
        .unwrap();
    let resp = c
        .patch(
            &format!("{cms}/p"),
            "application/merge-patch+json",
            &json!({"foo": {"x": 1}}),
        )
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(warnings(&resp), [r#"299 - "unknown field \"foo\"""#]);
    assert!(c.get(&format!("{cms}/p")).await.json().get("foo").is_none());
}

#[tokio::test]
async fn a_malformed_crd_schema_never_fails_the_server() {
    let server = TestServer::start().await.unwrap();
    let c = common::Client::new(&server);
    let schemas = [
        json!("not an object"),
        json!({"type": 5, "properties": [1, 2], "required": "spec", "enum": {}}),
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "a": {"type": "string", "pattern": "([", "maxLength": "x", "minimum": [],
                "items": 7, "additionalProperties": "no"},
            "b": {"x-kubernetes-embedded-resource": "yes", "additionalProperties": false}}}}}),
    ];
    for (i, schema) in schemas.into_iter().enumerate() {
        let plural = format!("things{i}");
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{plural}.example.com")},
            "spec": {"group": "example.com", "scope": "Cluster",
                "names": {"kind": format!("Thing{i}"), "plural": plural},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": schema}}]}});
        assert_eq!(c.post(CRDS, &crd).await.status, 201, "{i}");
        let path = format!("/apis/example.com/v1/{plural}");
        let thing = json!({"apiVersion": "example.com/v1", "kind": format!("Thing{i}"),
            "metadata": {"name": "t"}, "spec": {"a": "s", "b": {"metadata": {"x": 1}, "c": [1]}}});
        let resp = c
            .post(&format!("{path}?fieldValidation=Strict"), &thing)
            .await;
        assert!(
            [201, 400, 422].contains(&resp.status),
            "{i}: {} {:?}",
            resp.status,
            resp.json()
        );
        let resp = c.post(&path, &thing).await;
        assert!(resp.status < 500, "{i}: {}", resp.status);
    }
    assert_eq!(c.get("/version").await.status, 200);
}

#[tokio::test]
async fn kubectl_apply_of_a_custom_resource_with_a_typo_gets_the_strict_decoding_error() {
    let (server, _c) = server_with_widgets().await;
    let dir = scratch("typo");
    let manifest = dir.join("widget.json");
    let typo = widget("w", json!({"color": "red", "colour": "blue"}));
    std::fs::write(&manifest, typo.to_string()).unwrap();
    let file = manifest.to_str().unwrap();
    let url = server.url();

    // kubectl validates by default (fieldValidation=Strict).
    let stderr = run_failing(&url, &dir, &["apply", "-n", "default", "-f", file]).await;
    assert!(
        stderr.contains(
            "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: \
             unknown field \"spec.colour\""
        ),
        "{stderr}"
    );

    // `--validate=warn` (fieldValidation=Warn): stored without the typo, and kubectl prints
    // the server's warning.
    let (_, stderr) = run_with_stderr(
        &url,
        &dir,
        &["apply", "-n", "default", "--validate=warn", "-f", file],
    )
    .await;
    assert!(
        stderr.contains("Warning: unknown field \"spec.colour\""),
        "{stderr}"
    );
    let stored = server.get(&format!("{WIDGETS}/w")).unwrap();
    assert_eq!(stored["spec"], json!({"color": "red"}));
}
