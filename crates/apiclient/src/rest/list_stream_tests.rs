//! Tests of `list_stream.rs`: every split point, byte-by-byte chunks, malformed bodies, and
//! proptests against `serde_json`.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::error::TransportKind;
use proptest::prelude::*;
use serde_json::Value;

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Item {
    name: String,
    #[serde(default)]
    data: Value,
}

/// Items hold every byte the scanner cares about inside strings, and `items` keys.
const BODY: &str = r#"{"kind":"ThingList","apiVersion":"v1","items":[{"name":"a{b}[c],d","data":{"items":[1,2],"s":"\"items\":[\\"}},{"name":"q\"uo\\te\\\"","data":[[],{},"]",-1.5e3,true,null]},{"name":"\u00e9\n","data":{"x":{"items":{"items":[]}}}}],"metadata":{"resourceVersion":"12\"3","continue":"tok]en","remainingItemCount":7}}"#;

fn serde_list<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<List<T>> {
    serde_json::from_slice(body)
}

fn stream(parts: Vec<Result<Bytes>>) -> impl Stream<Item = Result<Bytes>> {
    futures::stream::iter(parts)
}

async fn decode<T: serde::de::DeserializeOwned>(parts: Vec<Vec<u8>>) -> Result<List<T>> {
    let parts = parts.into_iter().map(|p| Ok(Bytes::from(p))).collect();
    decode_list(stream(parts), "test list", |b| serde_json::from_slice(b)).await
}

/// `body` cut at the (sorted, deduplicated) positions `cuts`.
fn split(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in cuts {
        out.push(body[from..c].to_vec());
        from = c;
    }
    out.push(body[from..].to_vec());
    out
}

fn bytes_one_by_one(body: &[u8]) -> Vec<Vec<u8>> {
    body.iter().map(|b| vec![*b]).collect()
}

fn assert_decode_error(r: Result<List<Value>>, what: &str) {
    match r {
        Err(Error::Decode { context, .. }) => {
            assert!(context.contains("test list"), "{what}: context {context:?}")
        }
        other => panic!("{what}: want a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn body_split_at_every_byte_position_decodes_as_serde_does() {
    let want = serde_list::<Item>(BODY.as_bytes()).unwrap();
    assert_eq!(want.items.len(), 3);
    assert_eq!(want.items[1].name, "q\"uo\\te\\\"");
    assert_eq!(want.metadata.resource_version.as_deref(), Some("12\"3"));
    assert_eq!(want.metadata.continue_token.as_deref(), Some("tok]en"));
    assert_eq!(want.metadata.remaining_item_count, Some(7));
    assert_eq!(want.types.kind, "ThingList");
    assert_eq!(want.types.api_version, "v1");
    let bytes = BODY.as_bytes();
    for cut in 0..=bytes.len() {
        let got = decode::<Item>(split(bytes, &[cut])).await.unwrap();
        assert_eq!(got, want, "split at {cut}");
    }
    for (a, b) in [(3, 50), (47, 48), (100, 101), (60, 200)] {
        let got = decode::<Item>(split(bytes, &[a, b])).await.unwrap();
        assert_eq!(got, want, "split at {a} and {b}");
    }
}

#[tokio::test]
async fn body_fed_byte_by_byte_decodes_as_serde_does() {
    let want = serde_list::<Item>(BODY.as_bytes()).unwrap();
    let got = decode::<Item>(bytes_one_by_one(BODY.as_bytes()))
        .await
        .unwrap();
    assert_eq!(got, want);
}

#[tokio::test]
async fn items_before_and_after_metadata_and_around_lookalikes() {
    let bodies = [
        // items first, then fields whose values look like an items array.
        r#"{"items":[{"name":"a"}],"metadata":{"resourceVersion":"5","items":[{"name":"no"}]},"kind":"L","x":"\"items\":[{\"name\":\"no\"}]"}"#,
        // items last, after unknown fields holding `items` at other depths.
        r#"{"other":{"items":[1]},"list":[{"items":[2]}],"metadata":{"continue":"c"},"items":[{"name":"b"},{"name":"c","data":{"items":[{"items":null}]}}]}"#,
        // A value string `"items"` at the top level is not a key.
        r#"{"kind":"items","apiVersion":"items","items":[{"name":"d"}]}"#,
        // Whitespace everywhere JSON allows it.
        " \r\n{ \"items\" \t: [ { \"name\" : \"e\" } ,\n{\"name\":\"f\"}\n] , \"metadata\" : { } }\n ",
        // An escaped `items` key is still `items`, as for serde.
        r#"{"it\u0065ms":[{"name":"g"}]}"#,
        // A later top-level `items` replaces an earlier one, as for serde.
        r#"{"items":[{"name":"h"}],"metadata":{},"items":[{"name":"i"},{"name":"j"}]}"#,
        r#"{"items":[{"name":"h"}],"items":null}"#,
        r#"{"items":[[1,2],"s",3,-4.5e-1,true,false,null,{}]}"#,
    ];
    for body in bodies {
        let want = serde_list::<Value>(body.as_bytes()).unwrap();
        let got = decode::<Value>(vec![body.as_bytes().to_vec()])
            .await
            .unwrap();
        assert_eq!(got, want, "{body}");
        let got = decode::<Value>(bytes_one_by_one(body.as_bytes()))
            .await
            .unwrap();
        assert_eq!(got, want, "{body} byte by byte");
    }
    let got = decode::<Value>(vec![bodies[0].as_bytes().to_vec()])
        .await
        .unwrap();
    assert_eq!(got.items, vec![serde_json::json!({"name": "a"})]);
    assert_eq!(got.metadata.resource_version.as_deref(), Some("5"));
    let got = decode::<Value>(vec![bodies[4].as_bytes().to_vec()])
        .await
        .unwrap();
    assert_eq!(got.items.len(), 1);
    let got = decode::<Value>(vec![bodies[5].as_bytes().to_vec()])
        .await
        .unwrap();
    assert_eq!(got.items.len(), 2);
}

#[tokio::test]
async fn empty_null_and_missing_items_are_an_empty_vec() {
    for body in [
        r#"{"kind":"L","items":[]}"#,
        r#"{"kind":"L","items":[ ]}"#,
        r#"{"kind":"L","items":null}"#,
        r#"{"kind":"L","items" : null ,"metadata":{"resourceVersion":"1"}}"#,
        r#"{"kind":"L","metadata":null}"#,
        r#"{}"#,
    ] {
        let want = serde_list::<Value>(body.as_bytes()).unwrap();
        assert!(want.items.is_empty());
        let got = decode::<Value>(bytes_one_by_one(body.as_bytes()))
            .await
            .unwrap();
        assert_eq!(got, want, "{body}");
    }
}

#[tokio::test]
async fn malformed_bodies_give_a_decode_error_naming_the_context() {
    let bad = [
        "",
        "   ",
        "[]",
        "null",
        "\"x\"",
        "42",
        "\u{feff}{}",
        "{",
        r#"{"items":[{"name":"a"}]"#,
        r#"{"items":[{"name":"a"}"#,
        r#"{"items":[{"name":"a"#,
        r#"{"items":[1,]}"#,
        r#"{"items":[,1]}"#,
        r#"{"items":[,]}"#,
        r#"{"items":[1 2]}"#,
        r#"{"items":[{} {}]}"#,
        r#"{"items":[{}{}]}"#,
        r#"{"items":[1"a"]}"#,
        r#"{"items":[}]}"#,
        r#"{"items":[{]}"#,
        r#"{"items":[{"a":[1}]]}"#,
        r#"{"items":[tru]}"#,
        r#"{"items":{}}"#,
        r#"{"items":5}"#,
        r#"{"items":"[]"}"#,
        r#"{"items"[1]}"#,
        r#"{"items":[1]}}"#,
        r#"{"items":[1]} x"#,
        r#"{"items":[1]}{}"#,
        r#"{"kind":1,"items":[]}"#,
        r#"{"metadata":"x","items":[]}"#,
        r#"{"kind":"L",}"#,
        r#"{"kind" "L"}"#,
        r#"{"a":[}"#,
        "{\"items\":[\"a\u{1}\"]}",
        "{\"kind\":\"\\ud800\"}",
    ];
    for body in bad {
        assert!(serde_list::<Value>(body.as_bytes()).is_err(), "{body}");
        assert_decode_error(decode(vec![body.as_bytes().to_vec()]).await, body);
        assert_decode_error(decode(bytes_one_by_one(body.as_bytes())).await, body);
    }
    // Invalid UTF-8 inside an item's string and inside the envelope.
    for body in [&b"{\"items\":[\"\xff\"]}"[..], b"{\"kind\":\"\xc3\"}"] {
        assert!(serde_list::<Value>(body).is_err());
        assert_decode_error(decode(vec![body.to_vec()]).await, "invalid UTF-8");
    }
    // Every strict prefix of a valid body is truncated.
    let body = BODY.as_bytes();
    for cut in 0..body.len() {
        let what = format!("truncated at {cut}");
        assert_decode_error(decode(vec![body[..cut].to_vec()]).await, &what);
    }
}

#[tokio::test]
async fn an_item_that_does_not_decode_is_named_by_index() {
    let body = br#"{"items":[{"name":"a"},{"name":5}]}"#;
    let err = decode::<Item>(vec![body.to_vec()]).await.unwrap_err();
    match err {
        Error::Decode { context, .. } => assert_eq!(context, "items[1] of test list"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_transport_error_mid_body_is_returned_as_it_is() {
    let reset = Error::Transport {
        verb: "GET".into(),
        url: "u".into(),
        kind: TransportKind::ConnectionReset,
        source: "reset".into(),
    };
    let parts = vec![Ok(Bytes::from_static(&BODY.as_bytes()[..60])), Err(reset)];
    let r: Result<List<Value>> =
        decode_list(stream(parts), "test list", |b| serde_json::from_slice(b)).await;
    let e = r.unwrap_err();
    assert!(e.is_transport(TransportKind::ConnectionReset), "{e}");
}

#[test]
fn each_item_is_decoded_as_soon_as_its_last_byte_arrives() {
    let mut scanner = ListScanner::default();
    let mut items: Vec<Value> = Vec::new();
    let mut decode = |b: &[u8]| serde_json::from_slice(b);
    let body = br#"{"items":[{"a":1},"s",7,{"b":[2]}]}"#;
    let first_end = body.iter().position(|b| *b == b'}').unwrap() + 1;
    scanner
        .feed(&body[..first_end - 1], &mut items, &mut decode)
        .unwrap();
    assert!(items.is_empty());
    scanner
        .feed(&body[first_end - 1..first_end], &mut items, &mut decode)
        .unwrap();
    assert_eq!(items.len(), 1);
    // A string ends at its closing quote; a number only at the `,` or `]` after it.
    let s_end = first_end + 4;
    scanner
        .feed(&body[first_end..s_end], &mut items, &mut decode)
        .unwrap();
    assert_eq!(items.len(), 2);
    scanner
        .feed(&body[s_end..s_end + 2], &mut items, &mut decode)
        .unwrap();
    assert_eq!(items.len(), 2);
    scanner
        .feed(&body[s_end + 2..s_end + 3], &mut items, &mut decode)
        .unwrap();
    assert_eq!(items.len(), 3);
    scanner
        .feed(&body[s_end + 3..], &mut items, &mut decode)
        .unwrap();
    assert_eq!(items.len(), 4);
    scanner.finish().unwrap();
}

#[test]
fn the_scanner_holds_one_item_and_the_envelope_never_the_body() {
    let item = |i: usize| {
        format!(
            r#"{{"name":"item-{i:04}","data":{{"s":"{}"}}}}"#,
            "x".repeat(i % 50)
        )
    };
    let items: Vec<String> = (0..1000).map(item).collect();
    let largest = items.iter().map(String::len).max().unwrap();
    let body = format!(
        r#"{{"kind":"L","metadata":{{"resourceVersion":"9"}},"items":[{}]}}"#,
        items.join(",")
    );
    let envelope = r#"{"kind":"L","metadata":{"resourceVersion":"9"},"items":[]}"#.len();
    for chunk in [1, 7, 64, 4096] {
        let mut scanner = ListScanner::default();
        let mut out: Vec<Item> = Vec::new();
        let mut decode = |b: &[u8]| serde_json::from_slice(b);
        let mut peak = 0;
        for part in body.as_bytes().chunks(chunk) {
            scanner.feed(part, &mut out, &mut decode).unwrap();
            peak = peak.max(scanner.buffered());
        }
        assert!(peak <= largest + envelope, "chunk {chunk}: peak {peak}");
        assert!(peak * 20 < body.len(), "chunk {chunk}: peak {peak}");
        assert!(scanner.item.capacity() <= 2 * largest);
        assert_eq!(scanner.envelope.len(), envelope);
        assert_eq!(out.len(), 1000);
        scanner.finish().unwrap();
    }
}

/// A string made of the pieces a scanner can trip on.
fn tricky_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just(":".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\\\"".to_owned()),
        Just("items".to_owned()),
        Just("\"items\":[".to_owned()),
        Just("\n\u{1}".to_owned()),
        Just("é😀".to_owned()),
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        let key = prop_oneof![Just("items".to_owned()), tricky_string()];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A list body with members in random order, random whitespace, and optional fields.
fn list_body() -> impl Strategy<Value = Vec<u8>> {
    let ws = prop::collection::vec(
        prop_oneof![Just(""), Just(" "), Just("\n"), Just("\t"), Just("\r")],
        4,
    );
    let items = prop_oneof![
        4 => prop::collection::vec(value(), 0..8).prop_map(Some),
        1 => Just(None),
    ];
    let meta = (
        prop::option::of(tricky_string()),
        prop::option::of(tricky_string()),
        prop::option::of(any::<i64>()),
        any::<bool>(),
    );
    let extra = prop::option::of(value());
    (
        items,
        meta,
        extra,
        tricky_string(),
        ws,
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(
            |(items, (rv, cont, remaining, items_in_meta), extra, kind, ws, order, pretty)| {
                let json = |v: &Value| {
                    if pretty {
                        serde_json::to_string_pretty(v).unwrap()
                    } else {
                        serde_json::to_string(v).unwrap()
                    }
                };
                let mut meta = serde_json::Map::new();
                if let Some(rv) = rv {
                    meta.insert("resourceVersion".into(), rv.into());
                }
                if let Some(c) = cont {
                    meta.insert("continue".into(), c.into());
                }
                if let Some(r) = remaining {
                    meta.insert("remainingItemCount".into(), r.into());
                }
                if items_in_meta {
                    meta.insert("items".into(), serde_json::json!([{"not": "an item"}]));
                }
                let items = match items {
                    Some(v) => {
                        let parts: Vec<String> = v.iter().map(json).collect();
                        format!(
                            "[{}{}{}]",
                            ws[2],
                            parts.join(&format!("{},{}", ws[3], ws[2])),
                            ws[3]
                        )
                    }
                    None => "null".to_owned(),
                };
                let mut members = vec![
                    format!("\"kind\"{}:{}{}", ws[0], ws[1], json(&Value::String(kind))),
                    "\"apiVersion\":\"v1\"".to_owned(),
                    format!("\"metadata\":{}", json(&Value::Object(meta))),
                    format!("\"items\"{}:{}{}", ws[0], ws[1], items),
                ];
                if let Some(x) = extra {
                    members.push(format!("\"extra\":{}", json(&x)));
                }
                let n = members.len();
                members.rotate_left(usize::from(order) % n);
                if order & 0x80 != 0 {
                    members.swap(0, n - 1);
                }
                format!(
                    "{}{{{}{}}}{}",
                    ws[0],
                    ws[1],
                    members.join(&format!("{},{}", ws[2], ws[3])),
                    ws[1]
                )
                .into_bytes()
            },
        )
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_lists_in_random_chunks_decode_as_serde_does(
        body in list_body(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let want = serde_list::<Value>(&body).unwrap();
        let got = block_on(decode::<Value>(split(&body, &cuts))).unwrap();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn mutated_lists_fail_exactly_when_serde_fails(
        body in list_body(),
        edits in prop::collection::vec(
            (any::<usize>(), prop_oneof![
                Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b','), Just(b':'),
                Just(b'"'), Just(b'\\'), Just(b' '), Just(b'1'), Just(b'n'), any::<u8>(),
            ], 0u8..3),
            1..3,
        ),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut body = body;
        for (pos, byte, op) in edits {
            let pos = pos % (body.len() + 1);
            match op {
                0 if pos < body.len() => body[pos] = byte,
                1 if pos < body.len() => { body.remove(pos); }
                _ => body.insert(pos, byte),
            }
        }
        let want = serde_list::<Value>(&body);
        let got = block_on(decode::<Value>(split(&body, &cuts)));
        match (want, got) {
            (Ok(w), Ok(g)) => prop_assert_eq!(g, w),
            (Err(_), Err(Error::Decode { context, .. })) => {
                prop_assert!(context.contains("test list"));
            }
            (w, g) => prop_assert!(false, "serde {:?}, stream {:?} for {:?}", w, g, String::from_utf8_lossy(&body)),
        }
    }
}
