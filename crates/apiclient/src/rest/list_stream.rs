//! A LIST response body (`{"kind":"PodList","apiVersion":"v1","metadata":{..},"items":[..]}`),
//! decoded item by item as its bytes arrive.
//!
//! Differs from Go: client-go reads the whole body before decoding it; here decoding overlaps
//! the server's encoding and the transfer, and the body is never held whole.
//!
//! Data flow: HTTP body chunks → [`ListScanner::feed`] scans each byte once, tracking the JSON
//! structure (nesting depth, inside a string, after a backslash) in state that persists across
//! chunks; inside strings it skips to the next `"` or `\` with `memchr2` → each element of the
//! top-level `items` array goes to `decode_item` as soon as its last byte arrives (straight
//! from the chunk when the element lies in one, else from `item`, which gathers it across
//! chunks) → everything outside the array's contents, the envelope, with the array written as
//! `[]`, gathers in `envelope` → at the end of the body the envelope is decoded by `List`'s own
//! `Deserialize` impl into `kind`, `apiVersion` and `metadata`.
//!
//! Invariants: `item` holds only bytes of the one element not yet complete and `envelope` only
//! bytes outside the items array, so memory is bounded by the largest item plus the envelope
//! (plus the chunk being scanned), never by the body. The result equals
//! `serde_json::from_slice::<List<T>>` of the whole body when `decode_item` is `T`'s plain
//! decoding: the same envelope fields, `"items":null` or no `items` as an empty `Vec`, and
//! when `items` appears more than once at the top level the last one wins. Only the top-level
//! object's `items` key is special (matched after unescaping, as serde matches it); `items`
//! keys in `metadata`, in other fields or inside items are plain bytes. A body that is not one
//! JSON object, is truncated or malformed, or whose `items` is neither an array nor `null`
//! gives [`Error::Decode`] naming the context (and the item's index when an item is at fault);
//! nothing here panics on input. A transport error from the body is returned as it is.
//! Decoding stops at the first error, dropping the body.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use memchr::memchr2;
use serde::de::IgnoredAny;

use crate::error::{Error, Result};
use crate::meta::{List, ListMeta, TypeMeta};

/// Decodes a LIST body as it arrives; `decode_item` turns the bytes of one element of `items`
/// into a `T`, and is called as soon as that element's last byte is in.
///
/// `context` names the request in decode errors (e.g. `"List<Pod> from GET https://.."`); an
/// item's error is reported as `items[i] of {context}`. The result is what
/// `serde_json::from_slice::<List<T>>` of the whole body gives (see the module docs), without
/// ever holding the whole body.
///
/// # Cancel safety
/// Cancel-safe: dropping the future drops the body and the items decoded so far.
pub(crate) async fn decode_list<T, S, F>(
    body: S,
    context: &str,
    mut decode_item: F,
) -> Result<List<T>>
where
    S: Stream<Item = Result<Bytes>>,
    F: FnMut(&[u8]) -> Result<T, serde_json::Error>,
{
    let mut body = std::pin::pin!(body);
    let mut scanner = ListScanner::default();
    let mut items = Vec::new();
    while let Some(chunk) = body.next().await {
        scanner
            .feed(&chunk?, &mut items, &mut decode_item)
            .map_err(|e| e.into_error(context))?;
    }
    let (types, metadata) = scanner.finish().map_err(|e| Error::decode(context, e))?;
    Ok(List {
        types,
        metadata,
        items,
    })
}

/// Where the scanner is in the body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// Before the top-level object's `{`: only whitespace may come.
    #[default]
    BeforeRoot,
    /// Inside the top-level object, outside the items array: bytes go to the envelope.
    Root,
    /// Inside the top-level `items` array (between its `[` and `]`).
    Items,
    /// After the top-level object's `}`: only whitespace may come.
    AfterRoot,
}

/// Where the scanner is among the members of the top-level object (at depth 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Top {
    /// After `{` or `,`: a key comes next.
    #[default]
    ExpectKey,
    /// Inside a key.
    Key,
    /// After a key, before its `:`; `items` tells whether the key was `items`.
    AfterKey { items: bool },
    /// After `:`, before the value.
    ExpectValue { items: bool },
    /// Inside or after a value, before `,` or `}`.
    Value,
}

/// Where the scanner is inside the items array.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ItemPhase {
    /// After `[`: an element or `]` comes next.
    #[default]
    Start,
    /// After `,`: an element comes next.
    AfterComma,
    /// Inside an object or array element; `item_depth` is its nesting depth.
    Container,
    /// Inside a string element.
    Str,
    /// Inside a number or literal element, which ends at the next `,` or `]`.
    Scalar,
    /// After an element: `,` or `]` comes next.
    AfterValue,
}

/// Why scanning stopped.
#[derive(Debug)]
enum ScanError {
    /// The body is not a well-formed list object.
    Syntax(serde_json::Error),
    /// `decode_item` failed on element `index` of `items`.
    Item {
        index: usize,
        source: serde_json::Error,
    },
}

impl ScanError {
    /// The crate error, with `context` (and the item's index) in it.
    fn into_error(self, context: &str) -> Error {
        match self {
            ScanError::Syntax(e) => Error::decode(context, e),
            ScanError::Item { index, source } => {
                Error::decode(format!("items[{index}] of {context}"), source)
            }
        }
    }
}

/// A syntax error found by the scanner itself (serde_json finds the others).
fn syntax(msg: String) -> ScanError {
    ScanError::Syntax(<serde_json::Error as serde::de::Error>::custom(msg))
}

/// JSON's whitespace (RFC 8259: space, tab, line feed, carriage return; not form feed).
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The incremental scanner behind [`decode_list`]; see the module docs.
#[derive(Debug, Default)]
struct ListScanner {
    phase: Phase,
    /// Nesting depth in the envelope: 1 directly inside the top-level object.
    depth: usize,
    /// Position among the top-level members.
    top: Top,
    /// Position inside the items array.
    item_phase: ItemPhase,
    /// Nesting depth inside the current container element.
    item_depth: usize,
    /// Inside a string (key or value, envelope or item).
    in_string: bool,
    /// The last byte fed was a backslash inside a string: the next byte is escaped.
    escape: bool,
    /// Where the current top-level key (its opening quote) starts in `envelope`.
    key_start: usize,
    /// The envelope so far: the body outside the items array's contents.
    envelope: Vec<u8>,
    /// The bytes of the current element when it spans chunks; empty otherwise.
    item: Vec<u8>,
    /// Index of the next element of `items`, for error context.
    index: usize,
    /// Bytes fed before the current chunk, for error positions.
    offset: usize,
}

impl ListScanner {
    /// Scans `chunk`, decoding every element of `items` that it completes into `items`.
    ///
    /// `seg` is the start, in `chunk`, of the bytes not yet copied out: to `envelope` in
    /// [`Phase::Root`], to `item` while an element is open in [`Phase::Items`].
    fn feed<T, F>(
        &mut self,
        chunk: &[u8],
        items: &mut Vec<T>,
        decode_item: &mut F,
    ) -> Result<(), ScanError>
    where
        F: FnMut(&[u8]) -> Result<T, serde_json::Error>,
    {
        let len = chunk.len();
        if len == 0 {
            return Ok(());
        }
        let mut seg = 0;
        let mut i = 0;
        if self.escape {
            self.escape = false;
            i = 1;
        }
        while i < len {
            if self.in_string {
                match memchr2(b'"', b'\\', &chunk[i..]) {
                    None => i = len,
                    Some(p) => {
                        let j = i + p;
                        if chunk[j] == b'\\' {
                            if j + 1 < len {
                                i = j + 2;
                            } else {
                                self.escape = true;
                                i = len;
                            }
                        } else {
                            self.in_string = false;
                            self.string_end(chunk, j, &mut seg, items, decode_item)?;
                            i = j + 1;
                        }
                    }
                }
                continue;
            }
            let b = chunk[i];
            match self.phase {
                Phase::BeforeRoot => {
                    if b == b'{' {
                        self.phase = Phase::Root;
                        self.depth = 1;
                        self.top = Top::ExpectKey;
                        seg = i;
                    } else if !is_ws(b) {
                        return Err(syntax(format!(
                            "expected a list object, found {:?} at byte {}",
                            char::from(b),
                            self.offset + i
                        )));
                    }
                }
                Phase::Root => self.root_byte(chunk, i, &mut seg),
                Phase::Items => self.items_byte(chunk, i, &mut seg, items, decode_item)?,
                Phase::AfterRoot => {
                    if !is_ws(b) {
                        return Err(syntax(format!(
                            "trailing characters after the list object at byte {}",
                            self.offset + i
                        )));
                    }
                }
            }
            i += 1;
        }
        match self.phase {
            Phase::Root => self.envelope.extend_from_slice(&chunk[seg..]),
            Phase::Items
                if matches!(
                    self.item_phase,
                    ItemPhase::Container | ItemPhase::Str | ItemPhase::Scalar
                ) =>
            {
                self.item.extend_from_slice(&chunk[seg..]);
            }
            _ => {}
        }
        self.offset += len;
        Ok(())
    }

    /// Handles the closing quote of a string at `chunk[j]`.
    fn string_end<T, F>(
        &mut self,
        chunk: &[u8],
        j: usize,
        seg: &mut usize,
        items: &mut Vec<T>,
        decode_item: &mut F,
    ) -> Result<(), ScanError>
    where
        F: FnMut(&[u8]) -> Result<T, serde_json::Error>,
    {
        match self.phase {
            Phase::Root if self.depth == 1 && self.top == Top::Key => {
                self.envelope.extend_from_slice(&chunk[*seg..=j]);
                *seg = j + 1;
                let is_items = is_items_key(&self.envelope[self.key_start..]);
                if is_items {
                    // As with serde, a later `items` replaces an earlier one.
                    items.clear();
                    self.index = 0;
                }
                self.top = Top::AfterKey { items: is_items };
            }
            Phase::Items if self.item_phase == ItemPhase::Str => {
                self.complete_item(chunk, *seg, j + 1, items, decode_item)?;
                self.item_phase = ItemPhase::AfterValue;
            }
            _ => {}
        }
        Ok(())
    }

    /// Handles `chunk[i]`, outside strings, inside the top-level object but not in `items`.
    fn root_byte(&mut self, chunk: &[u8], i: usize, seg: &mut usize) {
        let top_level = self.depth == 1;
        match chunk[i] {
            b'"' => {
                self.in_string = true;
                if top_level {
                    match self.top {
                        Top::ExpectKey => {
                            self.envelope.extend_from_slice(&chunk[*seg..i]);
                            *seg = i;
                            self.key_start = self.envelope.len();
                            self.top = Top::Key;
                        }
                        Top::ExpectValue { .. } => self.top = Top::Value,
                        _ => {}
                    }
                }
            }
            b'[' if top_level && self.top == (Top::ExpectValue { items: true }) => {
                self.envelope.extend_from_slice(&chunk[*seg..=i]);
                self.phase = Phase::Items;
                self.item_phase = ItemPhase::Start;
                self.top = Top::Value;
            }
            b'{' | b'[' => {
                if top_level && matches!(self.top, Top::ExpectValue { .. }) {
                    self.top = Top::Value;
                }
                self.depth += 1;
            }
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.envelope.extend_from_slice(&chunk[*seg..=i]);
                    *seg = i + 1;
                    self.phase = Phase::AfterRoot;
                }
            }
            b',' if top_level => self.top = Top::ExpectKey,
            b':' if top_level => {
                if let Top::AfterKey { items } = self.top {
                    self.top = Top::ExpectValue { items };
                }
            }
            b if is_ws(b) => {}
            _ => {
                if top_level && matches!(self.top, Top::ExpectValue { .. }) {
                    self.top = Top::Value;
                }
            }
        }
    }

    /// Handles `chunk[i]`, outside strings, inside the top-level items array.
    fn items_byte<T, F>(
        &mut self,
        chunk: &[u8],
        i: usize,
        seg: &mut usize,
        items: &mut Vec<T>,
        decode_item: &mut F,
    ) -> Result<(), ScanError>
    where
        F: FnMut(&[u8]) -> Result<T, serde_json::Error>,
    {
        let b = chunk[i];
        match self.item_phase {
            ItemPhase::Start | ItemPhase::AfterComma => match b {
                b if is_ws(b) => {}
                b']' if self.item_phase == ItemPhase::Start => self.close_items(i, seg),
                b']' | b',' | b'}' => {
                    return Err(syntax(format!(
                        "expected an item, found {:?} at byte {}",
                        char::from(b),
                        self.offset + i
                    )));
                }
                b'{' | b'[' => {
                    *seg = i;
                    self.item_depth = 1;
                    self.item_phase = ItemPhase::Container;
                }
                b'"' => {
                    *seg = i;
                    self.in_string = true;
                    self.item_phase = ItemPhase::Str;
                }
                _ => {
                    *seg = i;
                    self.item_phase = ItemPhase::Scalar;
                }
            },
            ItemPhase::Container => match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.item_depth += 1,
                b'}' | b']' => {
                    self.item_depth -= 1;
                    if self.item_depth == 0 {
                        self.complete_item(chunk, *seg, i + 1, items, decode_item)?;
                        self.item_phase = ItemPhase::AfterValue;
                    }
                }
                _ => {}
            },
            ItemPhase::Scalar => match b {
                b',' => {
                    self.complete_item(chunk, *seg, i, items, decode_item)?;
                    self.item_phase = ItemPhase::AfterComma;
                }
                b']' => {
                    self.complete_item(chunk, *seg, i, items, decode_item)?;
                    self.close_items(i, seg);
                }
                b'"' | b'{' | b'[' | b'}' => {
                    return Err(syntax(format!(
                        "expected `,` or `]` after item {}, found {:?} at byte {}",
                        self.index,
                        char::from(b),
                        self.offset + i
                    )));
                }
                _ => {}
            },
            ItemPhase::AfterValue => match b {
                b if is_ws(b) => {}
                b',' => self.item_phase = ItemPhase::AfterComma,
                b']' => self.close_items(i, seg),
                _ => {
                    return Err(syntax(format!(
                        "expected `,` or `]` after item {}, found {:?} at byte {}",
                        self.index.saturating_sub(1),
                        char::from(b),
                        self.offset + i
                    )));
                }
            },
            // A string element is scanned by the string loop; its end moves the phase on.
            ItemPhase::Str => {}
        }
        Ok(())
    }

    /// The items array closes at `chunk[i]`: its `]` goes to the envelope.
    fn close_items(&mut self, i: usize, seg: &mut usize) {
        self.phase = Phase::Root;
        *seg = i;
    }

    /// The current element ends at `chunk[..to]`; it began at `chunk[from]`, or in an earlier
    /// chunk if `item` holds its first bytes.
    fn complete_item<T, F>(
        &mut self,
        chunk: &[u8],
        from: usize,
        to: usize,
        items: &mut Vec<T>,
        decode_item: &mut F,
    ) -> Result<(), ScanError>
    where
        F: FnMut(&[u8]) -> Result<T, serde_json::Error>,
    {
        let decoded = if self.item.is_empty() {
            decode_item(&chunk[from..to])
        } else {
            self.item.extend_from_slice(&chunk[from..to]);
            let r = decode_item(&self.item);
            self.item.clear();
            r
        };
        match decoded {
            Ok(t) => {
                items.push(t);
                self.index += 1;
                Ok(())
            }
            Err(source) => Err(ScanError::Item {
                index: self.index,
                source,
            }),
        }
    }

    /// Ends the body: checks it was one complete object and decodes the envelope.
    fn finish(self) -> Result<(TypeMeta, ListMeta), serde_json::Error> {
        let msg = match self.phase {
            Phase::AfterRoot => {
                let list: List<IgnoredAny> = serde_json::from_slice(&self.envelope)?;
                return Ok((list.types, list.metadata));
            }
            Phase::BeforeRoot => "expected a list object, found an empty body".to_owned(),
            Phase::Root | Phase::Items => format!(
                "unexpected end of the body after {} bytes (truncated list)",
                self.offset
            ),
        };
        Err(<serde_json::Error as serde::de::Error>::custom(msg))
    }

    /// Bytes held between chunks: the envelope so far and the open element.
    #[cfg(test)]
    fn buffered(&self) -> usize {
        self.envelope.len() + self.item.len()
    }
}

/// Whether a top-level key (with its quotes) is `items`, after unescaping as serde does.
fn is_items_key(key: &[u8]) -> bool {
    if key == b"\"items\"" {
        return true;
    }
    key.contains(&b'\\') && serde_json::from_slice::<String>(key).is_ok_and(|k| k == "items")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
}
