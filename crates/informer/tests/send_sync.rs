//! Compile-time checks: the types a controller shares across tasks are `Send + Sync`, and the
//! futures it spawns are `Send`.
#![allow(clippy::unwrap_used, dead_code)]

use apiclient::ObjectMeta;
use informer::{
    DeltaFifo, Lister, ReadOnlyStore, RealFifo, Reflector, ResourceEventHandlerRegistration,
    RetryWithDeadline, SharedIndexInformer, SharedInformerFactory, Store, SyncedSignal,
};
use tokio_util::sync::CancellationToken;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn shared_types_are_send_and_sync() {
    send_sync::<SharedIndexInformer<ObjectMeta>>();
    send_sync::<Store<ObjectMeta>>();
    send_sync::<ReadOnlyStore<ObjectMeta>>();
    send_sync::<RetryWithDeadline>();
    send_sync::<Lister<ObjectMeta>>();
    send_sync::<DeltaFifo<ObjectMeta>>();
    send_sync::<RealFifo<ObjectMeta>>();
    send_sync::<ResourceEventHandlerRegistration>();
    send_sync::<SyncedSignal>();
    send_sync::<SharedInformerFactory>();
    send_sync::<informer::Error>();
}

fn run_futures_are_send(
    i: SharedIndexInformer<ObjectMeta>,
    mut r: Reflector<ObjectMeta>,
    f: SharedInformerFactory,
) {
    let t = CancellationToken::new();
    send(&i.run(t.clone()));
    send(&r.run(t.clone()));
    send(&f.shutdown());
    send(&f.wait_for_cache_sync(&t));
}
