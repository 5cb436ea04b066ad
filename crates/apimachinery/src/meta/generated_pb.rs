//! Port of apimachinery `pkg/apis/meta/v1/generated.pb.go` (with `time_proto.go` and
//! `micro_time_proto.go`): the protobuf form of the meta/v1 types, with field numbers from
//! `generated.proto`.
//!
//! Invariant: decoding gives the same value as decoding the server's JSON of the same
//! object. Go's encoder always writes non-pointer fields, zero or not, where its JSON leaves
//! `omitempty` zeros out; such fields read a zero as `None` ([`merge_omitempty`]), and a zero
//! Time (an empty message) reads as `None`, as JSON's `null` does. Encoding writes what Go
//! writes, so a decoded object encodes back to the server's bytes.

use crate::Str;
use crate::impl_message_field;
use crate::meta::{
    Condition, FieldsV1, LabelSelector, LabelSelectorRequirement, ListMeta, ManagedFieldsEntry,
    MicroTime, ObjectMeta, OwnerReference, Time,
};
use crate::runtime::wire::{
    Field, Message, ProtoError, Reader, WireType, always_len, encode_always, key_len,
    len_field_len, merge, merge_omitempty, merge_unshared, put_key, put_single_bytes, put_varint,
    read_single_bytes, single_bytes_len, varint_len,
};

/// Reads a `Timestamp` message `{1: seconds, 2: nanos}`; `None` for the empty message.
fn read_timestamp(wire: WireType, r: &mut Reader<'_>) -> Result<Option<(i64, i32)>, ProtoError> {
    if wire != WireType::Len {
        return Err(ProtoError::wrong_wire_type("Time", 0, wire));
    }
    let mut m = r.nested()?;
    if m.is_empty() {
        return Ok(None);
    }
    let (mut secs, mut nanos) = (0i64, 0i32);
    while let Some((f, w)) = m.key()? {
        match f {
            1 => merge(&mut secs, "Timestamp", f, w, &mut m)?,
            2 => merge(&mut nanos, "Timestamp", f, w, &mut m)?,
            _ => m.skip(w)?,
        }
    }
    Ok(Some((secs, nanos)))
}

fn timestamp_body_len(secs: i64, nanos: i32) -> usize {
    key_len(1) + varint_len(secs as u64) + key_len(2) + varint_len(i64::from(nanos) as u64)
}

fn put_timestamp(out: &mut Vec<u8>, field: u32, zero: bool, secs: i64, nanos: i32) {
    put_key(out, field, WireType::Len);
    if zero {
        // Go: `Time.Marshal` of the zero time is an empty message.
        put_varint(out, 0);
        return;
    }
    put_varint(out, timestamp_body_len(secs, nanos) as u64);
    secs.encode_field(1, out);
    nanos.encode_field(2, out);
}

/// Port of `Time.Unmarshal`/`Time.Marshal` and `ProtoTime` (time_proto.go): `{seconds, nanos}`, the zero time
/// as an empty message. Nanoseconds are dropped on read, as Go does (JSON carries seconds).
impl Field for Time {
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        *self = match read_timestamp(wire, r)? {
            None => Time::default(),
            Some((secs, _)) => Time::from_unix(secs),
        };
        Ok(())
    }
    fn merge_option(
        slot: &mut Option<Self>,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        let mut t = Time::default();
        t.merge_field(wire, r)?;
        *slot = (!t.is_zero()).then_some(t);
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        if self.is_zero() {
            return key_len(field) + 1;
        }
        len_field_len(field, timestamp_body_len(self.unix(), 0))
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        put_timestamp(out, field, self.is_zero(), self.unix(), 0);
    }
}

/// Port of `MicroTime.Unmarshal`/`Marshal` (micro_time_proto.go): like [`Time`], keeping
/// microseconds.
impl Field for MicroTime {
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        *self = match read_timestamp(wire, r)? {
            None => MicroTime::default(),
            Some((secs, nanos)) => MicroTime::from_unix_micros(
                secs.saturating_mul(1_000_000)
                    .saturating_add(i64::from(nanos) / 1_000),
            ),
        };
        Ok(())
    }
    fn merge_option(
        slot: &mut Option<Self>,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        let mut t = MicroTime::default();
        t.merge_field(wire, r)?;
        *slot = (!t.is_zero()).then_some(t);
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        if self.is_zero() {
            return key_len(field) + 1;
        }
        let (s, n) = micro_parts(*self);
        len_field_len(field, timestamp_body_len(s, n))
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        let (s, n) = micro_parts(*self);
        put_timestamp(out, field, self.is_zero(), s, n);
    }
}

fn micro_parts(t: MicroTime) -> (i64, i32) {
    let us = t.unix_micros();
    (
        us.div_euclid(1_000_000),
        (us.rem_euclid(1_000_000) * 1_000) as i32,
    )
}

/// Port of `FieldsV1` (`{1: Raw}`): the raw JSON of the managed-fields set, shared.
impl Field for FieldsV1 {
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        if let Some(b) = read_single_bytes("FieldsV1", wire, r)? {
            self.0 = Str::new(std::str::from_utf8(b).map_err(|_| ProtoError::InvalidUtf8)?);
        }
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        single_bytes_len(field, self.0.as_bytes(), false)
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        put_single_bytes(out, field, self.0.as_bytes(), false);
    }
}

impl Message for ObjectMeta {
    const NAME: &'static str = "ObjectMeta";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "ObjectMeta";
        match field {
            1 => merge_unshared(&mut self.name, N, field, wire, r),
            2 => merge_omitempty(&mut self.generate_name, N, field, wire, r),
            3 => merge_omitempty(&mut self.namespace, N, field, wire, r),
            4 => merge_omitempty(&mut self.self_link, N, field, wire, r),
            5 => merge_unshared(&mut self.uid, N, field, wire, r),
            6 => merge_unshared(&mut self.resource_version, N, field, wire, r),
            7 => merge_omitempty(&mut self.generation, N, field, wire, r),
            8 => merge(&mut self.creation_timestamp, N, field, wire, r),
            9 => merge(&mut self.deletion_timestamp, N, field, wire, r),
            10 => merge(&mut self.deletion_grace_period_seconds, N, field, wire, r),
            11 => merge(&mut self.labels, N, field, wire, r),
            12 => merge(&mut self.annotations, N, field, wire, r),
            13 => merge(&mut self.owner_references, N, field, wire, r),
            14 => merge(&mut self.finalizers, N, field, wire, r),
            17 if r.skips_managed_fields() => r.skip(wire),
            17 => merge(&mut self.managed_fields, N, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn finish(&mut self) {
        self.owner_references.finish_field();
        self.finalizers.finish_field();
        self.managed_fields.finish_field();
    }

    fn encoded_len(&self) -> usize {
        always_len(&self.name, 1)
            + always_len(&self.generate_name, 2)
            + always_len(&self.namespace, 3)
            + always_len(&self.self_link, 4)
            + always_len(&self.uid, 5)
            + always_len(&self.resource_version, 6)
            + always_len(&self.generation, 7)
            + always_len(&self.creation_timestamp, 8)
            + self.deletion_timestamp.field_len(9)
            + self.deletion_grace_period_seconds.field_len(10)
            + self.labels.field_len(11)
            + self.annotations.field_len(12)
            + self.owner_references.field_len(13)
            + self.finalizers.field_len(14)
            + self.managed_fields.field_len(17)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        encode_always(&self.name, 1, out);
        encode_always(&self.generate_name, 2, out);
        encode_always(&self.namespace, 3, out);
        encode_always(&self.self_link, 4, out);
        encode_always(&self.uid, 5, out);
        encode_always(&self.resource_version, 6, out);
        encode_always(&self.generation, 7, out);
        encode_always(&self.creation_timestamp, 8, out);
        self.deletion_timestamp.encode_field(9, out);
        self.deletion_grace_period_seconds.encode_field(10, out);
        self.labels.encode_field(11, out);
        self.annotations.encode_field(12, out);
        self.owner_references.encode_field(13, out);
        self.finalizers.encode_field(14, out);
        self.managed_fields.encode_field(17, out);
    }
}

impl Message for ListMeta {
    const NAME: &'static str = "ListMeta";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "ListMeta";
        match field {
            1 => merge_omitempty(&mut self.self_link, N, field, wire, r),
            2 => merge_omitempty(&mut self.resource_version, N, field, wire, r),
            3 => merge_omitempty(&mut self.continue_token, N, field, wire, r),
            4 => merge(&mut self.remaining_item_count, N, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn encoded_len(&self) -> usize {
        always_len(&self.self_link, 1)
            + always_len(&self.resource_version, 2)
            + always_len(&self.continue_token, 3)
            + self.remaining_item_count.field_len(4)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        encode_always(&self.self_link, 1, out);
        encode_always(&self.resource_version, 2, out);
        encode_always(&self.continue_token, 3, out);
        self.remaining_item_count.encode_field(4, out);
    }
}

impl Message for OwnerReference {
    const NAME: &'static str = "OwnerReference";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "OwnerReference";
        match field {
            1 => merge(&mut self.kind, N, field, wire, r),
            3 => merge(&mut self.name, N, field, wire, r),
            4 => merge(&mut self.uid, N, field, wire, r),
            5 => merge(&mut self.api_version, N, field, wire, r),
            6 => merge(&mut self.controller, N, field, wire, r),
            7 => merge(&mut self.block_owner_deletion, N, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn encoded_len(&self) -> usize {
        self.kind.field_len(1)
            + self.name.field_len(3)
            + self.uid.field_len(4)
            + self.api_version.field_len(5)
            + self.controller.field_len(6)
            + self.block_owner_deletion.field_len(7)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.kind.encode_field(1, out);
        self.name.encode_field(3, out);
        self.uid.encode_field(4, out);
        self.api_version.encode_field(5, out);
        self.controller.encode_field(6, out);
        self.block_owner_deletion.encode_field(7, out);
    }
}

impl Message for ManagedFieldsEntry {
    const NAME: &'static str = "ManagedFieldsEntry";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "ManagedFieldsEntry";
        match field {
            1 => merge_omitempty(&mut self.manager, N, field, wire, r),
            2 => merge_omitempty(&mut self.operation, N, field, wire, r),
            3 => merge_omitempty(&mut self.api_version, N, field, wire, r),
            4 => merge(&mut self.time, N, field, wire, r),
            6 => merge_omitempty(&mut self.fields_type, N, field, wire, r),
            7 => merge(&mut self.fields_v1, N, field, wire, r),
            8 => merge_omitempty(&mut self.subresource, N, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn encoded_len(&self) -> usize {
        always_len(&self.manager, 1)
            + always_len(&self.operation, 2)
            + always_len(&self.api_version, 3)
            + self.time.field_len(4)
            + always_len(&self.fields_type, 6)
            + self.fields_v1.field_len(7)
            + always_len(&self.subresource, 8)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        encode_always(&self.manager, 1, out);
        encode_always(&self.operation, 2, out);
        encode_always(&self.api_version, 3, out);
        self.time.encode_field(4, out);
        encode_always(&self.fields_type, 6, out);
        self.fields_v1.encode_field(7, out);
        encode_always(&self.subresource, 8, out);
    }
}

impl Message for LabelSelector {
    const NAME: &'static str = "LabelSelector";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        match field {
            1 => merge(&mut self.match_labels, Self::NAME, field, wire, r),
            2 => merge(&mut self.match_expressions, Self::NAME, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn finish(&mut self) {
        self.match_expressions.finish_field();
    }

    fn encoded_len(&self) -> usize {
        self.match_labels.field_len(1) + self.match_expressions.field_len(2)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.match_labels.encode_field(1, out);
        self.match_expressions.encode_field(2, out);
    }
}

impl Message for LabelSelectorRequirement {
    const NAME: &'static str = "LabelSelectorRequirement";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        match field {
            1 => merge(&mut self.key, Self::NAME, field, wire, r),
            2 => merge(&mut self.operator, Self::NAME, field, wire, r),
            3 => merge(&mut self.values, Self::NAME, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn finish(&mut self) {
        self.values.finish_field();
    }

    fn encoded_len(&self) -> usize {
        self.key.field_len(1) + self.operator.field_len(2) + self.values.field_len(3)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.key.encode_field(1, out);
        self.operator.encode_field(2, out);
        self.values.encode_field(3, out);
    }
}

impl Message for Condition {
    const NAME: &'static str = "Condition";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "Condition";
        match field {
            1 => merge(&mut self.type_, N, field, wire, r),
            2 => merge(&mut self.status, N, field, wire, r),
            3 => merge_omitempty(&mut self.observed_generation, N, field, wire, r),
            4 => merge(&mut self.last_transition_time, N, field, wire, r),
            5 => merge(&mut self.reason, N, field, wire, r),
            6 => merge(&mut self.message, N, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn encoded_len(&self) -> usize {
        self.type_.field_len(1)
            + self.status.field_len(2)
            + always_len(&self.observed_generation, 3)
            + self.last_transition_time.field_len(4)
            + self.reason.field_len(5)
            + self.message.field_len(6)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.type_.encode_field(1, out);
        self.status.encode_field(2, out);
        encode_always(&self.observed_generation, 3, out);
        self.last_transition_time.encode_field(4, out);
        self.reason.encode_field(5, out);
        self.message.encode_field(6, out);
    }
}

impl_message_field!(
    ObjectMeta,
    ListMeta,
    OwnerReference,
    ManagedFieldsEntry,
    LabelSelector,
    LabelSelectorRequirement,
    Condition,
);
