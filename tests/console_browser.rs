//! The console in a real headless Chromium (Debian's chromium and chromium-driver, driven over
//! WebDriver by fantoccini): log in, ask, add a group, broadcast to a fake robot and watch the
//! report, upload a changed regulation and publish it, preview a reminder; a wrong token and a
//! form without its CSRF token are refused. Screenshots of every page go to
//! `target/console-screenshots/`.

mod fake_robots;
mod support;
mod temp;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fake_robots::{FakeRobots, Limits};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::TestServer;
use temp::TempDir;

const TOKEN: &str = "console-browser-token-5f1e9a7c3b";
const KEY: &str = "b7c1d2e3-aaaa-4bbb-8ccc-0123456789ab";
const WAIT: Duration = Duration::from_secs(15);

/// chromedriver on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn program(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_string())
}

async fn chromedriver() -> Driver {
    let binary = program("CHROMEDRIVER", "/usr/bin/chromedriver");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {binary} ({e}): the browser tests need Debian's chromium and \
                 chromium-driver (sudo apt-get install chromium chromium-driver, as tests/setup.sh does)"
            )
        });
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let chromium = program("CHROMIUM", "/usr/bin/chromium");
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--lang=zh-CN",
                "--window-size=1280,1000", format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("the screenshot saved");
}

async fn text(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
        .text()
        .await
        .expect("the element's text")
}

async fn body(client: &Client) -> String {
    text(client, "body").await
}

async fn fill(client: &Client, css: &str, value: &str) {
    let field = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no field `{css}`: {e}"));
    field.clear().await.ok();
    field.send_keys(value).await.expect("typing into the field");
}

/// Clicks what loads a new page, and waits until the new page has loaded.
async fn click(client: &Client, css: &str) {
    client
        .execute("window.__previousPage = true", vec![])
        .await
        .expect("marking the page");
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("nothing to click at `{css}`: {e}"))
        .click()
        .await
        .expect("the click");
    let loaded = "return window.__previousPage === undefined && document.readyState === 'complete'";
    for _ in 0..(WAIT.as_millis() / 50) {
        if client.execute(loaded, vec![]).await.ok() == Some(Value::Bool(true)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clicking `{css}` did not load a page");
}

async fn path(client: &Client) -> String {
    client
        .current_url()
        .await
        .expect("the URL")
        .path()
        .to_string()
}

/// Questions of the past weeks, as the bot would have logged them (no senders), so that the
/// overview's charts have something to draw.
fn seed_questions(db: &std::path::Path) {
    let store = lawbot::store::Store::open(db).expect("the database");
    drop(store);
    let connection = rusqlite::Connection::open(db).expect("the database");
    let now = lawbot::store::now_ms();
    let week = 7 * 24 * 3600 * 1000;
    let clauses = [
        "12.18", "12.23", "12.18", "12.5", "10", "12.18", "12.23", "8",
    ];
    for w in 0..8i64 {
        for (i, clause) in clauses.iter().enumerate().take(2 + (w as usize * 3) % 7) {
            connection
                .execute(
                    "INSERT INTO questions (at, platform, conversation, intent, clauses, score, question)
                     VALUES (?1, 'wecom', 'chat', 'matched', ?2, 3.0, NULL)",
                    rusqlite::params![now - w * week - i as i64 * 1000, clause],
                )
                .expect("a logged question");
        }
    }
    connection
        .execute(
            "INSERT INTO questions (at, platform, conversation, intent, clauses, score, question)
             VALUES (?1, 'dingtalk', 'chat', 'not_covered', '', NULL, '律所年检材料什么时候交')",
            [now],
        )
        .expect("an uncovered question");
}

/// The built-in text with one item of Article 12 reworded.
fn changed_regulation(dir: &std::path::Path) -> PathBuf {
    let text = include_str!("../lexicon/bazhou-2024-draft.txt");
    let old = "向其馈赠礼品、金钱、有价证券等；";
    assert!(
        text.contains(old),
        "the built-in text has item 18 as expected"
    );
    let changed = text.replace(old, "向其馈赠礼品、礼金、消费卡、有价证券等；");
    let file = dir.join("bazhou-2026.txt");
    std::fs::write(&file, changed).expect("the changed text written");
    file
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clerk_runs_the_bot_from_the_console_in_chromium() {
    let fake = FakeRobots::start(Limits {
        per_window: 20,
        window: Duration::from_secs(60),
        slack: Duration::from_millis(300),
        dingtalk_throttle: Duration::from_secs(600),
    });
    fake.wecom(KEY);
    let dir = TempDir::new("console-browser");
    let db = dir.join("lawbot.db");
    seed_questions(&db);
    let server = TestServer::start(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[admin]\ntoken = \"{TOKEN}\"\n\
         [storage]\npath = \"{}\"\n[outbox]\npoll_ms = 50\n[wecom]\napi_base = \"{}\"\n",
        db.display(),
        fake.base()
    ))
    .await;
    let driver = chromedriver().await;
    let client = browser(&driver, &dir.join("profile")).await;
    let url = |p: &str| server.url(p);

    // Not logged in: the console sends the browser to the login page.
    client.goto(&url("/console/groups")).await.unwrap();
    assert_eq!(path(&client).await, "/console/login");
    screenshot(&client, "login").await;

    // A wrong token is refused, and no session starts.
    fill(&client, "input[name=token]", "not-the-token").await;
    click(&client, "button[type=submit]").await;
    assert!(body(&client).await.contains("令牌不正确"));
    assert_eq!(path(&client).await, "/console/login");
    let cookies = client.get_all_cookies().await.unwrap();
    assert!(
        cookies.iter().all(|c| c.name() != "lawbot_session"),
        "{cookies:?}"
    );

    // The right token logs in, with an HttpOnly, SameSite=Strict session cookie.
    fill(&client, "input[name=token]", TOKEN).await;
    click(&client, "button[type=submit]").await;
    assert_eq!(path(&client).await, "/console");
    let cookies = client.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "lawbot_session")
        .expect("a session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.same_site(), Some(cookie::SameSite::Strict));
    let overview = body(&client).await;
    assert!(
        overview.contains("每周提问数") && overview.contains("律所年检材料什么时候交"),
        "{overview}"
    );
    let bars = client
        .find_all(Locator::Css("svg.chart rect.bar"))
        .await
        .unwrap();
    assert!(
        bars.len() >= 8 + 3,
        "a bar per week and per clause: {}",
        bars.len()
    );
    screenshot(&client, "overview").await;

    // Try it: the reply quotes the clause, as a group would see it.
    click(&client, "nav a[href='/console/try']").await;
    fill(&client, "textarea[name=question]", support::CAR).await;
    click(&client, "form#ask button[type=submit]").await;
    assert_eq!(text(&client, "#matches td.clause-id").await, "12.23");
    assert!(
        text(&client, "figure.bubble")
            .await
            .contains(support::CAR_CLAUSE)
    );
    screenshot(&client, "try").await;

    // Add a group pointing at the fake robot; its key is never shown again.
    click(&client, "nav a[href='/console/groups']").await;
    fill(&client, "#group-form input[name=name]", "甲律师事务所").await;
    fill(&client, "#group-form input[name=webhook_key]", KEY).await;
    click(&client, "#group-form button[type=submit]").await;
    assert!(text(&client, ".flash").await.contains("已添加"));
    let groups = text(&client, "#groups").await;
    assert!(
        groups.contains("甲律师事务所") && groups.contains("b7c1…(36)"),
        "{groups}"
    );
    assert!(
        !client.source().await.unwrap().contains(KEY),
        "the key is masked"
    );

    // Test-send reaches the fake robot.
    click(&client, "#groups form[action$='/test'] button").await;
    assert!(
        text(&client, ".flash").await.contains("已送达"),
        "{}",
        body(&client).await
    );
    assert_eq!(fake.delivered_to(KEY).len(), 1);
    screenshot(&client, "groups").await;

    // A form without its CSRF token changes nothing.
    client
        .execute(
            "document.querySelector('#group-form input[name=csrf]').remove()",
            vec![],
        )
        .await
        .unwrap();
    fill(&client, "#group-form input[name=name]", "乙律师事务所").await;
    fill(
        &client,
        "#group-form input[name=webhook_key]",
        "another-key-0123456789",
    )
    .await;
    click(&client, "#group-form button[type=submit]").await;
    assert!(
        body(&client).await.contains("安全令牌"),
        "{}",
        body(&client).await
    );
    client.goto(&url("/console/groups")).await.unwrap();
    assert!(!text(&client, "#groups").await.contains("乙律师事务所"));

    // Broadcast: preview as each platform shows it, send, watch the report fill in.
    click(&client, "nav a[href='/console/broadcast']").await;
    let message = "本周五下午三点在区司法局召开律师执业规范培训会，请各所派员参加。";
    fill(&client, "textarea[name=text]", message).await;
    click(&client, "button[value=preview]").await;
    let preview = text(&client, "#preview").await;
    assert!(
        preview.contains("企业微信") && preview.contains("钉钉") && preview.contains("字节"),
        "{preview}"
    );
    assert!(preview.contains(message));
    client
        .execute(
            "document.getElementById('preview').previousElementSibling.scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, "broadcast-preview").await;
    // The robot answers slowly: the report opens with the group queued and fills in by itself.
    fake.slow_robot(KEY, Duration::from_secs(2));
    click(&client, "button[value=send]").await;
    assert!(path(&client).await.starts_with("/console/broadcasts/"));
    assert!(
        text(&client, "#report tr[data-status=queued]")
            .await
            .contains("排队中")
    );
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#report tr[data-status=sent]"))
        .await
        .expect("the report shows the group delivered");
    assert!(text(&client, "#summary").await.starts_with("1 / 1"));
    assert!(fake.delivered_to(KEY).iter().any(|t| t.contains(message)));
    screenshot(&client, "broadcast-report").await;

    // A changed regulation: the clause-by-clause diff, the notice, then publish it.
    click(&client, "nav a[href='/console/regulation']").await;
    // The built-in text expired on 2026-05-31: still the one quoted, and marked so.
    assert!(
        text(&client, "#versions")
            .await
            .contains("使用中 · 已过有效期")
    );
    screenshot(&client, "regulation").await;
    let file = changed_regulation(dir.path());
    client
        .find(Locator::Css("#upload input[type=file]"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    click(&client, "#upload button[type=submit]").await;
    assert_eq!(path(&client).await, "/console/regulation/draft");
    let diff = text(&client, "#diff").await;
    assert!(
        diff.contains("修改") && diff.contains("第十二条第（十八）项"),
        "{diff}"
    );
    assert!(text(&client, "#diff ins").await.contains("礼金、消费卡"));
    assert!(
        text(&client, "figure.bubble")
            .await
            .contains("规定修订通知")
    );
    screenshot(&client, "regulation-diff").await;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
        .to_string();
    client
        .execute(
            "document.querySelector('#publish input[name=effective]').value = arguments[0]",
            vec![json!(today)],
        )
        .await
        .unwrap();
    click(&client, "#publish button[type=submit]").await;
    assert!(
        text(&client, ".flash").await.contains("已发布为版本 1"),
        "{}",
        body(&client).await
    );
    assert!(text(&client, "#versions").await.contains("现行"));
    // The bot answers from the new text at once.
    click(&client, "nav a[href='/console/try']").await;
    fill(&client, "textarea[name=question]", "第十二条第十八项是什么").await;
    click(&client, "form#ask button[type=submit]").await;
    assert!(
        text(&client, "figure.bubble")
            .await
            .contains("礼金、消费卡")
    );

    // Reminders: every group's schedule and the weeks ahead; preview one.
    click(&client, "nav a[href='/console/reminders']").await;
    assert!(text(&client, "#schedules").await.contains("甲律师事务所"));
    click(&client, "#upcoming a").await;
    assert!(text(&client, "#preview").await.contains("提醒预览"));
    assert!(text(&client, "figure.bubble").await.contains("每周一条"));
    screenshot(&client, "reminders").await;

    // On a phone.
    client.set_window_size(390, 844).await.unwrap();
    client.goto(&url("/console")).await.unwrap();
    screenshot(&client, "phone-overview").await;
    client.goto(&url("/console/groups")).await.unwrap();
    screenshot(&client, "phone-groups").await;
    let width: f64 = client
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(width <= 390.0, "the page fits a phone's width: {width}px");

    // Logging out ends the session.
    click(&client, "form.logout button").await;
    assert_eq!(path(&client).await, "/console/login");
    client.goto(&url("/console")).await.unwrap();
    assert_eq!(path(&client).await, "/console/login");

    client.close().await.unwrap();
    server.shutdown().await;
}
