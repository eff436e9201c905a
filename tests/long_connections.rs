//! WeCom's long connection and DingTalk's stream mode against fake WebSocket and OpenAPI servers on loopback.

mod support;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use support::*;
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------------
// WeCom

fn wecom_config(url: &str) -> String {
    format!(
        "{}[wecom.long_connection]\nbot_id = \"BOT-1\"\nsecret = \"BOT-SECRET\"\nurl = \"{url}\"\nheartbeat_seconds = 1\n",
        http_config("")
    )
}

/// Reads the subscription frame, checks it and returns its req_id.
async fn expect_subscription(ws: &mut Ws) -> String {
    let frame = expect_frame(ws, "aibot_subscribe").await;
    assert_eq!(frame["cmd"], "aibot_subscribe", "{frame}");
    assert_eq!(frame["body"]["bot_id"], "BOT-1", "{frame}");
    assert_eq!(frame["body"]["secret"], "BOT-SECRET", "{frame}");
    frame["headers"]["req_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| panic!("the subscription has no req_id: {frame}"))
        .to_string()
}

async fn answer_subscription(ws: &mut Ws, req_id: &str, errcode: i64) {
    let errmsg = if errcode == 0 { "ok" } else { "invalid secret" };
    send_json(
        ws,
        &json!({ "headers": { "req_id": req_id }, "errcode": errcode, "errmsg": errmsg }),
    )
    .await;
}

async fn subscribe(ws: &mut Ws) {
    let req_id = expect_subscription(ws).await;
    answer_subscription(ws, &req_id, 0).await;
}

fn msg_callback(req_id: &str, msgid: &str, content: &str) -> Value {
    json!({
        "cmd": "aibot_msg_callback",
        "headers": { "req_id": req_id },
        "body": serde_json::from_str::<Value>(&wecom_text(msgid, "zhangsan", content)).unwrap(),
    })
}

fn is_ping(frame: &Value) -> bool {
    frame["cmd"] == "ping"
}

async fn ack_ping(ws: &mut Ws, ping: &Value) {
    let req_id = ping["headers"]["req_id"].clone();
    assert!(req_id.is_string(), "a ping has a req_id: {ping}");
    send_json(
        ws,
        &json!({ "headers": { "req_id": req_id }, "errcode": 0, "errmsg": "ok" }),
    )
    .await;
}

/// What the client sent within `within`, pings acked (and counted) on the way.
struct Seen {
    frames: Vec<Value>,
    pings: usize,
    closed: bool,
}

async fn watch(ws: &mut Ws, within: Duration, ack_pings: bool) -> Seen {
    let deadline = Instant::now() + within;
    let mut seen = Seen {
        frames: Vec::new(),
        pings: 0,
        closed: false,
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next_frame(ws, left).await {
            Frame::Silent => return seen,
            Frame::Closed => {
                seen.closed = true;
                return seen;
            }
            Frame::Json(frame) if is_ping(&frame) => {
                seen.pings += 1;
                if ack_pings {
                    ack_ping(ws, &frame).await;
                }
            }
            Frame::Json(frame) => seen.frames.push(frame),
        }
    }
}

/// The next frame that is not a ping (pings are acked), within [`WAIT`].
async fn expect_reply(ws: &mut Ws) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next_frame(ws, left).await {
            Frame::Json(frame) if is_ping(&frame) => ack_ping(ws, &frame).await,
            Frame::Json(frame) => return frame,
            other => panic!("expected aibot_respond_msg, got {other:?}"),
        }
    }
}

fn check_respond(frame: &Value, req_id: &str, clause: &str) {
    assert_eq!(frame["cmd"], "aibot_respond_msg", "{frame}");
    assert_eq!(
        frame["headers"]["req_id"], req_id,
        "the reply carries the callback's req_id"
    );
    assert_eq!(frame["body"]["msgtype"], "stream", "{frame}");
    assert_eq!(frame["body"]["stream"]["finish"], true, "{frame}");
    let content = frame["body"]["stream"]["content"].as_str().unwrap_or("");
    assert!(content.contains(clause), "expected {clause} in {content}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wecom_subscribes_answers_on_the_same_req_id_keeps_the_heartbeat_and_reconnects() {
    let mut fake = FakeWs::start().await;
    let server = TestServer::start(&wecom_config(&fake.url("/"))).await;
    let (_, mut ws) = fake.accept().await;
    subscribe(&mut ws).await;

    send_json(
        &mut ws,
        &msg_callback("REQ-1", "LC-1", &format!("@RobotA {DINNER}")),
    )
    .await;
    let reply = expect_reply(&mut ws).await;
    check_respond(&reply, "REQ-1", DINNER_CLAUSE);

    // Acked heartbeats keep the link: after more than two missed-pong periods it still answers.
    let seen = watch(&mut ws, Duration::from_millis(3500), true).await;
    assert!(
        !seen.closed,
        "the client dropped a link whose pings were answered"
    );
    assert!(
        seen.pings >= 2,
        "about one ping a second, saw {}",
        seen.pings
    );
    assert!(
        seen.frames.is_empty(),
        "unexpected frames {:?}",
        seen.frames
    );
    send_json(
        &mut ws,
        &msg_callback("REQ-2", "LC-2", &format!("@RobotA {CAR}")),
    )
    .await;
    check_respond(&expect_reply(&mut ws).await, "REQ-2", CAR_CLAUSE);

    // A redelivered msgid is not answered again.
    send_json(
        &mut ws,
        &msg_callback("REQ-3", "LC-1", &format!("@RobotA {DINNER}")),
    )
    .await;
    let seen = watch(&mut ws, Duration::from_millis(1500), true).await;
    assert!(!seen.closed);
    assert!(
        seen.frames.is_empty(),
        "answered a redelivery: {:?}",
        seen.frames
    );

    // The server closes the socket: the client connects and subscribes again.
    ws.close(None).await.expect("the fake can close");
    drop(ws);
    let (_, mut ws) = fake.accept().await;
    subscribe(&mut ws).await;
    assert_eq!(fake.accepted(), 2, "one subscription per connection");
    send_json(
        &mut ws,
        &msg_callback("REQ-4", "LC-4", &format!("@RobotA {CAR}")),
    )
    .await;
    check_respond(&expect_reply(&mut ws).await, "REQ-4", CAR_CLAUSE);

    server.shutdown().await;
    let seen = watch(&mut ws, WAIT, true).await;
    assert!(seen.closed, "shutting down closes the long connection");
}

#[tokio::test(flavor = "multi_thread")]
async fn wecom_retries_a_refused_subscription() {
    let mut fake = FakeWs::start().await;
    let server = TestServer::start(&wecom_config(&fake.url("/"))).await;
    let (_, mut ws) = fake.accept().await;
    let req_id = expect_subscription(&mut ws).await;
    answer_subscription(&mut ws, &req_id, 40058).await;
    let seen = watch(&mut ws, WAIT, false).await;
    assert!(seen.closed, "a refused subscription ends the connection");
    assert_eq!(server.healthz().await, reqwest::StatusCode::OK);

    let (_, mut ws) = fake.accept_within(2 * WAIT).await;
    subscribe(&mut ws).await;
    send_json(
        &mut ws,
        &msg_callback("REQ-R", "LC-R", &format!("@RobotA {DINNER}")),
    )
    .await;
    check_respond(&expect_reply(&mut ws).await, "REQ-R", DINNER_CLAUSE);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wecom_drops_a_link_whose_pings_go_unanswered_and_reconnects() {
    let mut fake = FakeWs::start().await;
    let server = TestServer::start(&wecom_config(&fake.url("/"))).await;
    let (_, mut ws) = fake.accept().await;
    subscribe(&mut ws).await;
    let seen = watch(&mut ws, 2 * WAIT, false).await;
    assert!(
        seen.closed,
        "the client keeps a link whose pings go unanswered"
    );
    assert!(
        seen.pings >= 2,
        "it waits for two missed pongs, saw {} pings",
        seen.pings
    );

    let (_, mut ws) = fake.accept_within(2 * WAIT).await;
    subscribe(&mut ws).await;
    send_json(
        &mut ws,
        &msg_callback("REQ-P", "LC-P", &format!("@RobotA {CAR}")),
    )
    .await;
    check_respond(&expect_reply(&mut ws).await, "REQ-P", CAR_CLAUSE);
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// DingTalk

/// Stream mode against a fake gateway. The fakes only answer WebSocket pings while they read,
/// so tests that pause reading use a heartbeat long enough not to look like a dead link.
fn dingtalk_config(api_base: &str, heartbeat_seconds: u64) -> String {
    format!(
        "{}[dingtalk.stream]\nclient_id = \"ding-client\"\nclient_secret = \"ding-secret\"\napi_base = \"{api_base}\"\nheartbeat_seconds = {heartbeat_seconds}\n",
        http_config("")
    )
}

const BOT_TOPIC: &str = "/v1.0/im/bot/messages/get";

fn callback_frame(message_id: &str, data: &Value) -> Value {
    json!({
        "specVersion": "1.0",
        "type": "CALLBACK",
        "headers": {
            "appId": "app-1",
            "connectionId": "conn-1",
            "contentType": "application/json",
            "messageId": message_id,
            "time": now_ms().to_string(),
            "topic": BOT_TOPIC,
        },
        "data": data.to_string(),
    })
}

fn system_frame(topic: &str, message_id: &str, data: &str) -> Value {
    json!({
        "specVersion": "1.0",
        "type": "SYSTEM",
        "headers": {
            "contentType": "application/json",
            "messageId": message_id,
            "time": now_ms().to_string(),
            "topic": topic,
        },
        "data": data,
    })
}

fn check_ack(frame: &Value, message_id: &str) {
    assert_eq!(frame["code"], 200, "{frame}");
    assert_eq!(frame["headers"]["messageId"], message_id, "{frame}");
    assert_eq!(
        frame["headers"]["contentType"], "application/json",
        "{frame}"
    );
    assert_eq!(frame["message"], "OK", "{frame}");
}

fn check_hook(body: &Value, staff: &str, clause: &str) {
    let text = dingtalk_markdown(body, staff);
    assert!(text.contains(clause), "expected {clause} in {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dingtalk_acks_at_once_answers_through_the_webhook_and_reconnects_with_new_tickets() {
    let mut ws_fake = FakeWs::start().await;
    let mut gateway = FakeDingtalk::start(ws_fake.url("/connect"), 0).await;
    let server = TestServer::start(&dingtalk_config(&gateway.base, 2)).await;

    let (uri, mut ws) = ws_fake.accept().await;
    assert_eq!(
        uri, "/connect?ticket=T%2B%2F%3D",
        "the ticket is URL-encoded"
    );
    let opens = gateway.opens();
    assert_eq!(opens.len(), 1);
    assert_eq!(opens[0]["clientId"], "ding-client", "{}", opens[0]);
    assert_eq!(opens[0]["clientSecret"], "ding-secret", "{}", opens[0]);
    assert_eq!(
        opens[0]["subscriptions"][0]["type"], "CALLBACK",
        "{}",
        opens[0]
    );
    assert_eq!(
        opens[0]["subscriptions"][0]["topic"], BOT_TOPIC,
        "{}",
        opens[0]
    );

    let webhook = gateway.webhook();
    let dinner = dingtalk_text("DM-1", "staff1", DINNER, Some(&webhook));
    send_json(&mut ws, &callback_frame("M1", &dinner)).await;
    let ack = expect_frame(&mut ws, "the ack of M1").await;
    check_ack(&ack, "M1");
    let data: Value = serde_json::from_str(ack["data"].as_str().expect("data is a JSON string"))
        .expect("data holds JSON");
    assert_eq!(data, json!({ "response": null }));
    let hook = gateway
        .next_hook(WAIT)
        .await
        .expect("a reply on the sessionWebhook");
    check_hook(&hook, "staff1", DINNER_CLAUSE);

    // SYSTEM ping: echoed with code 200 and the same data.
    let opaque = r#"{"opaque":"op-42"}"#;
    send_json(&mut ws, &system_frame("ping", "P1", opaque)).await;
    let pong = expect_frame(&mut ws, "the answer to the ping").await;
    check_ack(&pong, "P1");
    assert_eq!(pong["data"], opaque, "the ping's data is echoed");

    // A redelivery is acked again but not answered twice.
    send_json(&mut ws, &callback_frame("M2", &dinner)).await;
    check_ack(&expect_frame(&mut ws, "the ack of M2").await, "M2");
    assert_eq!(
        gateway.next_hook(Duration::from_millis(1500)).await,
        None,
        "a redelivered msgId was answered twice"
    );
    let car = dingtalk_text("DM-2", "staff2", CAR, Some(&webhook));
    send_json(&mut ws, &callback_frame("M3", &car)).await;
    check_ack(&expect_frame(&mut ws, "the ack of M3").await, "M3");
    let hook = gateway.next_hook(WAIT).await.expect("a reply to DM-2");
    check_hook(&hook, "staff2", CAR_CLAUSE);

    // SYSTEM disconnect: a new ticket and a new connection.
    send_json(
        &mut ws,
        &system_frame("disconnect", "S1", r#"{"reason":"upgrade"}"#),
    )
    .await;
    let (uri, mut ws) = ws_fake.accept().await;
    assert_eq!(
        uri, "/connect?ticket=T%2B%2F%3D2",
        "a fresh ticket after disconnect"
    );
    assert_eq!(gateway.opens().len(), 2);
    let dinner = dingtalk_text("DM-3", "staff3", DINNER, Some(&webhook));
    send_json(&mut ws, &callback_frame("M4", &dinner)).await;
    check_ack(&expect_frame(&mut ws, "the ack of M4").await, "M4");
    check_hook(
        &gateway.next_hook(WAIT).await.expect("a reply to DM-3"),
        "staff3",
        DINNER_CLAUSE,
    );

    // The gateway closes the socket: again a new ticket.
    ws.close(None).await.expect("the fake can close");
    drop(ws);
    let (uri, mut ws) = ws_fake.accept().await;
    assert_eq!(
        uri, "/connect?ticket=T%2B%2F%3D3",
        "a fresh ticket after a close"
    );
    assert_eq!(gateway.opens().len(), 3);
    assert_eq!(ws_fake.accepted(), 3);

    server.shutdown().await;
    assert!(
        matches!(next_frame(&mut ws, WAIT).await, Frame::Closed),
        "shutting down closes the stream"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dingtalk_acks_other_frames_and_ignores_garbage_without_dropping_the_link() {
    let mut ws_fake = FakeWs::start().await;
    let mut gateway = FakeDingtalk::start(ws_fake.url("/connect"), 0).await;
    let server = TestServer::start(&dingtalk_config(&gateway.base, 2)).await;
    let (_, mut ws) = ws_fake.accept().await;

    // An EVENT frame is acked; a frame that is not JSON and a robot frame with broken data are not fatal.
    let event = json!({
        "specVersion": "1.0", "type": "EVENT",
        "headers": { "messageId": "E1", "topic": "chat_update_title", "contentType": "application/json" },
        "data": "{}",
    });
    send_json(&mut ws, &event).await;
    check_ack(&expect_frame(&mut ws, "the ack of E1").await, "E1");
    ws.send(tokio_tungstenite::tungstenite::Message::text("not json"))
        .await
        .unwrap();
    let mut broken = callback_frame("M-BROKEN", &json!({}));
    broken["data"] = json!("{\"msgtype\":");
    send_json(&mut ws, &broken).await;
    check_ack(
        &expect_frame(&mut ws, "the ack of a broken frame").await,
        "M-BROKEN",
    );

    let webhook = gateway.webhook();
    let dinner = dingtalk_text("DM-G", "staff1", DINNER, Some(&webhook));
    send_json(&mut ws, &callback_frame("M-G", &dinner)).await;
    check_ack(&expect_frame(&mut ws, "the ack of M-G").await, "M-G");
    check_hook(
        &gateway.next_hook(WAIT).await.expect("a reply"),
        "staff1",
        DINNER_CLAUSE,
    );
    assert_eq!(ws_fake.accepted(), 1, "the link survived");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dingtalk_retries_when_the_gateway_refuses() {
    let mut ws_fake = FakeWs::start().await;
    let mut gateway = FakeDingtalk::start(ws_fake.url("/connect"), 1).await;
    let server = TestServer::start(&dingtalk_config(&gateway.base, 2)).await;
    let (uri, mut ws) = ws_fake.accept_within(2 * WAIT).await;
    assert_eq!(
        gateway.opens().len(),
        2,
        "one refused open, then one that worked"
    );
    assert_eq!(uri, format!("/connect?ticket={}", encode(&ticket(2))));
    let webhook = gateway.webhook();
    let car = dingtalk_text("DM-R", "staff1", CAR, Some(&webhook));
    send_json(&mut ws, &callback_frame("M-R", &car)).await;
    check_ack(&expect_frame(&mut ws, "the ack of M-R").await, "M-R");
    check_hook(
        &gateway.next_hook(WAIT).await.expect("a reply"),
        "staff1",
        CAR_CLAUSE,
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dingtalk_drops_a_link_whose_pings_go_unanswered_and_reconnects() {
    let mut ws_fake = FakeWs::start().await;
    let gateway = FakeDingtalk::start(ws_fake.url("/connect"), 0).await;
    let server = TestServer::start(&dingtalk_config(&gateway.base, 1)).await;
    let (_, silent) = ws_fake.accept().await;
    // The fake never reads again, so the client's WebSocket pings go unanswered (no pongs).
    let (_, ws) = ws_fake.accept_within(2 * WAIT).await;
    assert_eq!(
        gateway.opens().len(),
        2,
        "a new ticket for the new connection"
    );
    drop((silent, ws));
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Shutdown while a connection is being set up

/// A TCP listener that accepts connections and never says a word (a stuck WebSocket handshake).
async fn silent_listener() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("a local address");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (format!("ws://{addr}/connect"), task)
}

/// How long a stop may take while a long connection is still being set up.
const PROMPT: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_is_prompt_while_wecom_hangs_in_the_handshake() {
    let (url, listener) = silent_listener().await;
    let server = TestServer::start(&wecom_config(&url)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.shutdown_within(PROMPT).await,
        "the service did not stop within {PROMPT:?} while the WeCom handshake hung"
    );
    listener.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_is_prompt_while_wecom_waits_for_its_subscription() {
    let mut fake = FakeWs::start().await;
    let server = TestServer::start(&wecom_config(&fake.url("/"))).await;
    let (_, mut ws) = fake.accept().await;
    expect_subscription(&mut ws).await;
    assert!(
        server.shutdown_within(PROMPT).await,
        "the service did not stop within {PROMPT:?} while a subscription was unanswered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_is_prompt_while_dingtalk_hangs_in_the_handshake() {
    let (url, listener) = silent_listener().await;
    let gateway = FakeDingtalk::start(url, 0).await;
    let server = TestServer::start(&dingtalk_config(&gateway.base, 2)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gateway.opens().len(), 1, "the client asked for a ticket");
    assert!(
        server.shutdown_within(PROMPT).await,
        "the service did not stop within {PROMPT:?} while the DingTalk handshake hung"
    );
    listener.abort();
}
