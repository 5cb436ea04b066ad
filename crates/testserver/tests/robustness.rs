//! The server never panics or drops a connection on odd input: every request gets an HTTP
//! answer, and the server keeps serving afterwards.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Client, PODS};
use http::Method;
use proptest::prelude::*;
use testserver::TestServer;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_requests_get_an_http_answer(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        path in prop::sample::select(vec![PODS, "/api/v1/pods", "/api/v1/namespaces/default/pods/p",
            "/api/v1/namespaces/default/pods/p/status", "/apis/apps/v1/namespaces/default/deployments",
            "/api/v1/namespaces", "/api/v1/watch/pods", "/apis/x/y/z", "/version"]),
        query in "(watch=1|limit=-?[0-9]{1,3}|continue=[A-Za-z0-9]{0,12}|resourceVersion=[0-9]{0,12}|resourceVersionMatch=(Exact|NotOlderThan|x)|labelSelector=[a-z=!,()]{0,10}|fieldSelector=[a-z.=]{0,12}|timeoutSeconds=1|sendInitialEvents=true)?",
        content_type in prop::sample::select(vec!["application/json", "application/merge-patch+json",
            "application/json-patch+json", "application/apply-patch+yaml", "text/plain", ""]),
        body in prop::sample::select(vec!["", "{", "null", "[]", "{\"metadata\":{\"name\":\"p\"}}",
            "[{\"op\":\"remove\",\"path\":\"/nope\"}]", "{\"metadata\":{\"name\":5}}",
            "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]}}"]),
    ) {
        runtime().block_on(async {
            let server = TestServer::start().await.unwrap();
            let c = Client::new(&server);
            let method: Method = method.parse().unwrap();
            let path = format!("{path}?{query}");
            let ct = (!content_type.is_empty()).then_some(content_type);
            let is_watch = path.contains("watch");
            if !is_watch || query.contains("timeoutSeconds") || method != Method::GET {
                let resp = c.try_request(method, &path, ct, body.as_bytes().to_vec()).await;
                let resp = resp.unwrap();
                prop_assert!((200..600).contains(&resp.status));
            }
            prop_assert_eq!(c.get(PODS).await.status, 200);
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn huge_timeouts_and_limits_do_not_overflow() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let rv = server.resource_version();
    let mut w = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}&timeoutSeconds=18446744073709551615&allowWatchBookmarks=true"))
        .await;
    assert_eq!(w.status, 200);
    server
        .create(PODS, common::pod("p", serde_json::json!({})))
        .unwrap();
    assert_eq!(w.next_summary().await, ("ADDED".into(), "p".into()));
    let page = c.get(&format!("{PODS}?limit=9223372036854775807")).await;
    assert_eq!(page.status, 200);
}
