//! A protobuf LIST response body (`k8s\0` + `runtime.Unknown{typeMeta, raw: XxxList}`),
//! decoded item by item as its bytes arrive: the protobuf twin of [`super::list_stream`].
//!
//! Differs from Go: client-go reads the whole body before `Unmarshal`; here each item is
//! decoded as soon as its last byte is in, so decoding overlaps the transfer and the body is
//! never held whole (a 10,000-pod list is about 37 MB of protobuf).
//!
//! Data flow: body chunks → `buf` → [`ProtobufListDecoder::push`] walks the envelope: the magic,
//! then the `Unknown` fields one by one (`typeMeta` is decoded and checked against the list
//! kind asked for); at field 2, `raw`, it does not wait for the whole field but walks the
//! `List` message inside it, field by field: `metadata` (ListMeta) and each `items` entry are
//! decoded when complete and dropped from `buf`; fields 3 and 4 and unknown fields are
//! skipped. [`ProtobufListDecoder::finish`] checks that the body ended between fields.
//!
//! Invariants: `buf` holds at most one incomplete field (plus the chunk being walked), never
//! the body; a length prefix is never used to allocate, only compared with the bytes present,
//! so a bogus length costs nothing until its bytes arrive (and the body is finite). A field of
//! `raw` that claims to run past `raw`'s end, a wrong kind, a truncated body or a malformed
//! field is an error; nothing here panics on input.

use apimachinery::runtime::protobuf::{MAGIC, ProtobufCodec, check_kind, decode_unknown};
use apimachinery::runtime::wire::{Message, ProtoError, Reader, WireType};

use crate::meta::{List, ListMeta};

/// Where the walk is in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the four magic bytes.
    Magic,
    /// Between fields of the `Unknown` envelope.
    Envelope,
    /// Inside field 2 (`raw`), with this many bytes of it not yet walked.
    Raw(u64),
}

/// The incremental decoder of one protobuf list body.
pub(crate) struct ProtobufListDecoder<'c, T> {
    codec: &'c ProtobufCodec<T>,
    want: (&'c str, &'c str),
    strip: bool,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    start: usize,
    state: State,
    list: List<T>,
    saw_raw: bool,
}

/// What one step of the walk found.
enum Step {
    /// A field was consumed; walk on.
    Progress,
    /// The next field is not complete yet.
    NeedMore,
}

/// A field's key and the length of its header (key plus, for `Len`, the length varint),
/// or `None` if the header itself is still incomplete.
fn peek_header(avail: &[u8]) -> Result<Option<(u32, WireType, usize, u64)>, ProtoError> {
    let mut r = Reader::new(avail);
    let (field, wire) = match r.key() {
        Ok(Some(k)) => k,
        Ok(None) | Err(ProtoError::Truncated { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = match wire {
        WireType::Len => match r.varint() {
            Ok(n) => n,
            Err(ProtoError::Truncated { .. }) => return Ok(None),
            Err(e) => return Err(e),
        },
        WireType::Varint => 0,
        WireType::Fixed64 => 8,
        WireType::Fixed32 => 4,
        WireType::StartGroup | WireType::EndGroup => {
            return Err(ProtoError::Invalid(
                "group fields are not used by Kubernetes".into(),
            ));
        }
    };
    Ok(Some((field, wire, avail.len() - r.remaining().len(), len)))
}

/// The total size of a varint field's value at the start of `rest`, if complete.
fn varint_size(rest: &[u8]) -> Result<Option<usize>, ProtoError> {
    let mut r = Reader::new(rest);
    match r.varint() {
        Ok(_) => Ok(Some(rest.len() - r.remaining().len())),
        Err(ProtoError::Truncated { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

impl<'c, T> ProtobufListDecoder<'c, T> {
    /// A decoder for a list of `codec`'s type; `want` is the list's (apiVersion, kind).
    pub(crate) fn new(codec: &'c ProtobufCodec<T>, want: (&'c str, &'c str), strip: bool) -> Self {
        ProtobufListDecoder {
            codec,
            want,
            strip,
            buf: Vec::new(),
            start: 0,
            state: State::Magic,
            list: List {
                types: Default::default(),
                metadata: ListMeta::default(),
                items: Vec::new(),
            },
            saw_raw: false,
        }
    }

    /// Takes the next chunk of the body and decodes every field it completes.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<(), ProtoError> {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
        while let Step::Progress = self.step()? {}
        Ok(())
    }

    /// The list, once the body has ended.
    pub(crate) fn finish(mut self) -> Result<List<T>, ProtoError> {
        let left = self.buf.len() - self.start;
        if self.state != State::Envelope || left > 0 || !self.saw_raw {
            return Err(ProtoError::Truncated {
                needed: 1,
                remaining: left,
            });
        }
        self.list.items.shrink_to_fit();
        Ok(self.list)
    }

    fn step(&mut self) -> Result<Step, ProtoError> {
        let avail = &self.buf[self.start..];
        match self.state {
            State::Magic => {
                if avail.len() < MAGIC.len() {
                    return Ok(Step::NeedMore);
                }
                if avail[..MAGIC.len()] != MAGIC {
                    return Err(ProtoError::NotMarked);
                }
                self.start += MAGIC.len();
                self.state = State::Envelope;
                Ok(Step::Progress)
            }
            State::Envelope => {
                let Some((field, wire, header, len)) = peek_header(avail)? else {
                    return Ok(Step::NeedMore);
                };
                if field == 2 && wire == WireType::Len {
                    self.start += header;
                    self.state = State::Raw(len);
                    self.saw_raw = true;
                    return Ok(Step::Progress);
                }
                let size = match wire {
                    WireType::Varint => match varint_size(&avail[header..])? {
                        Some(n) => n,
                        None => return Ok(Step::NeedMore),
                    },
                    _ => usize::try_from(len).unwrap_or(usize::MAX),
                };
                if avail.len() - header < size {
                    return Ok(Step::NeedMore);
                }
                if field == 1 && wire == WireType::Len {
                    // Check typeMeta: decode it as an Unknown holding only field 1.
                    let u = decode_unknown(&avail[..header + size])?;
                    check_kind(&u, self.want.0, self.want.1)?;
                    u.api_version.clone_into(&mut self.list.types.api_version);
                    u.kind.clone_into(&mut self.list.types.kind);
                } else if (field == 3 || field == 4) && wire == WireType::Len {
                    let u = decode_unknown(&avail[..header + size])?;
                    check_kind(&u, self.want.0, self.want.1)?;
                }
                self.start += header + size;
                Ok(Step::Progress)
            }
            State::Raw(0) => {
                self.state = State::Envelope;
                Ok(Step::Progress)
            }
            State::Raw(remaining) => {
                let window = &avail[..avail
                    .len()
                    .min(usize::try_from(remaining).unwrap_or(usize::MAX))];
                let Some((field, wire, header, len)) = peek_header(window)? else {
                    if avail.len() as u64 >= remaining {
                        return Err(ProtoError::Invalid(
                            "a field runs past the end of the list message".into(),
                        ));
                    }
                    return Ok(Step::NeedMore);
                };
                let size = match wire {
                    WireType::Varint => match varint_size(&window[header..])? {
                        Some(n) => n as u64,
                        None if avail.len() as u64 >= remaining => {
                            return Err(ProtoError::Invalid(
                                "a field runs past the end of the list message".into(),
                            ));
                        }
                        None => return Ok(Step::NeedMore),
                    },
                    _ => len,
                };
                let total = header as u64 + size;
                if total > remaining {
                    return Err(ProtoError::Invalid(
                        "a field runs past the end of the list message".into(),
                    ));
                }
                if (avail.len() as u64) < total {
                    return Ok(Step::NeedMore);
                }
                let body = &avail[header..header + size as usize];
                match (field, wire) {
                    (1, WireType::Len) => {
                        let mut r = Reader::new(body);
                        r.merge_into(&mut self.list.metadata)?;
                    }
                    (2, WireType::Len) => {
                        let item = self.codec.decode_raw(body, self.strip)?;
                        self.list.items.push(item);
                    }
                    (1 | 2, got) => {
                        return Err(ProtoError::wrong_wire_type(ListMeta::NAME, field, got));
                    }
                    _ => {}
                }
                self.start += total as usize;
                self.state = State::Raw(remaining - total);
                Ok(Step::Progress)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::meta::ObjectMeta;
    use apimachinery::runtime::wire::{Field, merge};

    #[derive(Debug, Default, PartialEq)]
    struct Obj {
        metadata: ObjectMeta,
    }

    impl Message for Obj {
        const NAME: &'static str = "Obj";
        fn merge_field(
            &mut self,
            field: u32,
            wire: WireType,
            r: &mut Reader<'_>,
        ) -> Result<(), ProtoError> {
            match field {
                1 => merge(&mut self.metadata, "Obj", 1, wire, r),
                _ => r.skip(wire),
            }
        }
        fn encoded_len(&self) -> usize {
            self.metadata.field_len(1)
        }
        fn encode_raw(&self, out: &mut Vec<u8>) {
            self.metadata.encode_field(1, out);
        }
    }
    apimachinery::impl_message_field!(Obj);

    fn codec() -> ProtobufCodec<Obj> {
        ProtobufCodec::new(|_, _, _| {})
    }

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../api/tests/fixtures/kube-apiserver-1.32-protobuf/"
    );

    fn decode_in_chunks(body: &[u8], size: usize) -> Result<List<Obj>, ProtoError> {
        let c = codec();
        let mut d = ProtobufListDecoder::new(&c, ("v1", "PodList"), false);
        for chunk in body.chunks(size.max(1)) {
            d.push(chunk)?;
        }
        d.finish()
    }

    #[test]
    fn the_recorded_list_decodes_the_same_at_every_chunk_size() {
        let body = std::fs::read(format!("{FIXTURES}list-pods.pb")).unwrap();
        let whole = codec()
            .decode_list(&body, ("v1", "PodList"), false)
            .unwrap();
        assert!(!whole.items.is_empty());
        for size in [1, 2, 3, 5, 64, 1000, body.len()] {
            let got = decode_in_chunks(&body, size).unwrap();
            assert_eq!(got.items, whole.items, "chunks of {size}");
            assert_eq!(got.metadata, whole.metadata);
            assert_eq!(got.types, whole.types);
        }
    }

    #[test]
    fn every_truncation_is_an_error_and_another_kind_is_refused() {
        let body = std::fs::read(format!("{FIXTURES}list-pods.pb")).unwrap();
        // The body ends with two empty optional fields (contentEncoding, contentType: 4
        // bytes); a cut between fields there is still a whole envelope, any other cut is not.
        let trailer = body.len() - 4;
        assert_eq!(&body[trailer..], &[0x1a, 0x00, 0x22, 0x00]);
        for cut in (0..trailer).chain([trailer + 1, trailer + 3]) {
            assert!(decode_in_chunks(&body[..cut], 7).is_err(), "cut at {cut}");
        }
        for cut in [trailer, trailer + 2] {
            assert!(decode_in_chunks(&body[..cut], 7).is_ok(), "cut at {cut}");
        }
        let c = codec();
        let mut d = ProtobufListDecoder::new(&c, ("v1", "ConfigMapList"), false);
        assert!(matches!(
            d.push(&body),
            Err(ProtoError::KindMismatch { .. })
        ));
    }

    #[test]
    fn a_field_claiming_to_run_past_the_list_is_an_error() {
        // Envelope with raw of 3 bytes whose only field claims 100 bytes.
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(&[0x12, 0x03, 0x12, 0x64, 0x00]);
        assert!(matches!(
            decode_in_chunks(&body, 2),
            Err(ProtoError::Invalid(_))
        ));
    }

    #[test]
    fn random_bytes_never_panic() {
        let body = std::fs::read(format!("{FIXTURES}list-pods.pb")).unwrap();
        for i in 0..body.len() {
            let mut m = body.clone();
            m[i] ^= 0x5a;
            let _ = decode_in_chunks(&m, 13);
        }
    }
}
