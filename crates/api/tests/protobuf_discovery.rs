//! meta/v1 discovery types in protobuf: `APIResource.verbs` is a plain list here and a
//! `Verbs` message (`{repeated string items = 1}`) on the wire.
#![allow(clippy::unwrap_used)]

use api::meta::v1::{APIResource, APIResourceList};
use apimachinery::runtime::wire::{Message, Reader, WireType};
use apimachinery::thin_vec;

fn pods() -> APIResource {
    APIResource {
        name: "pods".into(),
        kind: "Pod".into(),
        namespaced: true,
        singular_name: "pod".into(),
        verbs: thin_vec!["create".into(), "get".into(), "list".into(), "watch".into()],
        short_names: Some(thin_vec!["po".into()]),
        ..APIResource::default()
    }
}

#[test]
fn verbs_travel_as_a_verbs_message_and_come_back() {
    let list = APIResourceList {
        group_version: "v1".into(),
        resources: thin_vec![pods(), APIResource::default()],
        ..APIResourceList::default()
    };
    let bytes = list.encode_to_vec();
    assert_eq!(APIResourceList::decode(&bytes).unwrap(), list);

    // Field 4 of APIResource is one length-delimited Verbs message holding four strings.
    let one = pods().encode_to_vec();
    let mut r = Reader::new(&one);
    let mut verbs = None;
    while let Some((field, wire)) = r.key().unwrap() {
        if field == 4 {
            assert_eq!(wire, WireType::Len);
            verbs = Some(r.bytes().unwrap().to_vec());
        } else {
            r.skip(wire).unwrap();
        }
    }
    let verbs = verbs.unwrap();
    let mut items = Reader::new(&verbs);
    let mut n = 0;
    while let Some((field, wire)) = items.key().unwrap() {
        assert_eq!((field, wire), (1, WireType::Len));
        items.str().unwrap();
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn truncated_discovery_bytes_are_errors_not_panics() {
    let bytes = pods().encode_to_vec();
    for cut in 0..bytes.len() {
        let _ = APIResource::decode(&bytes[..cut]);
    }
    assert!(APIResource::decode(&bytes[..bytes.len() - 1]).is_err());
}
