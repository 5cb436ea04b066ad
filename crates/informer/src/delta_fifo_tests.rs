//! The DeltaFIFO behaviours of client-go's delta_fifo_test.go, and its invariants under random
//! operations.
#![allow(clippy::unwrap_used)]
use super::*;
use crate::store::Store;
use apimachinery::ObjectMeta;
use proptest::prelude::*;

/// A test object: `name` is the key, `resourceVersion` carries the value.
pub(crate) fn obj(name: &str, value: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        resource_version: Some(value.into()),
        ..ObjectMeta::default()
    }
}

fn known(objs: &[ObjectMeta]) -> Arc<Store<ObjectMeta>> {
    let s = Store::new(default_key_func(), Default::default());
    for o in objs {
        s.add(Arc::new(o.clone())).unwrap();
    }
    Arc::new(s)
}

fn fifo_with(known_objs: Option<Arc<Store<ObjectMeta>>>) -> DeltaFifo<ObjectMeta> {
    DeltaFifo::new(DeltaFifoOptions {
        known_objects: known_objs.map(|k| k as Arc<dyn KnownObjects<ObjectMeta>>),
        emit_delta_type_replaced: true,
        ..DeltaFifoOptions::default()
    })
}

/// `(kind, key-or-name, value)` of each delta, for compact assertions.
fn summary(d: &Deltas<ObjectMeta>) -> Vec<(DeltaType, String)> {
    d.iter()
        .map(|d| {
            let v = match d {
                Delta::Deleted(ObjectOrTombstone::Tombstone(t)) => format!(
                    "tombstone:{}:{}",
                    t.key,
                    t.obj.as_ref().map(|o| o.resource_version()).unwrap_or("-")
                ),
                other => other
                    .object()
                    .map(|o| format!("{}={}", o.name(), o.resource_version()))
                    .unwrap_or_default(),
            };
            (d.kind(), v)
        })
        .collect()
}

async fn pop(f: &DeltaFifo<ObjectMeta>) -> (Deltas<ObjectMeta>, bool) {
    let mut initial = false;
    let d = f
        .pop(&mut |_: &Deltas<ObjectMeta>, i| initial = i)
        .await
        .unwrap();
    f.check_invariants();
    (d, initial)
}

#[tokio::test]
async fn pop_returns_keys_in_first_enqueue_order_with_all_their_deltas() {
    let f = fifo_with(None);
    f.add(obj("foo", "1")).unwrap();
    f.add(obj("bar", "1")).unwrap();
    f.update(obj("foo", "2")).unwrap();
    f.check_invariants();
    assert_eq!(f.list_keys(), vec!["foo", "bar"]);
    let (d, _) = pop(&f).await;
    assert_eq!(
        summary(&d),
        vec![
            (DeltaType::Added, "foo=1".into()),
            (DeltaType::Updated, "foo=2".into())
        ]
    );
    let (d, _) = pop(&f).await;
    assert_eq!(summary(&d), vec![(DeltaType::Added, "bar=1".into())]);
    assert!(f.is_empty());
}

#[tokio::test]
async fn delete_of_a_key_unknown_everywhere_is_ignored() {
    let f = fifo_with(None);
    f.delete(obj("ghost", "1")).unwrap();
    assert!(f.is_empty());
    let f = fifo_with(Some(known(&[obj("k", "1")])));
    f.delete(obj("k", "2")).unwrap();
    assert_eq!(
        summary(&f.get_by_key("k").unwrap()),
        vec![(DeltaType::Deleted, "k=2".into())]
    );
}

#[tokio::test]
async fn two_trailing_deletions_collapse_keeping_the_real_final_state() {
    let f = fifo_with(Some(known(&[obj("a", "1")])));
    f.delete(obj("a", "2")).unwrap();
    // A relist that lacks `a` would add a tombstone; the real deletion wins.
    f.replace(vec![], "10").unwrap();
    assert_eq!(
        summary(&f.get_by_key("a").unwrap()),
        vec![(DeltaType::Deleted, "a=2".into())]
    );
    // Tombstone first, then the real deletion: the real one replaces it.
    let f = fifo_with(Some(known(&[obj("b", "1")])));
    f.replace(vec![], "10").unwrap();
    f.delete(obj("b", "3")).unwrap();
    assert_eq!(
        summary(&f.get_by_key("b").unwrap()),
        vec![(DeltaType::Deleted, "b=3".into())]
    );
    f.check_invariants();
}

#[tokio::test]
async fn replace_emits_deleted_for_keys_missing_from_list() {
    let f = fifo_with(Some(known(&[
        obj("foo", "5"),
        obj("bar", "6"),
        obj("baz", "7"),
    ])));
    f.delete(obj("baz", "10")).unwrap();
    f.replace(vec![obj("foo", "5")], "0").unwrap();
    f.check_invariants();
    let mut all = Vec::new();
    while !f.is_empty() {
        all.extend(summary(&pop(&f).await.0));
    }
    all.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        all,
        vec![
            (DeltaType::Deleted, "baz=10".into()),
            (DeltaType::Replaced, "foo=5".into()),
            (DeltaType::Deleted, "tombstone:bar:6".into()),
        ]
    );
}

#[tokio::test]
async fn replace_uses_the_newest_queued_state_for_a_tombstone() {
    let f = fifo_with(None);
    f.add(obj("a", "1")).unwrap();
    f.update(obj("a", "2")).unwrap();
    f.replace(vec![], "9").unwrap();
    assert_eq!(
        summary(&f.get_by_key("a").unwrap()),
        vec![
            (DeltaType::Added, "a=1".into()),
            (DeltaType::Updated, "a=2".into()),
            (DeltaType::Deleted, "tombstone:a:2".into())
        ]
    );
}

#[tokio::test]
async fn replace_emits_sync_unless_replaced_is_requested() {
    let f: DeltaFifo<ObjectMeta> = DeltaFifo::new(DeltaFifoOptions::default());
    f.replace(vec![obj("a", "1")], "1").unwrap();
    assert_eq!(f.get_by_key("a").unwrap()[0].kind(), DeltaType::Sync);
}

#[tokio::test]
async fn has_synced_only_after_the_initial_population_is_popped() {
    let f = fifo_with(Some(known(&[obj("gone", "1")])));
    assert!(!f.has_synced());
    f.replace(vec![obj("a", "1"), obj("b", "1")], "1").unwrap();
    assert!(!f.has_synced());
    // Events after the replace do not count toward the initial population.
    f.add(obj("c", "1")).unwrap();
    let (_, initial) = pop(&f).await;
    assert!(initial);
    assert!(!f.has_synced());
    let (_, initial) = pop(&f).await;
    assert!(initial);
    assert!(!f.has_synced());
    // The tombstone for `gone` was part of the initial population.
    let (d, initial) = pop(&f).await;
    assert!(initial);
    assert_eq!(d[0].kind(), DeltaType::Deleted);
    assert!(f.has_synced());
    assert!(f.synced_flag().is_set());
    let (_, initial) = pop(&f).await;
    assert!(!initial);
}

#[tokio::test]
async fn has_synced_right_away_when_an_event_comes_before_any_replace() {
    let f = fifo_with(None);
    f.add(obj("a", "1")).unwrap();
    assert!(f.has_synced());
    f.replace(vec![obj("b", "1")], "1").unwrap();
    assert!(f.has_synced());
}

#[tokio::test]
async fn resync_skips_keys_with_pending_deltas() {
    let f = fifo_with(Some(known(&[obj("a", "1"), obj("b", "1")])));
    f.update(obj("a", "2")).unwrap();
    f.resync().unwrap();
    assert_eq!(
        summary(&f.get_by_key("a").unwrap()),
        vec![(DeltaType::Updated, "a=2".into())]
    );
    assert_eq!(
        summary(&f.get_by_key("b").unwrap()),
        vec![(DeltaType::Sync, "b=1".into())]
    );
    f.check_invariants();
}

#[tokio::test]
async fn add_if_not_present_does_not_clobber_a_newer_entry() {
    let f = fifo_with(None);
    f.add(obj("a", "1")).unwrap();
    let (d, _) = pop(&f).await;
    f.add(obj("a", "2")).unwrap();
    f.add_if_not_present(d.clone()).unwrap();
    assert_eq!(
        summary(&f.get_by_key("a").unwrap()),
        vec![(DeltaType::Added, "a=2".into())]
    );
    let (_, _) = pop(&f).await;
    f.add_if_not_present(d).unwrap();
    assert_eq!(
        summary(&f.get_by_key("a").unwrap()),
        vec![(DeltaType::Added, "a=1".into())]
    );
}

#[tokio::test]
async fn transformer_runs_on_every_incoming_object() {
    let f: DeltaFifo<ObjectMeta> = DeltaFifo::new(DeltaFifoOptions {
        transformer: Some(Arc::new(|o: &mut ObjectMeta| {
            o.generation = Some(42);
        })),
        ..DeltaFifoOptions::default()
    });
    f.add(obj("a", "1")).unwrap();
    f.replace(vec![obj("b", "1")], "1").unwrap();
    for o in f.list() {
        assert_eq!(o.generation(), 42);
    }
}

#[tokio::test(start_paused = true)]
async fn pop_waits_for_an_item_and_close_unblocks_it() {
    let f = Arc::new(fifo_with(None));
    let f2 = f.clone();
    let waiter = tokio::spawn(async move {
        let mut noop = |_: &Deltas<ObjectMeta>, _| {};
        f2.pop(&mut noop).await.map(|d| d.len())
    });
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    f.add(obj("a", "1")).unwrap();
    assert_eq!(waiter.await.unwrap().unwrap(), 1);

    let f2 = f.clone();
    let waiter = tokio::spawn(async move {
        let mut noop = |_: &Deltas<ObjectMeta>, _| {};
        f2.pop(&mut noop).await.map(|d| d.len())
    });
    tokio::task::yield_now().await;
    f.close();
    assert!(matches!(waiter.await.unwrap(), Err(Error::FifoClosed)));
    assert!(f.is_closed());
}

proptest! {
    /// Random operations keep "a key is in `queue` iff it is in `items`".
    #[test]
    fn queue_and_items_stay_in_step(ops in proptest::collection::vec((0u8..6, 0u8..5), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let store = known(&[]);
        let f = fifo_with(Some(store.clone()));
        rt.block_on(async {
            for (op, k) in ops {
                let name = format!("k{k}");
                match op {
                    0 => f.add(obj(&name, "1")).unwrap(),
                    1 => f.update(obj(&name, "2")).unwrap(),
                    2 => f.delete(obj(&name, "3")).unwrap(),
                    3 => f.replace(vec![obj(&name, "4")], "1").unwrap(),
                    4 => f.resync().unwrap(),
                    _ => {
                        if !f.is_empty() {
                            let s = store.clone();
                            let mut apply = |d: &Deltas<ObjectMeta>, _| {
                                for x in d {
                                    match x {
                                        Delta::Deleted(o) => {
                                            if let Ok(k) = s.key_of_deleted(o) { s.delete_by_key(&k); }
                                        }
                                        other => { if let Some(o) = other.object() { s.update(o.clone()).unwrap(); } }
                                    }
                                }
                            };
                            f.pop(&mut apply).await.unwrap();
                        }
                    }
                }
                f.check_invariants();
                for d in f.lock().items.values() {
                    // No two trailing deletions survive.
                    let n = d.len();
                    prop_assert!(!(n >= 2 && d[n-1].kind() == DeltaType::Deleted && d[n-2].kind() == DeltaType::Deleted));
                }
            }
            Ok(())
        })?;
    }
}
