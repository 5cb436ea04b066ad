//! client-go's REST client metrics hooks (`tools/metrics`) against `testserver`: a recording
//! hook is installed once for this test binary, and each test reads only the records of its
//! own server's host.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use apiclient::config::{ExecConfig, ExecInteractiveMode};
use apiclient::http::Url;
use apiclient::metrics::{
    self, CallsMetric, DurationMetric, ExpiryMetric, LatencyMetric, RegisterOpts, ResultMetric,
    RetryMetric, SizeMetric,
};
use apiclient::{ListOptions, RestClient, TypedClient};
use common::{Pod, pod};
use testserver::{FaultMatch, Verb};

#[derive(Debug, Clone, PartialEq)]
enum Rec {
    Latency {
        verb: String,
        url: String,
    },
    RateLimiter {
        verb: String,
        url: String,
        waited: Duration,
    },
    Result {
        code: String,
        method: String,
        host: String,
    },
    Retry {
        code: String,
        method: String,
        host: String,
    },
    RequestSize {
        verb: String,
        host: String,
        size: f64,
    },
    ResponseSize {
        verb: String,
        host: String,
        size: f64,
    },
    ExecCall {
        code: i32,
        status: String,
    },
    CertExpiry(Option<SystemTime>),
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Rec>>);

impl Recorder {
    fn push(&self, r: Rec) {
        self.0.lock().unwrap().push(r);
    }
}

impl LatencyMetric for Recorder {
    fn observe(&self, verb: &str, url: &Url, _latency: Duration) {
        self.push(Rec::Latency {
            verb: verb.into(),
            url: url.to_string(),
        });
    }
}

/// Rate limiter waits go to a second recorder so they keep their duration.
struct RateRecorder(Arc<Recorder>);

impl LatencyMetric for RateRecorder {
    fn observe(&self, verb: &str, url: &Url, latency: Duration) {
        self.0.push(Rec::RateLimiter {
            verb: verb.into(),
            url: url.to_string(),
            waited: latency,
        });
    }
}

impl ResultMetric for Recorder {
    fn increment(&self, code: &str, method: &str, host: &str) {
        self.push(Rec::Result {
            code: code.into(),
            method: method.into(),
            host: host.into(),
        });
    }
}

impl RetryMetric for Recorder {
    fn increment_retry(&self, code: &str, method: &str, host: &str) {
        self.push(Rec::Retry {
            code: code.into(),
            method: method.into(),
            host: host.into(),
        });
    }
}

struct Sizes(Arc<Recorder>, bool);

impl SizeMetric for Sizes {
    fn observe(&self, verb: &str, host: &str, size: f64) {
        let (verb, host) = (verb.to_owned(), host.to_owned());
        self.0.push(if self.1 {
            Rec::RequestSize { verb, host, size }
        } else {
            Rec::ResponseSize { verb, host, size }
        });
    }
}

impl CallsMetric for Recorder {
    fn increment(&self, exit_code: i32, call_status: &str) {
        self.push(Rec::ExecCall {
            code: exit_code,
            status: call_status.into(),
        });
    }
}

impl ExpiryMetric for Recorder {
    fn set(&self, expiry: Option<SystemTime>) {
        self.push(Rec::CertExpiry(expiry));
    }
}

impl DurationMetric for Recorder {
    fn observe(&self, _duration: Duration) {}
}

fn recorder() -> &'static Arc<Recorder> {
    static REC: OnceLock<Arc<Recorder>> = OnceLock::new();
    REC.get_or_init(|| {
        let rec = Arc::new(Recorder::default());
        assert!(metrics::register(RegisterOpts {
            client_cert_expiry: Some(rec.clone()),
            client_cert_rotation_age: Some(rec.clone()),
            request_latency: Some(rec.clone()),
            request_size: Some(Arc::new(Sizes(rec.clone(), true))),
            response_size: Some(Arc::new(Sizes(rec.clone(), false))),
            rate_limiter_latency: Some(Arc::new(RateRecorder(rec.clone()))),
            request_result: Some(rec.clone()),
            request_retry: Some(rec.clone()),
            exec_plugin_calls: Some(rec.clone()),
        }));
        assert!(
            !metrics::register(RegisterOpts::default()),
            "only the first registration counts"
        );
        rec
    })
}

fn host(server: &testserver::TestServer) -> String {
    Url::parse(&server.url())
        .map(|u| format!("{}:{}", u.host_str().unwrap(), u.port().unwrap()))
        .unwrap()
}

/// The records that mention `host` (in a label or a URL).
fn records_for(host: &str) -> Vec<Rec> {
    recorder()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|r| match r {
            Rec::Latency { url, .. } | Rec::RateLimiter { url, .. } => url.contains(host),
            Rec::Result { host: h, .. }
            | Rec::Retry { host: h, .. }
            | Rec::RequestSize { host: h, .. }
            | Rec::ResponseSize { host: h, .. } => h == host,
            Rec::ExecCall { .. } | Rec::CertExpiry(_) => false,
        })
        .cloned()
        .collect()
}

fn result(code: &str, method: &str, host: &str) -> Rec {
    Rec::Result {
        code: code.into(),
        method: method.into(),
        host: host.into(),
    }
}

#[tokio::test]
async fn a_get_reports_a_200_result_latency_and_sizes_with_its_host() {
    recorder();
    let server = testserver::TestServer::start().await.unwrap();
    let client = common::client(&server);
    let pods = TypedClient::<Pod>::namespaced(&client, "default");
    pods.create(&pod("p1"), &Default::default()).await.unwrap();
    let got = pods.get("p1").await.unwrap();
    assert_eq!(got.metadata.name.as_deref(), Some("p1"));
    let h = host(&server);
    let recs = records_for(&h);
    assert_eq!(
        recs.iter()
            .filter(|r| matches!(r, Rec::Result { .. }))
            .collect::<Vec<_>>(),
        [&result("201", "POST", &h), &result("200", "GET", &h)]
    );
    assert!(
        recs.contains(&Rec::Latency {
            verb: "GET".into(),
            url: format!("http://{h}/api/v1/namespaces/%7Bnamespace%7D/pods/%7Bname%7D"),
        }),
        "latency labelled with the URL template: {recs:?}"
    );
    assert!(recs.contains(&Rec::RequestSize {
        verb: "GET".into(),
        host: h.clone(),
        size: 0.0
    }));
    assert!(
        recs.iter().any(|r| matches!(r,
            Rec::RequestSize { verb, size, .. } if verb == "POST" && *size > 0.0)),
        "{recs:?}"
    );
    assert!(
        recs.iter().any(|r| matches!(r,
            Rec::ResponseSize { verb, size, .. } if verb == "GET" && *size > 0.0)),
        "{recs:?}"
    );
    assert!(
        !recs.iter().any(|r| matches!(r, Rec::Retry { .. })),
        "nothing was retried: {recs:?}"
    );
}

#[tokio::test]
async fn a_404_reports_code_404() {
    recorder();
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&common::client(&server), "default");
    assert!(pods.get("missing").await.unwrap_err().is_not_found());
    let h = host(&server);
    assert_eq!(
        records_for(&h)
            .into_iter()
            .filter(|r| matches!(r, Rec::Result { .. }))
            .collect::<Vec<_>>(),
        [result("404", "GET", &h)]
    );
}

#[tokio::test(start_paused = true)]
async fn each_attempt_is_a_result_and_each_retry_is_counted() {
    recorder();
    let server = testserver::TestServer::start().await.unwrap();
    let client = RestClient::new(&common::config(&server).rate(1000.0, 100)).unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client, "default");
    let list = FaultMatch::verb(Verb::List).resource("pods");
    server.faults().fail_next(2, list.clone(), 429, Some(1));
    pods.list(&ListOptions::default()).await.unwrap();
    let h = host(&server);
    let recs = records_for(&h);
    let results: Vec<_> = recs
        .iter()
        .filter(|r| matches!(r, Rec::Result { .. }))
        .cloned()
        .collect();
    assert_eq!(
        results,
        [
            result("429", "GET", &h),
            result("429", "GET", &h),
            result("200", "GET", &h)
        ]
    );
    let retries: Vec<_> = recs
        .iter()
        .filter(|r| matches!(r, Rec::Retry { .. }))
        .cloned()
        .collect();
    assert_eq!(
        recs.iter()
            .filter(|r| matches!(r, Rec::RateLimiter { .. }))
            .count(),
        3,
        "the first attempt and each retry pass the rate limiter: {recs:?}"
    );
    // Attempts 2 and 3 are retries, labelled with their own outcome (Go's withRetry.After).
    assert_eq!(
        retries,
        [
            Rec::Retry {
                code: "429".into(),
                method: "GET".into(),
                host: h.clone()
            },
            Rec::Retry {
                code: "200".into(),
                method: "GET".into(),
                host: h.clone()
            },
        ]
    );
}

#[tokio::test]
async fn a_request_that_gets_no_response_is_an_error_result() {
    recorder();
    // Bind and drop a listener: nothing listens on the port afterwards.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = apiclient::Config::new(format!("http://{addr}"));
    config.qps = -1.0;
    let client = RestClient::new(&config).unwrap();
    let e = client
        .get()
        .group_version("", "v1")
        .resource("pods")
        .into_bytes()
        .await
        .unwrap_err();
    assert!(
        e.is_transport(apiclient::error::TransportKind::Connect),
        "{e}"
    );
    assert_eq!(
        records_for(&addr.to_string())
            .into_iter()
            .filter(|r| matches!(r, Rec::Result { .. }))
            .collect::<Vec<_>>(),
        [result("<error>", "GET", &addr.to_string())]
    );
}

#[tokio::test(start_paused = true)]
async fn the_rate_limiter_wait_is_observed() {
    recorder();
    let server = testserver::TestServer::start().await.unwrap();
    // One token, refilled every 2 s: the second request waits 2 s.
    let client = RestClient::new(&common::config(&server).rate(0.5, 1)).unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client, "default");
    pods.list(&ListOptions::default()).await.unwrap();
    pods.list(&ListOptions::default()).await.unwrap();
    let h = host(&server);
    let waits: Vec<Duration> = records_for(&h)
        .into_iter()
        .filter_map(|r| match r {
            Rec::RateLimiter { verb, url, waited } => {
                assert_eq!(verb, "GET");
                assert_eq!(
                    url,
                    format!("http://{h}/api/v1/namespaces/%7Bnamespace%7D/pods")
                );
                Some(waited)
            }
            _ => None,
        })
        .collect();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert_eq!(waits[0], Duration::ZERO);
    assert!(
        waits[1] >= Duration::from_millis(1990) && waits[1] <= Duration::from_millis(2010),
        "{waits:?}"
    );
}

fn plugin(dir: &std::path::Path, body: &str) -> String {
    let p = dir.join("plugin.sh");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.to_string_lossy().into_owned()
}

fn exec_calls() -> Vec<Rec> {
    recorder()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|r| matches!(r, Rec::ExecCall { .. }))
        .cloned()
        .collect()
}

/// Exec plugin runs are process-wide records: this is the only test of this binary that
/// runs plugins.
#[tokio::test]
async fn exec_plugin_runs_are_counted_by_outcome_and_certificates_set_the_expiry() {
    recorder();
    let dir = tempfile::tempdir().unwrap();
    let exec = |command: String| ExecConfig {
        api_version: "client.authentication.k8s.io/v1".into(),
        command,
        interactive_mode: Some(ExecInteractiveMode::Never),
        ..ExecConfig::default()
    };
    let run = |e: ExecConfig| async move {
        apiclient::config::exec::ExecAuthenticator::new(e, None)
            .credential()
            .await
    };
    let ok = plugin(
        dir.path(),
        r#"printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}'"#,
    );
    run(exec(ok)).await.unwrap();
    let failing = dir.path().join("failing.sh");
    std::fs::write(&failing, "#!/bin/sh\nexit 7\n").unwrap();
    std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
    run(exec(failing.to_string_lossy().into_owned()))
        .await
        .unwrap_err();
    run(exec(
        dir.path().join("absent").to_string_lossy().into_owned(),
    ))
    .await
    .unwrap_err();
    let call = |code, status: &str| Rec::ExecCall {
        code,
        status: status.into(),
    };
    assert_eq!(
        exec_calls(),
        [
            call(0, "no_error"),
            call(7, "plugin_execution_error"),
            call(1, "plugin_not_found_error"),
        ]
    );

    // A plugin handing out a client certificate reports the certificate's notAfter.
    let server = testserver::TestServer::builder()
        .client_cert_auth(true)
        .start()
        .await
        .unwrap();
    let (cert, key) = server.issue_client_cert("bob").unwrap();
    let cred = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"clientCertificateData": cert, "clientKeyData": key}
    });
    let cred_path = dir.path().join("cred.json");
    std::fs::write(&cred_path, cred.to_string()).unwrap();
    let script = dir.path().join("cert.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncat '{}'\n", cred_path.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut config = common::config(&server);
    config.exec = Some(exec(script.to_string_lossy().into_owned()));
    let client = RestClient::new(&config).unwrap();
    TypedClient::<Pod>::namespaced(&client, "default")
        .list(&ListOptions::default())
        .await
        .unwrap();
    let expiries: Vec<_> = recorder()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|r| match r {
            Rec::CertExpiry(e) => Some(*e),
            _ => None,
        })
        .collect();
    assert!(
        expiries
            .iter()
            .any(|e| e.is_some_and(|t| t > SystemTime::now())),
        "the certificate's notAfter was reported: {expiries:?}"
    );
    assert_eq!(exec_calls().len(), 4);
}
