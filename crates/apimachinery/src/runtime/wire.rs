//! Port of the protobuf wire helpers that gogo-protobuf generates into every Kubernetes
//! `generated.pb.go` (`encodeVarintGenerated`, `sovGenerated`, `skipGenerated`, and the
//! `Unmarshal` loops), written once here instead of once per package.
//!
//! Invariant: a [`Reader`] never reads past the slice it was given, and a length prefix is
//! checked against the bytes that are actually there before anything is sliced or allocated,
//! so a frame that claims 4 GB fails with [`ProtoError::Truncated`] instead of allocating.
//! Nesting is capped at [`MAX_DEPTH`] messages, as Go's decoder caps recursion.
//!
//! Data flow: a type implements [`Message`] by routing each field number to its Rust field;
//! each Rust field type implements [`Field`], which knows how that value is read
//! (`merge_field`), sized (`field_len`) and written (`encode_field`). Strings are read
//! straight from the input into shared [`Str`]s; nothing passes through an intermediate tree.
//! An embedded Go struct (`ProbeHandler` in `Probe`, `VolumeSource` in `Volume`) is a nested
//! message on the wire though JSON inlines it; the generated code reads it into the parent's
//! fields. A repeated field reserves its whole run before its first element
//! ([`Reader::repeated_run`]), so each vector is allocated once, at its exact size.
//!
//! Differs from Go: Go's generated code marshals back to front into a buffer sized by
//! `Size()`; this writes front to back, asking nested messages for their length first (as
//! prost does). Strings must be UTF-8 (Go does not check); a field that is not is an error.

use thin_vec::ThinVec;

use crate::{ByteString, Str, StrMap};

/// Deepest message nesting a decoder follows. Differs from Go: gogo's generated `Unmarshal`
/// has no limit (a goroutine's stack grows); a Rust thread's stack does not, so bytes that
/// nest messages without end must fail before they overflow it. Kubernetes types nest far
/// less deeply than this.
pub const MAX_DEPTH: u32 = 100;

/// A protobuf wire type: how the bytes after a field's key are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireType {
    /// Varint: int32, int64, uint64, bool, enum.
    Varint = 0,
    /// Eight little-endian bytes: fixed64, double.
    Fixed64 = 1,
    /// A varint length, then that many bytes: string, bytes, message, packed repeated.
    Len = 2,
    /// Deprecated group start; skipped.
    StartGroup = 3,
    /// Deprecated group end.
    EndGroup = 4,
    /// Four little-endian bytes: fixed32, float.
    Fixed32 = 5,
}

/// Why protobuf bytes could not be decoded. Go returns `ErrInvalidLengthGenerated`,
/// `ErrIntOverflowGenerated`, `ErrUnexpectedEndOfGroupGenerated` and formatted "illegal tag" /
/// "wrong wireType" errors from each `generated.pb.go`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// The input ended inside a value, or a length prefix claims more bytes than remain.
    #[error("protobuf: unexpected end of input (need {needed} bytes, {remaining} remain)")]
    Truncated {
        /// Bytes the value needs.
        needed: u64,
        /// Bytes left in the enclosing message.
        remaining: usize,
    },
    /// A varint longer than ten bytes. Go: `ErrIntOverflowGenerated`.
    #[error("protobuf: integer overflow")]
    VarintOverflow,
    /// Field number 0, or a wire type outside 0–5. Go: `illegal tag`.
    #[error("protobuf: illegal tag {0}")]
    IllegalTag(u64),
    /// A known field arrived with the wrong wire type. Go: `wrong wireType`.
    #[error("protobuf: field {field} of {message}: wrong wire type {got:?}")]
    WrongWireType {
        /// The message type.
        message: &'static str,
        /// Field number.
        field: u32,
        /// What arrived.
        got: WireType,
    },
    /// A string field that is not UTF-8.
    #[error("protobuf: string field is not valid UTF-8")]
    InvalidUtf8,
    /// Messages nested deeper than [`MAX_DEPTH`].
    #[error("protobuf: messages nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// The body does not start with the `k8s\0` magic. Go: `errNotMarked`-style refusal.
    #[error("protobuf: body does not start with the \"k8s\\x00\" prefix")]
    NotMarked,
    /// The envelope names another type than the one asked for.
    #[error(
        "protobuf: body holds {got_api_version}/{got_kind}, expected {want_api_version}/{want_kind}"
    )]
    KindMismatch {
        /// apiVersion the caller expects.
        want_api_version: String,
        /// kind the caller expects.
        want_kind: String,
        /// apiVersion in the envelope.
        got_api_version: String,
        /// kind in the envelope.
        got_kind: String,
    },
    /// A value that decodes but is not valid for its type (a malformed Quantity, raw JSON
    /// that does not parse, a frame above the size limit).
    #[error("protobuf: {0}")]
    Invalid(String),
}

/// A cursor over one message's bytes. Port of the index arithmetic in gogo's `Unmarshal`.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    /// The bytes of the last key [`Reader::key`] read, so a repeated field can count the
    /// elements that follow it ([`Reader::repeated_run`]).
    last_key: &'a [u8],
    depth: u32,
    skip_managed_fields: bool,
}

impl<'a> Reader<'a> {
    /// A reader over a whole top-level message.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            last_key: &[],
            depth: 0,
            skip_managed_fields: false,
        }
    }

    /// Makes `ObjectMeta` skip `managedFields` (field 17) at every depth, as the JSON
    /// decoder's seed does (see [`crate::meta::managed_fields`]).
    #[must_use]
    pub fn skipping_managed_fields(mut self, skip: bool) -> Self {
        self.skip_managed_fields = skip;
        self
    }

    /// True if `managedFields` are to be skipped.
    pub fn skips_managed_fields(&self) -> bool {
        self.skip_managed_fields
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    /// True once every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Reads a varint. Go: the `for shift := uint(0); ; shift += 7` loops.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value = 0u64;
        for (i, &b) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        if self.buf.len() < 10 {
            Err(ProtoError::Truncated {
                needed: self.buf.len() as u64 + 1,
                remaining: self.buf.len(),
            })
        } else {
            Err(ProtoError::VarintOverflow)
        }
    }

    /// Reads the next field key, or `None` at the end of the message.
    #[inline]
    pub fn key(&mut self) -> Result<Option<(u32, WireType)>, ProtoError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let start = self.buf;
        let key = self.varint()?;
        self.last_key = &start[..start.len() - self.buf.len()];
        let wire = match key & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            _ => return Err(ProtoError::IllegalTag(key)),
        };
        let field = key >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(ProtoError::IllegalTag(key));
        }
        Ok(Some((field as u32, wire)))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], ProtoError> {
        if n > self.buf.len() as u64 {
            return Err(ProtoError::Truncated {
                needed: n,
                remaining: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n as usize);
        self.buf = tail;
        Ok(head)
    }

    /// Reads a length-delimited value's bytes, borrowed from the input.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8], ProtoError> {
        let n = self.varint()?;
        self.take(n)
    }

    /// Reads a length-delimited UTF-8 string, borrowed from the input.
    #[inline]
    pub fn str(&mut self) -> Result<&'a str, ProtoError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| ProtoError::InvalidUtf8)
    }

    /// Reads eight little-endian bytes.
    pub fn fixed64(&mut self) -> Result<u64, ProtoError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads four little-endian bytes.
    pub fn fixed32(&mut self) -> Result<u32, ProtoError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }

    /// A reader over the next length-delimited value, one level deeper.
    #[inline]
    pub fn nested(&mut self) -> Result<Reader<'a>, ProtoError> {
        if self.depth >= MAX_DEPTH {
            return Err(ProtoError::TooDeep);
        }
        let buf = self.bytes()?;
        Ok(Reader {
            buf,
            last_key: &[],
            depth: self.depth + 1,
            skip_managed_fields: self.skip_managed_fields,
        })
    }

    /// How many elements of the repeated field whose key was just read follow back to back,
    /// this one included: what a vector reserves before its first element, so it is allocated
    /// once at its exact size. Go's encoder writes a repeated field's elements together, so
    /// the count is exact for Go's bytes; elements split into several runs only cost a regrowth.
    /// Counting stops quietly at bytes that do not parse; decoding reports them.
    pub fn repeated_run(&self, wire: WireType) -> usize {
        let mut ahead = Reader {
            buf: self.buf,
            last_key: &[],
            depth: self.depth,
            skip_managed_fields: false,
        };
        if self.last_key.is_empty() || ahead.skip(wire).is_err() {
            return 1;
        }
        let mut n = 1;
        while let Some(rest) = ahead.buf.strip_prefix(self.last_key) {
            ahead.buf = rest;
            if ahead.skip(wire).is_err() {
                break;
            }
            n += 1;
        }
        n
    }

    /// Consumes the next key if it repeats the last one read (the next element of the same
    /// repeated field), so a field can read its whole run in one call.
    pub fn eat_repeated_key(&mut self) -> bool {
        match self.buf.strip_prefix(self.last_key) {
            Some(rest) if !self.last_key.is_empty() => {
                self.buf = rest;
                true
            }
            _ => false,
        }
    }

    /// Skips a field's value. Port of `skipGenerated`: unknown fields are ignored.
    pub fn skip(&mut self, wire: WireType) -> Result<(), ProtoError> {
        match wire {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.take(8).map(drop),
            WireType::Len => self.bytes().map(drop),
            WireType::Fixed32 => self.take(4).map(drop),
            WireType::StartGroup => {
                if self.depth >= MAX_DEPTH {
                    return Err(ProtoError::TooDeep);
                }
                self.depth += 1;
                loop {
                    match self.key()? {
                        None => {
                            return Err(ProtoError::Truncated {
                                needed: 1,
                                remaining: 0,
                            });
                        }
                        Some((_, WireType::EndGroup)) => break,
                        Some((_, w)) => self.skip(w)?,
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            WireType::EndGroup => Err(ProtoError::Invalid("unexpected end group".into())),
        }
    }

    /// Reads every field of a message into `msg`: the body of gogo's `Unmarshal`.
    pub fn merge_into<M: Message>(&mut self, msg: &mut M) -> Result<(), ProtoError> {
        while let Some((field, wire)) = self.key()? {
            msg.merge_field(field, wire, self)?;
        }
        msg.finish();
        Ok(())
    }
}

/// A Kubernetes API message: port of gogo's generated `Unmarshal`, `Size` and `MarshalTo`
/// methods (`func (m *Pod) Unmarshal(dAtA []byte) error`, `func (m *Pod) Size() int`).
pub trait Message: Default {
    /// Go's message name, for errors.
    const NAME: &'static str;

    /// Reads one field whose key was just read; skips fields it does not know.
    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError>;

    /// Called once the message's last field has been read (to shrink arrays to size).
    fn finish(&mut self) {}

    /// Bytes [`Message::encode_raw`] will write. Go: `Size`.
    fn encoded_len(&self) -> usize;

    /// Writes the fields (no length prefix). Go: `MarshalToSizedBuffer`.
    fn encode_raw(&self, out: &mut Vec<u8>);

    /// Decodes a whole message. Go: `Unmarshal`.
    fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        Self::decode_from(Reader::new(bytes))
    }

    /// Decodes a whole message from a reader (which may carry options).
    fn decode_from(mut r: Reader<'_>) -> Result<Self, ProtoError> {
        let mut m = Self::default();
        r.merge_into(&mut m)?;
        Ok(m)
    }

    /// Encodes a whole message. Go: `Marshal`.
    fn encode_to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_raw(&mut out);
        out
    }
}

/// Bytes a varint takes. Go: `sovGenerated`.
#[inline]
pub fn varint_len(v: u64) -> usize {
    ((64 - (v | 1).leading_zeros() as usize) * 9 + 64) / 64
}

/// Writes a varint. Go: `encodeVarintGenerated`.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Writes a field key.
#[inline]
pub fn put_key(out: &mut Vec<u8>, field: u32, wire: WireType) {
    put_varint(out, (u64::from(field) << 3) | wire as u64);
}

/// Bytes a field key takes.
#[inline]
pub fn key_len(field: u32) -> usize {
    varint_len(u64::from(field) << 3)
}

/// Writes a length-delimited field.
#[inline]
pub fn put_len_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, WireType::Len);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Bytes a length-delimited field of `n` bytes takes.
#[inline]
pub fn len_field_len(field: u32, n: usize) -> usize {
    key_len(field) + varint_len(n as u64) + n
}

/// Writes a message as a length-delimited field (always, even when empty: Go writes every
/// non-pointer struct field).
pub fn put_message_field<M: Message>(out: &mut Vec<u8>, field: u32, m: &M) {
    put_key(out, field, WireType::Len);
    put_varint(out, m.encoded_len() as u64);
    m.encode_raw(out);
}

fn wrong(message: &'static str, field: u32, got: WireType) -> ProtoError {
    ProtoError::wrong_wire_type(message, field, got)
}

impl ProtoError {
    /// A known field that arrived with the wrong wire type. Go: `wrong wireType`.
    pub fn wrong_wire_type(message: &'static str, field: u32, got: WireType) -> Self {
        ProtoError::WrongWireType {
            message,
            field,
            got,
        }
    }
}

/// Checks a field's wire type.
#[inline]
pub fn expect_wire(
    message: &'static str,
    field: u32,
    got: WireType,
    want: WireType,
) -> Result<(), ProtoError> {
    if got == want {
        Ok(())
    } else {
        Err(wrong(message, field, got))
    }
}

/// How one Rust field type travels as a protobuf field. Generated [`Message`] impls route
/// each field number to `self.<field>.merge_field(..)` and so on.
pub trait Field {
    /// The wire type of one element when a repeated field of this type arrives packed;
    /// `None` for strings and messages, which never pack.
    const PACKED_WIRE: Option<WireType> = None;

    /// Reads one occurrence of the field (a repeated field: one element, or a packed run).
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError>;
    /// Bytes this field takes with its key(s); 0 when it is not written.
    fn field_len(&self, field: u32) -> usize;
    /// Writes the field with its key(s), or nothing.
    fn encode_field(&self, field: u32, out: &mut Vec<u8>);

    /// Reads a field into an `Option` slot. The default fills the slot and merges into it;
    /// types whose zero value means "unset" (Time) override it.
    fn merge_option(
        slot: &mut Option<Self>,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError>
    where
        Self: Sized + Default,
    {
        slot.get_or_insert_with(Default::default)
            .merge_field(wire, r)
    }

    /// Shrinks storage once decoding is done (arrays grow while decoding).
    fn finish_field(&mut self) {}
}

/// Decodes one field of a message through [`Field`], with the message's name for errors.
#[inline]
pub fn merge<F: Field>(
    slot: &mut F,
    message: &'static str,
    field: u32,
    wire: WireType,
    r: &mut Reader<'_>,
) -> Result<(), ProtoError> {
    slot.merge_field(wire, r).map_err(|e| match e {
        ProtoError::WrongWireType { got, .. } => wrong(message, field, got),
        other => other,
    })
}

fn wire_err(got: WireType) -> ProtoError {
    wrong("", 0, got)
}

impl Field for Str {
    #[inline]
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        if wire != WireType::Len {
            return Err(wire_err(wire));
        }
        *self = Str::new(r.str()?);
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        len_field_len(field, self.len())
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        put_len_field(out, field, self.as_bytes());
    }
}

impl Field for ByteString {
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        if wire != WireType::Len {
            return Err(wire_err(wire));
        }
        self.0 = r.bytes()?.to_vec();
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        len_field_len(field, self.0.len())
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        put_len_field(out, field, &self.0);
    }
}

macro_rules! varint_field {
    ($t:ty, $from:expr, $to:expr) => {
        impl Field for $t {
            const PACKED_WIRE: Option<WireType> = Some(WireType::Varint);

            #[inline]
            fn merge_field(
                &mut self,
                wire: WireType,
                r: &mut Reader<'_>,
            ) -> Result<(), ProtoError> {
                if wire != WireType::Varint {
                    return Err(wire_err(wire));
                }
                let v = r.varint()?;
                *self = $from(v);
                Ok(())
            }
            fn field_len(&self, field: u32) -> usize {
                key_len(field) + varint_len($to(*self))
            }
            fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
                put_key(out, field, WireType::Varint);
                put_varint(out, $to(*self));
            }
        }
    };
}

// int32 is sign-extended to 64 bits on the wire, as in Go.
varint_field!(i32, |v: u64| v as i32, |x: i32| i64::from(x) as u64);
varint_field!(i64, |v: u64| v as i64, |x: i64| x as u64);
varint_field!(u64, |v: u64| v, |x: u64| x);
varint_field!(bool, |v: u64| v != 0, |x: bool| u64::from(x));

impl Field for f64 {
    const PACKED_WIRE: Option<WireType> = Some(WireType::Fixed64);

    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        match wire {
            WireType::Fixed64 => *self = f64::from_bits(r.fixed64()?),
            WireType::Fixed32 => *self = f64::from(f32::from_bits(r.fixed32()?)),
            _ => return Err(wire_err(wire)),
        }
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        key_len(field) + 8
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        put_key(out, field, WireType::Fixed64);
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }
}

impl<T: Field + Default> Field for Option<T> {
    #[inline]
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        T::merge_option(self, wire, r)
    }
    fn field_len(&self, field: u32) -> usize {
        self.as_ref().map_or(0, |v| v.field_len(field))
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        if let Some(v) = self {
            v.encode_field(field, out);
        }
    }
    fn finish_field(&mut self) {
        if let Some(v) = self {
            v.finish_field();
        }
    }
}

impl<T: Field + Default> Field for Box<T> {
    #[inline]
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        (**self).merge_field(wire, r)
    }
    fn field_len(&self, field: u32) -> usize {
        (**self).field_len(field)
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        (**self).encode_field(field, out)
    }
    fn finish_field(&mut self) {
        (**self).finish_field()
    }
}

impl<T: Field + Default> Field for ThinVec<T> {
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        // A packed run of scalars: a Len field whose elements are varints or fixed-width.
        // Go's encoder never packs (proto2 repeated fields are unpacked by default), but a
        // conforming decoder accepts both forms.
        if let (WireType::Len, Some(elem_wire)) = (wire, T::PACKED_WIRE) {
            let mut run = r.nested()?;
            while !run.is_empty() {
                let mut e = T::default();
                e.merge_field(elem_wire, &mut run)?;
                self.push(e);
            }
            return Ok(());
        }
        if self.capacity() == 0 {
            // The first element: size the vector for the whole run at once (Go appends and
            // lets the slice grow; here the exact size is what the cache keeps).
            self.reserve_exact(r.repeated_run(wire));
        }
        let mut v = T::default();
        v.merge_field(wire, r)?;
        self.push(v);
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        self.iter().map(|v| v.field_len(field)).sum()
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        for v in self {
            v.encode_field(field, out);
        }
    }
    fn finish_field(&mut self) {
        if self.capacity() != self.len() {
            self.shrink_to_fit();
        }
    }
}

/// Reads one `{1: key, 2: value}` map entry.
fn read_map_entry<V: Field + Default>(r: &mut Reader<'_>) -> Result<(Str, V), ProtoError> {
    let mut entry = r.nested()?;
    let mut key = Str::default();
    let mut value = V::default();
    while let Some((field, wire)) = entry.key()? {
        match field {
            1 => key.merge_field(wire, &mut entry)?,
            2 => value.merge_field(wire, &mut entry)?,
            _ => entry.skip(wire)?,
        }
    }
    value.finish_field();
    Ok((key, value))
}

impl<V: Field + Default> Field for StrMap<V> {
    /// One map entry: a message `{1: key, 2: value}`. A repeated key replaces the earlier
    /// value, as Go's map assignment does. The first entry reads the entries that follow it
    /// back to back too, so the map is built once instead of once per entry.
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        if wire != WireType::Len {
            return Err(wire_err(wire));
        }
        if !self.is_empty() {
            let (key, value) = read_map_entry(r)?;
            self.insert(key, value);
            return Ok(());
        }
        let run = r.repeated_run(wire);
        let mut entries = Vec::with_capacity(run);
        entries.push(read_map_entry(r)?);
        while entries.len() < run && r.eat_repeated_key() {
            entries.push(read_map_entry(r)?);
        }
        *self = StrMap::from_vec(entries);
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        self.as_slice()
            .iter()
            .map(|(k, v)| len_field_len(field, k.field_len(1) + v.field_len(2)))
            .sum()
    }
    /// Entries in key order, as gogo writes them (it sorts map keys).
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        for (k, v) in self.as_slice() {
            put_key(out, field, WireType::Len);
            put_varint(out, (k.field_len(1) + v.field_len(2)) as u64);
            k.encode_field(1, out);
            v.encode_field(2, out);
        }
    }
}

/// Implements [`Field`] for [`Message`] types: a message travels as a length-delimited
/// field, written even when empty (Go writes every non-pointer struct field).
#[macro_export]
macro_rules! impl_message_field {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::runtime::wire::Field for $t {
            #[inline]
            fn merge_field(
                &mut self,
                wire: $crate::runtime::wire::WireType,
                r: &mut $crate::runtime::wire::Reader<'_>,
            ) -> ::std::result::Result<(), $crate::runtime::wire::ProtoError> {
                $crate::runtime::wire::merge_message(self, wire, r)
            }
            fn field_len(&self, field: u32) -> usize {
                $crate::runtime::wire::len_field_len(
                    field,
                    $crate::runtime::wire::Message::encoded_len(self),
                )
            }
            fn encode_field(&self, field: u32, out: &mut ::std::vec::Vec<u8>) {
                $crate::runtime::wire::put_message_field(out, field, self)
            }
        }
    )*};
}

/// Reads a message whose one field is `1: bytes` or `1: string` (`Quantity`, `FieldsV1`,
/// `RawExtension`): the bytes of its last field 1, `None` when it has none; other fields are
/// skipped.
pub fn read_single_bytes<'a>(
    message: &'static str,
    wire: WireType,
    r: &mut Reader<'a>,
) -> Result<Option<&'a [u8]>, ProtoError> {
    if wire != WireType::Len {
        return Err(wrong(message, 0, wire));
    }
    let mut m = r.nested()?;
    let mut found = None;
    while let Some((f, w)) = m.key()? {
        match (f, w) {
            (1, WireType::Len) => found = Some(m.bytes()?),
            (1, got) => return Err(wrong(message, 1, got)),
            _ => m.skip(w)?,
        }
    }
    Ok(found)
}

/// Bytes of such a message written as field `field`; field 1 is left out when `bytes` is
/// empty unless `always` (gogo writes a nil `[]byte` as nothing, a string always).
pub fn single_bytes_len(field: u32, bytes: &[u8], always: bool) -> usize {
    let body = if bytes.is_empty() && !always {
        0
    } else {
        len_field_len(1, bytes.len())
    };
    len_field_len(field, body)
}

/// Writes such a message as field `field` (see [`single_bytes_len`]).
pub fn put_single_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8], always: bool) {
    put_key(out, field, WireType::Len);
    if bytes.is_empty() && !always {
        put_varint(out, 0);
    } else {
        put_varint(out, len_field_len(1, bytes.len()) as u64);
        put_len_field(out, 1, bytes);
    }
}

/// Merges a length-delimited nested message into `m` (proto merge semantics: a message
/// field that appears twice is merged, not replaced).
#[inline]
pub fn merge_message<M: Message>(
    m: &mut M,
    wire: WireType,
    r: &mut Reader<'_>,
) -> Result<(), ProtoError> {
    if wire != WireType::Len {
        return Err(wrong(M::NAME, 0, wire));
    }
    r.nested()?.merge_into(m)
}

impl Field for String {
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        if wire != WireType::Len {
            return Err(wire_err(wire));
        }
        r.str()?.clone_into(self);
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        len_field_len(field, self.len())
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        put_len_field(out, field, self.as_bytes());
    }
}

/// Reads a Go non-pointer field with `omitempty` into an `Option`: Go's encoder always
/// writes such a field, zero or not, while its JSON leaves a zero value out; reading the
/// zero value as `None` makes the object the same whichever way it travelled.
#[inline]
pub fn merge_omitempty<F: Field + Default + PartialEq>(
    slot: &mut Option<F>,
    message: &'static str,
    field: u32,
    wire: WireType,
    r: &mut Reader<'_>,
) -> Result<(), ProtoError> {
    let mut v = F::default();
    merge(&mut v, message, field, wire, r)?;
    *slot = if v == F::default() { None } else { Some(v) };
    Ok(())
}

/// Reads a string that is unique by nature (name, uid, resourceVersion) without putting it
/// in the shared table; the empty string reads as `None` (a Go non-pointer `omitempty` field).
#[inline]
pub fn merge_unshared(
    slot: &mut Option<Str>,
    message: &'static str,
    field: u32,
    wire: WireType,
    r: &mut Reader<'_>,
) -> Result<(), ProtoError> {
    if wire != WireType::Len {
        return Err(wrong(message, field, wire));
    }
    let s = r.str()?;
    *slot = (!s.is_empty()).then(|| Str::unshared(s));
    Ok(())
}

/// Bytes a Go non-pointer field takes: Go writes it always, the zero value when unset.
#[inline]
pub fn always_len<F: Field + Default>(slot: &Option<F>, field: u32) -> usize {
    match slot {
        Some(v) => v.field_len(field),
        None => F::default().field_len(field),
    }
}

/// Writes a Go non-pointer field: always, the zero value when unset (as gogo does).
#[inline]
pub fn encode_always<F: Field + Default>(slot: &Option<F>, field: u32, out: &mut Vec<u8>) {
    match slot {
        Some(v) => v.encode_field(field, out),
        None => F::default().encode_field(field, out),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths_match_the_encoder() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
            assert_eq!(Reader::new(&out).varint(), Ok(v));
        }
    }

    #[test]
    fn negative_int32_is_sign_extended_to_ten_bytes() {
        let mut out = Vec::new();
        (-1i32).encode_field(1, &mut out);
        assert_eq!(out.len(), 11);
        let mut r = Reader::new(&out);
        assert_eq!(r.key(), Ok(Some((1, WireType::Varint))));
        let mut v = 0i32;
        v.merge_field(WireType::Varint, &mut r).unwrap();
        assert_eq!(v, -1);
    }

    #[test]
    fn a_length_that_claims_four_gigabytes_is_truncated_not_allocated() {
        // key 1/Len, then a varint of 0xFFFF_FFFF, then three bytes.
        let bytes = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3];
        let mut r = Reader::new(&bytes);
        r.key().unwrap();
        assert_eq!(
            r.bytes(),
            Err(ProtoError::Truncated {
                needed: 0xFFFF_FFFF,
                remaining: 3
            })
        );
    }

    #[test]
    fn an_eleven_byte_varint_overflows() {
        let bytes = [0xffu8; 11];
        assert_eq!(
            Reader::new(&bytes).varint(),
            Err(ProtoError::VarintOverflow)
        );
        assert!(matches!(
            Reader::new(&[0x80]).varint(),
            Err(ProtoError::Truncated { .. })
        ));
    }

    #[test]
    fn field_zero_and_wire_types_six_and_seven_are_illegal() {
        assert_eq!(Reader::new(&[0x02]).key(), Err(ProtoError::IllegalTag(2)));
        assert_eq!(Reader::new(&[0x0e]).key(), Err(ProtoError::IllegalTag(14)));
    }

    #[test]
    fn unknown_fields_of_every_wire_type_are_skipped() {
        let mut out = Vec::new();
        put_key(&mut out, 9, WireType::Varint);
        put_varint(&mut out, 300);
        put_key(&mut out, 10, WireType::Fixed64);
        out.extend_from_slice(&[0; 8]);
        put_len_field(&mut out, 11, b"abc");
        put_key(&mut out, 12, WireType::Fixed32);
        out.extend_from_slice(&[0; 4]);
        put_key(&mut out, 13, WireType::StartGroup);
        put_key(&mut out, 1, WireType::Varint);
        put_varint(&mut out, 1);
        put_key(&mut out, 13, WireType::EndGroup);
        let mut r = Reader::new(&out);
        while let Some((_, w)) = r.key().unwrap() {
            r.skip(w).unwrap();
        }
        assert!(r.is_empty());
    }

    #[test]
    fn repeated_scalars_decode_packed_and_unpacked() {
        let mut unpacked = Vec::new();
        for v in [1i32, 2, 300] {
            v.encode_field(4, &mut unpacked);
        }
        let mut packed_body = Vec::new();
        for v in [1u64, 2, 300] {
            put_varint(&mut packed_body, v);
        }
        let mut packed = Vec::new();
        put_len_field(&mut packed, 4, &packed_body);
        for bytes in [unpacked, packed] {
            let mut got: ThinVec<i32> = ThinVec::new();
            let mut r = Reader::new(&bytes);
            while let Some((_, w)) = r.key().unwrap() {
                got.merge_field(w, &mut r).unwrap();
            }
            assert_eq!(got.as_slice(), &[1, 2, 300]);
        }
    }

    #[test]
    fn a_repeated_field_is_sized_for_its_run_before_its_first_element() {
        // Field 4 three times back to back, then field 5, then field 4 once more.
        let mut out = Vec::new();
        for v in ["a", "bb", "ccc"] {
            put_len_field(&mut out, 4, v.as_bytes());
        }
        put_key(&mut out, 5, WireType::Varint);
        put_varint(&mut out, 7);
        put_len_field(&mut out, 4, b"d");
        let mut r = Reader::new(&out);
        assert_eq!(r.key(), Ok(Some((4, WireType::Len))));
        assert_eq!(r.repeated_run(WireType::Len), 3);

        let mut got: ThinVec<Str> = ThinVec::new();
        let mut r = Reader::new(&out);
        let mut capacity_after_first = None;
        while let Some((field, w)) = r.key().unwrap() {
            if field == 4 {
                got.merge_field(w, &mut r).unwrap();
                capacity_after_first.get_or_insert(got.capacity());
            } else {
                r.skip(w).unwrap();
            }
        }
        assert_eq!(capacity_after_first, Some(3));
        assert_eq!(got.len(), 4);
        got.finish_field();
        assert_eq!(got.capacity(), 4);
    }

    #[test]
    fn a_run_cut_short_counts_only_the_elements_that_parse() {
        let mut out = Vec::new();
        put_len_field(&mut out, 4, b"a");
        put_len_field(&mut out, 4, b"b");
        put_key(&mut out, 4, WireType::Len);
        put_varint(&mut out, 100); // claims 100 bytes that are not there
        let mut r = Reader::new(&out);
        r.key().unwrap();
        assert_eq!(r.repeated_run(WireType::Len), 2);
        // Before any key there is nothing to repeat.
        assert_eq!(Reader::new(&out).repeated_run(WireType::Len), 1);
    }

    #[test]
    fn map_entries_are_written_sorted_and_read_back() {
        let m: StrMap = [("b", "2"), ("a", "1")].into();
        let mut out = Vec::new();
        m.encode_field(11, &mut out);
        assert_eq!(out.len(), m.field_len(11));
        let mut got = StrMap::new();
        let mut r = Reader::new(&out);
        while let Some((_, w)) = r.key().unwrap() {
            got.merge_field(w, &mut r).unwrap();
        }
        assert_eq!(got, m);
        assert_eq!(got.as_slice()[0].0.as_str(), "a");
    }

    #[test]
    fn map_entries_in_any_order_and_split_runs_keep_the_last_value_of_a_key() {
        let entry = |k: &str, v: &str| {
            let mut e = Vec::new();
            put_len_field(&mut e, 1, k.as_bytes());
            put_len_field(&mut e, 2, v.as_bytes());
            e
        };
        let mut out = Vec::new();
        for (k, v) in [("c", "1"), ("a", "2"), ("c", "3")] {
            put_len_field(&mut out, 11, &entry(k, v));
        }
        put_key(&mut out, 12, WireType::Varint);
        put_varint(&mut out, 0);
        for (k, v) in [("b", "4"), ("a", "5")] {
            put_len_field(&mut out, 11, &entry(k, v));
        }
        let mut got = StrMap::new();
        let mut r = Reader::new(&out);
        while let Some((field, w)) = r.key().unwrap() {
            if field == 11 {
                got.merge_field(w, &mut r).unwrap();
            } else {
                r.skip(w).unwrap();
            }
        }
        let want: StrMap = [("a", "5"), ("b", "4"), ("c", "3")].into();
        assert_eq!(got, want);
    }

    #[test]
    fn invalid_utf8_in_a_string_is_an_error() {
        let mut out = Vec::new();
        put_len_field(&mut out, 1, &[0xff, 0xfe]);
        let mut r = Reader::new(&out);
        let (_, w) = r.key().unwrap().unwrap();
        let mut s = Str::default();
        assert_eq!(s.merge_field(w, &mut r), Err(ProtoError::InvalidUtf8));
    }
}
