//! Malformed protobuf is an error (or, for bytes that happen to be a valid message, a value),
//! never a panic; a length prefix claiming 4 GB fails at once instead of allocating. The
//! scheme converts the recorded fixtures between JSON and protobuf.

#![cfg(feature = "core")]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use api::apps::v1::Deployment;
use api::coordination::v1::Lease;
use api::core::v1::{ConfigMap, Pod, Service};
use apimachinery::meta::List;
use apimachinery::runtime::protobuf::decode_envelope;
use apimachinery::runtime::wire::{Message, ProtoError};
use proptest::prelude::*;

fn pod_raw() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube-apiserver-1.32-protobuf/get-pod.pb");
    let body = std::fs::read(path).unwrap();
    decode_envelope(&body).unwrap().raw.to_vec()
}

/// Feeds `bytes` to several types' decoders; any result is fine, a panic is not.
fn decode_all(bytes: &[u8]) {
    let _ = Pod::decode(bytes);
    let _ = List::<Pod>::decode(bytes);
    let _ = Deployment::decode(bytes);
    let _ = ConfigMap::decode(bytes);
    let _ = Lease::decode(bytes);
    let _ = Service::decode(bytes);
    #[cfg(feature = "apiextensions")]
    {
        use api::apiextensions::v1::{CustomResourceDefinition, JSONSchemaProps};
        let _ = CustomResourceDefinition::decode(bytes);
        let _ = List::<CustomResourceDefinition>::decode(bytes);
        let _ = JSONSchemaProps::decode(bytes);
    }
}

/// A CRD whose schema uses every `JSONSchemaProps` union, as protobuf.
#[cfg(feature = "apiextensions")]
fn crd_raw() -> Vec<u8> {
    let crd: api::apiextensions::v1::CustomResourceDefinition = serde_json::from_str(
        r#"{"metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "a": {"type": "object", "additionalProperties": {"type": "string"}},
                    "b": {"type": "object", "additionalProperties": false},
                    "c": {"type": "array", "items": {"type": "integer", "enum": [1, 2]}},
                    "d": {"type": "array", "items": [{"type": "string"}], "additionalItems": true},
                    "e": {"dependencies": {"x": ["y"], "z": {"required": ["q"]}},
                        "default": {"k": [1, "two", null]},
                        "x-kubernetes-validations": [{"rule": "true"}]}
                }}}}]}}"#,
    )
    .unwrap();
    crd.encode_to_vec()
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn a_truncated_pod_never_panics(cut in 0usize..4096) {
        let raw = pod_raw();
        decode_all(&raw[..cut.min(raw.len())]);
    }

    #[test]
    fn a_bit_flipped_pod_never_panics(flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..4)) {
        let mut raw = pod_raw();
        let n = raw.len();
        for (at, bit) in flips {
            raw[at % n] ^= 1 << bit;
        }
        decode_all(&raw);
    }
}

#[cfg(feature = "apiextensions")]
proptest! {
    #[test]
    fn a_truncated_or_bit_flipped_crd_never_panics(
        cut in 0usize..2048,
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 0..4),
    ) {
        let mut raw = crd_raw();
        let n = raw.len();
        for (at, bit) in flips {
            raw[at % n] ^= 1 << bit;
        }
        decode_all(&raw[..cut.min(n)]);
    }
}

#[cfg(feature = "apiextensions")]
#[test]
fn schemas_nested_without_end_through_their_unions_fail_instead_of_overflowing() {
    use api::apiextensions::v1::JSONSchemaProps;
    // JSONSchemaProps{additionalProperties (30): {schema (2): JSONSchemaProps{...}}}, 1000 deep.
    let mut bytes = Vec::new();
    for _ in 0..1000 {
        let mut union = vec![0x12];
        apimachinery::runtime::wire::put_varint(&mut union, bytes.len() as u64);
        union.extend_from_slice(&bytes);
        bytes = vec![0xf2, 0x01];
        apimachinery::runtime::wire::put_varint(&mut bytes, union.len() as u64);
        bytes.extend_from_slice(&union);
    }
    assert!(JSONSchemaProps::decode(&bytes).is_err());
}

#[test]
fn every_strict_prefix_of_a_pod_is_an_error_or_a_smaller_pod() {
    let raw = pod_raw();
    let full = Pod::decode(&raw).unwrap();
    for cut in 0..raw.len() {
        if let Ok(pod) = Pod::decode(&raw[..cut]) {
            assert_ne!(pod, full, "prefix of {cut} bytes decoded to the whole pod");
        }
    }
}

#[test]
fn a_length_prefix_claiming_four_gigabytes_fails_at_once() {
    // Pod field 2 (spec, a message), length 0xFFFF_FFFF, then 3 bytes.
    let bytes = [0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3];
    let started = std::time::Instant::now();
    let err = Pod::decode(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            ProtoError::Truncated {
                needed: 0xFFFF_FFFF,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn the_scheme_converts_fixture_objects_both_ways() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube-apiserver-1.32-protobuf");
    for (name, kind) in [
        ("get-pod", "Pod"),
        ("list-pods", "PodList"),
        ("get-configmap", "ConfigMap"),
    ] {
        let json = std::fs::read(dir.join(format!("{name}.json"))).unwrap();
        let body = std::fs::read(dir.join(format!("{name}.pb"))).unwrap();
        let raw = decode_envelope(&body).unwrap().raw;
        let pb = api::scheme::json_to_protobuf("v1", kind, &json)
            .unwrap()
            .unwrap();
        assert_eq!(pb, raw, "{name}: JSON -> protobuf");
        let back = api::scheme::protobuf_to_json("v1", kind, raw)
            .unwrap()
            .unwrap();
        let back: serde_json::Value = serde_json::from_slice(&back).unwrap();
        assert_eq!(back["kind"], kind, "{name}");
        assert_eq!(back["apiVersion"], "v1", "{name}");
        let again = api::scheme::json_to_protobuf("v1", kind, &serde_json::to_vec(&back).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(again, raw, "{name}: protobuf -> JSON -> protobuf");
    }
    assert!(api::scheme::json_to_protobuf("example.com/v1", "Widget", b"{}").is_none());
    assert!(matches!(
        api::scheme::json_to_protobuf("v1", "Pod", b"{"),
        Some(Err(api::scheme::SchemeError::Json(_)))
    ));
    assert!(matches!(
        api::scheme::protobuf_to_json("v1", "Pod", &[0x12, 0xff]),
        Some(Err(api::scheme::SchemeError::Protobuf(_)))
    ));
}
