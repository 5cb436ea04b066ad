//! A controller for a custom resource, watched through the dynamic client: nothing about the
//! type is known at compile time beyond its group, version and plural.
//!
//! The embedded API server registers `widgets.example.com/v1` at run time (as applying a
//! CustomResourceDefinition would); a shared informer over `DynamicObject`s feeds the usual
//! controller loop, and the reconcile function reads `spec` as JSON.
//!
//! Run: `cargo run --example crd-controller`.

use std::sync::Arc;
use std::time::Duration;

use apiclient::meta::WriteOptions;
use apiclient::{ApiResource, Config, DynamicClient, DynamicObject, Object, RestClient};
use clientgo::controller::{Action, Controller, ControllerConfig};
use clientgo::informer::{InformerOptions, ListWatch, Lister, SharedIndexInformer};
use serde_json::json;
use testserver::{CustomResource, TestServer};
use tokio_util::sync::CancellationToken;

/// A key that is not `namespace/name`: the only way this reconcile can fail.
#[derive(Debug)]
struct BadKey(String);

impl std::fmt::Display for BadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad key {}", self.0)
    }
}

impl std::error::Error for BadKey {}

async fn reconcile(key: String, widgets: Lister<DynamicObject>) -> Result<Action, BadKey> {
    let (ns, name) = key.split_once('/').ok_or_else(|| BadKey(key.clone()))?;
    match widgets.namespace(ns).get(name) {
        Ok(w) => {
            let size = w.data.get("spec").and_then(|s| s.get("size")).cloned();
            println!(
                "reconcile {key}: size={} rv={}",
                size.unwrap_or(json!(null)),
                w.resource_version()
            );
        }
        Err(_) => println!("reconcile {key}: deleted"),
    }
    Ok(Action::Done)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = TestServer::start().await?;
    server.register_custom_resource(CustomResource {
        group: "example.com".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        namespaced: true,
    });
    let widgets = ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        namespaced: true,
    };
    let client = RestClient::new(&Config::new(server.url()))?;
    let api = DynamicClient::dynamic(&client, widgets.clone(), Some("default"));
    let create = |name: &str, size: i64| {
        DynamicObject::new(&widgets, name).with("spec", json!({"size": size}))
    };
    api.create(&create("small", 1), &WriteOptions::default())
        .await?;

    let lw = ListWatch::<DynamicObject>::new(client.clone(), widgets.clone(), Some("default"));
    let informer = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
    let controller = Controller::new(
        informer,
        ControllerConfig {
            name: "widgets".into(),
            ..ControllerConfig::default()
        },
    )?;
    let stop = CancellationToken::new();
    let run = tokio::spawn(controller.run(1, stop.clone(), reconcile));

    tokio::time::sleep(Duration::from_millis(500)).await;
    api.create(&create("large", 10), &WriteOptions::default())
        .await?;
    let mut small = api.get("small").await?;
    small.data.insert("spec".into(), json!({"size": 2}));
    api.update(&small, &WriteOptions::default()).await?;
    api.delete("large", &Default::default()).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    stop.cancel();
    run.await??;
    server.shutdown().await;
    Ok(())
}
