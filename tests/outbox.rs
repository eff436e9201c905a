//! Tests the outbox end to end against fake group robots: rate limits, order, retries, broken groups, a crash mid-broadcast, and the CLI's reports.

mod temp;

mod fake_robots;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_robots::{Answer, FakeRobots, Limits, Platform, Reply, Request};
use lawbot::admin;
use lawbot::config::Config;
use lawbot::delivery::{Endpoints, Sender, Worker, WorkerConfig};
use lawbot::platform::dingtalk::sign::sign;
use lawbot::store::{Group, GroupStatus, NewGroup, Robot, Store, now_ms};
use temp::TempDir;
use tokio::sync::watch;

/// The platforms' 20 messages per robot, in a window short enough for tests.
const PER_WINDOW: u32 = 20;
const WINDOW: Duration = Duration::from_secs(3);
const POLL: Duration = Duration::from_millis(50);
/// The broadcast title `lawbot broadcast` uses by default.
const DEFAULT_TITLE: &str = "巴州区司法局通知";
/// The longest a whole test may take.
const TEST_LIMIT: Duration = Duration::from_secs(90);

fn limits() -> Limits {
    Limits {
        per_window: PER_WINDOW as usize,
        window: WINDOW,
        slack: Duration::from_millis(300),
        dingtalk_throttle: WINDOW * 10,
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Hex digits that look like a real key, different for every seed.
fn hex(seed: u64, len: usize) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = String::new();
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    out.truncate(len);
    out
}

/// A WeCom webhook key shaped like the real ones (a UUID).
fn wecom_key(seed: u64) -> String {
    let h = hex(seed, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A DingTalk access token (64 hex digits) and signing secret (`SEC` and 64 hex digits).
fn dingtalk_credentials(seed: u64) -> (String, String) {
    (hex(seed, 64), format!("SEC{}", hex(seed ^ 0x5EC, 64)))
}

fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Runs `test` on the current runtime, failing it if it takes longer than [`TEST_LIMIT`].
async fn within_limit(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("the test took longer than {TEST_LIMIT:?}"));
}

/// Polls `done` until it holds, failing after `limit`.
async fn eventually(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One outbox row, read straight from the database.
#[derive(Debug, Clone)]
struct Row {
    broadcast: Option<i64>,
    group: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
}

fn outbox_rows(db: &Path) -> Vec<Row> {
    let connection = rusqlite::Connection::open(db).expect("open the database");
    connection
        .busy_timeout(Duration::from_secs(5))
        .expect("a busy timeout");
    let mut statement = connection
        .prepare(
            "SELECT o.broadcast_id, g.name, o.status, o.attempts, o.next_attempt_at, o.last_error
             FROM outbox o JOIN groups g ON g.id = o.group_id ORDER BY o.id",
        )
        .expect("the outbox table");
    statement
        .query_map([], |r| {
            Ok(Row {
                broadcast: r.get(0)?,
                group: r.get(1)?,
                status: r.get(2)?,
                attempts: r.get(3)?,
                next_attempt_at: r.get(4)?,
                last_error: r.get(5)?,
            })
        })
        .expect("read the outbox")
        .collect::<Result<_, _>>()
        .expect("outbox rows")
}

fn row(db: &Path, broadcast: i64, group: &str) -> Row {
    outbox_rows(db)
        .into_iter()
        .find(|r| r.broadcast == Some(broadcast) && r.group == group)
        .unwrap_or_else(|| panic!("no outbox row for broadcast {broadcast} to {group}"))
}

/// Makes every queued retry due now, as if its wait had passed.
fn let_waits_pass(db: &Path) {
    let connection = rusqlite::Connection::open(db).expect("open the database");
    connection
        .busy_timeout(Duration::from_secs(5))
        .expect("a busy timeout");
    connection
        .execute(
            "UPDATE outbox SET next_attempt_at = MIN(next_attempt_at, ?1) WHERE status = 'queued'",
            [now_ms()],
        )
        .expect("move the retries forward");
}

/// A database on a temporary file, the fake robots, and the groups registered with both.
struct Setup {
    _dir: TempDir,
    db: PathBuf,
    store: Arc<Store>,
    fake: FakeRobots,
}

impl Setup {
    fn new(name: &str) -> Self {
        Setup::with_limits(name, limits())
    }

    fn with_limits(name: &str, limits: Limits) -> Self {
        install_crypto();
        let dir = TempDir::new(name);
        let db = dir.path().join("lawbot.db");
        let store = Arc::new(Store::open(&db).expect("open the database"));
        Setup {
            _dir: dir,
            db,
            store,
            fake: FakeRobots::start(limits),
        }
    }

    /// A WeCom group the fake knows.
    fn wecom(&self, name: &str, seed: u64) -> (Group, String) {
        let key = wecom_key(seed);
        self.fake.wecom(&key);
        (
            self.add(
                name,
                Robot::Wecom {
                    webhook_key: key.clone(),
                },
            ),
            key,
        )
    }

    /// A DingTalk group the fake knows, signing with the secret it was registered with.
    fn dingtalk(&self, name: &str, seed: u64) -> (Group, String) {
        let (token, secret) = dingtalk_credentials(seed);
        self.fake.dingtalk(&token, &secret);
        let robot = Robot::Dingtalk {
            access_token: token.clone(),
            secret,
        };
        (self.add(name, robot), token)
    }

    fn add(&self, name: &str, robot: Robot) -> Group {
        self.store
            .add_group(&NewGroup {
                name: name.to_string(),
                robot,
            })
            .expect("add a group")
    }

    /// Queues a broadcast to the named groups (all when none); returns its id.
    fn broadcast(&self, title: &str, body: &str, groups: &[&str]) -> i64 {
        let names: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        admin::broadcast(&self.store, title, body, &names)
            .expect("queue a broadcast")
            .0
    }

    fn worker(&self, per_window: u32) -> Worker {
        worker_to(&self.store, self.fake.base(), per_window, WINDOW)
    }

    fn backlog(&self) -> i64 {
        self.store.backlog().expect("the backlog")
    }

    /// Drains until a round sends nothing; returns the number of sends tried.
    async fn drain(&self, worker: &Worker) -> usize {
        let mut tried = 0;
        loop {
            match worker.drain_once().await.expect("a drain") {
                0 => return tried,
                n => tried += n,
            }
        }
    }
}

fn worker_to(store: &Arc<Store>, base: &str, per_window: u32, window: Duration) -> Worker {
    Worker::new(
        store.clone(),
        Sender::new(Endpoints {
            wecom: base.to_string(),
            dingtalk: base.to_string(),
        }),
        WorkerConfig {
            per_window,
            window,
            poll: POLL,
            concurrency: 8,
        },
    )
}

/// A worker running in the background until stopped.
struct RunningWorker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    fn spawn(worker: Worker) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(worker.run(stopped));
        RunningWorker { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("the worker stops")
            .expect("the worker does not panic");
    }
}

/// Panics if the fake had to refuse any request (over the limit, too long, badly signed).
fn assert_none_refused(fake: &FakeRobots) {
    let refused: Vec<(String, Answer)> = fake
        .requests()
        .into_iter()
        .filter(|r| !r.answer.is_ok())
        .map(|r| (r.robot, r.answer))
        .collect();
    assert!(
        refused.is_empty(),
        "the platform had to refuse requests: {refused:?}"
    );
}

/// Answers of the requests, in arrival order.
fn answers(requests: &[Request]) -> Vec<Answer> {
    requests.iter().map(|r| r.answer).collect()
}

/// Checks that a request's markdown carries the title and the body.
fn assert_markdown(request: &Request, title: &str, body: &str) {
    assert_eq!(request.body["msgtype"], "markdown", "{}", request.body);
    let text = request.text();
    assert!(
        text.contains(title) && text.contains(body),
        "the markdown should carry the title `{title}` and the body `{body}`: {text}"
    );
    if request.platform == Platform::Dingtalk {
        assert_eq!(
            request.body["markdown"]["title"], title,
            "DingTalk markdown needs its title field: {}",
            request.body
        );
    }
}

/// Checks that a DingTalk request is signed with `secret` at a timestamp taken when it was sent.
fn assert_freshly_signed(request: &Request, secret: &str) {
    let timestamp = request
        .timestamp()
        .unwrap_or_else(|| panic!("no timestamp in {}", request.raw_query));
    assert!(
        (timestamp - request.arrived_ms).abs() < 5_000,
        "the timestamp {timestamp} should be the time of sending, not {} ms off",
        timestamp - request.arrived_ms
    );
    assert_eq!(
        request.query.get("sign"),
        Some(&sign(secret, timestamp)),
        "the sign parameter decodes to the signature: {}",
        request.raw_query
    );
    assert!(
        !request.raw_query.contains("%25"),
        "the signature is percent-encoded exactly once: {}",
        request.raw_query
    );
}

// ---------------------------------------------------------------------------------------------
// 1. A broadcast to fifty groups.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_to_fifty_groups_arrives_once_in_each_within_the_limit() {
    within_limit(async {
        let s = Setup::new("fifty");
        let mut wecom = Vec::new();
        let mut dingtalk = Vec::new();
        for i in 0..50u64 {
            let name = format!("律所{i:02}");
            if i % 2 == 0 {
                wecom.push((name.clone(), s.wecom(&name, i).1));
            } else {
                let (_, token) = s.dingtalk(&name, i);
                dingtalk.push((name, token, dingtalk_credentials(i).1));
            }
        }
        let short = "**新规施行**：请各律所组织学习第十二条。";
        let first = s.broadcast(DEFAULT_TITLE, short, &[]);
        // Three paragraphs of 3,000 bytes: three parts for WeCom (4,096 bytes each), one for DingTalk.
        let paragraphs: Vec<String> = (1..=3)
            .map(|i| format!("第{i}段：{}", "规定".repeat(500)))
            .collect();
        let long = paragraphs.join("\n\n");
        let second = s.broadcast("新规全文", &long, &[]);

        let worker = RunningWorker::spawn(s.worker(PER_WINDOW));
        eventually("the outbox to drain", Duration::from_secs(30), || {
            assert_none_refused(&s.fake);
            s.backlog() == 0
        })
        .await;
        // A few more rounds: nothing may go out twice.
        tokio::time::sleep(POLL * 6).await;
        worker.stop().await;

        assert_eq!(
            s.fake.count(),
            25 * 4 + 25 * 2,
            "each part went out exactly once"
        );
        for (name, key) in &wecom {
            let requests = s.fake.requests_to(key);
            assert_eq!(
                answers(&requests),
                [Answer::Errcode(0); 4],
                "{name}: one short message and three parts, each accepted once"
            );
            assert_markdown(&requests[0], DEFAULT_TITLE, short);
            for (i, paragraph) in paragraphs.iter().enumerate() {
                let part = &requests[i + 1];
                assert_markdown(part, "新规全文", paragraph);
                assert!(
                    part.text().contains(&format!("（{}/3）", i + 1)),
                    "{name}: part {} is numbered: {}",
                    i + 1,
                    part.text()
                );
            }
        }
        for (name, token, secret) in &dingtalk {
            let requests = s.fake.requests_to(token);
            assert_eq!(
                answers(&requests),
                [Answer::Errcode(0); 2],
                "{name}: each message accepted once"
            );
            assert_markdown(&requests[0], DEFAULT_TITLE, short);
            assert_markdown(&requests[1], "新规全文", &long);
            for request in &requests {
                assert_freshly_signed(request, secret);
            }
            assert_ne!(
                requests[0].timestamp(),
                requests[1].timestamp(),
                "{name}: every request is signed anew"
            );
        }
        s.fake.assert_within_limits();
        for id in [first, second] {
            let report = s.store.broadcast_report(id).expect("a report");
            assert_eq!(report.len(), 50);
            for delivery in report {
                assert_eq!(
                    (delivery.status.as_str(), delivery.attempts),
                    ("sent", delivery.parts),
                    "{delivery:?}"
                );
            }
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 2. Many messages to one group.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_five_messages_to_one_group_arrive_in_order_twenty_per_window() {
    within_limit(async {
        let s = Setup::new("forty-five");
        let (_, key) = s.wecom("甲律所", 1);
        let (_, token) = s.dingtalk("乙律所", 2);
        let (_, parts_key) = s.wecom("丙律所", 3);
        let bodies: Vec<String> = (1..=45).map(|i| format!("第{i:02}号通知")).collect();
        for body in &bodies {
            s.broadcast(DEFAULT_TITLE, body, &["甲律所", "乙律所"]);
        }
        // 45 paragraphs of about 3,000 bytes: one WeCom part each.
        let paragraphs: Vec<String> = (1..=45)
            .map(|i| format!("第{i:02}段：{}", "规".repeat(1000)))
            .collect();
        s.broadcast("新规全文", &paragraphs.join("\n\n"), &["丙律所"]);
        assert_eq!(s.backlog(), 135);

        // A first worker fills the window, then "the process restarts" with a new store and worker.
        let first = RunningWorker::spawn(s.worker(PER_WINDOW));
        eventually("the first window to fill", Duration::from_secs(20), || {
            s.fake.delivered_to(&key).len() >= PER_WINDOW as usize
        })
        .await;
        first.stop().await;
        let reopened = Arc::new(Store::open(&s.db).expect("reopen the database"));
        let second = RunningWorker::spawn(worker_to(&reopened, s.fake.base(), PER_WINDOW, WINDOW));
        eventually("all 135 messages", Duration::from_secs(40), || {
            assert_none_refused(&s.fake);
            s.backlog() == 0
        })
        .await;
        tokio::time::sleep(POLL * 6).await;
        second.stop().await;

        s.fake.assert_within_limits();
        for robot in [&key, &token, &parts_key] {
            let requests = s.fake.requests_to(robot);
            assert_eq!(requests.len(), 45, "{robot}: each message once");
            assert!(
                requests.iter().all(|r| r.answer.is_ok()),
                "the platform never had to refuse one: {:?}",
                answers(&requests)
            );
        }
        for (robot, requests) in [
            (&key, s.fake.requests_to(&key)),
            (&token, s.fake.requests_to(&token)),
        ] {
            for (request, body) in requests.iter().zip(&bodies) {
                assert!(
                    request.text().ends_with(body.as_str()),
                    "{robot}: in order, expected {body}, got {}",
                    request.text()
                );
            }
        }
        let parts = s.fake.requests_to(&parts_key);
        for (i, (request, paragraph)) in parts.iter().zip(&paragraphs).enumerate() {
            assert!(
                request.text().contains(&format!("（{}/45）", i + 1))
                    && request.text().contains(paragraph.as_str()),
                "丙律所: part {} in its place: {}",
                i + 1,
                request.text().chars().take(40).collect::<String>()
            );
        }
        let secret = dingtalk_credentials(2).1;
        let dingtalk = s.fake.requests_to(&token);
        for request in &dingtalk {
            assert_freshly_signed(request, &secret);
        }
        let timestamps: Vec<i64> = dingtalk.iter().filter_map(Request::timestamp).collect();
        assert!(
            timestamps.windows(2).all(|w| w[0] < w[1]),
            "every DingTalk request carries a new timestamp: {timestamps:?}"
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. Throttling, server errors, refused robots and refused messages.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_messages_wait_out_the_platform_and_keep_their_order() {
    within_limit(async {
        let s = Setup::new("throttled");
        let (_, key) = s.wecom("甲律所", 10);
        let (_, token) = s.dingtalk("乙律所", 11);
        s.fake.answer_next(&key, 1, Reply::Errcode(45009));
        s.fake.answer_next(&token, 1, Reply::Errcode(130101));
        let first = s.broadcast("通知", "第一条", &[]);
        let second = s.broadcast("通知", "第二条", &[]);
        let worker = s.worker(PER_WINDOW);

        let before = now_ms();
        assert_eq!(worker.drain_once().await.unwrap(), 2);
        let after = now_ms();
        for (group, code, wait) in [("甲律所", 45009, 60_000), ("乙律所", 130101, 600_000)] {
            let throttled = row(&s.db, first, group);
            assert_eq!(
                (throttled.status.as_str(), throttled.attempts),
                ("queued", 1),
                "{throttled:?}"
            );
            assert!(
                (before + wait..=after + wait).contains(&throttled.next_attempt_at),
                "{group}: retried after {wait} ms, not at {}",
                throttled.next_attempt_at - before
            );
            assert!(
                throttled
                    .last_error
                    .as_deref()
                    .is_some_and(|e| e.contains(&code.to_string())),
                "{throttled:?}"
            );
            let waiting = row(&s.db, second, group);
            assert_eq!(
                (waiting.status.as_str(), waiting.attempts),
                ("queued", 0),
                "{group}: the next message waits behind the throttled one"
            );
        }
        assert_eq!(worker.drain_once().await.unwrap(), 0, "nothing is due yet");
        assert_eq!(s.fake.count(), 2);

        let_waits_pass(&s.db);
        s.drain(&worker).await;
        assert_eq!(s.backlog(), 0);
        for (robot, code) in [(&key, 45009), (&token, 130101)] {
            let requests = s.fake.requests_to(robot);
            assert_eq!(
                answers(&requests),
                [
                    Answer::Errcode(code),
                    Answer::Errcode(0),
                    Answer::Errcode(0)
                ]
            );
            assert!(
                requests[1].text().ends_with("第一条") && requests[2].text().ends_with("第二条")
            );
        }
        let dingtalk = s.fake.requests_to(&token);
        assert_ne!(
            dingtalk[0].timestamp(),
            dingtalk[1].timestamp(),
            "the retry is signed anew"
        );
        for id in [first, second] {
            for d in s.store.broadcast_report(id).unwrap() {
                assert_eq!(d.status, "sent", "{d:?}");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_enforcing_its_limit_throttles_a_worker_that_sends_too_much() {
    within_limit(async {
        // A long window so the fake counts every send of this test in one; the worker is
        // (mis)configured to 25 a window, the platform allows 20.
        let window = Duration::from_secs(30);
        let s = Setup::with_limits(
            "over-limit",
            Limits {
                window,
                dingtalk_throttle: window * 10,
                ..limits()
            },
        );
        let (_, key) = s.wecom("甲律所", 20);
        let (_, token) = s.dingtalk("乙律所", 21);
        let ids: Vec<i64> = (1..=22)
            .map(|i| s.broadcast("通知", &format!("第{i:02}条"), &[]))
            .collect();
        let worker = worker_to(&s.store, s.fake.base(), 25, window);
        let started = now_ms();
        assert_eq!(
            s.drain(&worker).await,
            42,
            "20 accepted and one refused per robot"
        );

        for (robot, group, code, wait) in [
            (&key, "甲律所", 45009, 60_000),
            (&token, "乙律所", 130101, 600_000),
        ] {
            let mut expected = vec![Answer::Errcode(0); 20];
            expected.push(Answer::Errcode(code));
            assert_eq!(answers(&s.fake.requests_to(robot)), expected, "{group}");
            let refused = row(&s.db, ids[20], group);
            assert_eq!((refused.status.as_str(), refused.attempts), ("queued", 1));
            assert!(
                refused.next_attempt_at >= started + wait,
                "{group}: retried after the platform's wait: {refused:?}"
            );
            assert_eq!(
                row(&s.db, ids[21], group).attempts,
                0,
                "{group}: kept in order"
            );
        }
        assert_eq!(s.backlog(), 4, "nothing is lost");

        // The minute, and DingTalk's ten-minute throttle, pass.
        s.fake.let_time_pass(&key);
        s.fake.let_time_pass(&token);
        let_waits_pass(&s.db);
        s.drain(&worker).await;
        assert_eq!(s.backlog(), 0);
        for robot in [&key, &token] {
            let delivered = s.fake.delivered_to(robot);
            assert_eq!(delivered.len(), 22);
            for (i, text) in delivered.iter().enumerate() {
                assert!(text.ends_with(&format!("第{:02}条", i + 1)), "{i}: {text}");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_backoff_and_a_new_signature() {
    within_limit(async {
        let s = Setup::new("server-errors");
        let (_, key) = s.wecom("甲律所", 30);
        let (_, token) = s.dingtalk("乙律所", 31);
        s.fake.answer_next(&key, 1, Reply::ServerError);
        s.fake.answer_next(&token, 1, Reply::ServerError);
        let id = s.broadcast("通知", "服务器出错后重试", &[]);
        let worker = RunningWorker::spawn(s.worker(PER_WINDOW));
        eventually("both retries", Duration::from_secs(30), || s.backlog() == 0).await;
        worker.stop().await;

        for robot in [&key, &token] {
            let requests = s.fake.requests_to(robot);
            assert_eq!(
                answers(&requests),
                [Answer::ServerError, Answer::Errcode(0)]
            );
            let waited = requests[1].arrived.duration_since(requests[0].arrived);
            assert!(
                waited >= Duration::from_millis(4_500),
                "the retry waits out its backoff (5 s), not {waited:?}"
            );
        }
        let dingtalk = s.fake.requests_to(&token);
        let secret = dingtalk_credentials(31).1;
        assert_freshly_signed(&dingtalk[1], &secret);
        assert!(dingtalk[1].timestamp() > dingtalk[0].timestamp());
        for d in s.store.broadcast_report(id).unwrap() {
            assert_eq!((d.status.as_str(), d.attempts), ("sent", 2), "{d:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retried_and_its_error_names_no_key() {
    within_limit(async {
        let s = Setup::new("refused");
        let (_, key) = s.wecom("甲律所", 40);
        let (_, token) = s.dingtalk("乙律所", 41);
        let id = s.broadcast("通知", "平台连不上时", &[]);
        let dead = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let unreachable = worker_to(&s.store, &dead, PER_WINDOW, WINDOW);
        let before = now_ms();
        assert_eq!(unreachable.drain_once().await.unwrap(), 2);
        let after = now_ms();
        let secret = dingtalk_credentials(41).1;
        for group in ["甲律所", "乙律所"] {
            let r = row(&s.db, id, group);
            assert_eq!((r.status.as_str(), r.attempts), ("queued", 1), "{r:?}");
            assert!(
                (before + 5_000..=after + 5_000).contains(&r.next_attempt_at),
                "{group}: retried after 5 s: {r:?}"
            );
            let error = r.last_error.unwrap_or_default();
            assert!(error.starts_with("network"), "{error}");
            for credential in [&key, &token, &secret] {
                assert!(
                    !error.contains(credential.as_str()),
                    "the error must not carry the robot's credentials: {error}"
                );
            }
        }

        // The platform is reachable again and the backoff has passed.
        let worker = s.worker(PER_WINDOW);
        assert_eq!(worker.drain_once().await.unwrap(), 0, "not due yet");
        let_waits_pass(&s.db);
        s.drain(&worker).await;
        assert_eq!(s.fake.delivered_to(&key).len(), 1);
        assert_eq!(s.fake.delivered_to(&token).len(), 1);
        for d in s.store.broadcast_report(id).unwrap() {
            assert_eq!((d.status.as_str(), d.attempts), ("sent", 2), "{d:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_robots_mark_their_group_broken_and_keep_its_messages() {
    within_limit(async {
        let s = Setup::new("broken");
        let (_, healthy_key) = s.wecom("好律所", 50);
        let (_, healthy_token) = s.dingtalk("佳律所", 51);
        // The platform knows none of these credentials as registered in lawbot.
        let revoked_key = wecom_key(52);
        s.add(
            "甲律所",
            Robot::Wecom {
                webhook_key: revoked_key.clone(),
            },
        );
        let (unknown_token, unknown_secret) = dingtalk_credentials(53);
        s.add(
            "乙律所",
            Robot::Dingtalk {
                access_token: unknown_token.clone(),
                secret: unknown_secret,
            },
        );
        let (token, secret) = dingtalk_credentials(54);
        s.fake.dingtalk(&token, &format!("SEC{}", hex(99, 64)));
        s.add(
            "丙律所",
            Robot::Dingtalk {
                access_token: token.clone(),
                secret: secret.clone(),
            },
        );
        let first = s.broadcast("通知", "第一条", &[]);
        s.broadcast("通知", "第二条", &[]);

        let worker = RunningWorker::spawn(s.worker(PER_WINDOW));
        eventually(
            "the healthy groups' messages",
            Duration::from_secs(20),
            || {
                s.fake.delivered_to(&healthy_key).len() == 2
                    && s.fake.delivered_to(&healthy_token).len() == 2
            },
        )
        .await;
        tokio::time::sleep(POLL * 10).await;

        let table = admin::group_table(&s.store.groups().unwrap());
        for (robot, group, code) in [
            (&revoked_key, "甲律所", 93000),
            (&unknown_token, "乙律所", 300001),
            (&token, "丙律所", 310000),
        ] {
            assert_eq!(
                answers(&s.fake.requests_to(robot)),
                [Answer::Errcode(code)],
                "{group}: one refusal, then no further requests"
            );
            assert_eq!(s.store.group(group).unwrap().status, GroupStatus::Broken);
            let lines: Vec<&str> = table.lines().collect();
            let at = lines
                .iter()
                .position(|l| l.contains(group))
                .unwrap_or_else(|| panic!("{group} is listed:\n{table}"));
            assert!(lines[at].contains("BROKEN"), "{table}");
            assert!(
                lines[at + 1].contains(&code.to_string()),
                "the reason is shown under {group}:\n{table}"
            );
        }
        for group in ["好律所", "佳律所"] {
            assert_eq!(s.store.group(group).unwrap().status, GroupStatus::Ok);
        }
        assert_eq!(
            s.backlog(),
            6,
            "the broken groups' messages wait, none lost"
        );
        for d in s.store.broadcast_report(first).unwrap() {
            let expected = if d.group == "好律所" || d.group == "佳律所" {
                "sent"
            } else {
                "broken"
            };
            assert_eq!(d.status, expected, "{d:?}");
        }

        // The clerk fixes the WeCom robot and tests it: the group works again and its queue drains.
        s.fake.wecom(&revoked_key);
        let config = Config::parse(
            &format!(
                "[wecom]\napi_base = \"{0}\"\n[dingtalk]\napi_base = \"{0}\"\n",
                s.fake.base()
            ),
            |_| None,
        )
        .unwrap();
        let tested = admin::test_group(&s.store, &config, "甲律所")
            .await
            .expect("the repaired robot accepts the test message");
        assert!(tested.contains("delivered"), "{tested}");
        assert_eq!(s.store.group("甲律所").unwrap().status, GroupStatus::Ok);
        eventually(
            "the repaired group's queue",
            Duration::from_secs(20),
            || s.fake.delivered_to(&revoked_key).len() == 3,
        )
        .await;
        tokio::time::sleep(POLL * 4).await;
        worker.stop().await;
        let delivered = s.fake.delivered_to(&revoked_key);
        assert!(
            delivered[1].ends_with("第一条") && delivered[2].ends_with("第二条"),
            "{delivered:?}"
        );
        assert_eq!(s.backlog(), 4);
        assert_eq!(s.fake.requests_to(&unknown_token).len(), 1);
        assert_eq!(s.fake.requests_to(&token).len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_refused_for_its_size_fails_alone_and_the_next_goes_out() {
    within_limit(async {
        let s = Setup::new("refused-message");
        let (_, token) = s.dingtalk("乙律所", 60);
        s.fake.answer_next(&token, 1, Reply::Errcode(460101));
        let first = s.broadcast("通知", "太长的一条", &[]);
        let second = s.broadcast("通知", "下一条", &[]);
        let worker = s.worker(PER_WINDOW);
        s.drain(&worker).await;

        assert_eq!(
            answers(&s.fake.requests_to(&token)),
            [Answer::Errcode(460101), Answer::Errcode(0)]
        );
        let failed = row(&s.db, first, "乙律所");
        assert_eq!((failed.status.as_str(), failed.attempts), ("failed", 1));
        assert_eq!(s.store.group("乙律所").unwrap().status, GroupStatus::Ok);
        let report = s.store.broadcast_report(first).unwrap();
        assert_eq!(report[0].status, "failed");
        assert!(
            report[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("460101")),
            "{report:?}"
        );
        assert_eq!(s.store.broadcast_report(second).unwrap()[0].status, "sent");
        assert!(s.fake.delivered_to(&token)[0].ends_with("下一条"));
        assert_eq!(s.backlog(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wecom_parts_fit_the_markdown_limit_whatever_the_title() {
    within_limit(async {
        let s = Setup::new("long-title");
        let (_, key) = s.wecom("甲律所", 70);
        // A common kind of title (20 characters, 60 bytes) and paragraphs that fill a part.
        let title = "关于律师与司法人员接触交往行为规范的通知";
        let paragraphs: Vec<String> = (1..=3).map(|_| "字".repeat(1344)).collect();
        let id = s.broadcast(title, &paragraphs.join("\n\n"), &[]);
        s.drain(&s.worker(PER_WINDOW)).await;
        let requests = s.fake.requests_to(&key);
        let sizes: Vec<usize> = requests.iter().map(|r| r.text().len()).collect();
        assert!(
            requests.iter().all(|r| r.answer.is_ok()),
            "every part must fit WeCom's 4,096 bytes of markdown; sent {sizes:?} bytes, answered {:?}",
            answers(&requests)
        );
        assert_eq!(s.store.broadcast_report(id).unwrap()[0].status, "sent");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 4 and 5. The real binary.

const LAWBOT: &str = env!("CARGO_BIN_EXE_lawbot");

/// Runs `lawbot ARGS`, expecting success; returns standard output.
fn lawbot(args: &[&str]) -> String {
    let output = Command::new(LAWBOT)
        .args(args)
        .output()
        .expect("run lawbot");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "lawbot {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A configuration in `dir` whose database lives there and whose robots are the fake's; weekly
/// reminders are off so that only the test's messages go out, whatever the day.
fn write_config(dir: &Path, fake: &FakeRobots) -> PathBuf {
    let path = dir.join("lawbot.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [storage]\npath = \"{db}\"\n\
         [wecom]\napi_base = \"{base}\"\n\
         [dingtalk]\napi_base = \"{base}\"\n\
         [outbox]\nper_minute = {PER_WINDOW}\nwindow_seconds = {window}\npoll_ms = {poll}\n\
         [reminders]\ndefault = \"off\"\n",
        db = dir.join("lawbot.db").display(),
        base = fake.base(),
        window = WINDOW.as_secs(),
        poll = POLL.as_millis(),
    );
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// `lawbot serve`, its log in a file; killed (SIGKILL on Unix) when dropped.
struct Serve {
    child: Child,
    log: PathBuf,
}

impl Serve {
    fn start(config: &Path, log: PathBuf) -> Self {
        let file = File::create(&log).expect("create the log file");
        let child = Command::new(LAWBOT)
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start lawbot serve");
        Serve { child, log }
    }

    /// Kills the process at once (SIGKILL: no shutdown, no flushing) and returns its log.
    fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The broadcast id in `broadcast N queued for …`.
fn broadcast_id(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .nth(1)
        .filter(|id| id.parse::<i64>().is_ok())
        .unwrap_or_else(|| panic!("no broadcast id in {stdout}"))
        .to_string()
}

/// Runs `lawbot broadcast status` until its output satisfies `done`, failing after `limit`.
fn status_until(config: &str, id: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let status = lawbot(&["broadcast", "status", id, "--config", config]);
        if done(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?}; the last report:\n{status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_serve_killed_mid_broadcast_delivers_to_every_group_once_after_a_restart() {
    install_crypto();
    let dir = TempDir::new("outbox-kill");
    let fake = FakeRobots::start(limits());
    fake.slow_all(Duration::from_millis(40));
    let config = write_config(dir.path(), &fake);
    let config = config.to_str().unwrap();
    let mut robots = Vec::new();
    for i in 0..50u64 {
        let name = format!("律所{i:02}");
        if i % 2 == 0 {
            let key = wecom_key(100 + i);
            fake.wecom(&key);
            lawbot(&[
                "group",
                "add",
                "--config",
                config,
                "--platform",
                "wecom",
                "--name",
                &name,
                "--webhook-key",
                &key,
            ]);
            robots.push(key);
        } else {
            let (token, secret) = dingtalk_credentials(100 + i);
            fake.dingtalk(&token, &secret);
            lawbot(&[
                "group",
                "add",
                "--config",
                config,
                "--platform",
                "dingtalk",
                "--name",
                &name,
                "--access-token",
                &token,
                "--secret",
                &secret,
            ]);
            robots.push(token);
        }
    }
    let text = "**通知**：新规定自下周一起施行。";
    let id = broadcast_id(&lawbot(&["broadcast", "--config", config, "--text", text]));

    let serve = Serve::start(Path::new(config), dir.path().join("serve-1.log"));
    assert!(
        fake.wait_blocking(Duration::from_secs(30), |r| r.len() >= 17),
        "lawbot serve should start sending: {} requests so far",
        fake.count()
    );
    let log = serve.kill();
    let killed = Instant::now();
    let before_kill = fake.count();
    assert!(
        before_kill < 50,
        "the kill should come in the middle of the broadcast, not after {before_kill} sends:\n{log}"
    );
    let status = lawbot(&["broadcast", "status", &id, "--config", config]);
    assert!(
        !status.contains("50 of 50 groups delivered"),
        "the kill came too late:\n{status}"
    );

    let serve = Serve::start(Path::new(config), dir.path().join("serve-2.log"));
    status_until(config, &id, Duration::from_secs(60), |s| {
        s.contains("50 of 50 groups delivered")
    });
    std::thread::sleep(POLL * 6);
    let log2 = serve.kill();

    let requests = fake.requests();
    let mut twice = Vec::new();
    for robot in &robots {
        let to_robot: Vec<&Request> = requests.iter().filter(|r| &r.robot == robot).collect();
        assert!(
            to_robot.iter().any(|r| r.answer.is_ok()),
            "{robot} never got the broadcast"
        );
        assert!(
            to_robot.iter().all(|r| r.text().contains(text)),
            "{robot} got something else"
        );
        match to_robot.len() {
            1 => {}
            2 => {
                let first = to_robot[0];
                assert!(
                    first.arrived < killed,
                    "{robot}: only a send made before the kill may be repeated"
                );
                twice.push((robot.clone(), first.answered.is_some_and(|at| at < killed)));
            }
            n => panic!("{robot} received the broadcast {n} times"),
        }
    }
    fake.assert_within_limits();
    for (name, text) in [("first serve", &log), ("second serve", &log2)] {
        for robot in &robots {
            assert!(
                !text.contains(robot.as_str()),
                "the {name} log shows a credential"
            );
        }
    }
    assert!(
        twice.len() <= 1,
        "at most the one send in flight at the kill may be repeated, but {} groups got the \
         broadcast twice (robot, answered by the fake before the kill): {twice:?}",
        twice.len()
    );
}

#[test]
fn the_cli_reports_every_group_and_never_prints_a_secret() {
    install_crypto();
    let dir = TempDir::new("outbox-report");
    let fake = FakeRobots::start(limits());
    let config = write_config(dir.path(), &fake);
    let config = config.to_str().unwrap();

    let sent_key = wecom_key(200);
    let queued_key = wecom_key(201);
    let (failed_token, failed_secret) = dingtalk_credentials(202);
    let (broken_token, broken_secret) = dingtalk_credentials(203);
    fake.wecom(&sent_key);
    fake.wecom(&queued_key);
    fake.answer_always(&queued_key, Some(Reply::Errcode(45009)));
    fake.dingtalk(&failed_token, &failed_secret);
    fake.answer_next(&failed_token, 1, Reply::Errcode(460101));
    // The platform has a different secret for this robot: every signature is refused.
    fake.dingtalk(&broken_token, &format!("SEC{}", hex(7, 64)));
    let secrets = [
        &sent_key,
        &queued_key,
        &failed_token,
        &failed_secret,
        &broken_token,
        &broken_secret,
    ];

    let mut printed = String::new();
    for args in [
        vec![
            "--platform",
            "wecom",
            "--name",
            "firm-sent",
            "--webhook-key",
            &sent_key,
        ],
        vec![
            "--platform",
            "wecom",
            "--name",
            "firm-queued",
            "--webhook-key",
            &queued_key,
        ],
        vec![
            "--platform",
            "dingtalk",
            "--name",
            "firm-failed",
            "--access-token",
            &failed_token,
            "--secret",
            &failed_secret,
        ],
        vec![
            "--platform",
            "dingtalk",
            "--name",
            "firm-broken",
            "--access-token",
            &broken_token,
            "--secret",
            &broken_secret,
        ],
    ] {
        let mut command = vec!["group", "add", "--config", config];
        command.extend(args);
        printed += &lawbot(&command);
    }
    let id = broadcast_id(&lawbot(&[
        "broadcast",
        "--config",
        config,
        "--text",
        "本周学习第十条",
    ]));

    let serve = Serve::start(Path::new(config), dir.path().join("serve.log"));
    let expected = [
        ("firm-sent", "sent"),
        ("firm-queued", "queued"),
        ("firm-failed", "failed"),
        ("firm-broken", "broken"),
    ];
    let status_of = |report: &str, group: &str| -> String {
        report
            .lines()
            .find(|l| l.split_whitespace().next() == Some(group))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap_or_else(|| panic!("{group} is missing from the report:\n{report}"))
            .to_string()
    };
    let report = status_until(config, &id, Duration::from_secs(30), |report| {
        expected
            .iter()
            .all(|(group, status)| status_of(report, group) == *status)
    });
    let log = serve.kill();
    assert!(
        report.contains(&format!("broadcast {id}: 1 of 4 groups delivered")),
        "{report}"
    );
    for (group, platform) in [
        ("firm-sent", "wecom"),
        ("firm-queued", "wecom"),
        ("firm-failed", "dingtalk"),
        ("firm-broken", "dingtalk"),
    ] {
        let line = report
            .lines()
            .find(|l| l.starts_with(group))
            .unwrap_or_else(|| panic!("{report}"));
        assert!(line.contains(platform), "{line}");
    }
    for (group, code) in [
        ("firm-queued", "45009"),
        ("firm-failed", "460101"),
        ("firm-broken", "310000"),
    ] {
        let line = report.lines().find(|l| l.starts_with(group)).unwrap();
        assert!(line.contains(code), "the last error is shown: {line}");
    }
    printed += &report;

    let list = lawbot(&["group", "list", "--config", config]);
    for name in ["firm-sent", "firm-queued", "firm-failed", "firm-broken"] {
        assert!(list.contains(name), "{name} is listed:\n{list}");
    }
    let broken = list
        .lines()
        .find(|l| l.contains("firm-broken"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(broken.contains("BROKEN"), "{list}");
    assert!(list.contains("310000"), "the reason is listed:\n{list}");
    assert_eq!(list.matches("BROKEN").count(), 1, "{list}");
    printed += &list;

    // The robot's secret is fixed on the platform's side; a test message repairs the group.
    fake.dingtalk(&broken_token, &broken_secret);
    let tested = lawbot(&["group", "test", "firm-broken", "--config", config]);
    assert!(tested.contains("delivered"), "{tested}");
    let list = lawbot(&["group", "list", "--config", config]);
    assert!(!list.contains("BROKEN"), "{list}");
    printed += &tested;
    printed += &list;

    for secret in secrets {
        assert!(
            !printed.contains(secret.as_str()),
            "the CLI printed the full secret {secret}:\n{printed}"
        );
        assert!(
            !log.contains(secret.as_str()),
            "the serve log shows {secret}:\n{log}"
        );
    }
}
