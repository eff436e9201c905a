//! Seeded random, truncated and mutated callbacks against the real server: a 4xx, a 200 only for valid input, never a 5xx.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use lawbot::platform::dingtalk::message::DingtalkMessage;
use lawbot::platform::dingtalk::sign::verify_callback;
use lawbot::platform::wecom::crypto::WecomCrypto;
use lawbot::platform::wecom::message::WecomMessage;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;
use support::*;

const SEED: u64 = 0x5eed_1a3b_0c0f_fee5;
const WORKERS: u64 = 4;
const ROUNDS_PER_WORKER: usize = 1500;
const BODY_LIMIT: usize = 4096;
const API_TOKEN: &str = "fuzz-api-token";

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn bytes_upto(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        self.bytes(n)
    }
}

/// Characters that tend to break parsers: JSON and URL syntax, controls, CJK, emoji, odd spaces.
const CHARS: &[char] = &[
    'a', 'Z', '0', '9', ' ', '"', '\\', '{', '}', '[', ']', ':', ',', '%', '&', '=', '+', '/', '@',
    '?', '\n', '\t', '\r', '\u{0}', '\u{7f}', '法', '官', '吃', '饭', '借', '车', '第', '十', '条',
    '😅', '\u{202e}', '\u{3000}', 'Ａ', '\u{ffff}', '\u{2005}', '\u{feff}',
];

fn random_text(rng: &mut Rng, max_len: usize) -> String {
    let len = rng.below(max_len + 1);
    (0..len).map(|_| *rng.pick(CHARS)).collect()
}

fn random_json(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(*rng.pick(&[0i64, -1, 1, i64::MIN, i64::MAX, 1_700_000_000_000])),
        3 => json!(*rng.pick(&[0.5f64, -1e300, 1e-300])),
        4 => json!(random_text(rng, 24)),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut object = Map::new();
            for _ in 0..rng.below(4) {
                object.insert(random_text(rng, 8), random_json(rng, depth - 1));
            }
            Value::Object(object)
        }
    }
}

const FIELDS: &[&str] = &[
    "msgid",
    "msgId",
    "msgtype",
    "text",
    "content",
    "from",
    "chatid",
    "mixed",
    "senderStaffId",
    "senderId",
    "sessionWebhook",
    "conversationId",
    "sessionWebhookExpiredTime",
];
const MSGTYPES: &[&str] = &[
    "text", "image", "mixed", "event", "voice", "file", "picture", "richText", "audio", "", "TEXT",
    "stream",
];

/// A few structural changes to a message object: fields removed, retyped, renamed types.
fn mutate_json(rng: &mut Rng, mut value: Value) -> Value {
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    for _ in 0..=rng.below(3) {
        let field = *rng.pick(FIELDS);
        match rng.below(5) {
            0 => {
                object.remove(field);
            }
            1 => {
                object.insert(field.into(), json!(*rng.pick(MSGTYPES)));
            }
            2 => {
                object.insert("text".into(), json!({ "content": random_text(rng, 60) }));
            }
            3 => {
                let mixed = json!({ "msg_item": [{ "msgtype": *rng.pick(MSGTYPES), "text": random_json(rng, 1) }] });
                object.insert("mixed".into(), mixed);
            }
            _ => {
                object.insert(field.into(), random_json(rng, 2));
            }
        }
    }
    value
}

/// Byte-level damage: truncation, flips, insertions, deletions, duplication.
fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>) {
    for _ in 0..=rng.below(3) {
        let len = data.len();
        match rng.below(6) {
            0 => data.truncate(rng.below(len + 1)),
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            3 => {
                let i = rng.below(len + 1);
                let extra = rng.bytes_upto(20);
                data.splice(i..i, extra);
            }
            4 if len > 0 => {
                let start = rng.below(len);
                let end = (start + rng.below(40)).min(len);
                data.drain(start..end);
            }
            _ => {
                let start = rng.below(len + 1);
                let end = (start + rng.below(40)).min(len);
                let copy = data[start..end].to_vec();
                data.extend_from_slice(&copy);
            }
        }
    }
}

/// Deeply nested arrays, past serde_json's recursion limit.
fn deep(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

/// Query values that are not a usable timestamp.
fn bad_timestamps(now: i64) -> Vec<String> {
    let mut bad: Vec<String> = [
        "",
        "abc",
        "0",
        "-1",
        "1e9",
        "0x10",
        " 1",
        "１７００",
        "-9223372036854775808",
        "-9223372036854775000",
        "9223372036854775807",
        "99999999999999999999",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    bad.push((now - 3700).to_string());
    bad.push((now + 3700).to_string());
    bad.push(format!("+{}", now - 7200));
    bad
}

/// What a response must be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Exactly(StatusCode),
    ClientError,
}

/// One request and what it must get.
struct Case {
    label: &'static str,
    method: Method,
    path_and_query: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    expect: Expect,
    /// For a valid WeCom POST: the nonce the encrypted reply must echo. For a valid GET: the echo.
    check: Check,
}

enum Check {
    None,
    WecomReply { nonce: String },
    Echo(String),
}

#[derive(Deserialize)]
struct Envelope {
    encrypt: String,
}

/// The status a WeCom POST gets when its query is valid and signed over `signed_encrypt`.
fn wecom_post_expect(crypto: &WecomCrypto, signed_encrypt: &str, body: &[u8]) -> StatusCode {
    if body.len() > BODY_LIMIT {
        return StatusCode::PAYLOAD_TOO_LARGE;
    }
    let Ok(envelope) = serde_json::from_slice::<Envelope>(body) else {
        return StatusCode::BAD_REQUEST;
    };
    if envelope.encrypt != signed_encrypt {
        return StatusCode::UNAUTHORIZED;
    }
    match crypto.decrypt(&envelope.encrypt, "") {
        Ok(plain) if serde_json::from_str::<WecomMessage>(&plain).is_ok() => StatusCode::OK,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The status a DingTalk POST with correct headers gets.
fn dingtalk_body_expect(body: &[u8]) -> StatusCode {
    if body.len() > BODY_LIMIT {
        StatusCode::PAYLOAD_TOO_LARGE
    } else if serde_json::from_slice::<DingtalkMessage>(body).is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// The DingTalk signature over a timestamp header's exact text.
fn sign_text(timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(DINGTALK_SECRET.as_bytes()).expect("any key");
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(DINGTALK_SECRET.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A header value as the server reads it: text only when every byte is visible ASCII, trimmed.
fn as_server_reads(value: Option<&[u8]>) -> String {
    match value {
        Some(v) if v.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)) => {
            String::from_utf8_lossy(v).trim().to_string()
        }
        _ => String::new(),
    }
}

/// Bytes an HTTP header value may hold (no controls other than tab, no DEL).
fn header_safe(mut bytes: Vec<u8>) -> Vec<u8> {
    for b in &mut bytes {
        if (*b < 0x20 && *b != b'\t') || *b == 0x7f {
            *b = b'x';
        }
    }
    bytes
}

fn random_query(rng: &mut Rng, now: i64) -> String {
    let keys = [
        "msg_signature",
        "timestamp",
        "nonce",
        "echostr",
        "x",
        "",
        "msg_signature%00",
    ];
    let mut pairs = Vec::new();
    for _ in 0..rng.below(6) {
        let key = *rng.pick(&keys);
        let value = match rng.below(5) {
            0 => encode(&random_text(rng, 30)),
            1 => rng.pick(&bad_timestamps(now)).clone(),
            2 => "%zz%f0%28%8c%bc%".to_string(),
            3 => STANDARD.encode(rng.bytes_upto(64)),
            _ => (0..rng.below(20))
                .map(|_| *rng.pick(&['a', '0', '%', '+', '=', '&', '/', '-', '.', '~']))
                .collect(),
        };
        pairs.push(if rng.chance(10) {
            key.to_string()
        } else {
            format!("{key}={value}")
        });
    }
    pairs.join("&")
}

/// A fresh valid WeCom question with a unique msgid.
fn wecom_question(rng: &mut Rng, id: &str) -> String {
    let question = *rng.pick(&[DINNER, CAR, "@RobotA 第十条", "帮助", "负面清单"]);
    wecom_text(id, "fuzzer", question)
}

fn wecom_post(signed: &Sealed, body: Vec<u8>, expect: StatusCode, label: &'static str) -> Case {
    let check = if expect == StatusCode::OK {
        Check::WecomReply {
            nonce: signed.nonce.clone(),
        }
    } else {
        Check::None
    };
    Case {
        label,
        method: Method::POST,
        path_and_query: format!("/wecom/callback?{}", signed.query),
        headers: Vec::new(),
        body,
        expect: Expect::Exactly(expect),
        check,
    }
}

fn dingtalk_post(
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    expect: StatusCode,
    label: &'static str,
) -> Case {
    Case {
        label,
        method: Method::POST,
        path_and_query: "/dingtalk/callback".to_string(),
        headers,
        body,
        expect: Expect::Exactly(expect),
        check: Check::None,
    }
}

fn signed_now() -> Vec<(&'static str, Vec<u8>)> {
    let now = now_ms().to_string();
    vec![
        ("timestamp", now.clone().into_bytes()),
        ("sign", sign_text(&now).into_bytes()),
    ]
}

/// Draws one request.
fn generate(rng: &mut Rng, crypto: &WecomCrypto, id: &str) -> Case {
    let now = now_seconds();
    match rng.below(100) {
        // Anything at all, anywhere.
        0..=7 => {
            let method = rng
                .pick(&[
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::DELETE,
                    Method::PATCH,
                ])
                .clone();
            let path = *rng.pick(&[
                "/wecom/callback",
                "/dingtalk/callback",
                "/api/ask",
                "/wecom/callback/",
                "/WECOM/callback",
                "/nope",
                "/wecom/callback%00",
            ]);
            let mut headers = Vec::new();
            for name in ["timestamp", "sign", "authorization"] {
                if rng.chance(40) {
                    headers.push((name, header_safe(rng.bytes_upto(50))));
                }
            }
            let size = if rng.chance(5) { 5000 } else { rng.below(300) };
            Case {
                label: "junk",
                method,
                path_and_query: format!("{path}?{}", random_query(rng, now)),
                headers,
                body: rng.bytes(size),
                expect: Expect::ClientError,
                check: Check::None,
            }
        }
        // A correct signature over an `encrypt` that is not a ciphertext of ours.
        8..=17 => {
            let encrypt = match rng.below(3) {
                0 => {
                    let blocks = rng.below(10);
                    STANDARD.encode(rng.bytes(blocks * 16))
                }
                1 => STANDARD.encode(rng.bytes_upto(200)),
                _ => random_text(rng, 80),
            };
            let signed = Sealed::with_encrypt(encrypt, &now.to_string());
            let expect = wecom_post_expect(crypto, &signed.encrypt, signed.body.as_bytes());
            wecom_post(
                &signed,
                signed.body.clone().into_bytes(),
                expect,
                "wecom: random encrypt",
            )
        }
        // A real ciphertext, damaged, then correctly signed.
        18..=29 => {
            let mut raw = STANDARD
                .decode(crypto.encrypt(&wecom_question(rng, id), ""))
                .expect("our own base64");
            match rng.below(3) {
                0 => {
                    let block = rng.below(raw.len() / 16) * 16;
                    raw.truncate(block);
                }
                1 => raw.extend(rng.bytes(16)),
                _ => mutate_bytes(rng, &mut raw),
            }
            let mut encrypt = STANDARD.encode(raw);
            if rng.chance(20) {
                let mut text = encrypt.into_bytes();
                mutate_bytes(rng, &mut text);
                encrypt = String::from_utf8_lossy(&text).into_owned();
            }
            let signed = Sealed::with_encrypt(encrypt, &now.to_string());
            let expect = wecom_post_expect(crypto, &signed.encrypt, signed.body.as_bytes());
            wecom_post(
                &signed,
                signed.body.clone().into_bytes(),
                expect,
                "wecom: damaged ciphertext",
            )
        }
        // A valid signed request whose body is truncated or damaged on the way.
        30..=41 => {
            let sealed = Sealed::new(&wecom_question(rng, id));
            let mut body = sealed.body.clone().into_bytes();
            if rng.chance(50) {
                body.truncate(rng.below(body.len()));
            } else {
                mutate_bytes(rng, &mut body);
            }
            let expect = wecom_post_expect(crypto, &sealed.encrypt, &body);
            wecom_post(&sealed, body, expect, "wecom: damaged body")
        }
        // Correctly sealed plaintexts that are not (quite) messages.
        42..=53 => {
            let base: Value = serde_json::from_str(&wecom_question(rng, id)).expect("JSON");
            let plaintext = match rng.below(5) {
                0 => deep(1000),
                1 => random_text(rng, 200),
                2 => random_json(rng, 3).to_string(),
                3 => {
                    let mut bytes = mutate_json(rng, base).to_string().into_bytes();
                    mutate_bytes(rng, &mut bytes);
                    String::from_utf8_lossy(&bytes).into_owned()
                }
                _ => mutate_json(rng, base).to_string(),
            };
            let sealed = Sealed::new(&plaintext);
            let expect = wecom_post_expect(crypto, &sealed.encrypt, sealed.body.as_bytes());
            wecom_post(
                &sealed,
                sealed.body.clone().into_bytes(),
                expect,
                "wecom: odd plaintext",
            )
        }
        // A valid request with its query changed.
        54..=61 => query_mutation(rng, crypto, id, now),
        // URL verification.
        62..=69 => {
            let plain = (rng.next() % 10_000_000_000_000_000_000).to_string();
            let echostr = match rng.below(3) {
                0 => crypto.encrypt(&plain, ""),
                1 => {
                    let mut raw = STANDARD.decode(crypto.encrypt(&plain, "")).expect("base64");
                    mutate_bytes(rng, &mut raw);
                    STANDARD.encode(raw)
                }
                _ => random_text(rng, 40),
            };
            let timestamp = now.to_string();
            let mut query = format!(
                "{}&echostr={}",
                signed_query(&timestamp, "1597212914", &echostr),
                encode(&echostr)
            );
            let (expect, check) = if rng.chance(20) {
                query = random_query(rng, now);
                (Expect::ClientError, Check::None)
            } else {
                match crypto.decrypt(&echostr, "") {
                    Ok(echo) => (Expect::Exactly(StatusCode::OK), Check::Echo(echo)),
                    Err(_) => (Expect::Exactly(StatusCode::BAD_REQUEST), Check::None),
                }
            };
            Case {
                label: "wecom: url verification",
                method: Method::GET,
                path_and_query: format!("/wecom/callback?{query}"),
                headers: Vec::new(),
                body: Vec::new(),
                expect,
                check,
            }
        }
        // DingTalk: odd `timestamp` and `sign` headers.
        70..=79 => {
            let now = now_ms();
            let timestamp: Option<Vec<u8>> = match rng.below(8) {
                0 => None,
                1 | 2 => Some(now.to_string().into_bytes()),
                3 => Some((now - 59 * 60 * 1000).to_string().into_bytes()),
                4 => Some(format!("+{now}").into_bytes()),
                5 => Some(header_safe(rng.bytes_upto(20))),
                6 => Some(
                    [
                        (now - 2 * 3_600_000).to_string(),
                        (now + 2 * 3_600_000).to_string(),
                        (now / 1000).to_string(),
                        format!(" {now}"),
                        format!("{now}\t"),
                    ][rng.below(5)]
                    .clone()
                    .into_bytes(),
                ),
                _ => Some(rng.pick(&bad_timestamps(now)).clone().into_bytes()),
            };
            let text = timestamp
                .as_deref()
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .unwrap_or_default();
            let good = sign_text(&text);
            let sign: Option<Vec<u8>> = match rng.below(6) {
                0 => None,
                1 | 2 => Some(good.into_bytes()),
                3 => Some(STANDARD.encode(rng.bytes(32)).into_bytes()),
                4 => Some(encode(&good).into_bytes()),
                _ => Some(header_safe(rng.bytes_upto(60))),
            };
            let body = if rng.chance(70) {
                dingtalk_text(id, "fuzzer", DINNER, None)
                    .to_string()
                    .into_bytes()
            } else {
                rng.bytes_upto(200)
            };
            let seen_timestamp = as_server_reads(timestamp.as_deref());
            let seen_sign = as_server_reads(sign.as_deref());
            let expect = if body.len() > BODY_LIMIT {
                StatusCode::PAYLOAD_TOO_LARGE
            } else if verify_callback(DINGTALK_SECRET, &seen_timestamp, &seen_sign, now_ms())
                .is_err()
            {
                StatusCode::UNAUTHORIZED
            } else {
                dingtalk_body_expect(&body)
            };
            let mut headers = Vec::new();
            if let Some(t) = timestamp {
                headers.push(("timestamp", t));
            }
            if let Some(s) = sign {
                headers.push(("sign", s));
            }
            dingtalk_post(headers, body, expect, "dingtalk: odd headers")
        }
        // DingTalk: correctly signed, damaged bodies.
        80..=91 => {
            let mut body = dingtalk_text(id, "fuzzer", CAR, None)
                .to_string()
                .into_bytes();
            if rng.chance(40) {
                body.truncate(rng.below(body.len()));
            } else {
                mutate_bytes(rng, &mut body);
            }
            let expect = dingtalk_body_expect(&body);
            dingtalk_post(signed_now(), body, expect, "dingtalk: damaged body")
        }
        // DingTalk: correctly signed JSON of the wrong shape.
        _ => {
            let base = dingtalk_text(id, "fuzzer", DINNER, None);
            let body = match rng.below(4) {
                0 => deep(1500),
                1 => random_json(rng, 3).to_string(),
                2 => {
                    let mut big = base.clone();
                    big["text"]["content"] = json!("很长".repeat(rng.below(1000)));
                    big.to_string()
                }
                _ => mutate_json(rng, base).to_string(),
            }
            .into_bytes();
            let expect = dingtalk_body_expect(&body);
            dingtalk_post(signed_now(), body, expect, "dingtalk: odd JSON")
        }
    }
}

/// A valid WeCom request with one part of its query changed.
fn query_mutation(rng: &mut Rng, crypto: &WecomCrypto, id: &str, now: i64) -> Case {
    let sealed = Sealed::new(&wecom_question(rng, id));
    let timestamp = now.to_string();
    let signature = crypto.signature(&timestamp, &sealed.nonce, &sealed.encrypt);
    let query = |sig: &str, ts: &str, nonce: &str| {
        format!(
            "msg_signature={sig}&timestamp={}&nonce={}",
            encode(ts),
            encode(nonce)
        )
    };
    let (query, expect, nonce) = match rng.below(8) {
        0 => (
            format!("timestamp={timestamp}&nonce={}", sealed.nonce),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        1 => (
            format!("msg_signature={signature}&nonce={}", sealed.nonce),
            StatusCode::UNAUTHORIZED,
            None,
        ),
        2 => (
            format!("msg_signature={signature}&timestamp={timestamp}"),
            StatusCode::BAD_REQUEST,
            None,
        ),
        3 => {
            let bad = rng.pick(&bad_timestamps(now)).clone();
            let sig = crypto.signature(&bad, &sealed.nonce, &sealed.encrypt);
            (
                query(&sig, &bad, &sealed.nonce),
                StatusCode::UNAUTHORIZED,
                None,
            )
        }
        4 => {
            let nonce = format!("n{}", random_text(rng, 30));
            (
                query(&signature, &timestamp, &nonce),
                StatusCode::UNAUTHORIZED,
                None,
            )
        }
        5 => {
            // Any nonce is fine when it is signed; the reply must echo it exactly.
            let nonce = format!("n{}", random_text(rng, 30));
            let sig = crypto.signature(&timestamp, &nonce, &sealed.encrypt);
            (query(&sig, &timestamp, &nonce), StatusCode::OK, Some(nonce))
        }
        6 => {
            let mut sig = signature.clone();
            match rng.below(3) {
                0 => sig = sig.to_uppercase(),
                1 => sig.truncate(rng.below(40)),
                _ => {
                    let i = rng.below(40);
                    let c = if &sig[i..=i] == "a" { "b" } else { "a" };
                    sig.replace_range(i..=i, c);
                }
            }
            if sig.chars().all(|c| c.is_ascii_digit()) {
                sig.push('x');
            }
            (
                query(&sig, &timestamp, &sealed.nonce),
                StatusCode::UNAUTHORIZED,
                None,
            )
        }
        _ => {
            let extra: Vec<String> = (0..=rng.below(3))
                .map(|i| format!("x_{i}={}", encode(&random_text(rng, 20))))
                .collect();
            let q = format!(
                "{}&{}",
                query(&signature, &timestamp, &sealed.nonce),
                extra.join("&")
            );
            (q, StatusCode::OK, Some(sealed.nonce.clone()))
        }
    };
    Case {
        label: "wecom: changed query",
        method: Method::POST,
        path_and_query: format!("/wecom/callback?{query}"),
        headers: Vec::new(),
        body: sealed.body.into_bytes(),
        expect: Expect::Exactly(expect),
        check: match nonce {
            Some(nonce) => Check::WecomReply { nonce },
            None => Check::None,
        },
    }
}

/// Whether a 200 WeCom body is an empty acknowledgement or a reply that opens with `nonce`.
fn check_wecom_reply(crypto: &WecomCrypto, body: &str, nonce: &str) -> Result<(), String> {
    if body.is_empty() {
        return Ok(());
    }
    let reply: Value = serde_json::from_str(body).map_err(|e| format!("reply not JSON: {e}"))?;
    if reply["nonce"] != nonce {
        return Err(format!("nonce {:?} not echoed: {}", nonce, reply["nonce"]));
    }
    let (Some(encrypt), Some(signature), Some(timestamp)) = (
        reply["encrypt"].as_str(),
        reply["msgsignature"].as_str(),
        reply["timestamp"].as_i64(),
    ) else {
        return Err(format!("reply lacks fields: {reply}"));
    };
    crypto
        .verify(signature, &timestamp.to_string(), nonce, encrypt)
        .map_err(|e| format!("reply signature: {e}"))?;
    let plain = crypto
        .decrypt(encrypt, "")
        .map_err(|e| format!("reply decrypt: {e}"))?;
    let stream: Value = serde_json::from_str(&plain).map_err(|e| format!("reply JSON: {e}"))?;
    if stream["stream"]["finish"] != true {
        return Err(format!("not a finished stream: {plain}"));
    }
    Ok(())
}

async fn run_worker(http: reqwest::Client, base: String, worker: u64) -> (Vec<String>, usize) {
    let mut rng = Rng::new(SEED ^ worker.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let crypto = wecom();
    let mut failures = Vec::new();
    let mut ok = 0;
    for round in 0..ROUNDS_PER_WORKER {
        let id = format!("FUZZ-{worker}-{round}");
        let case = generate(&mut rng, &crypto, &id);
        let mut request = http.request(
            case.method.clone(),
            format!("{base}{}", case.path_and_query),
        );
        for (name, value) in &case.headers {
            let value = HeaderValue::from_bytes(value).expect("header-safe bytes");
            request = request.header(HeaderName::from_static(name), value);
        }
        if !case.body.is_empty() {
            request = request.body(case.body.clone());
        }
        let describe = || {
            let body = String::from_utf8_lossy(&case.body);
            let body: String = body.chars().take(160).collect();
            format!(
                "[{}] worker {worker} round {round}: {} {} headers {:?} body {:?}",
                case.label,
                case.method,
                case.path_and_query.chars().take(200).collect::<String>(),
                case.headers
                    .iter()
                    .map(|(n, v)| (n, String::from_utf8_lossy(v).into_owned()))
                    .collect::<Vec<_>>(),
                body
            )
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("no answer ({e}) to {}", describe()));
                continue;
            }
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let fits = match case.expect {
            Expect::Exactly(s) => status == s,
            Expect::ClientError => status.is_client_error(),
        };
        if status.is_server_error() || !fits {
            failures.push(format!(
                "got {status} (expected {:?}) {text:?} for {}",
                case.expect,
                describe()
            ));
            continue;
        }
        if status == StatusCode::OK {
            ok += 1;
            let checked = match &case.check {
                Check::None => Ok(()),
                Check::WecomReply { nonce } => check_wecom_reply(&crypto, &text, nonce),
                Check::Echo(echo) if &text == echo => Ok(()),
                Check::Echo(echo) => Err(format!("echo {text:?} is not {echo:?}")),
            };
            if let Err(e) = checked {
                failures.push(format!("{e} for {}", describe()));
            }
        }
    }
    (failures, ok)
}

#[tokio::test(flavor = "multi_thread")]
async fn random_and_damaged_callbacks_get_4xx_and_the_server_keeps_answering() {
    let config = format!(
        "{}[api]\ntoken = \"{API_TOKEN}\"\n",
        http_config(&format!("body_limit = {BODY_LIMIT}"))
    );
    let server = TestServer::start(&config).await;
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(run_worker(server.http.clone(), server.base.clone(), w)))
        .collect();
    let mut failures = Vec::new();
    let mut ok = 0;
    for w in workers {
        let (f, k) = tokio::time::timeout(std::time::Duration::from_secs(60), w)
            .await
            .expect("the fuzz finishes")
            .expect("a worker does not panic");
        failures.extend(f);
        ok += k;
    }
    let total = WORKERS as usize * ROUNDS_PER_WORKER;
    eprintln!(
        "{total} requests in {:?}: {ok} valid ones answered 200, {} failures",
        started.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} requests went wrong; the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        ok > 100,
        "the mix should include valid callbacks too, got {ok}"
    );

    assert_eq!(server.healthz().await, StatusCode::OK);
    let content = server
        .wecom_question("AFTER-FUZZ-1", "after", &format!("@RobotA {DINNER}"))
        .await;
    assert!(content.contains(DINNER_CLAUSE), "{content}");
    let reply = server.dingtalk_question("AFTER-FUZZ-2", "after", CAR).await;
    assert!(dingtalk_markdown(&reply, "after").contains(CAR_CLAUSE));
    server.shutdown().await;
}
