//! Pins the auto traits callers rely on: clients are `Send + Sync + Clone`, every future and
//! stream they return is `Send` (so it can be spawned), and `WatchStream` is `Unpin`.
#![allow(clippy::unwrap_used)]

mod common;

use apiclient::meta::{DeleteOptions, ListOptions, PatchType, WriteOptions};
use apiclient::{DynamicClient, Error, RestClient, TypedClient, WatchStream};
use common::Pod;

fn send<T: Send>(_: &T) {}
fn send_sync<T: Send + Sync>() {}
fn unpin<T: Unpin>() {}

#[test]
fn clients_errors_and_futures_have_the_expected_auto_traits() {
    send_sync::<RestClient>();
    send_sync::<TypedClient<Pod>>();
    send_sync::<DynamicClient>();
    send_sync::<Error>();
    send_sync::<apiclient::Config>();
    unpin::<WatchStream<Pod>>();
    let c = RestClient::new(&apiclient::Config::new("http://127.0.0.1:1")).unwrap();
    let pods = TypedClient::<Pod>::all(&c);
    let opts = ListOptions::default();
    let w = WriteOptions::default();
    let p = common::pod("x");
    send(&pods.get("x"));
    send(&pods.list(&opts));
    send(&pods.list_all(&opts));
    send(&pods.watch(&opts));
    send(&pods.create(&p, &w));
    send(&pods.update(&p, &w));
    send(&pods.update_status(&p, &w));
    send(&pods.patch("x", PatchType::Merge, &serde_json::json!({}), &w));
    send(&pods.delete("x", &DeleteOptions::default()));
    send(&pods.delete_collection(&DeleteOptions::default(), &opts));
    send(&c.get().prefix("/version").into_bytes());
}
