//! DingTalk groups reached by the app robot: token fetched once and reused, messages sent by
//! openConversationId, a refused token renewed, refused credentials mark the group broken.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use lawbot::delivery::{AppCredentials, Endpoints, Sender};
use lawbot::store::{Outcome, Robot, Store, now_ms};
use serde_json::{Value, json};

#[derive(Default)]
struct Fake {
    tokens_issued: usize,
    sent: Vec<(String, Value)>,
    refuse_next_token: bool,
}

async fn fake_openapi(fake: Arc<Mutex<Fake>>) -> String {
    let tokens = fake.clone();
    let sends = fake.clone();
    let app = Router::new()
        .route(
            "/v1.0/oauth2/accessToken",
            post(move |Json(body): Json<Value>| {
                let fake = tokens.clone();
                async move {
                    if body["appKey"] != "dingAPPKEY" || body["appSecret"] != "app-secret" {
                        return (StatusCode::BAD_REQUEST, Json(json!({ "code": "invalidClientIdOrSecret" })));
                    }
                    let mut f = fake.lock().unwrap();
                    f.tokens_issued += 1;
                    (StatusCode::OK, Json(json!({ "accessToken": format!("T{}", f.tokens_issued), "expireIn": 7200 })))
                }
            }),
        )
        .route(
            "/v1.0/robot/groupMessages/send",
            post(move |headers: HeaderMap, Json(body): Json<Value>| {
                let fake = sends.clone();
                async move {
                    let mut f = fake.lock().unwrap();
                    let token = headers["x-acs-dingtalk-access-token"].to_str().unwrap().to_string();
                    if std::mem::take(&mut f.refuse_next_token) {
                        return (StatusCode::UNAUTHORIZED, Json(json!({ "code": "InvalidAuthentication" })));
                    }
                    f.sent.push((token, body));
                    (StatusCode::OK, Json(json!({ "processQueryKey": "k" })))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn sender(base: &str, secret: &str) -> Sender {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Sender::new(Endpoints::default()).with_app(AppCredentials {
        client_id: "dingAPPKEY".into(),
        client_secret: lawbot::config::Secret::new(secret),
        api_base: base.into(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_go_out_by_conversation_with_one_token() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    let base = fake_openapi(fake.clone()).await;
    let store = Store::in_memory().unwrap();
    let group = store
        .add_group(
            &lawbot::admin::new_group(
                "dingtalk",
                "丙律所",
                lawbot::admin::RobotFields {
                    conversation_id: Some("cidABC==".into()),
                    ..Default::default()
                },
            )
            .unwrap(),
        )
        .unwrap();
    assert_eq!(
        group.robot,
        Robot::DingtalkApp {
            conversation_id: "cidABC==".into()
        }
    );
    let sender = sender(&base, "app-secret");
    for n in 0..3 {
        let outcome = sender
            .send(&group, "通知", &format!("第{n}条"), 0, now_ms())
            .await;
        assert_eq!(outcome, Outcome::Sent);
    }
    let f = fake.lock().unwrap();
    assert_eq!(f.tokens_issued, 1, "the token is cached");
    assert_eq!(f.sent.len(), 3);
    let (token, body) = &f.sent[0];
    assert_eq!(token, "T1");
    assert_eq!(body["openConversationId"], "cidABC==");
    assert_eq!(body["robotCode"], "dingAPPKEY");
    assert_eq!(body["msgKey"], "sampleMarkdown");
    let param: Value = serde_json::from_str(body["msgParam"].as_str().unwrap()).unwrap();
    assert!(param["text"].as_str().unwrap().contains("第0条"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_renewed_and_refused_credentials_break_the_group() {
    let fake = Arc::new(Mutex::new(Fake::default()));
    let base = fake_openapi(fake.clone()).await;
    let store = Store::in_memory().unwrap();
    let fields = lawbot::admin::RobotFields {
        conversation_id: Some("cid1".into()),
        ..Default::default()
    };
    let group = store
        .add_group(&lawbot::admin::new_group("dingtalk", "丁律所", fields).unwrap())
        .unwrap();
    let good = sender(&base, "app-secret");
    assert_eq!(good.send(&group, "", "a", 0, now_ms()).await, Outcome::Sent);
    fake.lock().unwrap().refuse_next_token = true;
    assert!(matches!(
        good.send(&group, "", "b", 0, now_ms()).await,
        Outcome::Retry { .. }
    ));
    assert_eq!(good.send(&group, "", "b", 1, now_ms()).await, Outcome::Sent);
    assert_eq!(
        fake.lock().unwrap().tokens_issued,
        2,
        "a new token after the refusal"
    );

    let bad = sender(&base, "wrong-secret");
    let outcome = bad.send(&group, "", "c", 0, now_ms()).await;
    assert!(matches!(outcome, Outcome::Broken { .. }), "{outcome:?}");
}

#[test]
fn an_app_robot_group_needs_no_token_and_shows_its_conversation_masked() {
    let store = Store::in_memory().unwrap();
    let fields = lawbot::admin::RobotFields {
        conversation_id: Some("cidVeryLongConversation".into()),
        ..Default::default()
    };
    let group = store
        .add_group(&lawbot::admin::new_group("dingtalk", "戊", fields.clone()).unwrap())
        .unwrap();
    assert!(
        group
            .robot
            .masked()
            .starts_with("app robot, conversation cidV…")
    );
    assert!(
        store
            .add_group(&lawbot::admin::new_group("dingtalk", "己", fields).unwrap())
            .is_err(),
        "one group per conversation"
    );
    let neither = lawbot::admin::new_group("dingtalk", "庚", lawbot::admin::RobotFields::default());
    assert!(neither.is_err());
}
