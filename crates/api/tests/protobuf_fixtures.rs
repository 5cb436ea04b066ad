//! The protobuf bodies a real kube-apiserver 1.32 sent (`fixtures/kube-apiserver-1.32-protobuf/`)
//! decode to the same objects as their JSON twins, and encode back to the same bytes; the
//! request bodies kubectl 1.32 sent decode to the objects kubectl meant.

#![cfg(feature = "core")]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use api::apps::v1::Deployment;
use api::coordination::v1::Lease;
use api::core::v1::{ConfigMap, Event, Namespace, Pod, Secret};
use apimachinery::meta::{List, Resource};
use apimachinery::runtime::protobuf::{decode_envelope, encode_envelope};
use apimachinery::runtime::wire::{Field, Message};
use serde::de::DeserializeOwned;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube-apiserver-1.32-protobuf")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn api_version<T: Resource>() -> String {
    if T::GROUP.is_empty() {
        T::VERSION.to_owned()
    } else {
        format!("{}/{}", T::GROUP, T::VERSION)
    }
}

/// Decodes `get-<name>.pb`, compares it with `get-<name>.json`, and re-encodes it.
fn check_get<T>(name: &str)
where
    T: Resource + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let pb = fixture(&format!("get-{name}.pb"));
    let from_json: T = serde_json::from_slice(&fixture(&format!("get-{name}.json"))).unwrap();
    let codec = T::protobuf().expect("built-in kinds have a protobuf form");
    let av = api_version::<T>();
    let from_pb = codec.decode_object(&pb, (&av, T::KIND)).unwrap();
    assert_eq!(from_pb, from_json, "get-{name}: protobuf and JSON differ");
    // The server's envelope: typeMeta, raw, and empty contentEncoding/contentType, exactly what
    // encode_envelope writes; so the whole body must come back byte for byte.
    let again = codec.encode_object(&from_pb, &av, T::KIND);
    assert_eq!(
        decode_envelope(&again).unwrap().raw,
        decode_envelope(&pb).unwrap().raw,
        "get-{name}: re-encoded message differs"
    );
    assert_eq!(again, pb, "get-{name}: re-encoded body differs");
}

fn check_list<T>(name: &str)
where
    T: Resource + Message + Field + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let pb = fixture(&format!("list-{name}.pb"));
    let from_json: List<T> =
        serde_json::from_slice(&fixture(&format!("list-{name}.json"))).unwrap();
    let codec = T::protobuf().unwrap();
    let av = api_version::<T>();
    let kind = format!("{}List", T::KIND);
    let from_pb = codec.decode_list(&pb, (&av, &kind), false).unwrap();
    assert_eq!(from_pb, from_json, "list-{name}: protobuf and JSON differ");
    let raw = from_pb.encode_to_vec();
    assert_eq!(
        raw,
        decode_envelope(&pb).unwrap().raw,
        "list-{name}: re-encoded message differs"
    );
    assert_eq!(encode_envelope(&av, &kind, &raw), pb);
}

#[test]
fn get_bodies_decode_equal_to_their_json_twins_and_encode_back_byte_for_byte() {
    check_get::<Pod>("pod");
    check_get::<ConfigMap>("configmap");
    check_get::<Secret>("secret");
    check_get::<Namespace>("namespace");
    check_get::<Deployment>("deployment");
    check_get::<Lease>("lease");
    // The fixture is a core/v1 Event (what `kubectl get events` reads).
    check_get::<Event>("event");
}

#[test]
fn list_bodies_decode_equal_to_their_json_twins_and_encode_back_byte_for_byte() {
    check_list::<Pod>("pods");
    check_list::<ConfigMap>("configmaps");
}

fn kubectl<T: Resource>(name: &str) -> T {
    let body = fixture(&format!("kubectl-request-create-{name}.pb"));
    let codec = T::protobuf().unwrap();
    let object = codec
        .decode_object(&body, (&api_version::<T>(), T::KIND))
        .unwrap();
    // kubectl's encoder is Go's: the same object encodes back to the same bytes.
    assert_eq!(
        codec.encode_raw(&object),
        decode_envelope(&body).unwrap().raw,
        "{name}"
    );
    object
}

#[test]
fn kubectl_create_request_bodies_decode_to_the_objects_kubectl_meant() {
    let ns: Namespace = kubectl("namespace");
    assert_eq!(ns.metadata.name.as_deref(), Some("demo"));
    assert_eq!(ns.kind.as_deref(), Some("Namespace"));

    let cm: ConfigMap = kubectl("configmap");
    assert_eq!(cm.metadata.name.as_deref(), Some("cm1"));
    let data = cm.data.unwrap();
    assert_eq!(data.get("a").map(|v| v.as_str()), Some("b"));

    let secret: Secret = kubectl("secret");
    assert_eq!(secret.metadata.name.as_deref(), Some("s1"));
    let data = secret.data.unwrap();
    assert_eq!(data.get("p").map(|v| v.0.as_slice()), Some(&b"q"[..]));

    let deployment: Deployment = kubectl("deployment");
    assert_eq!(deployment.metadata.name.as_deref(), Some("web"));
    let spec = deployment.spec.unwrap();
    let containers = &spec.template.spec.unwrap().containers;
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0].image.as_deref(), Some("nginx"));
}
