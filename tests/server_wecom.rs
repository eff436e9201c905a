//! The WeCom HTTP callback, `/api/ask` and `/healthz` of the real server on a random loopback port.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lawbot::platform::wecom::crypto::CryptoError;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn url_verification_answers_the_plain_echostr() {
    let server = TestServer::start(&http_config("")).await;
    let plain = format!("{}", 1_288_432_023_552_776_189u64 + now_ms() as u64 % 1000);
    // One with a `+`, to check below that an unencoded `+` is not read as a space.
    let echostr = std::iter::repeat_with(|| wecom().encrypt(&plain, ""))
        .find(|e| e.contains('+'))
        .expect("some ciphertext has a +");
    let timestamp = now_seconds().to_string();
    let query = format!(
        "{}&echostr={}",
        signed_query(&timestamp, "47744683", &echostr),
        encode(&echostr)
    );
    let (status, body) = server.get_wecom(&query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body, plain,
        "exactly the plaintext: no quotes, BOM or newline"
    );

    // A `+` left unencoded stays a `+` (base64), not a space.
    let raw = format!(
        "{}&echostr={}",
        signed_query(&timestamp, "47744683", &echostr),
        echostr.replace('/', "%2F").replace('=', "%3D")
    );
    let (status, body) = server.get_wecom(&raw).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, plain.as_str()));

    let forged = format!(
        "msg_signature={}&timestamp={timestamp}&nonce=47744683&echostr={}",
        "0".repeat(40),
        encode(&echostr)
    );
    assert_eq!(server.get_wecom(&forged).await.0, StatusCode::UNAUTHORIZED);
    let stale = (now_seconds() - 7200).to_string();
    let old = format!(
        "{}&echostr={}",
        signed_query(&stale, "47744683", &echostr),
        encode(&echostr)
    );
    assert_eq!(server.get_wecom(&old).await.0, StatusCode::UNAUTHORIZED);
    let no_echo = signed_query(&timestamp, "47744683", "");
    assert_eq!(server.get_wecom(&no_echo).await.0, StatusCode::BAD_REQUEST);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_text_question_gets_an_encrypted_stream_reply_with_the_clause() {
    let server = TestServer::start(&http_config("")).await;
    let (status, body, nonce) = server
        .post_wecom_message(&wecom_text(
            "MSG-DINNER",
            "zhangsan",
            &format!("@RobotA {DINNER}"),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply = open_wecom_reply(&body, &nonce);
    let stream = reply["stream"].as_object().expect("a stream object");
    assert_eq!(reply["msgtype"], "stream");
    assert_eq!(reply.as_object().unwrap().len(), 2, "{reply}");
    assert!(
        stream["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{reply}"
    );
    assert_eq!(stream["finish"], true);
    let content = stream["content"].as_str().expect("content is a string");
    assert!(content.contains(DINNER_CLAUSE), "{content}");
    assert!(content.len() <= 20_480, "stream content fits WeCom's limit");

    let content = server
        .wecom_question("MSG-CAR", "zhangsan", &format!("@RobotA {CAR}"))
        .await;
    assert!(content.contains(CAR_CLAUSE), "{content}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_msgid_is_answered_once() {
    let server = TestServer::start(&http_config("")).await;
    let message = wecom_text("MSG-TWICE", "zhangsan", &format!("@RobotA {DINNER}"));
    let (status, body, nonce) = server.post_wecom_message(&message).await;
    assert_eq!(status, StatusCode::OK);
    let first = open_wecom_reply(&body, &nonce);
    assert!(
        first["stream"]["content"]
            .as_str()
            .unwrap()
            .contains(DINNER_CLAUSE)
    );
    // Redelivered with a fresh signature, as WeCom retries do.
    let (status, body, _) = server.post_wecom_message(&message).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, ""),
        "a redelivery is acknowledged with an empty body"
    );
    let content = server
        .wecom_question("MSG-AFTER", "zhangsan", &format!("@RobotA {CAR}"))
        .await;
    assert!(content.contains(CAR_CLAUSE), "{content}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_gets_a_request_for_text() {
    let server = TestServer::start(&http_config("")).await;
    let image = json!({
        "msgid": "MSG-IMAGE", "aibotid": "AIBOTID", "chatid": "CHATID", "chattype": "group",
        "from": { "userid": "zhangsan" }, "msgtype": "image",
        "image": { "url": "https://example.invalid/image" },
    });
    let (status, body, nonce) = server.post_wecom_message(&image.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply = open_wecom_reply(&body, &nonce);
    let content = reply["stream"]["content"].as_str().unwrap();
    assert!(content.contains(ASKS_FOR_TEXT), "{content}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bare_mention_gets_the_help() {
    let server = TestServer::start(&http_config("")).await;
    for (id, text) in [("MSG-AT-1", "@律规助手"), ("MSG-AT-2", "@RobotA")] {
        let content = server.wecom_question(id, "zhangsan", text).await;
        assert!(
            content.contains(HELP),
            "a bare mention of {text:?} should get the help, got: {content}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_gets_an_empty_200() {
    let server = TestServer::start(&http_config("")).await;
    let event = json!({
        "msgid": "MSG-EVENT", "aibotid": "AIBOTID", "chattype": "single",
        "from": { "userid": "zhangsan" }, "msgtype": "event",
        "event": { "eventtype": "enter_chat" },
    });
    let (status, body, _) = server.post_wecom_message(&event.to_string()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    server.shutdown().await;
}

/// The last byte of the plaintext (the padding length) XOR 0x40: always above 32, so never valid.
fn with_bad_padding(encrypt: &str) -> String {
    let mut raw = STANDARD.decode(encrypt).unwrap();
    let i = raw.len() - 16 - 1;
    raw[i] ^= 0x40;
    STANDARD.encode(raw)
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_callbacks_never_reach_the_bot() {
    let server = TestServer::start(&http_config("body_limit = 4096")).await;
    let crypto = wecom();
    // Every refused callback carries this msgid; if one had reached the bot, the valid
    // message with the same msgid at the end would be dropped as a duplicate.
    let message = wecom_text("MSG-REFUSED", "zhangsan", &format!("@RobotA {DINNER}"));
    let now = now_seconds().to_string();
    let valid = Sealed::new(&message);

    let mut cases: Vec<(&str, String, String, StatusCode)> = Vec::new();
    let mut wrong = valid.query.clone();
    let at = "msg_signature=".len();
    let flipped = if &wrong[at..at + 1] == "0" { "1" } else { "0" };
    wrong.replace_range(at..at + 1, flipped);
    cases.push((
        "wrong signature",
        wrong,
        valid.body.clone(),
        StatusCode::UNAUTHORIZED,
    ));
    let missing_signature = format!("timestamp={now}&nonce={}", valid.nonce);
    cases.push((
        "missing msg_signature",
        missing_signature,
        valid.body.clone(),
        StatusCode::UNAUTHORIZED,
    ));
    let sig = crypto.signature(&now, &valid.nonce, &valid.encrypt);
    cases.push((
        "missing timestamp",
        format!("msg_signature={sig}&nonce={}", valid.nonce),
        valid.body.clone(),
        StatusCode::UNAUTHORIZED,
    ));
    cases.push((
        "missing nonce",
        format!("msg_signature={sig}&timestamp={now}"),
        valid.body.clone(),
        StatusCode::BAD_REQUEST,
    ));
    cases.push((
        "no query at all",
        String::new(),
        valid.body.clone(),
        StatusCode::UNAUTHORIZED,
    ));
    for (name, seconds) in [
        ("timestamp two hours old", now_seconds() - 7200),
        ("timestamp two hours ahead", now_seconds() + 7200),
    ] {
        let stale = Sealed::with_encrypt(valid.encrypt.clone(), &seconds.to_string());
        cases.push((name, stale.query, stale.body, StatusCode::UNAUTHORIZED));
    }
    let not_number = Sealed::with_encrypt(valid.encrypt.clone(), "soon");
    cases.push((
        "timestamp not a number",
        not_number.query,
        not_number.body,
        StatusCode::UNAUTHORIZED,
    ));
    cases.push((
        "body not JSON",
        valid.query.clone(),
        "encrypt=abc".into(),
        StatusCode::BAD_REQUEST,
    ));
    cases.push((
        "empty body",
        valid.query.clone(),
        String::new(),
        StatusCode::BAD_REQUEST,
    ));
    cases.push((
        "encrypt not a string",
        valid.query.clone(),
        json!({ "encrypt": 12 }).to_string(),
        StatusCode::BAD_REQUEST,
    ));
    let not_base64 = Sealed::with_encrypt("!!not*base64!!".into(), &now);
    cases.push((
        "encrypt not base64",
        not_base64.query,
        not_base64.body,
        StatusCode::BAD_REQUEST,
    ));
    let short = Sealed::with_encrypt(STANDARD.encode([7u8; 20]), &now);
    cases.push((
        "ciphertext not whole blocks",
        short.query,
        short.body,
        StatusCode::BAD_REQUEST,
    ));
    let bad_padding = with_bad_padding(&valid.encrypt);
    assert_eq!(
        crypto.decrypt(&bad_padding, ""),
        Err(CryptoError::BadPadding)
    );
    let padded = Sealed::with_encrypt(bad_padding, &now);
    cases.push((
        "bad padding",
        padded.query,
        padded.body,
        StatusCode::BAD_REQUEST,
    ));
    let other_id = Sealed::with_encrypt(crypto.encrypt(&message, "ww1436e0e65a779aee"), &now);
    cases.push((
        "sealed for a corp id",
        other_id.query,
        other_id.body,
        StatusCode::BAD_REQUEST,
    ));
    let not_json = Sealed::new("MSG-REFUSED is not JSON");
    cases.push((
        "plaintext not JSON",
        not_json.query,
        not_json.body,
        StatusCode::BAD_REQUEST,
    ));
    let no_msgtype =
        Sealed::new(&json!({ "msgid": "MSG-REFUSED", "text": { "content": DINNER } }).to_string());
    cases.push((
        "plaintext without msgtype",
        no_msgtype.query,
        no_msgtype.body,
        StatusCode::BAD_REQUEST,
    ));
    let huge = Sealed::with_encrypt("A".repeat(5000), &now);
    cases.push((
        "body over the limit",
        huge.query,
        huge.body,
        StatusCode::PAYLOAD_TOO_LARGE,
    ));

    for (name, query, body, expected) in cases {
        let (status, text) = server.post_wecom(&query, body).await;
        assert_eq!(status, expected, "{name}: {text}");
    }
    assert_eq!(server.healthz().await, StatusCode::OK);

    let (status, body) = server.post_wecom(&valid.query, valid.body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply = open_wecom_reply(&body, &valid.nonce);
    let content = reply["stream"]["content"].as_str().unwrap();
    assert!(
        content.contains(DINNER_CLAUSE),
        "the msgid of the refused callbacks was never seen by the bot: {content}"
    );
    let content = server
        .wecom_question("MSG-NEW", "lisi", &format!("@RobotA {CAR}"))
        .await;
    assert!(content.contains(CAR_CLAUSE), "{content}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn absurd_timestamps_are_refused_without_killing_the_request() {
    let server = TestServer::start(&http_config("")).await;
    let sealed = Sealed::new(&wecom_text("MSG-ABSURD", "zhangsan", DINNER));
    for timestamp in [
        "-9223372036854775808",
        "-9223372036854775000",
        "9223372036854775807",
        "99999999999999999999",
    ] {
        let odd = Sealed::with_encrypt(sealed.encrypt.clone(), timestamp);
        let (status, body) = server.post_wecom(&odd.query, odd.body).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "timestamp {timestamp}: {body}"
        );
        // The timestamp is checked before the signature: anyone can send one, no token needed.
        let unsigned = format!(
            "msg_signature={}&timestamp={}&nonce=1",
            "0".repeat(40),
            encode(timestamp)
        );
        let (status, body) = server.post_wecom(&unsigned, sealed.body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "unsigned POST, timestamp {timestamp}: {body}"
        );
        let (status, body) = server.get_wecom(&format!("{unsigned}&echostr=abc")).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "unsigned GET, timestamp {timestamp}: {body}"
        );
    }
    assert_eq!(server.healthz().await, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_asks_one_sender_to_wait_but_not_the_others() {
    let server = TestServer::start(&http_config("rate_limit_per_minute = 2")).await;
    for id in ["RL-1", "RL-2"] {
        let content = server
            .wecom_question(id, "busy", &format!("@RobotA {DINNER}"))
            .await;
        assert!(content.contains(DINNER_CLAUSE), "{content}");
    }
    let content = server
        .wecom_question("RL-3", "busy", &format!("@RobotA {DINNER}"))
        .await;
    assert!(content.contains(SLOW_DOWN), "{content}");
    assert!(!content.contains(DINNER_CLAUSE), "{content}");
    let content = server
        .wecom_question("RL-4", "calm", &format!("@RobotA {CAR}"))
        .await;
    assert!(
        content.contains(CAR_CLAUSE),
        "another sender is still answered: {content}"
    );
    server.shutdown().await;
}

fn api_config() -> String {
    format!("{}[api]\ntoken = \"api-token-1\"\n", http_config(""))
}

#[tokio::test(flavor = "multi_thread")]
async fn api_ask_needs_the_token_and_a_question() {
    let server = TestServer::start(&api_config()).await;
    let ask = || server.http.post(server.url("/api/ask"));
    let question = json!({ "question": DINNER }).to_string();

    let (status, _) = server.send(ask().body(question.clone()), "no token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server
        .send(
            ask().bearer_auth("api-token-2").body(question.clone()),
            "wrong token",
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server
        .send(
            ask()
                .header("authorization", "api-token-1")
                .body(question.clone()),
            "token without Bearer",
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = server
        .send(
            ask().bearer_auth("api-token-1").body(question),
            "right token",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["matches"][0]["id"], "12.28", "{answer}");
    assert_eq!(answer["matches"][0]["citation"], DINNER_CLAUSE, "{answer}");
    assert_eq!(answer["question"], DINNER);
    assert!(answer["reply"].as_str().unwrap().contains(DINNER_CLAUSE));

    let (status, body) = server
        .send(
            ask()
                .bearer_auth("api-token-1")
                .body(json!({ "question": CAR }).to_string()),
            "second question",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["matches"][0]["id"], "12.23", "{answer}");

    for bad in ["{\"question\":", "{\"q\": \"x\"}", "[]", ""] {
        let (status, body) = server
            .send(ask().bearer_auth("api-token-1").body(bad), "malformed")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_answers_ok() {
    let server = TestServer::start(&http_config("")).await;
    let (status, body) = server
        .send(server.http.get(server.url("/healthz")), "/healthz")
        .await;
    assert_eq!(status, StatusCode::OK);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert!(health["clauses"].as_u64().unwrap() > 0, "{health}");
    server.shutdown().await;
}
