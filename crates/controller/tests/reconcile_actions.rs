//! `Controller::handle_err` on a paused clock: how each reconcile outcome moves a key through the
//! rate-limited queue (controller-runtime's `reconcileHandler` for `Action`, client-go's
//! `handleErr` for errors). The controller is never run, so no server is needed.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use api::core::v1::Pod;
use apiclient::{Config, RestClient};
use controller::{Action, Controller, ControllerConfig, DEFAULT_MAX_RETRIES, ReconcileError};
use informer::{InformerOptions, ListWatch, SharedIndexInformer};

#[derive(Debug, thiserror::Error)]
#[error("sync failed")]
struct SyncFailed;

type Outcome = Result<Action, ReconcileError<SyncFailed>>;

fn controller() -> Controller<Pod> {
    // Nothing is listed or watched: the address is never dialled.
    let client = RestClient::new(&Config::new("http://127.0.0.1:9")).unwrap();
    let lw = ListWatch::<Pod>::for_resource(client, Some("default"));
    let informer = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
    Controller::new(informer, ControllerConfig::default()).unwrap()
}

fn failed() -> Outcome {
    Err(ReconcileError::Failed(SyncFailed))
}

/// Takes `key` off the queue once its back-off has passed, as a worker would.
async fn take(controller: &Controller<Pod>, key: &String) {
    tokio::time::advance(Duration::from_secs(1)).await;
    let got = controller.queue().get().await;
    assert_eq!(got.as_ref(), Some(key));
}

#[tokio::test(start_paused = true)]
async fn requeue_is_rate_limited_and_never_drops_the_key() {
    let c = controller();
    let key = "default/web".to_string();
    for n in 1..=DEFAULT_MAX_RETRIES + 3 {
        c.handle_err(&key, Outcome::Ok(Action::Requeue));
        assert_eq!(
            c.queue().num_requeues(&key),
            n,
            "requeue {n} is rate limited"
        );
        take(&c, &key).await;
        c.queue().done(&key);
    }
    // An error after all those requeues still counts them: it is past the limit, so dropped.
    c.handle_err(&key, failed());
    assert_eq!(c.queue().num_requeues(&key), 0);
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!((c.queue().len(), c.queue().waiting_len()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn requeue_after_forgets_the_back_off_and_adds_the_key_after_the_delay() {
    let c = controller();
    let key = "default/web".to_string();
    for _ in 0..3 {
        c.handle_err(&key, failed());
        take(&c, &key).await;
        c.queue().done(&key);
    }
    assert_eq!(c.queue().num_requeues(&key), 3);

    c.handle_err(
        &key,
        Outcome::Ok(Action::RequeueAfter(Duration::from_secs(30))),
    );
    assert_eq!(c.queue().num_requeues(&key), 0, "the back-off starts over");
    assert_eq!((c.queue().len(), c.queue().waiting_len()), (0, 1));
    tokio::time::advance(Duration::from_millis(29_900)).await;
    assert_eq!(c.queue().len(), 0, "not before the delay");
    tokio::time::advance(Duration::from_millis(200)).await;
    tokio::task::yield_now().await;
    assert_eq!(c.queue().len(), 1, "added once the delay passed");
}

#[tokio::test(start_paused = true)]
async fn done_forgets_and_errors_retry_max_retries_times_then_drop() {
    let c = controller();
    let key = "default/web".to_string();
    c.handle_err(&key, failed());
    take(&c, &key).await;
    c.queue().done(&key);
    c.handle_err(&key, Outcome::Ok(Action::Done));
    assert_eq!(c.queue().num_requeues(&key), 0);
    assert_eq!((c.queue().len(), c.queue().waiting_len()), (0, 0));

    for attempt in 1..=DEFAULT_MAX_RETRIES {
        c.handle_err(&key, failed());
        assert_eq!(c.queue().num_requeues(&key), attempt);
        take(&c, &key).await;
        c.queue().done(&key);
    }
    // A panic counts as an error: with the retries used up, the key is forgotten and dropped.
    let panicked: Outcome = Err(ReconcileError::Panicked {
        message: "boom".into(),
    });
    c.handle_err(&key, panicked);
    assert_eq!(c.queue().num_requeues(&key), 0);
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!((c.queue().len(), c.queue().waiting_len()), (0, 0));
}

#[test]
fn a_controller_is_built_outside_a_tokio_runtime_and_runs_inside_one() {
    let c = controller();
    let key = "default/web".to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        c.handle_err(&key, Outcome::Ok(Action::Requeue));
        take(&c, &key).await;
        c.queue().done(&key);
    });
}
