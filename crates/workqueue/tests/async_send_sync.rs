//! Pins the auto traits users rely on: handles move between tasks, and the futures of `get` and
//! `shut_down_with_drain` can be spawned on a multi-threaded runtime. Checked at compile time:
//! this file has no runtime tests.
#![allow(clippy::unwrap_used, dead_code)]

use workqueue::{DelayingQueue, MaxOfRateLimiter, Queue, RateLimitingQueue};

fn send_sync<T: Send + Sync>(_: &T) {}
fn send<T: Send>(_: &T) {}

fn handles_are_send_and_sync(
    q: Queue<String>,
    d: DelayingQueue<String>,
    r: RateLimitingQueue<String>,
    m: MaxOfRateLimiter<String>,
) {
    send_sync(&q);
    send_sync(&d);
    send_sync(&r);
    send_sync(&m);
}

#[cfg(feature = "metrics")]
fn the_prometheus_provider_is_send_and_sync(p: workqueue::PrometheusMetricsProvider) {
    send_sync(&p);
}

fn futures_are_send(q: &Queue<String>) {
    send(&q.get());
    send(&q.shut_down_with_drain());
}
