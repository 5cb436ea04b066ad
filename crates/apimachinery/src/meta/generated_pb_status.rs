//! Port of apimachinery `pkg/apis/meta/v1/generated.pb.go`, continued: the protobuf form of
//! the envelopes around objects rather than of object metadata — Status (with StatusDetails
//! and StatusCause), DeleteOptions (with Preconditions) and PartialObjectMetadata. Field
//! numbers are those of `generated.proto`.
//!
//! Invariant: as in [`super::generated_pb`], decoding gives the value the server's JSON of
//! the same object gives. These Rust types keep Go's non-pointer strings and integers as
//! plain `String`/`i32` (empty and zero mean absent, as Go's JSON `omitempty` does), so no
//! field needs [`crate::runtime::wire::merge_omitempty`]; encoding writes them always, in
//! ascending field-number order, as gogo does.
//!
//! apiVersion and kind are not in these messages: the `k8s\0` envelope carries them, and the
//! codecs here ([`Status::protobuf_codec`] and friends) copy them onto the decoded value.

use crate::impl_message_field;
use crate::meta::{
    DeleteOptions, PartialObjectMetadata, Preconditions, PropagationPolicy, Status, StatusCause,
    StatusDetails,
};
use crate::runtime::protobuf::{ProtobufCodec, UnknownRef, decode_envelope};
use crate::runtime::wire::{
    Field, Message, ProtoError, Reader, WireType, len_field_len, merge, put_message_field,
};

/// Reads one element of a repeated message or string field and appends it. Go: the
/// `m.Causes = append(m.Causes, StatusCause{})` arm of `Unmarshal`.
fn merge_repeated<F: Field + Default>(
    slot: &mut Vec<F>,
    message: &'static str,
    field: u32,
    wire: WireType,
    r: &mut Reader<'_>,
) -> Result<(), ProtoError> {
    let mut v = F::default();
    merge(&mut v, message, field, wire, r)?;
    slot.push(v);
    Ok(())
}

fn repeated_len<F: Field>(slot: &[F], field: u32) -> usize {
    slot.iter().map(|v| v.field_len(field)).sum()
}

fn encode_repeated<F: Field>(slot: &[F], field: u32, out: &mut Vec<u8>) {
    for v in slot {
        v.encode_field(field, out);
    }
}

/// Port of `Status.Unmarshal`/`Marshal`: `{1: metadata, 2: status, 3: message, 4: reason,
/// 5: details, 6: code}`; every field but the `*StatusDetails` pointer is written always.
impl Message for Status {
    const NAME: &'static str = "Status";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "Status";
        match field {
            1 => merge(&mut self.metadata, N, field, wire, r),
            2 => merge(&mut self.status, N, field, wire, r),
            3 => merge(&mut self.message, N, field, wire, r),
            4 => merge(&mut self.reason, N, field, wire, r),
            5 => merge(&mut self.details, N, field, wire, r),
            6 => merge(&mut self.code, N, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn encoded_len(&self) -> usize {
        self.metadata.field_len(1)
            + self.status.field_len(2)
            + self.message.field_len(3)
            + self.reason.field_len(4)
            + self.details.field_len(5)
            + self.code.field_len(6)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.metadata.encode_field(1, out);
        self.status.encode_field(2, out);
        self.message.encode_field(3, out);
        self.reason.encode_field(4, out);
        self.details.encode_field(5, out);
        self.code.encode_field(6, out);
    }
}

/// Port of `StatusDetails.Unmarshal`/`Marshal`: `{1: name, 2: group, 3: kind, 4: causes,
/// 5: retryAfterSeconds, 6: uid}` (uid came last, so it has the highest number).
impl Message for StatusDetails {
    const NAME: &'static str = "StatusDetails";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "StatusDetails";
        match field {
            1 => merge(&mut self.name, N, field, wire, r),
            2 => merge(&mut self.group, N, field, wire, r),
            3 => merge(&mut self.kind, N, field, wire, r),
            4 => merge_repeated(&mut self.causes, N, field, wire, r),
            5 => merge(&mut self.retry_after_seconds, N, field, wire, r),
            6 => merge(&mut self.uid, N, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn finish(&mut self) {
        self.causes.shrink_to_fit();
    }

    fn encoded_len(&self) -> usize {
        self.name.field_len(1)
            + self.group.field_len(2)
            + self.kind.field_len(3)
            + repeated_len(&self.causes, 4)
            + self.retry_after_seconds.field_len(5)
            + self.uid.field_len(6)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.name.encode_field(1, out);
        self.group.encode_field(2, out);
        self.kind.encode_field(3, out);
        encode_repeated(&self.causes, 4, out);
        self.retry_after_seconds.encode_field(5, out);
        self.uid.encode_field(6, out);
    }
}

/// Port of `StatusCause.Unmarshal`/`Marshal`: `{1: reason, 2: message, 3: field}`.
impl Message for StatusCause {
    const NAME: &'static str = "StatusCause";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "StatusCause";
        match field {
            1 => merge(&mut self.reason, N, field, wire, r),
            2 => merge(&mut self.message, N, field, wire, r),
            3 => merge(&mut self.field, N, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn encoded_len(&self) -> usize {
        self.reason.field_len(1) + self.message.field_len(2) + self.field.field_len(3)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.reason.encode_field(1, out);
        self.message.encode_field(2, out);
        self.field.encode_field(3, out);
    }
}

/// Port of `Preconditions.Unmarshal`/`Marshal`: `{1: uid, 2: resourceVersion}`, both
/// pointers in Go, so written only when set.
impl Message for Preconditions {
    const NAME: &'static str = "Preconditions";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        match field {
            1 => merge(&mut self.uid, Self::NAME, field, wire, r),
            2 => merge(&mut self.resource_version, Self::NAME, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn encoded_len(&self) -> usize {
        self.uid.field_len(1) + self.resource_version.field_len(2)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.uid.encode_field(1, out);
        self.resource_version.encode_field(2, out);
    }
}

fn propagation_str(p: PropagationPolicy) -> &'static str {
    match p {
        PropagationPolicy::Orphan => "Orphan",
        PropagationPolicy::Background => "Background",
        PropagationPolicy::Foreground => "Foreground",
    }
}

/// Port of `DeleteOptions.Unmarshal`/`Marshal`: `{1: gracePeriodSeconds, 2: preconditions,
/// 3: orphanDependents, 4: propagationPolicy, 5: dryRun, 6:
/// ignoreStoreReadErrorWithClusterBreakingPotential}`; Go's fields are pointers (and a
/// slice), so each is written only when set.
///
/// Differs from Go: a `propagationPolicy` other than `Orphan`, `Background` or `Foreground`
/// is an error (Go keeps the string and the server rejects it), as it is in JSON here.
impl Message for DeleteOptions {
    const NAME: &'static str = "DeleteOptions";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        const N: &str = "DeleteOptions";
        match field {
            1 => merge(&mut self.grace_period_seconds, N, field, wire, r),
            2 => merge(&mut self.preconditions, N, field, wire, r),
            3 => merge(&mut self.orphan_dependents, N, field, wire, r),
            4 => {
                let mut s = String::new();
                merge(&mut s, N, field, wire, r)?;
                self.propagation_policy = Some(match s.as_str() {
                    "Orphan" => PropagationPolicy::Orphan,
                    "Background" => PropagationPolicy::Background,
                    "Foreground" => PropagationPolicy::Foreground,
                    other => {
                        return Err(ProtoError::Invalid(format!(
                            "unknown propagationPolicy {other:?}"
                        )));
                    }
                });
                Ok(())
            }
            5 => merge_repeated(&mut self.dry_run, N, field, wire, r),
            6 => merge(
                &mut self.ignore_store_read_error_with_cluster_breaking_potential,
                N,
                field,
                wire,
                r,
            ),
            _ => r.skip(wire),
        }
    }

    fn finish(&mut self) {
        self.dry_run.shrink_to_fit();
    }

    fn encoded_len(&self) -> usize {
        self.grace_period_seconds.field_len(1)
            + self.preconditions.field_len(2)
            + self.orphan_dependents.field_len(3)
            + self
                .propagation_policy
                .map_or(0, |p| len_field_len(4, propagation_str(p).len()))
            + repeated_len(&self.dry_run, 5)
            + self
                .ignore_store_read_error_with_cluster_breaking_potential
                .field_len(6)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.grace_period_seconds.encode_field(1, out);
        self.preconditions.encode_field(2, out);
        self.orphan_dependents.encode_field(3, out);
        if let Some(p) = self.propagation_policy {
            crate::runtime::wire::put_len_field(out, 4, propagation_str(p).as_bytes());
        }
        encode_repeated(&self.dry_run, 5, out);
        self.ignore_store_read_error_with_cluster_breaking_potential
            .encode_field(6, out);
    }
}

/// Port of `PartialObjectMetadata.Unmarshal`/`Marshal`: `{1: metadata}`, written always.
///
/// Every built-in object's message has its ObjectMeta at field 1, so this decodes the
/// metadata of any of them (a Pod's `raw`, say) and skips the rest unread.
impl Message for PartialObjectMetadata {
    const NAME: &'static str = "PartialObjectMetadata";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        match field {
            1 => merge(&mut self.metadata, Self::NAME, field, wire, r),
            _ => r.skip(wire),
        }
    }

    fn encoded_len(&self) -> usize {
        self.metadata.field_len(1)
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        put_message_field(out, 1, &self.metadata);
    }
}

impl_message_field!(
    Status,
    StatusDetails,
    StatusCause,
    Preconditions,
    DeleteOptions,
    PartialObjectMetadata,
);

impl Status {
    /// apiVersion of a `Status` in its envelope (the core group's `v1`, though the type
    /// lives in meta/v1: Go registers it in every group version; the server sends `v1`).
    pub const API_VERSION: &'static str = "v1";
    /// kind of a `Status` in its envelope.
    pub const KIND: &'static str = "Status";

    /// The protobuf codec of `Status`, which fills apiVersion and kind from the envelope.
    ///
    /// Port of registering metav1.Status with the protobuf serializer (Go's
    /// `metav1.AddToGroupVersion` adds it to every group version).
    pub fn protobuf_codec() -> ProtobufCodec<Status> {
        ProtobufCodec::new(|s: &mut Status, api_version, kind| {
            api_version.clone_into(&mut s.types.api_version);
            kind.clone_into(&mut s.types.kind);
        })
    }

    /// Decodes an error response body sent as protobuf (`k8s\0` + Unknown holding a
    /// `v1`/`Status`) into the same `Status` its JSON form gives.
    ///
    /// Port of the protobuf path of client-go's `Request.transformResponse`, which decodes a
    /// non-2xx body with the negotiated decoder and keeps it when it is a `*metav1.Status`.
    /// An envelope naming another kind is [`ProtoError::KindMismatch`]: the caller then
    /// falls back to a Status built from the HTTP code, as Go does. Any apiVersion is
    /// accepted with kind `Status`, since Go registers Status in every group version.
    #[doc(alias = "transformResponse")]
    pub fn decode_protobuf(body: &[u8]) -> Result<Status, ProtoError> {
        Status::decode_unknown(&decode_envelope(body)?)
    }

    /// Decodes a `Status` from an envelope already read (a watch `ERROR` event's object);
    /// kind must be `Status`, apiVersion may be any (see [`Status::decode_protobuf`]).
    pub fn decode_unknown(u: &UnknownRef<'_>) -> Result<Status, ProtoError> {
        Status::protobuf_codec().decode_unknown(u, (u.api_version, Self::KIND), false)
    }

    /// Encodes this status as a protobuf body (`k8s\0` + Unknown), as the API server writes
    /// an error. Port of `protobuf.Serializer.Encode` of a `*metav1.Status`.
    pub fn encode_protobuf(&self) -> Vec<u8> {
        Status::protobuf_codec().encode_object(self, Self::API_VERSION, Self::KIND)
    }
}

impl PartialObjectMetadata {
    /// The protobuf codec of `PartialObjectMetadata` (and, through
    /// [`ProtobufCodec::decode_list`], of `PartialObjectMetadataList`); apiVersion and kind
    /// come from the envelope. Asked for with
    /// `application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1`.
    ///
    /// Port of registering metav1.PartialObjectMetadata with the protobuf serializer.
    pub fn protobuf_codec() -> ProtobufCodec<PartialObjectMetadata> {
        ProtobufCodec::new(|o: &mut PartialObjectMetadata, api_version, kind| {
            api_version.clone_into(&mut o.types.api_version);
            kind.clone_into(&mut o.types.kind);
        })
    }
}

impl DeleteOptions {
    /// The protobuf codec of `DeleteOptions` (a DELETE request body); apiVersion and kind
    /// come from the envelope.
    ///
    /// Port of registering metav1.DeleteOptions with the protobuf serializer.
    pub fn protobuf_codec() -> ProtobufCodec<DeleteOptions> {
        ProtobufCodec::new(|o: &mut DeleteOptions, api_version, kind| {
            api_version.clone_into(&mut o.types.api_version);
            kind.clone_into(&mut o.types.kind);
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::meta::TypeMeta;

    #[test]
    fn delete_options_round_trip_and_unset_fields_are_not_written() {
        assert!(DeleteOptions::default().encode_to_vec().is_empty());
        let o = DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some("u".into()),
                resource_version: None,
            }),
            propagation_policy: Some(PropagationPolicy::Foreground),
            dry_run: vec!["All".into()],
            orphan_dependents: Some(false),
            ignore_store_read_error_with_cluster_breaking_potential: Some(true),
            ..DeleteOptions::default()
        };
        let bytes = o.encode_to_vec();
        assert_eq!(bytes.len(), o.encoded_len());
        assert_eq!(DeleteOptions::decode(&bytes).unwrap(), o);

        let body =
            DeleteOptions::protobuf_codec().encode_object(&o, "meta.k8s.io/v1", "DeleteOptions");
        let back = DeleteOptions::protobuf_codec()
            .decode_object(&body, ("meta.k8s.io/v1", "DeleteOptions"))
            .unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn an_unknown_propagation_policy_is_an_error() {
        let mut bytes = Vec::new();
        crate::runtime::wire::put_len_field(&mut bytes, 4, b"Sideways");
        assert!(matches!(
            DeleteOptions::decode(&bytes),
            Err(ProtoError::Invalid(_))
        ));
    }

    #[test]
    fn a_status_body_of_another_kind_is_refused() {
        let body = crate::runtime::protobuf::encode_envelope("v1", "Pod", &[]);
        assert!(matches!(
            Status::decode_protobuf(&body),
            Err(ProtoError::KindMismatch { .. })
        ));
        let s = Status {
            types: TypeMeta {
                api_version: "v1".into(),
                kind: "Status".into(),
            },
            code: 410,
            reason: "Expired".into(),
            ..Status::default()
        };
        assert_eq!(Status::decode_protobuf(&s.encode_protobuf()).unwrap(), s);
    }
}
