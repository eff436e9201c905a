//! The admin API on the real server: every route refuses a missing or wrong token; groups and broadcasts work.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::TestServer;

const TOKEN: &str = "admin-token-for-tests-0123456789";

fn config() -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[admin]\ntoken = \"{TOKEN}\"\n[reminders]\ndefault = \"off\"\n\
         [wecom]\napi_base = \"http://127.0.0.1:9\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_admin_route_refuses_requests_without_the_token() {
    let server = TestServer::start(&config()).await;
    let routes = [
        ("GET", "/admin/groups"),
        ("POST", "/admin/groups"),
        ("DELETE", "/admin/groups/x"),
        ("POST", "/admin/broadcasts"),
        ("GET", "/admin/broadcasts/1"),
    ];
    for (method, path) in routes {
        for auth in [None, Some("Bearer wrong"), Some(TOKEN)] {
            let mut request = server
                .http
                .request(method.parse().unwrap(), server.url(path))
                .body("{}");
            if let Some(a) = auth {
                request = request.header("authorization", a);
            }
            let status = request.send().await.unwrap().status();
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {auth:?}"
            );
        }
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_and_broadcasts_through_the_api_with_secrets_masked() {
    let server = TestServer::start(&config()).await;
    let auth = format!("Bearer {TOKEN}");
    let post = |path: &str, body: Value| {
        server
            .http
            .post(server.url(path))
            .header("authorization", &auth)
            .json(&body)
            .send()
    };
    let key = "9f8e7d6c-5b4a-3210-ffff-eeeeddddcccc";
    let created = post(
        "/admin/groups",
        json!({ "platform": "wecom", "name": "甲律所", "webhook_key": key }),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let bad = post(
        "/admin/groups",
        json!({ "platform": "wecom", "name": "乙" }),
    )
    .await
    .unwrap();
    assert_eq!(
        bad.status(),
        StatusCode::BAD_REQUEST,
        "a WeCom group needs its webhook key"
    );
    let malformed = server
        .http
        .post(server.url("/admin/groups"))
        .header("authorization", &auth)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let list = server
        .http
        .get(server.url("/admin/groups"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    let text = list.text().await.unwrap();
    assert!(text.contains("甲律所") && !text.contains(key), "{text}");

    let sent = post(
        "/admin/broadcasts",
        json!({ "text": "各律所：请学习第十二条。" }),
    )
    .await
    .unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);
    let id = sent.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let report: Value = server
        .http
        .get(server.url(&format!("/admin/broadcasts/{id}")))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["deliveries"][0]["group"], "甲律所");
    assert!(["queued", "sent"].contains(&report["deliveries"][0]["status"].as_str().unwrap()));
    let missing = server
        .http
        .get(server.url("/admin/broadcasts/999"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);

    let removed = server
        .http
        .delete(server.url("/admin/groups/甲律所"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    server.shutdown().await;
}
