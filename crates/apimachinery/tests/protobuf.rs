//! The protobuf runtime against bytes a real kube-apiserver 1.32 sent
//! (`crates/api/tests/fixtures/kube-apiserver-1.32-protobuf`): each `.pb` must decode to what
//! its `.json` twin decodes to, encode back to the same bytes, and no corruption of it may
//! panic a decoder.
#![allow(clippy::unwrap_used)]

use apimachinery::meta::{
    EventType, FieldsV1, ListMeta, ManagedFieldsEntry, ObjectMeta, OwnerReference,
    PartialObjectMetadata, RawWatchEvent, Status, StatusCause, StatusDetails, Time, TypeMeta,
    WatchEvent, decode_watch_event, encode_watch_event,
};
use apimachinery::runtime::framer::{LengthDelimitedFrames, MAX_FRAME_BYTES, write_frame};
use apimachinery::runtime::protobuf::decode_envelope;
use apimachinery::runtime::wire::{Message, ProtoError, Reader, WireType};
use apimachinery::{List, Str, StrMap, ThinVec};
use proptest::prelude::*;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../api/tests/fixtures/kube-apiserver-1.32-protobuf"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap()
}

/// Every `.pb` fixture, by name (read once).
fn all_pb() -> &'static [(String, Vec<u8>)] {
    static ALL: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    ALL.get_or_init(read_all_pb)
}

fn read_all_pb() -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".pb"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let b = fixture(&n);
            (n, b)
        })
        .collect()
}

/// A small deterministic generator for chunk sizes (xorshift64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Splits a watch body fed in random-sized chunks (1..=97 bytes) into frames.
fn split_frames(body: &[u8], seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed | 1);
    let mut f = LengthDelimitedFrames::new();
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let n = ((rng.next() % 97) as usize + 1).min(rest.len());
        f.push(&rest[..n]);
        rest = &rest[n..];
        while let Some(frame) = f.next_frame().unwrap() {
            out.push(frame.to_vec());
        }
    }
    assert_eq!(f.buffered(), 0, "stream ended mid-frame");
    out
}

/// The bytes of field 1 (ObjectMeta) of an object's message.
fn metadata_bytes(raw: &[u8]) -> &[u8] {
    let mut r = Reader::new(raw);
    while let Some((field, wire)) = r.key().unwrap() {
        if field == 1 && wire == WireType::Len {
            return r.bytes().unwrap();
        }
        r.skip(wire).unwrap();
    }
    panic!("no metadata field")
}

#[test]
fn error_statuses_decode_like_their_json_twins_and_encode_back_byte_for_byte() {
    for name in ["error-not-found", "error-bad-selector"] {
        let pb = fixture(&format!("{name}.pb"));
        let json: Status = serde_json::from_slice(&fixture(&format!("{name}.json"))).unwrap();
        let got = Status::decode_protobuf(&pb).unwrap();
        assert_eq!(got, json, "{name}");
        assert_eq!(got.encode_protobuf(), pb, "{name}");
    }
    let nf = Status::decode_protobuf(&fixture("error-not-found.pb")).unwrap();
    assert_eq!((nf.code, nf.reason.as_str()), (404, "NotFound"));
    assert_eq!(nf.details.unwrap().kind, "pods");
}

#[test]
fn watch_json_twins_are_newline_delimited_events() {
    for name in ["watch-pods.json", "watch-initial-events.json"] {
        let text = String::from_utf8(fixture(name)).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["type"].is_string() && v["object"].is_object(), "{name}");
        }
    }
}

const BLUEPRINT: &str = "kubernetes.io/initial-events-list-blueprint";

/// The two twins of a watch were recorded by two requests, so their closing bookmarks differ
/// in what a request decides: the resourceVersion (the store moved on) and the list
/// blueprint, which is an empty list encoded in the stream's own media type (a `k8s\0` body
/// here, JSON there). Checks that both blueprints mean the same empty `PodList` and returns
/// the protobuf bookmark with those two fields taken from the JSON one.
fn same_bookmark_modulo_recording(
    mut pb: PartialObjectMetadata,
    json: &PartialObjectMetadata,
) -> PartialObjectMetadata {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let blueprint = |m: &PartialObjectMetadata| {
        b64.decode(m.metadata.annotations.as_ref().unwrap()[BLUEPRINT].as_str())
            .unwrap()
    };
    let pb_list = PartialObjectMetadata::protobuf_codec()
        .decode_list(&blueprint(&pb), ("v1", "PodList"), false)
        .unwrap();
    let json_list: List<PartialObjectMetadata> = serde_json::from_slice(&blueprint(json)).unwrap();
    assert_eq!(pb_list, json_list);
    assert!(pb_list.items.is_empty());

    assert!(!pb.metadata.resource_version.as_deref().unwrap().is_empty());
    pb.metadata
        .resource_version
        .clone_from(&json.metadata.resource_version);
    pb.metadata
        .annotations
        .clone_from(&json.metadata.annotations);
    pb
}

/// Decodes both watch twins and checks them event by event.
fn check_watch_twins(name: &str) -> Vec<EventType> {
    let body = fixture(&format!("{name}.pb"));
    let text = String::from_utf8(fixture(&format!("{name}.json"))).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let frames = split_frames(&body, 0x5eed);
    for seed in 1..20u64 {
        assert_eq!(split_frames(&body, seed), frames, "{name} seed {seed}");
    }
    assert_eq!(frames.len(), lines.len(), "{name}");

    let codec = PartialObjectMetadata::protobuf_codec();
    let mut types = Vec::new();
    let mut reframed = Vec::new();
    for (frame, line) in frames.iter().zip(&lines) {
        let e = decode_watch_event(frame).unwrap();
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(e.event_type.as_str(), v["type"].as_str().unwrap(), "{name}");
        types.push(e.event_type);

        // The metadata, through ObjectMeta's Message impl on the envelope's raw.
        let json_meta: PartialObjectMetadata = serde_json::from_value(v["object"].clone()).unwrap();
        let mut pb_meta = e.metadata().unwrap();
        if e.event_type == EventType::Bookmark {
            pb_meta = same_bookmark_modulo_recording(pb_meta, &json_meta);
        }
        assert_eq!(pb_meta, json_meta, "{name}");

        // The whole event, as the JSON path decodes it, with and without managedFields.
        if e.event_type != EventType::Bookmark {
            for strip in [false, true] {
                let pb = e.decode(&codec, ("v1", "Pod"), strip).unwrap();
                let js =
                    RawWatchEvent::<PartialObjectMetadata>::decode(line.as_bytes(), strip).unwrap();
                assert_eq!(pb, js, "{name} strip={strip}");
            }
        }

        let again = encode_watch_event(
            e.event_type,
            e.object.api_version,
            e.object.kind,
            e.object.raw,
        );
        assert_eq!(&again, frame, "{name}: re-encoded frame differs");
        write_frame(&mut reframed, &again);
    }
    assert_eq!(reframed, body, "{name}: re-framed body differs");
    types
}

#[test]
fn watch_pods_frames_decode_like_the_json_lines() {
    use EventType::*;
    assert_eq!(
        check_watch_twins("watch-pods"),
        [Added, Modified, Modified, Deleted]
    );
}

#[test]
fn watch_initial_events_end_with_the_annotated_bookmark() {
    assert_eq!(
        check_watch_twins("watch-initial-events"),
        [EventType::Added, EventType::Bookmark]
    );
    let body = fixture("watch-initial-events.pb");
    let frames = split_frames(&body, 7);
    let bookmarks: Vec<_> = frames
        .iter()
        .map(|f| decode_watch_event(f).unwrap())
        .filter(|e| e.event_type == EventType::Bookmark)
        .map(|e| e.bookmark().unwrap())
        .collect();
    assert_eq!(bookmarks.len(), 1);
    assert!(bookmarks[0].is_initial_events_end());
    assert_eq!(bookmarks[0].types.kind, "Pod");
    assert!(!bookmarks[0].metadata.resource_version.is_empty());
}

#[test]
fn single_objects_carry_their_type_in_the_envelope_and_metadata_at_field_one() {
    for kind in [
        "pod",
        "configmap",
        "secret",
        "deployment",
        "lease",
        "event",
        "namespace",
    ] {
        let pb = fixture(&format!("get-{kind}.pb"));
        let json: serde_json::Value =
            serde_json::from_slice(&fixture(&format!("get-{kind}.json"))).unwrap();
        let u = decode_envelope(&pb).unwrap();
        assert_eq!(
            u.api_version,
            json["apiVersion"].as_str().unwrap(),
            "{kind}"
        );
        assert_eq!(u.kind, json["kind"].as_str().unwrap(), "{kind}");
        assert_eq!((u.content_encoding, u.content_type), ("", ""));

        let meta_bytes = metadata_bytes(u.raw);
        let meta = ObjectMeta::decode(meta_bytes).unwrap();
        let json_meta: ObjectMeta = serde_json::from_value(json["metadata"].clone()).unwrap();
        assert_eq!(meta, json_meta, "{kind}");
        assert_eq!(meta.encode_to_vec(), meta_bytes, "{kind}: ObjectMeta bytes");
        assert_eq!(meta.encoded_len(), meta_bytes.len());

        let partial = PartialObjectMetadata::protobuf_codec()
            .decode_object(&pb, (u.api_version, u.kind))
            .unwrap();
        let json_partial: PartialObjectMetadata = serde_json::from_value(json).unwrap();
        assert_eq!(partial, json_partial, "{kind}");
    }
    let pod = fixture("get-pod.pb");
    let u = decode_envelope(&pod).unwrap();
    assert_eq!((u.api_version, u.kind), ("v1", "Pod"));
}

#[test]
fn lists_decode_as_partial_object_metadata_lists_like_their_json() {
    for (name, kind) in [
        ("list-pods", "PodList"),
        ("list-configmaps", "ConfigMapList"),
    ] {
        let pb = fixture(&format!("{name}.pb"));
        let json: List<PartialObjectMetadata> =
            serde_json::from_slice(&fixture(&format!("{name}.json"))).unwrap();
        let got = PartialObjectMetadata::protobuf_codec()
            .decode_list(&pb, ("v1", kind), false)
            .unwrap();
        assert_eq!(got, json, "{name}");
        assert!(!got.items.is_empty());
    }
}

#[test]
fn kubectl_request_bodies_keep_their_object_meta_bytes() {
    for name in ["namespace", "configmap", "secret", "deployment"] {
        let pb = fixture(&format!("kubectl-request-create-{name}.pb"));
        let u = decode_envelope(&pb).unwrap();
        let meta_bytes = metadata_bytes(u.raw);
        let meta = ObjectMeta::decode(meta_bytes).unwrap();
        assert_eq!(meta.encode_to_vec(), meta_bytes, "{name}");
    }
}

#[test]
fn a_frame_header_announcing_four_gigabytes_fails_at_once() {
    let mut f = LengthDelimitedFrames::new();
    f.push(&[0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(f.next_frame(), Err(ProtoError::Invalid(_))));
    assert_eq!(f.buffered(), 4);

    // Just past the limit fails; at the limit it waits for the bytes, buffering none ahead.
    let mut f = LengthDelimitedFrames::new();
    f.push(&((MAX_FRAME_BYTES + 1) as u32).to_be_bytes());
    assert!(f.next_frame().is_err());
    let mut f = LengthDelimitedFrames::new();
    f.push(&(MAX_FRAME_BYTES as u32).to_be_bytes());
    assert_eq!(f.next_frame().unwrap(), None);
    assert_eq!(f.buffered(), 4);

    // Inside a frame, an object length of 4 GB is a truncation, not an allocation.
    let mut frame = Vec::new();
    apimachinery::runtime::wire::put_len_field(&mut frame, 1, b"ADDED");
    frame.extend_from_slice(&[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a]);
    assert!(matches!(
        decode_watch_event(&frame),
        Err(ProtoError::Truncated { .. })
    ));
}

/// Feeds bytes to every decoder; none may panic (errors are fine).
fn feed_everything(bytes: &[u8]) {
    if let Ok(u) = decode_envelope(bytes) {
        let _ = ObjectMeta::decode(u.raw);
        let _ = ObjectMeta::decode(metadata_bytes_lenient(u.raw));
        let _ = Status::decode(u.raw);
        let _ = PartialObjectMetadata::decode(u.raw);
        let _ = List::<PartialObjectMetadata>::decode(u.raw);
    }
    let _ = Status::decode_protobuf(bytes);
    let _ = Status::decode(bytes);
    let _ = ObjectMeta::decode(bytes);
    feed_watch_frame(bytes);

    let mut f = LengthDelimitedFrames::new();
    for chunk in bytes.chunks(61) {
        f.push(chunk);
        loop {
            match f.next_frame() {
                Ok(Some(frame)) => feed_watch_frame(frame),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

fn feed_watch_frame(frame: &[u8]) {
    if let Ok(e) = decode_watch_event(frame) {
        let _ = e.metadata();
        let _ = e.status();
        let _ = e.bookmark();
        let _ = e.decode(
            &PartialObjectMetadata::protobuf_codec(),
            ("v1", "Pod"),
            true,
        );
    }
}

fn metadata_bytes_lenient(raw: &[u8]) -> &[u8] {
    let mut r = Reader::new(raw);
    while let Ok(Some((field, wire))) = r.key() {
        if field == 1 && wire == WireType::Len {
            return r.bytes().unwrap_or_default();
        }
        if r.skip(wire).is_err() {
            break;
        }
    }
    &[]
}

#[test]
fn every_truncation_of_every_fixture_is_an_error_or_a_value_never_a_panic() {
    for (_, bytes) in all_pb() {
        for n in 0..bytes.len() {
            feed_everything(&bytes[..n]);
        }
    }
}

#[test]
fn every_fixture_decodes_through_every_decoder_without_panicking() {
    for (_, bytes) in all_pb() {
        feed_everything(bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        feed_everything(&bytes);
        let mut marked = b"k8s\0".to_vec();
        marked.extend_from_slice(&bytes);
        feed_everything(&marked);
    }

    #[test]
    fn single_byte_mutations_of_fixtures_never_panic(
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let fixtures = all_pb();
        let mut bytes = fixtures[which.index(fixtures.len())].1.clone();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        feed_everything(&bytes);
    }
}

// ---- round trips of values Go could produce ----

fn word() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9./-]{0,11}"
}

fn any_text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

/// A Go non-pointer `omitempty` string: absent, or non-empty.
fn opt_str() -> impl Strategy<Value = Option<Str>> {
    proptest::option::of(word().prop_map(Str::from))
}

fn opt_time() -> impl Strategy<Value = Option<Time>> {
    proptest::option::of((0i64..4_000_000_000).prop_map(Time::from_unix))
}

fn opt_map() -> impl Strategy<Value = Option<StrMap>> {
    proptest::option::of(
        proptest::collection::btree_map(word(), any_text(), 1..4).prop_map(|m| {
            m.into_iter()
                .map(|(k, v)| (k, Str::from(v)))
                .collect::<StrMap>()
        }),
    )
}

fn owner_reference() -> impl Strategy<Value = OwnerReference> {
    (
        any_text(),
        word(),
        word(),
        word(),
        any::<Option<bool>>(),
        any::<Option<bool>>(),
    )
        .prop_map(
            |(api_version, kind, name, uid, controller, block)| OwnerReference {
                api_version: api_version.into(),
                kind: kind.into(),
                name: name.into(),
                uid: uid.into(),
                controller,
                block_owner_deletion: block,
            },
        )
}

fn managed_fields_entry() -> impl Strategy<Value = ManagedFieldsEntry> {
    (
        opt_str(),
        opt_str(),
        opt_str(),
        opt_time(),
        opt_str(),
        proptest::option::of(word().prop_map(|k| FieldsV1(format!("{{\"f:{k}\":{{}}}}").into()))),
        opt_str(),
    )
        .prop_map(
            |(manager, operation, api_version, time, fields_type, fields_v1, subresource)| {
                ManagedFieldsEntry {
                    manager,
                    operation,
                    api_version,
                    time,
                    fields_type,
                    fields_v1,
                    subresource,
                }
            },
        )
}

fn opt_vec<T: std::fmt::Debug>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<ThinVec<T>>> {
    proptest::option::of(
        proptest::collection::vec(s, 1..3).prop_map(|v| v.into_iter().collect::<ThinVec<T>>()),
    )
}

prop_compose! {
    fn object_meta()(
        (name, generate_name, namespace, self_link, uid, resource_version) in
            (opt_str(), opt_str(), opt_str(), opt_str(), opt_str(), opt_str()),
        generation in proptest::option::of(1i64..),
        (creation_timestamp, deletion_timestamp) in (opt_time(), opt_time()),
        deletion_grace_period_seconds in any::<Option<i64>>(),
        (labels, annotations) in (opt_map(), opt_map()),
        owner_references in opt_vec(owner_reference()),
        finalizers in opt_vec(word().prop_map(Str::from)),
        managed_fields in opt_vec(managed_fields_entry()),
    ) -> ObjectMeta {
        ObjectMeta {
            name, generate_name, namespace, self_link, uid, resource_version, generation,
            creation_timestamp, deletion_timestamp, deletion_grace_period_seconds, labels,
            annotations, owner_references, finalizers, managed_fields,
        }
    }
}

fn status_cause() -> impl Strategy<Value = StatusCause> {
    (any_text(), any_text(), any_text()).prop_map(|(reason, message, field)| StatusCause {
        reason,
        message,
        field,
    })
}

prop_compose! {
    fn status()(
        (self_link, resource_version, continue_token) in (
            proptest::option::of(word()),
            proptest::option::of(word()),
            proptest::option::of(word()),
        ),
        remaining_item_count in any::<Option<i64>>(),
        (status, message, reason) in (any_text(), any_text(), any_text()),
        details in proptest::option::of((
            (any_text(), any_text(), any_text(), any_text()),
            proptest::collection::vec(status_cause(), 0..3),
            any::<i32>(),
        )),
        code in any::<i32>(),
    ) -> Status {
        Status {
            types: TypeMeta { api_version: "v1".into(), kind: "Status".into() },
            metadata: ListMeta { self_link, resource_version, continue_token, remaining_item_count },
            status, message, reason,
            details: details.map(|((name, group, kind, uid), causes, retry_after_seconds)| {
                StatusDetails { name, group, kind, uid, causes, retry_after_seconds }
            }),
            code,
        }
    }
}

proptest! {
    #[test]
    fn object_meta_round_trips_and_reads_as_its_json(meta in object_meta()) {
        let bytes = meta.encode_to_vec();
        prop_assert_eq!(bytes.len(), meta.encoded_len());
        let back = ObjectMeta::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &meta);
        let json: ObjectMeta = serde_json::from_str(&serde_json::to_string(&meta).unwrap()).unwrap();
        prop_assert_eq!(&json, &back);
    }

    #[test]
    fn status_round_trips_and_reads_as_its_json(s in status()) {
        let body = s.encode_protobuf();
        let back = Status::decode_protobuf(&body).unwrap();
        prop_assert_eq!(&back, &s);
        prop_assert_eq!(back.encode_protobuf(), body);
        let json: Status = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        prop_assert_eq!(&json, &back);

        // As a watch ERROR event, too.
        let frame = encode_watch_event(EventType::Error, "v1", "Status", &s.encode_to_vec());
        let e = decode_watch_event(&frame).unwrap();
        let codec = PartialObjectMetadata::protobuf_codec();
        match e.decode(&codec, ("v1", "Pod"), false).unwrap() {
            RawWatchEvent::Error(got) => prop_assert_eq!(&got, &s),
            RawWatchEvent::Event(WatchEvent::Added(_)) | RawWatchEvent::Event(_) => {
                prop_assert!(false, "not an error event")
            }
        }
    }
}
