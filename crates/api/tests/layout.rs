//! The sizes the layout rules promise (see the crate docs), pinned so that a change to the
//! generator or to `apimachinery` that grows the types shows up here.
//!
//! Measured on x86_64 (rustc 1.95, apimachinery as of this commit):
//!
//! | type | `api` | k8s-openapi 0.29 |
//! |---|---|---|
//! | `Pod` | 200 | 2176 |
//! | `PodSpec` | 296 | 1416 |
//! | `PodStatus` | 136 | |
//! | `Container` | 176 | 2120 |
//! | `Volume` | 248 | 3208 |
//! | `ObjectMeta` (from `apimachinery`) | 168 | 360 |
//!
//! `Pod` is `ObjectMeta` plus four words (`apiVersion`, `kind`, and the boxed `spec` and
//! `status`); an absent sub-struct costs one pointer.

#![cfg(target_pointer_width = "64")]

use std::mem::size_of;

use api::core::v1::{Container, Pod, PodSpec, PodStatus, Volume};
use apimachinery::meta::{ListMeta, ObjectMeta, Time};
use apimachinery::{Str, StrMap};

#[test]
fn an_absent_struct_field_costs_one_pointer() {
    assert_eq!(size_of::<Option<Box<PodSpec>>>(), 8);
    assert_eq!(size_of::<Option<Box<PodStatus>>>(), 8);
    assert_eq!(size_of::<Option<Box<Volume>>>(), 8);
}

#[test]
fn strings_and_maps_are_one_and_two_words_even_when_optional() {
    assert_eq!(size_of::<Str>(), 8);
    assert_eq!(size_of::<Option<Str>>(), 8);
    assert_eq!(size_of::<StrMap>(), 16);
    assert_eq!(size_of::<Option<StrMap>>(), 16);
}

#[test]
fn an_array_field_is_one_word_even_when_optional() {
    assert_eq!(size_of::<apimachinery::ThinVec<Container>>(), 8);
    assert_eq!(size_of::<Option<apimachinery::ThinVec<Container>>>(), 8);
}

#[test]
fn small_values_stay_small_inline() {
    assert_eq!(size_of::<Time>(), 8);
    assert!(size_of::<Option<Time>>() <= 16);
    assert!(size_of::<apimachinery::api::resource::Quantity>() <= 8);
    assert!(size_of::<Option<apimachinery::util::intstr::IntOrString>>() <= 16);
}

#[test]
fn top_level_kinds_are_their_metadata_plus_a_word_per_other_field() {
    assert_eq!(size_of::<Pod>(), size_of::<ObjectMeta>() + 4 * 8);
    assert_eq!(
        size_of::<api::apps::v1::Deployment>(),
        size_of::<ObjectMeta>() + 4 * 8
    );
    assert_eq!(
        size_of::<api::coordination::v1::Lease>(),
        size_of::<ObjectMeta>() + 3 * 8
    );
    // A list is its ListMeta, apiVersion/kind and the items vector.
    assert!(size_of::<api::core::v1::PodList>() <= size_of::<ListMeta>() + 3 * 8 + 2 * 24);
}

#[test]
fn pod_spec_container_and_volume_stay_within_their_measured_sizes() {
    // Measured 296, 176 and 248 bytes (see the module doc); raise a limit only on purpose.
    assert!(
        size_of::<PodSpec>() <= 296,
        "PodSpec is {} bytes",
        size_of::<PodSpec>()
    );
    assert!(
        size_of::<Container>() <= 176,
        "Container is {} bytes",
        size_of::<Container>()
    );
    assert!(
        size_of::<Volume>() <= 248,
        "Volume is {} bytes",
        size_of::<Volume>()
    );
}

#[test]
fn the_layout_is_several_times_smaller_than_k8s_openapis() {
    use k8s_openapi::api::core::v1 as k8s;
    assert!(size_of::<Pod>() * 8 < size_of::<k8s::Pod>());
    assert!(size_of::<PodSpec>() * 2 < size_of::<k8s::PodSpec>());
    assert!(size_of::<Container>() * 6 < size_of::<k8s::Container>());
    assert!(size_of::<Volume>() * 12 < size_of::<k8s::Volume>());
}
