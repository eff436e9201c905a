//! A fake WeCom group-robot and DingTalk custom-robot endpoint that records every send and answers like the platforms.
// Each test uses a different part of this module.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use lawbot::platform::dingtalk::sign::sign;
use serde_json::{Value, json};

/// DingTalk refuses a signature whose timestamp is further than this from its clock.
const MAX_SKEW_MS: i64 = 60 * 60 * 1000;
/// Largest WeCom markdown content and DingTalk request body, in bytes (shared/platforms).
const WECOM_MARKDOWN_BYTES: usize = 4096;
const WECOM_TEXT_BYTES: usize = 2048;
const DINGTALK_BODY_BYTES: usize = 20_000;
/// What the fake answers a WeCom message over the size limit (WeCom's "invalid parameter").
pub const WECOM_TOO_LONG: i64 = 40058;

/// The platforms' rate limit, shrunk for tests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Messages one robot may receive per window (the platforms: 20 a minute).
    pub per_window: usize,
    pub window: Duration,
    /// Taken off the window when counting: the fake stamps arrivals, the sender stamps departures,
    /// and the few milliseconds between them are not the sender's to control.
    pub slack: Duration,
    /// How long a DingTalk robot stays throttled once over the limit (the platform: 10 windows).
    pub dingtalk_throttle: Duration,
}

impl Limits {
    /// The span within which at most `per_window` messages may arrive.
    pub fn counted_window(&self) -> Duration {
        self.window - self.slack
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Wecom,
    Dingtalk,
}

/// A reply the fake can be told to give instead of judging the request itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// HTTP 200 with this errcode.
    Errcode(i64),
    /// HTTP 500 with an HTML body, as a failing gateway answers.
    ServerError,
}

/// What the fake answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Errcode(i64),
    ServerError,
}

impl Answer {
    pub fn is_ok(self) -> bool {
        self == Answer::Errcode(0)
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Arrival order over all robots, from 0.
    pub seq: usize,
    pub platform: Platform,
    /// The WeCom webhook key or DingTalk access token.
    pub robot: String,
    /// The query string as sent (percent-encoded).
    pub raw_query: String,
    /// The decoded query parameters.
    pub query: HashMap<String, String>,
    pub body: Value,
    pub body_bytes: usize,
    pub arrived: Instant,
    /// Wall-clock milliseconds at arrival (to judge DingTalk timestamps).
    pub arrived_ms: i64,
    pub answer: Answer,
    /// When the answer was ready to go back (after any delay); None while the request is held.
    pub answered: Option<Instant>,
}

impl Request {
    /// The markdown text the group would see: WeCom `markdown.content` or DingTalk `markdown.text`
    /// (`text.content` for text messages).
    pub fn text(&self) -> String {
        let field = match (self.platform, self.body["msgtype"].as_str()) {
            (_, Some("text")) => &self.body["text"]["content"],
            (Platform::Wecom, _) => &self.body["markdown"]["content"],
            (Platform::Dingtalk, _) => &self.body["markdown"]["text"],
        };
        field.as_str().unwrap_or_default().to_string()
    }

    /// The DingTalk `timestamp` query parameter.
    pub fn timestamp(&self) -> Option<i64> {
        self.query.get("timestamp").and_then(|t| t.parse().ok())
    }
}

#[derive(Debug)]
enum Credentials {
    Wecom,
    Dingtalk { secret: String },
}

#[derive(Debug)]
struct Robot {
    credentials: Credentials,
    /// Replies to give to the next requests, before anything else is judged.
    script: VecDeque<Reply>,
    /// A reply to give to every request while set.
    always: Option<Reply>,
    /// How long to hold each request before answering.
    delay: Duration,
    /// Arrivals of the messages accepted within the counted window.
    accepted: VecDeque<Instant>,
    /// DingTalk: throttled until then after going over the limit.
    throttled_until: Option<Instant>,
}

#[derive(Default)]
struct Book {
    robots: HashMap<(Platform, String), Robot>,
    requests: Vec<Request>,
    /// Every request is held this long (on top of a robot's own delay).
    delay: Duration,
}

struct Shared {
    limits: Limits,
    book: Mutex<Book>,
    arrived: Condvar,
}

impl Shared {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The fake, serving `/cgi-bin/webhook/send` and `/robot/send` on a loopback port from its own
/// thread and runtime, so that it serves sync and async tests alike. Stops when dropped.
pub struct FakeRobots {
    base: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeRobots {
    pub fn start(limits: Limits) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let base = format!("http://{}", listener.local_addr().expect("a local address"));
        let shared = Arc::new(Shared {
            limits,
            book: Mutex::new(Book::default()),
            arrived: Condvar::new(),
        });
        let app = Router::new()
            .route("/cgi-bin/webhook/send", post(wecom_send))
            .route("/robot/send", post(dingtalk_send))
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the fake's runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                tokio::select! {
                    result = axum::serve(listener, app) => result.expect("the fake serves"),
                    _ = stopped => {}
                }
            });
            runtime.shutdown_background();
        });
        FakeRobots {
            base,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, the `api_base` of both platforms.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn limits(&self) -> Limits {
        self.shared.limits
    }

    /// Registers (or repairs) a WeCom group robot.
    pub fn wecom(&self, key: &str) {
        self.register(Platform::Wecom, key, Credentials::Wecom);
    }

    /// Registers (or repairs) a DingTalk custom robot that signs with `secret`.
    pub fn dingtalk(&self, token: &str, secret: &str) {
        let credentials = Credentials::Dingtalk {
            secret: secret.to_string(),
        };
        self.register(Platform::Dingtalk, token, credentials);
    }

    fn register(&self, platform: Platform, robot: &str, credentials: Credentials) {
        let mut book = self.shared.book();
        let entry = book
            .robots
            .entry((platform, robot.to_string()))
            .or_insert_with(|| Robot {
                credentials: Credentials::Wecom,
                script: VecDeque::new(),
                always: None,
                delay: Duration::ZERO,
                accepted: VecDeque::new(),
                throttled_until: None,
            });
        entry.credentials = credentials;
    }

    /// The next `n` requests to `robot` (key or token) get `reply`, after any replies scripted before.
    pub fn answer_next(&self, robot: &str, n: usize, reply: Reply) {
        self.with_robot(robot, |r| r.script.extend(std::iter::repeat_n(reply, n)));
    }

    /// Every request to `robot` gets `reply` (None: judge requests normally again).
    pub fn answer_always(&self, robot: &str, reply: Option<Reply>) {
        self.with_robot(robot, |r| r.always = reply);
    }

    /// Holds each request to `robot` this long before answering.
    pub fn slow_robot(&self, robot: &str, delay: Duration) {
        self.with_robot(robot, |r| r.delay = delay);
    }

    /// Holds every request this long before answering.
    pub fn slow_all(&self, delay: Duration) {
        self.shared.book().delay = delay;
    }

    /// Forgets what `robot` was sent, as if its window (and a DingTalk throttle) had passed.
    pub fn let_time_pass(&self, robot: &str) {
        self.with_robot(robot, |r| {
            r.accepted.clear();
            r.throttled_until = None;
        });
    }

    fn with_robot(&self, robot: &str, change: impl FnOnce(&mut Robot)) {
        let mut book = self.shared.book();
        let found = book
            .robots
            .iter_mut()
            .find(|((_, name), _)| name == robot)
            .map(|(_, r)| r)
            .unwrap_or_else(|| panic!("the fake knows no robot `{robot}`: register it first"));
        change(found);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.book().requests.clone()
    }

    pub fn count(&self) -> usize {
        self.shared.book().requests.len()
    }

    /// The requests to one robot, in arrival order.
    pub fn requests_to(&self, robot: &str) -> Vec<Request> {
        self.shared
            .book()
            .requests
            .iter()
            .filter(|r| r.robot == robot)
            .cloned()
            .collect()
    }

    /// What one robot's group saw: the texts of the requests answered with errcode 0, in order.
    pub fn delivered_to(&self, robot: &str) -> Vec<String> {
        self.requests_to(robot)
            .iter()
            .filter(|r| r.answer.is_ok())
            .map(Request::text)
            .collect()
    }

    /// Waits (blocking the thread) until `done` holds for the requests so far; false on timeout.
    pub fn wait_blocking(&self, timeout: Duration, done: impl Fn(&[Request]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut book = self.shared.book();
        loop {
            if done(&book.requests) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            book = self
                .shared
                .arrived
                .wait_timeout(book, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The most requests (of any answer) one robot received within any counted window.
    pub fn most_in_a_window(&self, robot: &str) -> usize {
        let arrivals: Vec<Instant> = self.requests_to(robot).iter().map(|r| r.arrived).collect();
        let window = self.shared.limits.counted_window();
        let mut most = 0;
        let mut first = 0;
        for (last, at) in arrivals.iter().enumerate() {
            while at.duration_since(arrivals[first]) >= window {
                first += 1;
            }
            most = most.max(last - first + 1);
        }
        most
    }

    /// Panics unless every robot received at most `per_window` requests in any window.
    pub fn assert_within_limits(&self) {
        let mut robots: Vec<String> = self.requests().into_iter().map(|r| r.robot).collect();
        robots.sort();
        robots.dedup();
        let limits = self.shared.limits;
        for robot in robots {
            let most = self.most_in_a_window(&robot);
            assert!(
                most <= limits.per_window,
                "robot {robot} received {most} requests within {:?}; the platform allows {}",
                limits.counted_window(),
                limits.per_window
            );
        }
    }
}

impl Drop for FakeRobots {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

async fn wecom_send(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = query.get("key").cloned().unwrap_or_default();
    receive(shared, Platform::Wecom, key, query, raw, headers, body).await
}

async fn dingtalk_send(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = query.get("access_token").cloned().unwrap_or_default();
    receive(shared, Platform::Dingtalk, token, query, raw, headers, body).await
}

async fn receive(
    shared: Arc<Shared>,
    platform: Platform,
    robot: String,
    query: HashMap<String, String>,
    raw_query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let arrived_ms = wall_ms();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (answer, delay, seq) = {
        let mut book = shared.book();
        let global_delay = book.delay;
        let robot_state = book.robots.get_mut(&(platform, robot.clone()));
        let delay = global_delay + robot_state.as_ref().map_or(Duration::ZERO, |r| r.delay);
        let answer = judge(
            &shared.limits,
            platform,
            robot_state,
            &query,
            &json,
            is_json,
            body.len(),
            arrived,
            arrived_ms,
        );
        let seq = book.requests.len();
        book.requests.push(Request {
            seq,
            platform,
            robot,
            raw_query: raw_query.unwrap_or_default(),
            query,
            body: json,
            body_bytes: body.len(),
            arrived,
            arrived_ms,
            answer,
            answered: None,
        });
        shared.arrived.notify_all();
        (answer, delay, seq)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    shared.book().requests[seq].answered = Some(Instant::now());
    match answer {
        Answer::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response(),
        Answer::Errcode(code) => {
            let errmsg = if code == 0 {
                "ok"
            } else {
                "refused by the fake"
            };
            axum::Json(json!({ "errcode": code, "errmsg": errmsg })).into_response()
        }
    }
}

/// What the platform would answer: scripted replies first, then credentials, the message, and
/// the rate limit. Only accepted messages count toward the limit.
#[allow(clippy::too_many_arguments)]
fn judge(
    limits: &Limits,
    platform: Platform,
    robot: Option<&mut Robot>,
    query: &HashMap<String, String>,
    body: &Value,
    is_json: bool,
    body_bytes: usize,
    arrived: Instant,
    arrived_ms: i64,
) -> Answer {
    let Some(robot) = robot else {
        // An unknown webhook key or access token.
        return Answer::Errcode(match platform {
            Platform::Wecom => 93000,
            Platform::Dingtalk => 300001,
        });
    };
    if let Some(reply) = robot.script.pop_front().or(robot.always) {
        return match reply {
            Reply::Errcode(code) => Answer::Errcode(code),
            Reply::ServerError => Answer::ServerError,
        };
    }
    if let Credentials::Dingtalk { secret } = &robot.credentials {
        let timestamp: Option<i64> = query.get("timestamp").and_then(|t| t.parse().ok());
        let signed = match (timestamp, query.get("sign")) {
            (Some(ts), Some(given)) => {
                ts.abs_diff(arrived_ms) <= MAX_SKEW_MS.unsigned_abs() && *given == sign(secret, ts)
            }
            _ => false,
        };
        if !signed {
            return Answer::Errcode(310000);
        }
    }
    if !is_json || !body.is_object() {
        return Answer::Errcode(40008);
    }
    let too_long = match (platform, body["msgtype"].as_str()) {
        (Platform::Wecom, Some("markdown")) => {
            text_len(&body["markdown"]["content"]).is_none_or(|n| n > WECOM_MARKDOWN_BYTES)
        }
        (Platform::Wecom, Some("text")) => {
            text_len(&body["text"]["content"]).is_none_or(|n| n > WECOM_TEXT_BYTES)
        }
        (Platform::Dingtalk, Some("markdown")) => {
            text_len(&body["markdown"]["title"]).is_none()
                || text_len(&body["markdown"]["text"]).is_none()
                || body_bytes > DINGTALK_BODY_BYTES
        }
        (Platform::Dingtalk, Some("text")) => {
            text_len(&body["text"]["content"]).is_none() || body_bytes > DINGTALK_BODY_BYTES
        }
        _ => return Answer::Errcode(40008),
    };
    if too_long {
        return Answer::Errcode(match platform {
            Platform::Wecom => WECOM_TOO_LONG,
            Platform::Dingtalk => 460101,
        });
    }
    while robot
        .accepted
        .front()
        .is_some_and(|t| arrived.duration_since(*t) >= limits.counted_window())
    {
        robot.accepted.pop_front();
    }
    match platform {
        Platform::Wecom => {
            if robot.accepted.len() >= limits.per_window {
                return Answer::Errcode(45009);
            }
        }
        Platform::Dingtalk => {
            if robot.throttled_until.is_some_and(|until| arrived < until) {
                return Answer::Errcode(130101);
            }
            if robot.accepted.len() >= limits.per_window {
                robot.throttled_until = Some(arrived + limits.dingtalk_throttle);
                return Answer::Errcode(130101);
            }
        }
    }
    robot.accepted.push_back(arrived);
    Answer::Errcode(0)
}

/// The byte length of a non-empty string field.
fn text_len(field: &Value) -> Option<usize> {
    field.as_str().filter(|s| !s.is_empty()).map(str::len)
}
