//! Shared test helpers: a minimal typed `Pod` and clients for a `testserver`.
#![allow(dead_code, clippy::unwrap_used)]

use apiclient::meta::{ObjectMeta, Resource, TypeMeta};
use apiclient::{Config, RestClient};
use serde::{Deserialize, Serialize};

/// A pod as far as these tests care: metadata typed, spec and status as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pod {
    #[serde(flatten)]
    pub types: TypeMeta,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub spec: serde_json::Value,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub status: serde_json::Value,
}

apiclient::impl_object_via_metadata!(Pod);

impl Resource for Pod {
    const GROUP: &'static str = "";
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Pod";
    const PLURAL: &'static str = "pods";
    const NAMESPACED: bool = true;
}

pub fn pod(name: &str) -> Pod {
    Pod {
        types: TypeMeta {
            api_version: "v1".into(),
            kind: "Pod".into(),
        },
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        spec: serde_json::json!({"containers": [{"name": "c", "image": "nginx"}]}),
        status: serde_json::Value::Null,
    }
}

/// A config for `server` with throttling off, so tests measure only what they mean to.
pub fn config(server: &testserver::TestServer) -> Config {
    let mut c = Config::new(server.url());
    c.qps = -1.0;
    if let Some(ca) = server.ca_pem() {
        c.tls.ca_data = Some(ca.into_bytes());
    }
    c
}

pub fn client(server: &testserver::TestServer) -> RestClient {
    RestClient::new(&config(server)).unwrap()
}
