//! The console's defences over plain HTTP: every console route refuses a request without a live
//! session, every form one without the session's CSRF token; the login form needs its own nonce
//! and the right token, a few wrong tokens a minute at most; cookies are HttpOnly and
//! SameSite=Strict; no secret shows in any page or in the log of a real `lawbot serve`.

mod console_http;
mod fake_robots;
mod support;
mod temp;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use console_http::{Clerk, client, login_form, post_login, set_cookie};
use fake_robots::{FakeRobots, Limits};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use support::TestServer;
use temp::TempDir;

const TOKEN: &str = "console-security-token-0f3c9a71e2";
const GROUP: &str = "丙律师事务所";
const KEY: &str = "c0ffee00-1234-4abc-9def-00112233aabb";

fn config() -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[admin]\ntoken = \"{TOKEN}\"\n[reminders]\ndefault = \"off\"\n\
         [wecom]\napi_base = \"http://127.0.0.1:9\"\n"
    )
}

/// Every route of the console: what a browser reads, and what it posts.
const PAGES: [&str; 10] = [
    "/console",
    "/console/groups",
    "/console/groups/1",
    "/console/broadcast",
    "/console/broadcasts/1",
    "/console/broadcasts/1/rows",
    "/console/regulation",
    "/console/regulation/draft",
    "/console/reminders",
    "/console/try",
];
const FORMS: [&str; 10] = [
    "/console/logout",
    "/console/groups",
    "/console/groups/1",
    "/console/groups/1/test",
    "/console/groups/1/remove",
    "/console/broadcast",
    "/console/regulation/upload",
    "/console/regulation/publish",
    "/console/reminders/1",
    "/console/try",
];

async fn add_group_by_api(server: &TestServer) {
    let created = client()
        .post(server.url("/admin/groups"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "platform": "wecom", "name": GROUP, "webhook_key": KEY }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
}

async fn group_names(server: &TestServer) -> String {
    client()
        .get(server.url("/admin/groups"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_console_route_refuses_requests_without_a_live_session() {
    let server = TestServer::start(&config()).await;
    add_group_by_api(&server).await;
    let http = client();
    let strangers: [Option<(reqwest::header::HeaderName, String)>; 4] = [
        None,
        Some((COOKIE, "lawbot_session=made-up".into())),
        Some((COOKIE, format!("lawbot_session={TOKEN}"))),
        Some((reqwest::header::AUTHORIZATION, format!("Bearer {TOKEN}"))),
    ];
    let routes = PAGES
        .iter()
        .map(|p| (reqwest::Method::GET, *p, StatusCode::SEE_OTHER))
        .chain(
            FORMS
                .iter()
                .map(|p| (reqwest::Method::POST, *p, StatusCode::UNAUTHORIZED)),
        );
    for (method, path, refused) in routes {
        for who in &strangers {
            let mut request = http.request(method.clone(), server.url(path)).form(&[
                ("csrf", "x"),
                ("name", "x"),
                ("text", "x"),
            ]);
            if let Some((name, value)) = who {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), refused, "{method} {path} as {who:?}");
            if method == reqwest::Method::GET {
                // Pages send the browser to the login page.
                assert_eq!(response.headers()[LOCATION], "/console/login");
            }
            assert!(!response.text().await.unwrap().contains(GROUP));
        }
    }
    assert!(
        group_names(&server).await.contains(GROUP),
        "nothing was removed"
    );

    // The same routes answer a logged-in clerk: the list above is the console's.
    let clerk = Clerk::login(&server.base, TOKEN).await;
    for page in PAGES {
        // No draft uploaded yet, no broadcast 1: the page says so.
        let expected = match page {
            "/console/regulation/draft" => StatusCode::BAD_REQUEST,
            "/console/broadcasts/1" | "/console/broadcasts/1/rows" => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        };
        assert_eq!(
            clerk.get(page).await.status(),
            expected,
            "GET {page} logged in"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_without_the_sessions_csrf_token_change_nothing() {
    let server = TestServer::start(&config()).await;
    add_group_by_api(&server).await;
    let clerk = Clerk::login(&server.base, TOKEN).await;
    let other = Clerk::login(&server.base, TOKEN).await;
    for form in FORMS {
        for csrf in [None, Some("wrong"), Some(other.csrf.as_str())] {
            let mut fields = vec![
                ("name", "丁律师事务所"),
                ("kind", "wecom"),
                ("webhook_key", "dddddddd-0000-4000-8000-000000000000"),
                ("text", "未经授权的群发"),
                ("group", "1"),
                ("action", "send"),
                ("setting", "fri 10:00"),
                ("question", "法官请吃饭"),
            ];
            fields.extend(csrf.map(|token| ("csrf", token)));
            let response = if form == "/console/regulation/upload" {
                // The upload is multipart, as the browser sends it.
                let mut parts = reqwest::multipart::Form::new()
                    .text("file", include_str!("../lexicon/bazhou-2024-draft.txt"));
                if let Some(token) = csrf {
                    parts = parts.text("csrf", token.to_string());
                }
                clerk.upload(form, parts).await
            } else {
                clerk.post_as_is(form, &fields).await
            };
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "POST {form} with csrf {csrf:?}"
            );
            assert!(response.text().await.unwrap().contains("安全令牌"));
        }
    }
    let groups = group_names(&server).await;
    assert!(
        groups.contains(GROUP) && !groups.contains("丁律师事务所"),
        "{groups}"
    );
    assert!(groups.contains("\"reminder\":\"default\""), "{groups}");
    assert_eq!(
        clerk.get("/console/regulation/draft").await.status(),
        StatusCode::BAD_REQUEST,
        "no text was uploaded"
    );
    assert!(
        clerk
            .page("/console/broadcast")
            .await
            .contains("还没有群发记录"),
        "no broadcast was queued"
    );

    // With the token, the same form works; and logging out ends the session.
    let response = clerk
        .post("/console/reminders/1", &[("setting", "fri 10:00")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(group_names(&server).await.contains("fri 10:00"));
    let response = clerk.post("/console/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        clerk.get("/console").await.headers()[LOCATION],
        "/console/login"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logging_in_needs_the_forms_nonce_and_the_right_token() {
    let server = TestServer::start(&config()).await;
    let http = client();
    // No nonce cookie (a form posted from elsewhere): refused before the token is looked at.
    let (_, nonce) = login_form(&server.base).await;
    let response = http
        .post(server.url("/console/login"))
        .form(&[("csrf", nonce.as_str()), ("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "lawbot_session").is_none());

    // The right token: a session cookie, HttpOnly, SameSite=Strict, for /console only.
    let response = post_login(&server.base, TOKEN).await;
    let cookie = set_cookie(&response, "lawbot_session").expect("a session");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );

    // Behind the TLS proxy the cookie is Secure too.
    let (nonce_cookie, nonce) = login_form(&server.base).await;
    let response = http
        .post(server.url("/console/login"))
        .header(COOKIE, nonce_cookie)
        .header("x-forwarded-proto", "https")
        .form(&[("csrf", nonce.as_str()), ("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert!(
        set_cookie(&response, "lawbot_session")
            .unwrap()
            .contains("Secure")
    );

    // Wrong tokens: refused, and after five in a minute even the right one waits.
    for _ in 0..5 {
        let response = post_login(&server.base, "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&response, "lawbot_session").is_none());
        assert!(response.text().await.unwrap().contains("令牌不正确"));
    }
    let response = post_login(&server.base, TOKEN).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&response, "lawbot_session").is_none());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn console_pages_forbid_framing_and_foreign_scripts() {
    let server = TestServer::start(&config()).await;
    let response = client()
        .get(server.url("/console/login"))
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    server.shutdown().await;
}

/// `lawbot serve` as operators run it, its log (debug level) in a file.
struct Serve {
    child: std::process::Child,
    log: std::path::PathBuf,
    base: String,
}

impl Serve {
    fn start(dir: &TempDir, config: &str) -> Serve {
        let path = dir.join("lawbot.toml");
        std::fs::write(&path, config).unwrap();
        let log = dir.join("lawbot.log");
        let child = Command::new(env!("CARGO_BIN_EXE_lawbot"))
            .args(["serve", "--config"])
            .arg(&path)
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("lawbot serve starts");
        let mut serve = Serve {
            child,
            log,
            base: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&serve.log).unwrap_or_default();
            // `lawbot serving addr=…` in text logs, `"addr":"…"` in JSON ones.
            let after = ["lawbot serving addr=", "\"addr\":\""]
                .iter()
                .find_map(|marker| text.find(marker).map(|at| &text[at + marker.len()..]));
            if let Some(after) = after {
                let addr: String = after
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '"')
                    .collect();
                serve.base = format!("http://{addr}");
                return serve;
            }
            assert!(
                Instant::now() < deadline,
                "lawbot serve did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the whole log.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_any_page_or_in_the_log() {
    let fake = FakeRobots::start(Limits {
        per_window: 20,
        window: Duration::from_secs(60),
        slack: Duration::from_millis(300),
        dingtalk_throttle: Duration::from_secs(600),
    });
    let dingtalk_token = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b";
    let dingtalk_secret = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
    let broken_key = "deadbeef-5555-4666-8777-888899990000";
    fake.wecom(KEY);
    fake.dingtalk(dingtalk_token, dingtalk_secret);
    let api_token = "api-token-for-the-log-test-7c1e";
    let dir = TempDir::new("console-secrets");
    let serve = Serve::start(
        &dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[api]\ntoken = \"{api_token}\"\n\
             [admin]\ntoken = \"{TOKEN}\"\n[storage]\npath = \"{}\"\n[outbox]\npoll_ms = 50\n\
             [wecom]\napi_base = \"{base}\"\ntoken = \"{}\"\nencoding_aes_key = \"{}\"\n\
             [dingtalk]\napi_base = \"{base}\"\napp_secret = \"{}\"\n",
            dir.join("lawbot.db").display(),
            support::WECOM_TOKEN,
            support::WECOM_AES_KEY,
            support::DINGTALK_SECRET,
            base = fake.base(),
        ),
    );
    let secrets = [
        TOKEN,
        KEY,
        dingtalk_token,
        dingtalk_secret,
        broken_key,
        api_token,
        support::WECOM_TOKEN,
        support::WECOM_AES_KEY,
        support::DINGTALK_SECRET,
    ];
    // Log in through the forms, as a browser does.
    let clerk = Clerk::login(&serve.base, TOKEN).await;
    let post = async |path: &str, fields: &[(&str, &str)]| {
        let response = clerk.post(path, fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "POST {path}");
    };
    // The third key is one the platform refuses: its error is logged and shown, the key is not.
    let groups: [&[(&str, &str)]; 3] = [
        &[("name", "甲所"), ("kind", "wecom"), ("webhook_key", KEY)],
        &[
            ("name", "乙所"),
            ("kind", "dingtalk"),
            ("access_token", dingtalk_token),
            ("secret", dingtalk_secret),
        ],
        &[
            ("name", "丙所"),
            ("kind", "wecom"),
            ("webhook_key", broken_key),
        ],
    ];
    for fields in groups {
        post("/console/groups", fields).await;
    }
    for id in 1..=3 {
        post(&format!("/console/groups/{id}/test"), &[]).await;
    }
    // Edit a group without retyping its secret: the secret is kept, not echoed.
    post(
        "/console/groups/2",
        &[("name", "乙律师事务所"), ("kind", "dingtalk")],
    )
    .await;
    post(
        "/console/broadcast",
        &[
            ("text", "培训通知"),
            ("group", "1"),
            ("group", "2"),
            ("group", "3"),
            ("action", "send"),
        ],
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(fake.delivered_to(KEY).len() >= 2 && fake.delivered_to(dingtalk_token).len() >= 2) {
        assert!(Instant::now() < deadline, "the broadcast was not delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut pages = Vec::new();
    for path in [
        "/console",
        "/console/groups",
        "/console/groups/1",
        "/console/groups/2",
        "/console/groups/3",
        "/console/broadcast",
        "/console/broadcasts/1",
        "/console/broadcasts/1/rows",
        "/console/regulation",
        "/console/reminders",
        "/console/try",
    ] {
        pages.push((path, clerk.page(path).await));
    }
    let groups_page = &pages[1].1;
    assert!(
        groups_page.contains("乙律师事务所") && groups_page.contains("c0ff…(36)"),
        "{groups_page}"
    );
    for (path, text) in &pages {
        for secret in secrets {
            assert!(!text.contains(secret), "{path} shows a secret");
        }
    }
    // The edit kept the DingTalk secret: the edited group still signs its messages.
    assert_eq!(fake.delivered_to(dingtalk_token).len(), 2);
    let log = serve.stop();
    assert!(
        log.contains("console: group added") && log.contains("request{id="),
        "{log}"
    );
    for secret in secrets {
        assert!(!log.contains(secret), "the log shows a secret:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_carry_the_request_id_and_no_token() {
    let dir = TempDir::new("console-json-log");
    let serve = Serve::start(
        &dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nlog_format = \"json\"\n[admin]\ntoken = \"{TOKEN}\"\n\
             [storage]\npath = \"{}\"\n",
            dir.join("lawbot.db").display()
        ),
    );
    let (cookie, nonce) = login_form(&serve.base).await;
    let response = client()
        .post(format!("{}/console/login", serve.base))
        .header(COOKIE, cookie)
        .header("x-request-id", "req-from-the-proxy-42")
        .form(&[("csrf", nonce.as_str()), ("token", "a-wrong-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["x-request-id"], "req-from-the-proxy-42");
    let log = serve.stop();
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let refused = events
        .iter()
        .find(|e| e["fields"]["message"] == "console: login refused (wrong token)")
        .unwrap_or_else(|| panic!("no refusal logged:\n{log}"));
    assert_eq!(refused["span"]["id"], "req-from-the-proxy-42", "{refused}");
    assert_eq!(refused["span"]["path"], "/console/login");
    assert!(!log.contains(TOKEN) && !log.contains("a-wrong-token"));
}
