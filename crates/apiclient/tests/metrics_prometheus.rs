//! The prometheus adapter (`--features prometheus`): client-go's families under
//! component-base's names, filled by real requests to `testserver`.
#![allow(clippy::unwrap_used)]

mod common;

use apiclient::metrics::prometheus::RestClientMetrics;
use apiclient::{ListOptions, TypedClient};
use common::Pod;
use prometheus_client::registry::Registry;

#[tokio::test]
async fn requests_show_up_under_client_go_family_names() {
    let mut registry = Registry::default();
    assert!(RestClientMetrics::new(&mut registry).install());
    let server = testserver::TestServer::start().await.unwrap();
    let client = apiclient::RestClient::new(&common::config(&server).rate(100.0, 10)).unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client, "default");
    pods.list(&ListOptions::default()).await.unwrap();
    assert!(pods.get("missing").await.unwrap_err().is_not_found());

    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    for family in [
        "# TYPE rest_client_request_duration_seconds histogram",
        "# TYPE rest_client_request_size_bytes histogram",
        "# TYPE rest_client_response_size_bytes histogram",
        "# TYPE rest_client_rate_limiter_duration_seconds histogram",
        "# TYPE rest_client_requests counter",
        "# TYPE rest_client_request_retries counter",
        "# TYPE rest_client_exec_plugin_ttl_seconds gauge",
        "# TYPE rest_client_exec_plugin_certificate_rotation_age histogram",
        "# TYPE rest_client_exec_plugin_call counter",
    ] {
        assert!(text.contains(family), "{family} missing from\n{text}");
    }
    let host = server.url().trim_start_matches("http://").to_owned();
    for sample in [
        format!(r#"rest_client_requests_total{{code="200",method="GET",host="{host}"}} 1"#),
        format!(r#"rest_client_requests_total{{code="404",method="GET",host="{host}"}} 1"#),
        format!(r#"rest_client_request_duration_seconds_bucket{{le="60.0",verb="GET",host="{host}"}} 2"#),
        format!(r#"rest_client_rate_limiter_duration_seconds_count{{verb="GET",host="{host}"}} 2"#),
        "rest_client_exec_plugin_ttl_seconds inf".to_owned(),
        "# HELP rest_client_requests Number of HTTP requests, partitioned by status code, method, and host.\n".to_owned(),
    ] {
        assert!(text.contains(&sample), "{sample} missing from\n{text}");
    }
}
