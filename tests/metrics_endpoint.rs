//! GET /metrics and request ids on the real server: questions by outcome, latency, refusals, outbox depth.

mod support;

use support::TestServer;

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no `{series}` in\n{text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_questions_and_refusals() {
    let server = TestServer::start(&support::http_config("")).await;
    for question in ["第十条", "承办法官想借我的车开两天", "今天吃什么"] {
        let r = server
            .http
            .post(server.url("/api/ask"))
            .json(&serde_json::json!({ "question": question }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let refused = server
        .http
        .post(server.url("/wecom/callback?msg_signature=0&timestamp=1&nonce=1"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let response = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(value(&text, "lawbot_questions_total{outcome=\"lookup\"}") >= 1.0);
    assert!(value(&text, "lawbot_questions_total{outcome=\"matched\"}") >= 1.0);
    assert!(value(&text, "lawbot_questions_total{outcome=\"not_covered\"}") >= 1.0);
    assert!(value(&text, "lawbot_answer_seconds_count") >= 3.0);
    assert!(
        value(
            &text,
            "lawbot_requests_rejected_total{reason=\"stale timestamp\"}"
        ) >= 1.0
    );
    assert_eq!(value(&text, "lawbot_outbox_depth"), 0.0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start(&support::http_config("")).await;
    let fresh = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.headers()["x-request-id"].len(), 24);
    let given = server
        .http
        .get(server.url("/healthz"))
        .header("x-request-id", "proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "proxy-42");
    server.shutdown().await;
}
