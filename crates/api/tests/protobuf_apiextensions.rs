//! A CustomResourceDefinition's protobuf form: the `JSONSchemaProps` unions, raw JSON here and
//! messages in protobuf, convert both ways as Go's `MarshalJSON`/`UnmarshalJSON` do, so JSON →
//! struct → protobuf → struct → JSON gives the same JSON.

#![cfg(feature = "apiextensions")]
#![allow(clippy::unwrap_used)]
#![recursion_limit = "256"]

use api::apiextensions::v1::{CustomResourceDefinition, JSONSchemaProps};
use apimachinery::meta::Resource;
use apimachinery::runtime::wire::{Field, Message, Reader, WireType};
use serde_json::{Value, json};

fn crd_json() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com", "resourceVersion": "42",
            "labels": {"app": "widgets"}},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "listKind": "WidgetList", "plural": "widgets",
                "singular": "widget", "shortNames": ["wd"]},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                    "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer",
                    "jsonPath": ".spec.size"}],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "A widget.",
                    "required": ["spec"],
                    "properties": {
                        "spec": {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["size"],
                            "properties": {
                                "size": {"type": "integer", "format": "int32", "minimum": 1,
                                    "maximum": 10, "default": 3},
                                "color": {"type": "string", "enum": ["red", "green", null],
                                    "nullable": true, "pattern": "^[a-z]+$", "maxLength": 16},
                                "port": {"x-kubernetes-int-or-string": true,
                                    "anyOf": [{"type": "integer"}, {"type": "string"}]},
                                "labels": {"type": "object",
                                    "additionalProperties": {"type": "string", "minLength": 1}},
                                "ports": {
                                    "type": "array",
                                    "x-kubernetes-list-type": "map",
                                    "x-kubernetes-list-map-keys": ["name"],
                                    "items": {"type": "object", "required": ["name"],
                                        "properties": {
                                            "name": {"type": "string"},
                                            "tags": {"type": "array",
                                                "items": {"type": "string"}}
                                        }},
                                    "maxItems": 8
                                },
                                "extra": {"type": "object",
                                    "x-kubernetes-preserve-unknown-fields": true},
                                "config": {"type": "object",
                                    "default": {"mode": "fast", "level": 2.5}},
                                "tuple": {"type": "array",
                                    "items": [{"type": "string"}, {"type": "integer"}],
                                    "additionalItems": true},
                                "billing": {"type": "object",
                                    "dependencies": {
                                        "card": ["address"],
                                        "bank": {"properties": {"iban": {"type": "string"}}}
                                    }}
                            },
                            "x-kubernetes-validations": [
                                {"rule": "self.size <= 10", "message": "too big",
                                    "reason": "FieldValueInvalid", "fieldPath": ".size"},
                                {"rule": "has(self.color)"}
                            ]
                        },
                        "status": {"type": "object",
                            "x-kubernetes-preserve-unknown-fields": true,
                            "properties": {"replicas": {"type": "integer"}}}
                    }
                }}
            }],
            "conversion": {"strategy": "None"}
        },
        "status": {
            "acceptedNames": {"kind": "Widget", "plural": "widgets"},
            "storedVersions": ["v1"],
            "conditions": [{"type": "Established", "status": "True",
                "lastTransitionTime": "2024-01-02T03:04:05Z", "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted"}]
        }
    })
}

/// `v` with every number as an `f64`: `f64` fields (`minimum`, `maximum`) serialize `10` as
/// `10.0`, in JSON as in protobuf (Go writes `10`), which is the same number.
fn numbers_as_f64(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.into_iter().map(numbers_as_f64).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect())
        }
        v => v,
    }
}

#[test]
fn a_crd_round_trips_json_struct_protobuf_struct_json_to_the_same_json() {
    let json = crd_json();
    let crd: CustomResourceDefinition = serde_json::from_value(json.clone()).unwrap();
    let bytes = crd.encode_to_vec();
    assert_eq!(bytes.len(), crd.encoded_len());
    let mut back = CustomResourceDefinition::decode(&bytes).unwrap();
    // apiVersion and kind travel in the envelope, not in the message.
    back.api_version = crd.api_version.clone();
    back.kind = crd.kind.clone();
    assert_eq!(
        numbers_as_f64(serde_json::to_value(&back).unwrap()),
        numbers_as_f64(json)
    );
    // And the bytes are stable: the decoded object encodes to the same bytes.
    assert_eq!(back.encode_to_vec(), bytes);
    assert!(CustomResourceDefinition::protobuf().is_some());
}

#[test]
fn the_scheme_converts_a_crd_and_its_list_both_ways() {
    let av = "apiextensions.k8s.io/v1";
    let json = crd_json();
    let pb =
        api::scheme::json_to_protobuf(av, "CustomResourceDefinition", json.to_string().as_bytes())
            .unwrap()
            .unwrap();
    let back = api::scheme::protobuf_to_json(av, "CustomResourceDefinition", &pb)
        .unwrap()
        .unwrap();
    assert_eq!(
        numbers_as_f64(serde_json::from_slice(&back).unwrap()),
        numbers_as_f64(json.clone())
    );

    // Items carry no apiVersion and kind in protobuf, as in Go.
    let mut item = json.clone();
    item.as_object_mut()
        .unwrap()
        .retain(|k, _| k != "apiVersion" && k != "kind");
    let list = json!({"apiVersion": av, "kind": "CustomResourceDefinitionList",
        "metadata": {"resourceVersion": "7"}, "items": [item]});
    let pb = api::scheme::json_to_protobuf(
        av,
        "CustomResourceDefinitionList",
        list.to_string().as_bytes(),
    )
    .unwrap()
    .unwrap();
    let back = api::scheme::protobuf_to_json(av, "CustomResourceDefinitionList", &pb)
        .unwrap()
        .unwrap();
    assert_eq!(
        numbers_as_f64(serde_json::from_slice(&back).unwrap()),
        numbers_as_f64(list)
    );
}

/// The bytes of field `number` in a message, the first time it occurs.
fn field_bytes(bytes: &[u8], number: u32) -> Vec<u8> {
    let mut r = Reader::new(bytes);
    while let Some((field, wire)) = r.key().unwrap() {
        if field == number {
            assert_eq!(wire, WireType::Len);
            return r.bytes().unwrap().to_vec();
        }
        r.skip(wire).unwrap();
    }
    panic!("no field {number}");
}

#[test]
fn unions_are_written_as_go_writes_them() {
    let schema = |v: Value| -> Vec<u8> {
        serde_json::from_value::<JSONSchemaProps>(v)
            .unwrap()
            .encode_to_vec()
    };
    // additionalProperties (30): false → {allows: false}; true → {allows: true}.
    assert_eq!(
        field_bytes(&schema(json!({"additionalProperties": false})), 30),
        [0x08, 0x00]
    );
    assert_eq!(
        field_bytes(&schema(json!({"additionalProperties": true})), 30),
        [0x08, 0x01]
    );
    // An object → {allows: true, schema: {...}}.
    let union = field_bytes(
        &schema(json!({"additionalProperties": {"type": "string"}})),
        30,
    );
    assert_eq!(union[..2], [0x08, 0x01]);
    let inner = JSONSchemaProps::decode(&field_bytes(&union, 2)).unwrap();
    assert_eq!(inner.type_.as_deref(), Some("string"));
    // items (24): an object → {schema}; an array → {jSONSchemas...}.
    let union = field_bytes(&schema(json!({"items": {"id": "a"}})), 24);
    assert_eq!(union[0], 0x0a);
    let inner = JSONSchemaProps::decode(&field_bytes(&union, 1)).unwrap();
    assert_eq!(inner.id.as_deref(), Some("a"));
    let union = field_bytes(&schema(json!({"items": [{"id": "a"}, {}]})), 24);
    let mut r = Reader::new(&union);
    let mut ids = Vec::new();
    while let Some((field, wire)) = r.key().unwrap() {
        assert_eq!((field, wire), (2, WireType::Len));
        ids.push(JSONSchemaProps::decode(r.bytes().unwrap()).unwrap().id);
    }
    assert_eq!(ids, [Some("a".into()), None]);
    // dependencies (32): an entry {key, value: {property: ["x"]}}.
    assert_eq!(
        field_bytes(&schema(json!({"dependencies": {"k": ["x"]}})), 32),
        [0x0a, 0x01, b'k', 0x12, 0x03, 0x12, 0x01, b'x']
    );
    // $ref (3) and x-kubernetes-preserve-unknown-fields (38) keep their numbers.
    let bytes = schema(json!({"$ref": "#/r", "x-kubernetes-preserve-unknown-fields": true}));
    assert_eq!(field_bytes(&bytes, 3), b"#/r");
    let back = JSONSchemaProps::decode(&bytes).unwrap();
    assert_eq!(back.ref_path.as_deref(), Some("#/r"));
    assert_eq!(back.x_kubernetes_preserve_unknown_fields, Some(true));
}

#[test]
fn json_go_refuses_for_a_bool_union_is_left_out_of_the_protobuf() {
    let schema: JSONSchemaProps =
        serde_json::from_value(json!({"additionalProperties": 1, "type": "object"})).unwrap();
    let back = JSONSchemaProps::decode(&schema.encode_to_vec()).unwrap();
    assert_eq!(back.additional_properties, None);
    assert_eq!(back.type_.as_deref(), Some("object"));
    // The length agrees with what is written.
    assert_eq!(schema.encode_to_vec().len(), schema.encoded_len());
    assert_eq!(schema.field_len(1), schema.encoded_len() + 2);
}
