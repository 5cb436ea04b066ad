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
#[path = "list_stream_tests.rs"]
mod tests;
