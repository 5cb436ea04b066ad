//! Encoding then decoding gives back the same value, for generated pods, deployments and
//! leases that fill the parts of these types a cache holds most of: metadata (labels,
//! annotations, owner references, managed fields), containers with ports, env and resources,
//! volumes, and status with conditions and times.
//!
//! The protobuf encoding (`apimachinery::runtime::wire::Message`) is checked on pods,
//! deployments, leases, config maps, events, services and jobs through its normal form.
//! Protobuf cannot tell some values apart that the Rust types can: Go writes the zero of every
//! non-pointer field, so `Some(0)`/`Some("")` in a Go non-pointer `omitempty` field reads back
//! as `None`, an absent Go non-pointer struct reads back as `Some(default)`, and an empty
//! optional list or map reads back as `None`; Go itself never holds the other form after
//! decoding the server's JSON. The strategies (shared with the JSON tests) do produce such
//! values, so instead of decode(encode(x)) == x the tests check that x's normal form
//! decode(encode(x)) encodes to exactly the same bytes as x (nothing Go would write is lost)
//! and decodes to itself. The strategies written for protobuf (`go_text`, `go_i32`, events'
//! always-present `source`, services' always-present `targetPort`) keep to Go's forms where
//! that was cheap. Exact equality with Go's own values is checked on the recorded fixtures
//! (`protobuf_fixtures.rs`).

#![allow(clippy::unwrap_used)]

use api::apps::v1::{Deployment, DeploymentCondition, DeploymentSpec, DeploymentStatus};
#[cfg(feature = "batch")]
use api::batch::v1::{Job, JobSpec};
use api::coordination::v1::{Lease, LeaseSpec};
use api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, Event, EventSource, KeyToPath, ObjectFieldSelector, ObjectReference, Pod,
    PodCondition, PodSpec, PodStatus, PodTemplateSpec, ResourceRequirements, Service, ServicePort,
    ServiceSpec, Volume,
};
use apimachinery::ByteString;
use apimachinery::api::resource::Quantity;
use apimachinery::meta::{
    FieldsV1, LabelSelector, ManagedFieldsEntry, MicroTime, ObjectMeta, OwnerReference, Time,
};
use apimachinery::runtime::wire::Message;
use apimachinery::util::intstr::IntOrString;
use apimachinery::{Str, StrMap};
use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = Str> {
    prop_oneof![
        4 => "[a-z0-9][a-z0-9.-]{0,14}",
        1 => any::<String>(),
    ]
    .prop_map(Str::from)
}

fn opt_text() -> impl Strategy<Value = Option<Str>> {
    of(text())
}

fn str_map() -> impl Strategy<Value = StrMap> {
    btree_map("[a-z]{1,8}(/[a-z-]{1,10})?", text(), 0..5).prop_map(|m| m.into_iter().collect())
}

/// RFC 3339 text for a time after 1970, to second precision.
fn rfc3339() -> impl Strategy<Value = String> {
    (
        1970u32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
    )
        .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"))
}

fn time() -> impl Strategy<Value = Time> {
    rfc3339().prop_map(|t| Time::parse(&t).unwrap())
}

fn micro_time() -> impl Strategy<Value = MicroTime> {
    (rfc3339(), 0u32..1_000_000).prop_map(|(t, us)| {
        MicroTime::parse(&format!("{}.{us:06}Z", t.trim_end_matches('Z'))).unwrap()
    })
}

fn quantity() -> impl Strategy<Value = Quantity> {
    (
        0u32..100_000,
        prop::sample::select(vec!["", "m", "k", "M", "G", "Ki", "Mi", "Gi"]),
    )
        .prop_map(|(n, suffix)| Quantity::parse(&format!("{n}{suffix}")).unwrap())
}

fn resources() -> impl Strategy<Value = StrMap<Quantity>> {
    btree_map(
        prop::sample::select(vec!["cpu", "memory", "ephemeral-storage"]),
        quantity(),
        0..3,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn owner_reference() -> impl Strategy<Value = OwnerReference> {
    (
        text(),
        text(),
        text(),
        text(),
        of(any::<bool>()),
        of(any::<bool>()),
    )
        .prop_map(
            |(api_version, kind, name, uid, controller, block_owner_deletion)| OwnerReference {
                api_version,
                kind,
                name,
                uid,
                controller,
                block_owner_deletion,
            },
        )
}

fn managed_fields_entry() -> impl Strategy<Value = ManagedFieldsEntry> {
    let fields = btree_map("f:[a-z]{1,8}", Just(serde_json::json!({})), 0..4)
        .prop_map(|m| FieldsV1(Str::from(serde_json::to_string(&m).unwrap())));
    (
        opt_text(),
        of(prop::sample::select(vec!["Apply", "Update"])),
        opt_text(),
        of(time()),
        of(fields),
        opt_text(),
    )
        .prop_map(
            |(manager, operation, api_version, time, fields_v1, subresource)| ManagedFieldsEntry {
                manager,
                operation: operation.map(Str::from),
                api_version,
                time,
                fields_type: fields_v1.as_ref().map(|_| Str::from("FieldsV1")),
                fields_v1,
                subresource,
            },
        )
}

fn object_meta() -> impl Strategy<Value = ObjectMeta> {
    (
        (
            opt_text(),
            opt_text(),
            opt_text(),
            opt_text(),
            of(any::<i64>()),
            of(time()),
            of(time()),
        ),
        (
            of(str_map()),
            of(str_map()),
            of(vec(owner_reference(), 0..3)),
        ),
        (
            of(vec(text(), 0..3)),
            of(vec(managed_fields_entry(), 0..3)),
            of(0i64..600),
        ),
    )
        .prop_map(
            |(
                (
                    name,
                    namespace,
                    uid,
                    resource_version,
                    generation,
                    creation_timestamp,
                    deletion_timestamp,
                ),
                (labels, annotations, owner_references),
                (finalizers, managed_fields, deletion_grace_period_seconds),
            )| ObjectMeta {
                name,
                namespace,
                uid,
                resource_version,
                generation,
                creation_timestamp,
                deletion_timestamp,
                deletion_grace_period_seconds,
                labels,
                annotations,
                owner_references: owner_references.map(Into::into),
                finalizers: finalizers.map(Into::into),
                managed_fields: managed_fields.map(Into::into),
                ..ObjectMeta::default()
            },
        )
}

fn container_port() -> impl Strategy<Value = ContainerPort> {
    (
        any::<i32>(),
        opt_text(),
        of(1i32..65536),
        opt_text(),
        of(prop::sample::select(vec!["TCP", "UDP"])),
    )
        .prop_map(
            |(container_port, host_ip, host_port, name, protocol)| ContainerPort {
                container_port,
                host_ip,
                host_port,
                name,
                protocol: protocol.map(Str::from),
            },
        )
}

fn env_var() -> impl Strategy<Value = EnvVar> {
    let from_field = text().prop_map(|field_path| {
        Box::new(EnvVarSource {
            field_ref: Some(Box::new(ObjectFieldSelector {
                api_version: Some("v1".into()),
                field_path,
            })),
            ..EnvVarSource::default()
        })
    });
    (text(), opt_text(), of(from_field)).prop_map(|(name, value, value_from)| EnvVar {
        name,
        value,
        value_from,
    })
}

fn container() -> impl Strategy<Value = Container> {
    (
        (
            text(),
            opt_text(),
            of(vec(text(), 0..3)),
            of(vec(text(), 0..3)),
        ),
        (of(vec(container_port(), 0..3)), of(vec(env_var(), 0..4))),
        of((of(resources()), of(resources()))),
    )
        .prop_map(
            |((name, image, command, args), (ports, env), resources)| Container {
                name,
                image,
                command: command.map(Into::into),
                args: args.map(Into::into),
                ports: ports.map(Into::into),
                env: env.map(Into::into),
                resources: resources.map(|(limits, requests)| {
                    Box::new(ResourceRequirements {
                        limits,
                        requests,
                        ..ResourceRequirements::default()
                    })
                }),
                ..Container::default()
            },
        )
}

fn volume() -> impl Strategy<Value = Volume> {
    let key_to_path = (text(), of(0i32..0o777), text()).prop_map(|(key, mode, path)| KeyToPath {
        key,
        mode,
        path,
    });
    let config_map = (opt_text(), of(vec(key_to_path, 0..3)), of(any::<bool>())).prop_map(
        |(name, items, optional)| {
            Box::new(ConfigMapVolumeSource {
                name,
                items: items.map(Into::into),
                optional,
                ..ConfigMapVolumeSource::default()
            })
        },
    );
    let empty_dir = (opt_text(), of(quantity()))
        .prop_map(|(medium, size_limit)| Box::new(EmptyDirVolumeSource { medium, size_limit }));
    (text(), of(config_map), of(empty_dir)).prop_map(|(name, config_map, empty_dir)| Volume {
        name,
        config_map,
        empty_dir,
        ..Volume::default()
    })
}

fn pod_spec() -> impl Strategy<Value = PodSpec> {
    (
        vec(container(), 0..3),
        of(vec(container(), 0..2)),
        of(vec(volume(), 0..3)),
        (
            opt_text(),
            of(str_map()),
            of(any::<bool>()),
            of(any::<i64>()),
            of(resources()),
        ),
    )
        .prop_map(
            |(
                containers,
                init_containers,
                volumes,
                (node_name, node_selector, host_network, grace, overhead),
            )| {
                PodSpec {
                    containers: containers.into(),
                    init_containers: init_containers.map(Into::into),
                    volumes: volumes.map(Into::into),
                    node_name,
                    node_selector,
                    host_network,
                    termination_grace_period_seconds: grace,
                    overhead,
                    ..PodSpec::default()
                }
            },
        )
}

fn pod_condition() -> impl Strategy<Value = PodCondition> {
    (
        text(),
        text(),
        of(time()),
        of(time()),
        opt_text(),
        opt_text(),
    )
        .prop_map(
            |(type_, status, last_probe_time, last_transition_time, reason, message)| {
                PodCondition {
                    type_,
                    status,
                    last_probe_time,
                    last_transition_time,
                    reason,
                    message,
                }
            },
        )
}

fn pod_status() -> impl Strategy<Value = PodStatus> {
    (
        of(vec(pod_condition(), 0..4)),
        opt_text(),
        opt_text(),
        of(time()),
    )
        .prop_map(|(conditions, phase, pod_ip, start_time)| PodStatus {
            conditions: conditions.map(Into::into),
            phase,
            pod_ip,
            start_time,
            ..PodStatus::default()
        })
}

fn pod() -> impl Strategy<Value = Pod> {
    (
        of(Just("v1")),
        object_meta(),
        of(pod_spec()),
        of(pod_status()),
    )
        .prop_map(|(api_version, metadata, spec, status)| Pod {
            api_version: api_version.map(Str::from),
            kind: api_version.map(|_| Str::from("Pod")),
            metadata,
            spec: spec.map(Box::new),
            status: status.map(Box::new),
        })
}

fn deployment() -> impl Strategy<Value = Deployment> {
    let condition = (text(), text(), of(time()), of(time()), opt_text()).prop_map(
        |(type_, status, last_transition_time, last_update_time, reason)| DeploymentCondition {
            type_,
            status,
            last_transition_time,
            last_update_time,
            reason,
            ..DeploymentCondition::default()
        },
    );
    let status = (of(0i32..100), of(any::<i64>()), of(vec(condition, 0..3))).prop_map(
        |(replicas, observed_generation, conditions)| DeploymentStatus {
            replicas,
            observed_generation,
            conditions: conditions.map(Into::into),
            ..DeploymentStatus::default()
        },
    );
    let spec = (of(0i32..100), of(str_map()), object_meta(), of(pod_spec())).prop_map(
        |(replicas, match_labels, template_metadata, template_spec)| DeploymentSpec {
            replicas,
            selector: LabelSelector {
                match_labels,
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: template_metadata,
                spec: template_spec.map(Box::new),
            },
            ..DeploymentSpec::default()
        },
    );
    (object_meta(), of(spec), of(status)).prop_map(|(metadata, spec, status)| Deployment {
        api_version: Some("apps/v1".into()),
        kind: Some("Deployment".into()),
        metadata,
        spec: spec.map(Box::new),
        status: status.map(Box::new),
    })
}

fn lease() -> impl Strategy<Value = Lease> {
    let spec = (
        of(micro_time()),
        opt_text(),
        of(any::<i32>()),
        of(any::<i32>()),
        of(micro_time()),
    )
        .prop_map(
            |(
                acquire_time,
                holder_identity,
                lease_duration_seconds,
                lease_transitions,
                renew_time,
            )| LeaseSpec {
                acquire_time,
                holder_identity,
                lease_duration_seconds,
                lease_transitions,
                renew_time,
                ..LeaseSpec::default()
            },
        );
    (object_meta(), of(spec)).prop_map(|(metadata, spec)| Lease {
        metadata,
        spec: spec.map(Box::new),
        ..Lease::default()
    })
}

/// A Go non-pointer `omitempty` string: absent or non-empty.
fn go_text() -> impl Strategy<Value = Option<Str>> {
    of("[a-z0-9][a-z0-9.-]{0,14}".prop_map(Str::from))
}

/// A Go non-pointer `omitempty` int32: absent or non-zero.
fn go_i32() -> impl Strategy<Value = Option<i32>> {
    of(any::<i32>().prop_filter("non-zero", |v| *v != 0))
}

fn config_map() -> impl Strategy<Value = ConfigMap> {
    let binary = btree_map("[a-z]{1,8}", vec(any::<u8>(), 0..16), 0..3)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k, ByteString(v))).collect());
    (object_meta(), of(str_map()), of(binary), of(any::<bool>())).prop_map(
        |(metadata, data, binary_data, immutable)| ConfigMap {
            metadata,
            data,
            binary_data,
            immutable,
            ..ConfigMap::default()
        },
    )
}

fn object_reference() -> impl Strategy<Value = ObjectReference> {
    (go_text(), go_text(), go_text(), go_text(), go_text()).prop_map(
        |(kind, namespace, name, uid, field_path)| ObjectReference {
            kind,
            namespace,
            name,
            uid,
            field_path,
            ..ObjectReference::default()
        },
    )
}

fn event() -> impl Strategy<Value = Event> {
    (
        object_meta(),
        object_reference(),
        (go_text(), go_text(), go_text()),
        (go_text(), go_text()),
        go_i32(),
        (of(time()), of(time()), of(micro_time())),
    )
        .prop_map(
            |(
                metadata,
                involved_object,
                (reason, message, type_),
                (component, host),
                count,
                (first_timestamp, last_timestamp, event_time),
            )| Event {
                metadata,
                involved_object,
                reason,
                message,
                type_,
                // Go's `Source EventSource` is a non-pointer struct: always there.
                source: Some(Box::new(EventSource { component, host })),
                count,
                first_timestamp,
                last_timestamp,
                event_time,
                // Non-pointer strings without omitempty in Go: always written.
                reporting_component: Some(Str::from("kubelet")),
                reporting_instance: Some(Str::from("")),
                ..Event::default()
            },
        )
}

fn service() -> impl Strategy<Value = Service> {
    let port = (
        go_text(),
        go_text(),
        any::<i32>(),
        prop_oneof![
            any::<i32>().prop_map(IntOrString::Int),
            text().prop_map(IntOrString::String)
        ],
        go_i32(),
    )
        .prop_map(
            |(name, protocol, port, target_port, node_port)| ServicePort {
                name,
                protocol,
                port,
                // Go's `TargetPort intstr.IntOrString` is a non-pointer struct: always there.
                target_port: Some(target_port),
                node_port,
                ..ServicePort::default()
            },
        );
    let spec = (
        of(vec(port, 0..3).prop_map(Into::into)),
        of(str_map()),
        go_text(),
        go_text(),
        of(vec(text(), 0..3).prop_map(Into::into)),
    )
        .prop_map(
            |(ports, selector, cluster_ip, type_, external_ips)| ServiceSpec {
                ports,
                selector,
                cluster_ip,
                type_,
                external_ips,
                ..ServiceSpec::default()
            },
        );
    (object_meta(), spec).prop_map(|(metadata, spec)| Service {
        metadata,
        spec: Some(Box::new(spec)),
        status: Some(Box::default()),
        ..Service::default()
    })
}

#[cfg(feature = "batch")]
fn job() -> impl Strategy<Value = Job> {
    let spec = (
        of(any::<i32>()),
        of(any::<i32>()),
        of(any::<i32>()),
        of(any::<bool>()),
        str_map(),
        text(),
    )
        .prop_map(
            |(parallelism, completions, backoff_limit, suspend, labels, image)| JobSpec {
                parallelism,
                completions,
                backoff_limit,
                suspend,
                template: PodTemplateSpec {
                    metadata: ObjectMeta {
                        labels: Some(labels),
                        ..ObjectMeta::default()
                    },
                    spec: Some(Box::new(PodSpec {
                        containers: vec![Container {
                            name: Str::from("main"),
                            image: Some(image),
                            ..Container::default()
                        }]
                        .into(),
                        ..PodSpec::default()
                    })),
                },
                ..JobSpec::default()
            },
        );
    (object_meta(), spec).prop_map(|(metadata, spec)| Job {
        metadata,
        spec: Some(Box::new(spec)),
        status: Some(Box::default()),
        ..Job::default()
    })
}

/// decode(encode(x)), checking that the size Go's `Size()` would compute is what is written.
fn pb_round_trip<T: Message>(value: &T) -> T {
    let bytes = value.encode_to_vec();
    assert_eq!(bytes.len(), value.encoded_len());
    T::decode(&bytes).unwrap()
}

/// x's normal form decode(encode(x)) encodes to the same bytes as x and decodes to itself.
fn check_pb_normal_form<T: Message + PartialEq + std::fmt::Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let bytes = value.encode_to_vec();
    let normal = T::decode(&bytes).unwrap();
    prop_assert_eq!(normal.encode_to_vec(), bytes);
    prop_assert_eq!(pb_round_trip(&normal), normal);
    Ok(())
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

proptest! {
    #[test]
    fn a_pod_decodes_to_itself_after_encoding(pod in pod()) {
        prop_assert_eq!(round_trip(&pod), pod);
    }

    #[test]
    fn a_deployment_decodes_to_itself_after_encoding(deployment in deployment()) {
        prop_assert_eq!(round_trip(&deployment), deployment);
    }

    #[test]
    fn a_lease_decodes_to_itself_after_encoding(lease in lease()) {
        prop_assert_eq!(round_trip(&lease), lease);
    }

    #[test]
    fn an_int_or_string_port_decodes_to_itself_after_encoding(
        port in prop_oneof![any::<i32>().prop_map(IntOrString::Int), text().prop_map(IntOrString::String)],
    ) {
        let action = api::core::v1::TCPSocketAction { host: None, port };
        prop_assert_eq!(round_trip(&action), action);
    }

    #[test]
    fn a_config_maps_protobuf_normal_form_is_stable(cm in config_map()) {
        check_pb_normal_form(&cm)?;
    }

    #[test]
    fn an_events_protobuf_normal_form_is_stable(event in event()) {
        check_pb_normal_form(&event)?;
    }

    #[test]
    fn a_services_protobuf_normal_form_is_stable(service in service()) {
        check_pb_normal_form(&service)?;
    }

    #[cfg(feature = "batch")]
    #[test]
    fn a_jobs_protobuf_normal_form_is_stable(job in job()) {
        check_pb_normal_form(&job)?;
    }

    #[test]
    fn a_pods_protobuf_normal_form_is_stable(pod in pod()) {
        check_pb_normal_form(&pod)?;
    }

    #[test]
    fn a_deployments_protobuf_normal_form_is_stable(deployment in deployment()) {
        check_pb_normal_form(&deployment)?;
    }

    #[test]
    fn a_leases_protobuf_normal_form_is_stable(lease in lease()) {
        check_pb_normal_form(&lease)?;
    }
}
