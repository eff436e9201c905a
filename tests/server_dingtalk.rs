//! The DingTalk HTTP callback of the real server on a random loopback port.

mod support;

use lawbot::platform::dingtalk::sign::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_text_callback_gets_a_markdown_reply_that_mentions_the_asker() {
    let server = TestServer::start(&http_config("")).await;
    let reply = server.dingtalk_question("D-DINNER", "staff1", DINNER).await;
    let text = dingtalk_markdown(&reply, "staff1");
    assert!(text.contains(DINNER_CLAUSE), "{text}");
    assert!(
        text.contains("  \n"),
        "DingTalk needs two spaces before a line break: {text}"
    );
    assert!(text.len() <= 20_000, "within DingTalk's body limit");

    let reply = server.dingtalk_question("D-CAR", "staff2", CAR).await;
    let text = dingtalk_markdown(&reply, "staff2");
    assert!(text.contains(CAR_CLAUSE), "{text}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_msg_id_is_answered_once() {
    let server = TestServer::start(&http_config("")).await;
    let reply = server.dingtalk_question("D-TWICE", "staff1", DINNER).await;
    assert!(dingtalk_markdown(&reply, "staff1").contains(DINNER_CLAUSE));
    let again = server.dingtalk_question("D-TWICE", "staff1", DINNER).await;
    assert_eq!(again, json!({}), "a redelivery gets an empty object");
    let reply = server.dingtalk_question("D-NEXT", "staff1", CAR).await;
    assert!(dingtalk_markdown(&reply, "staff1").contains(CAR_CLAUSE));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_picture_gets_a_request_for_text() {
    let server = TestServer::start(&http_config("")).await;
    let mut picture = dingtalk_text("D-PIC", "staff1", "", None);
    picture["msgtype"] = json!("picture");
    picture["content"] = json!({ "downloadCode": "CODE", "pictureDownloadCode": "CODE" });
    picture.as_object_mut().unwrap().remove("text");
    let (status, body) = server.post_dingtalk(picture.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    let text = dingtalk_markdown(&reply, "staff1");
    assert!(text.contains(ASKS_FOR_TEXT), "{text}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_msgtype_gets_an_empty_200() {
    let server = TestServer::start(&http_config("")).await;
    let mut card = dingtalk_text("D-CARD", "staff1", DINNER, None);
    card["msgtype"] = json!("interactiveCard");
    let (status, body) = server.post_dingtalk(card.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({}));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_callbacks_never_reach_the_bot() {
    let server = TestServer::start(&http_config("body_limit = 4096")).await;
    // Every refused callback carries this msgId; if one had reached the bot, the valid callback
    // with the same msgId at the end would be dropped as a duplicate.
    let message = dingtalk_text("D-REFUSED", "staff1", DINNER, None).to_string();
    let now = now_ms();
    let good_sign = sign(DINGTALK_SECRET, now);
    let now_text = now.to_string();
    let two_hours = 2 * 60 * 60 * 1000;
    let old = (now - two_hours).to_string();
    let ahead = (now + two_hours).to_string();
    let in_seconds = (now / 1000).to_string();
    let old_sign = sign(DINGTALK_SECRET, now - two_hours);
    let ahead_sign = sign(DINGTALK_SECRET, now + two_hours);
    let seconds_sign = sign(DINGTALK_SECRET, now / 1000);
    let other_secret = sign("other-secret", now);
    let url_encoded = good_sign
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let unsigned: [(&str, Option<&str>, Option<&str>); 9] = [
        ("wrong sign", Some(&now_text), Some(&other_secret)),
        ("no headers", None, None),
        ("no sign", Some(&now_text), None),
        ("no timestamp", None, Some(&good_sign)),
        ("timestamp two hours old", Some(&old), Some(&old_sign)),
        ("timestamp two hours ahead", Some(&ahead), Some(&ahead_sign)),
        (
            "timestamp in seconds",
            Some(&in_seconds),
            Some(&seconds_sign),
        ),
        ("timestamp not a number", Some("now"), Some(&good_sign)),
        ("sign URL-encoded", Some(&now_text), Some(&url_encoded)),
    ];
    for (name, timestamp, sign) in unsigned {
        let (status, text) = server
            .post_dingtalk_with(timestamp, sign, message.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {text}");
    }
    let too_big = format!(
        "{},\"pad\":\"{}\"}}",
        &message[..message.len() - 1],
        "x".repeat(5000)
    );
    // An ignored message type with the same msgId is accepted but must not count either.
    let mut card: Value = serde_json::from_str(&message).unwrap();
    card["msgtype"] = json!("interactiveCard");
    let signed = [
        (
            "malformed JSON",
            message[..message.len() / 2].to_string(),
            StatusCode::BAD_REQUEST,
        ),
        ("empty body", String::new(), StatusCode::BAD_REQUEST),
        (
            "no msgId",
            json!({ "msgtype": "text", "text": { "content": DINNER } }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "body over the limit",
            too_big,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        ("unknown msgtype", card.to_string(), StatusCode::OK),
    ];
    for (name, body, expected) in signed {
        let (status, text) = server.post_dingtalk(body).await;
        assert_eq!(status, expected, "{name}: {text}");
    }
    assert_eq!(server.healthz().await, StatusCode::OK);

    let (status, body) = server.post_dingtalk(message).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    let text = dingtalk_markdown(&reply, "staff1");
    assert!(
        text.contains(DINNER_CLAUSE),
        "the msgId of the refused callbacks was never seen by the bot: {text}"
    );
    let reply = server.dingtalk_question("D-NEW", "staff9", CAR).await;
    assert!(dingtalk_markdown(&reply, "staff9").contains(CAR_CLAUSE));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_asks_one_sender_to_wait_but_not_the_others() {
    let server = TestServer::start(&http_config("rate_limit_per_minute = 2")).await;
    for id in ["D-RL-1", "D-RL-2"] {
        let reply = server.dingtalk_question(id, "busy", DINNER).await;
        assert!(dingtalk_markdown(&reply, "busy").contains(DINNER_CLAUSE));
    }
    let reply = server.dingtalk_question("D-RL-3", "busy", DINNER).await;
    let text = dingtalk_markdown(&reply, "busy");
    assert!(
        text.contains(SLOW_DOWN) && !text.contains(DINNER_CLAUSE),
        "{text}"
    );
    let reply = server.dingtalk_question("D-RL-4", "calm", CAR).await;
    let text = dingtalk_markdown(&reply, "calm");
    assert!(
        text.contains(CAR_CLAUSE),
        "another sender is still answered: {text}"
    );
    server.shutdown().await;
}
