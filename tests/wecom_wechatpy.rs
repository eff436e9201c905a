//! The WeCom crypto against wechatpy 1.8.18: each side decrypts what the other encrypted.
//!
//! Needs python3 with `pip install -r tests/fixtures/requirements.txt`; without it these tests fail.

use std::path::PathBuf;
use std::process::Command;

use lawbot::platform::wecom::crypto::WecomCrypto;

const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CORP_ID: &str = "ww1436e0e65a779aee";
const TIMESTAMP: &str = "1476422779";
const NONCE: &str = "1597212914";
const INSTALL: &str = "pip install -r tests/fixtures/requirements.txt";

/// Messages to carry both ways, with the receive id to seal them for.
fn messages() -> Vec<(String, &'static str)> {
    let inbound = r#"{"msgid":"MSGID1","aibotid":"AIBOTID","chatid":"CHATID","chattype":"group","from":{"userid":"zhangsan"},"msgtype":"text","text":{"content":"@律规助手 法官老婆请我吃饭，我能去吗？"}}"#;
    let long_content = "律师不得向承办法官请客送礼，不得私下会见。\n".repeat(50);
    let long = serde_json::json!({
        "msgtype": "stream",
        "stream": {"id": "STREAMID1", "finish": true, "content": long_content},
    })
    .to_string();
    assert!(
        long.len() >= 3 * 1024,
        "the long message is {} bytes",
        long.len()
    );
    vec![
        (inbound.to_string(), ""),
        (long, ""),
        ("1288432023552776189".to_string(), ""),
        ("emoji 😅 and \"quotes\" 'and' \\ backslash".to_string(), ""),
        (String::new(), ""),
        (
            "<xml><Content><![CDATA[你好]]></Content></xml>".to_string(),
            CORP_ID,
        ),
    ]
}

/// Runs the wechatpy fixture and returns its JSON answer; fails with the install hint otherwise.
fn wechatpy(args: &[&str]) -> serde_json::Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/fixtures/wechatpy_roundtrip.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(args)
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}): install Python 3, then {INSTALL}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {}
        Some(3) => panic!("wechatpy is missing: {INSTALL}\n{stderr}"),
        _ => panic!(
            "wechatpy_roundtrip.py {} failed ({}); is wechatpy installed? {INSTALL}\n{stderr}",
            args.first().copied().unwrap_or_default(),
            output.status
        ),
    }
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "wechatpy_roundtrip.py printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn crypto() -> WecomCrypto {
    WecomCrypto::new(TOKEN, KEY).expect("the official sample key is valid")
}

#[test]
fn wechatpy_decrypts_what_rust_encrypts() {
    let crypto = crypto();
    for (plaintext, receive_id) in messages() {
        let encrypt = crypto.encrypt(&plaintext, receive_id);
        let signature = crypto.signature(TIMESTAMP, NONCE, &encrypt);
        let answer = wechatpy(&[
            "decrypt", TOKEN, KEY, receive_id, TIMESTAMP, NONCE, &signature, &encrypt,
        ]);
        assert_eq!(
            answer["plaintext"].as_str(),
            Some(plaintext.as_str()),
            "receive id {receive_id:?}"
        );
    }
}

#[test]
fn rust_decrypts_what_wechatpy_encrypts() {
    let crypto = crypto();
    for (plaintext, receive_id) in messages() {
        let answer = wechatpy(&[
            "encrypt", TOKEN, KEY, receive_id, TIMESTAMP, NONCE, &plaintext,
        ]);
        let encrypt = answer["encrypt"].as_str().expect("an encrypt field");
        let signature = answer["signature"].as_str().expect("a signature field");
        assert_eq!(
            crypto.verify(signature, TIMESTAMP, NONCE, encrypt),
            Ok(()),
            "{plaintext}"
        );
        assert_eq!(
            crypto.decrypt(encrypt, receive_id).as_deref(),
            Ok(plaintext.as_str()),
            "receive id {receive_id:?}"
        );
    }
}

#[test]
fn wechatpy_opens_the_encrypted_reply() {
    let crypto = crypto();
    let stream = r#"{"msgtype":"stream","stream":{"id":"STREAMID1","finish":true,"content":"**结论**：依法可调整。"}}"#;
    let reply = crypto.encrypted_reply(stream, 1476422779, NONCE);
    let field = |name: &str| reply[name].as_str().expect(name).to_string();
    let answer = wechatpy(&[
        "decrypt",
        TOKEN,
        KEY,
        "",
        &reply["timestamp"].to_string(),
        &field("nonce"),
        &field("msgsignature"),
        &field("encrypt"),
    ]);
    assert_eq!(answer["plaintext"].as_str(), Some(stream));
}
