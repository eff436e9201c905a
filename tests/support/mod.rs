//! Shared helpers: start the real server on a random port, seal and sign platform callbacks, fake platform endpoints.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use futures_util::{SinkExt, StreamExt};
use lawbot::Engine;
use lawbot::config::Config;
use lawbot::platform::dingtalk::sign::sign;
use lawbot::platform::wecom::crypto::WecomCrypto;
use lawbot::service::{self, Running};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// Tencent's official sample token and EncodingAESKey (shared/platforms/wecom.md).
pub const WECOM_TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
pub const WECOM_AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
/// The DingTalk app secret of the inbound test vector (shared/platforms/dingtalk.md).
pub const DINGTALK_SECRET: &str = "test-app-secret";

/// The longest any single wait in a test may take before it counts as a failure.
pub const WAIT: Duration = Duration::from_secs(5);

/// Questions and the clause each must cite.
pub const DINNER: &str = "法官老婆请我吃饭能去吗";
pub const DINNER_CLAUSE: &str = "第十二条第（二十八）项";
pub const CAR: &str = "承办法官想借我的车开两天";
pub const CAR_CLAUSE: &str = "第十二条第（二十三）项";

/// What the bot says to a picture, to a sender over the rate limit, and at the start of its help.
pub const ASKS_FOR_TEXT: &str = "请用文字发送";
pub const SLOW_DOWN: &str = "稍等";
pub const HELP: &str = "我是律规助手";

static ENGINE: LazyLock<Arc<Engine>> =
    LazyLock::new(|| Arc::new(Engine::builtin().expect("the built-in lexicon loads")));

/// The built-in engine, built once per test binary.
pub async fn engine() -> Arc<Engine> {
    tokio::task::spawn_blocking(|| ENGINE.clone())
        .await
        .expect("the engine loads")
}

/// A configuration with both HTTP callbacks on a random loopback port; `server_lines` go under [server].
pub fn http_config(server_lines: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n{server_lines}\n\
         [wecom]\ntoken = \"{WECOM_TOKEN}\"\nencoding_aes_key = \"{WECOM_AES_KEY}\"\n\
         [dingtalk]\napp_secret = \"{DINGTALK_SECRET}\"\n"
    )
}

/// The real service, started on `127.0.0.1:0`, and a client for it.
pub struct TestServer {
    running: Running,
    pub base: String,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn start(config_text: &str) -> Self {
        let config = Config::parse(config_text, |_| None).expect("the test configuration parses");
        let running = service::start(config, engine().await)
            .await
            .expect("the server starts");
        let base = format!("http://{}", running.addr);
        let http = reqwest::Client::builder()
            .timeout(WAIT)
            .build()
            .expect("an HTTP client");
        TestServer {
            running,
            base,
            http,
        }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    /// Stops the service and checks that it stopped cleanly and in time.
    pub async fn shutdown(self) {
        tokio::time::timeout(3 * WAIT, self.running.shutdown())
            .await
            .expect("the service shuts down in time")
            .expect("the service shuts down cleanly");
    }

    /// Stops the service; false when that takes longer than `within` or fails.
    pub async fn shutdown_within(self, within: Duration) -> bool {
        tokio::time::timeout(within, self.running.shutdown())
            .await
            .is_ok_and(|result| result.is_ok())
    }

    pub async fn healthz(&self) -> StatusCode {
        self.http
            .get(self.url("/healthz"))
            .send()
            .await
            .expect("/healthz answers")
            .status()
    }

    /// Sends a request and returns its status and body; a dropped connection fails the test.
    pub async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> (StatusCode, String) {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: no HTTP answer ({e:?}); did the handler panic?"));
        let status = response.status();
        let body = response.text().await.expect("a readable body");
        (status, body)
    }

    /// `POST /wecom/callback?{query}` with a raw body.
    pub async fn post_wecom(
        &self,
        query: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, String) {
        let request = self
            .http
            .post(self.url(&format!("/wecom/callback?{query}")))
            .body(body);
        self.send(request, "POST /wecom/callback").await
    }

    /// `GET /wecom/callback?{query}`.
    pub async fn get_wecom(&self, query: &str) -> (StatusCode, String) {
        let request = self.http.get(self.url(&format!("/wecom/callback?{query}")));
        self.send(request, "GET /wecom/callback").await
    }

    /// Seals a decrypted WeCom message as WeCom would and posts it; returns the status, body and nonce.
    pub async fn post_wecom_message(&self, plaintext: &str) -> (StatusCode, String, String) {
        let sealed = Sealed::new(plaintext);
        let (status, body) = self.post_wecom(&sealed.query, sealed.body.clone()).await;
        (status, body, sealed.nonce)
    }

    /// Asks a question over the WeCom callback and returns the markdown of the stream reply.
    pub async fn wecom_question(&self, msgid: &str, userid: &str, content: &str) -> String {
        let (status, body, nonce) = self
            .post_wecom_message(&wecom_text(msgid, userid, content))
            .await;
        assert_eq!(status, StatusCode::OK, "{content}: {body}");
        let reply = open_wecom_reply(&body, &nonce);
        assert_eq!(reply["msgtype"], "stream", "{reply}");
        assert_eq!(reply["stream"]["finish"], true, "{reply}");
        reply["stream"]["content"]
            .as_str()
            .unwrap_or_else(|| panic!("no stream content in {reply}"))
            .to_string()
    }

    /// `POST /dingtalk/callback` with the given `timestamp` and `sign` headers (`None` leaves one out).
    pub async fn post_dingtalk_with(
        &self,
        timestamp: Option<&str>,
        sign: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, String) {
        let mut request = self.http.post(self.url("/dingtalk/callback")).body(body);
        if let Some(t) = timestamp {
            request = request.header("timestamp", t);
        }
        if let Some(s) = sign {
            request = request.header("sign", s);
        }
        request = request.header("content-type", "application/json; charset=utf-8");
        self.send(request, "POST /dingtalk/callback").await
    }

    /// `POST /dingtalk/callback`, signed now with the test app secret.
    pub async fn post_dingtalk(&self, body: impl Into<reqwest::Body>) -> (StatusCode, String) {
        let now = now_ms();
        let sign = sign(DINGTALK_SECRET, now);
        self.post_dingtalk_with(Some(&now.to_string()), Some(&sign), body)
            .await
    }

    /// Asks a question over the DingTalk callback and returns the JSON reply.
    pub async fn dingtalk_question(&self, msg_id: &str, staff: &str, content: &str) -> Value {
        let message = dingtalk_text(msg_id, staff, content, None);
        let (status, body) = self.post_dingtalk(message.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{content}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: not JSON: {body}"))
    }
}

pub fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since.as_millis()).expect("a sane clock")
}

pub fn now_seconds() -> i64 {
    now_ms() / 1000
}

pub fn wecom() -> WecomCrypto {
    WecomCrypto::new(WECOM_TOKEN, WECOM_AES_KEY).expect("the official sample key is valid")
}

/// Percent-encodes a query value the way WeCom does (`+`, `/` and `=` included).
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// `msg_signature`, `timestamp` and `nonce` for a ciphertext, signed with the test token.
pub fn signed_query(timestamp: &str, nonce: &str, encrypt: &str) -> String {
    let signature = wecom().signature(timestamp, nonce, encrypt);
    format!(
        "msg_signature={signature}&timestamp={}&nonce={}",
        encode(timestamp),
        encode(nonce)
    )
}

/// A WeCom callback as WeCom sends it: the signed query and the `{"encrypt"}` body.
pub struct Sealed {
    pub query: String,
    pub body: String,
    pub nonce: String,
    pub encrypt: String,
}

impl Sealed {
    /// Seals a plaintext with receive id "" and the current time.
    pub fn new(plaintext: &str) -> Self {
        let encrypt = wecom().encrypt(plaintext, "");
        Sealed::with_encrypt(encrypt, &now_seconds().to_string())
    }

    /// Signs a given `encrypt` value (valid or not) at `timestamp`.
    pub fn with_encrypt(encrypt: String, timestamp: &str) -> Self {
        let nonce = format!("{}", now_ms() % 1_000_000_007);
        Sealed {
            query: signed_query(timestamp, &nonce, &encrypt),
            body: json!({ "encrypt": encrypt }).to_string(),
            nonce,
            encrypt,
        }
    }
}

/// A decrypted intelligent-robot text message in a group.
pub fn wecom_text(msgid: &str, userid: &str, content: &str) -> String {
    json!({
        "msgid": msgid,
        "aibotid": "AIBOTID",
        "chatid": "CHATID",
        "chattype": "group",
        "from": { "userid": userid },
        "response_url": "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=RC",
        "msgtype": "text",
        "text": { "content": content },
    })
    .to_string()
}

/// Checks a passive encrypted reply (keys, nonce, timestamp, msgsignature) and returns its decrypted JSON.
pub fn open_wecom_reply(body: &str, nonce: &str) -> Value {
    let envelope: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: reply is not JSON: {body:?}"));
    let keys: Vec<&str> = envelope
        .as_object()
        .unwrap_or_else(|| panic!("reply is not an object: {body}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.len(),
        4,
        "reply keys should be encrypt, msgsignature, timestamp, nonce: {body}"
    );
    let encrypt = envelope["encrypt"].as_str().expect("encrypt is a string");
    let signature = envelope["msgsignature"]
        .as_str()
        .expect("msgsignature is a string");
    let timestamp = envelope["timestamp"]
        .as_i64()
        .unwrap_or_else(|| panic!("timestamp must be an integer: {body}"));
    assert_eq!(
        envelope["nonce"], nonce,
        "the reply echoes the callback's nonce"
    );
    assert!(
        (timestamp - now_seconds()).abs() < 60,
        "the reply's timestamp {timestamp} is now, in seconds"
    );
    let crypto = wecom();
    crypto
        .verify(signature, &timestamp.to_string(), nonce, encrypt)
        .unwrap_or_else(|e| panic!("the reply's msgsignature does not verify: {e}"));
    let plaintext = crypto
        .decrypt(encrypt, "")
        .unwrap_or_else(|e| panic!("the reply does not decrypt with receive id \"\": {e}"));
    serde_json::from_str(&plaintext).unwrap_or_else(|e| panic!("{e}: plaintext {plaintext}"))
}

/// A DingTalk robot text message in a group, as the HTTP callback and stream mode carry it.
pub fn dingtalk_text(msg_id: &str, staff: &str, content: &str, webhook: Option<&str>) -> Value {
    let now = now_ms();
    json!({
        "msgtype": "text",
        "text": { "content": format!(" {content}") },
        "msgId": msg_id,
        "createAt": now,
        "conversationType": "2",
        "conversationId": "cidTEST==",
        "conversationTitle": "律所群",
        "senderId": format!("$:LWCP_v1:${staff}"),
        "senderNick": "张律师",
        "senderStaffId": staff,
        "senderCorpId": "dingCORP",
        "isAdmin": false,
        "chatbotUserId": "$:LWCP_v1:$BOT",
        "chatbotCorpId": "dingCORP",
        "robotCode": "dingROBOT",
        "isInAtList": true,
        "atUsers": [{ "dingtalkId": "$:LWCP_v1:$BOT" }],
        "sessionWebhook": webhook.unwrap_or("https://oapi.dingtalk.com/robot/sendBySession?session=S"),
        "sessionWebhookExpiredTime": now + 90 * 60 * 1000,
    })
}

/// Checks a DingTalk markdown reply to `staff` and returns its text.
pub fn dingtalk_markdown(reply: &Value, staff: &str) -> String {
    assert_eq!(reply["msgtype"], "markdown", "{reply}");
    assert!(
        reply["markdown"]["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "a markdown reply needs a title: {reply}"
    );
    assert_eq!(reply["at"]["atUserIds"], json!([staff]), "{reply}");
    let text = reply["markdown"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no markdown text in {reply}"));
    assert!(
        text.starts_with(&format!("@{staff}")),
        "the reply starts by mentioning the asker: {text}"
    );
    text.to_string()
}

// ---------------------------------------------------------------------------------------------
// Fake WebSocket servers (WeCom's long connection, DingTalk's stream endpoint).

pub type Ws = WebSocketStream<TcpStream>;

/// A WebSocket server on a random loopback port that hands every accepted connection to the test.
pub struct FakeWs {
    pub addr: SocketAddr,
    connections: mpsc::UnboundedReceiver<(String, Ws)>,
    accepted: Arc<AtomicUsize>,
}

impl FakeWs {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("a local address");
        let (tx, connections) = mpsc::unbounded_channel();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut uri = String::new();
                    // The shape of the result is tungstenite's, not ours to shrink.
                    #[allow(clippy::result_large_err)]
                    let callback = |request: &Request, response: Response| {
                        uri = request.uri().to_string();
                        Ok(response)
                    };
                    if let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await {
                        counter.fetch_add(1, Ordering::SeqCst);
                        let _ = tx.send((uri, ws));
                    }
                });
            }
        });
        FakeWs {
            addr,
            connections,
            accepted,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// WebSocket connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The next connection and the URI it asked for, within `within`.
    pub async fn accept_within(&mut self, within: Duration) -> (String, Ws) {
        tokio::time::timeout(within, self.connections.recv())
            .await
            .unwrap_or_else(|_| panic!("the client did not connect within {within:?}"))
            .expect("the fake server runs")
    }

    pub async fn accept(&mut self) -> (String, Ws) {
        self.accept_within(WAIT).await
    }
}

/// What a fake server saw next on a connection.
#[derive(Debug)]
pub enum Frame {
    /// A text frame, parsed as JSON.
    Json(Value),
    /// The client closed the connection or it broke.
    Closed,
    /// Nothing within the time given.
    Silent,
}

/// The next text frame within `within`, skipping WebSocket pings and pongs (answered automatically).
pub async fn next_frame(ws: &mut Ws, within: Duration) -> Frame {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Frame::Silent,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Frame::Closed,
            Ok(Some(Ok(Message::Text(text)))) => {
                let value = serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("{e}: the client sent a frame that is not JSON: {text}")
                });
                return Frame::Json(value);
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// The next text frame, which must come within [`WAIT`].
pub async fn expect_frame(ws: &mut Ws, what: &str) -> Value {
    match next_frame(ws, WAIT).await {
        Frame::Json(v) => v,
        other => panic!("expected {what}, got {other:?}"),
    }
}

pub async fn send_json(ws: &mut Ws, value: &Value) {
    ws.send(Message::text(value.to_string()))
        .await
        .expect("the fake server can send");
}

// ---------------------------------------------------------------------------------------------
// Fake DingTalk OpenAPI: the stream gateway and a sessionWebhook.

/// `POST /v1.0/gateway/connections/open` hands out tickets for a WebSocket endpoint;
/// `POST /hook` is a sessionWebhook that records what it receives.
pub struct FakeDingtalk {
    pub base: String,
    state: Arc<GatewayState>,
    pub hooks: mpsc::UnboundedReceiver<Value>,
}

struct GatewayState {
    endpoint: String,
    opens: Mutex<Vec<Value>>,
    refuse: AtomicUsize,
    hooks: mpsc::UnboundedSender<Value>,
}

impl FakeDingtalk {
    /// Tickets point at `endpoint`; the first `refuse` opens are answered with HTTP 500.
    pub async fn start(endpoint: String, refuse: usize) -> Self {
        let (tx, hooks) = mpsc::unbounded_channel();
        let state = Arc::new(GatewayState {
            endpoint,
            opens: Mutex::new(Vec::new()),
            refuse: AtomicUsize::new(refuse),
            hooks: tx,
        });
        let app = axum::Router::new()
            .route("/v1.0/gateway/connections/open", post(open_connection))
            .route("/hook", post(session_webhook))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("a local address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDingtalk { base, state, hooks }
    }

    pub fn webhook(&self) -> String {
        format!("{}/hook", self.base)
    }

    /// The bodies of every `connections/open` request so far.
    pub fn opens(&self) -> Vec<Value> {
        self.state.opens.lock().expect("not poisoned").clone()
    }

    /// The next body posted to the sessionWebhook within `within`, if any.
    pub async fn next_hook(&mut self, within: Duration) -> Option<Value> {
        tokio::time::timeout(within, self.hooks.recv())
            .await
            .ok()
            .flatten()
    }
}

/// The ticket of the n-th open (1-based): `T+/=` first, so that URL-encoding shows, then `T+/=2` …
pub fn ticket(n: usize) -> String {
    if n == 1 {
        "T+/=".to_string()
    } else {
        format!("T+/={n}")
    }
}

async fn open_connection(
    State(state): State<Arc<GatewayState>>,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    let n = {
        let mut opens = state.opens.lock().expect("not poisoned");
        opens.push(body);
        opens.len()
    };
    let refused = state
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| r.checked_sub(1))
        .is_ok();
    if refused {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "code": "ServiceUnavailable", "message": "try again" })),
        );
    }
    (
        axum::http::StatusCode::OK,
        Json(json!({ "endpoint": state.endpoint, "ticket": ticket(n) })),
    )
}

async fn session_webhook(
    State(state): State<Arc<GatewayState>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let _ = state.hooks.send(body);
    Json(json!({ "errcode": 0, "errmsg": "ok" }))
}
