//! The console's forms over HTTP: bad input gets a clear message in Chinese and changes nothing;
//! a regulation published for a later date waits for it.

mod console_http;
mod support;

use console_http::Clerk;
use reqwest::StatusCode;
use support::TestServer;

const TOKEN: &str = "console-forms-token-9b2d41c7e8";
const REGULATION: &str = include_str!("../lexicon/bazhou-2024-draft.txt");

async fn start() -> (TestServer, Clerk) {
    let server = TestServer::start(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[admin]\ntoken = \"{TOKEN}\"\n\
         [wecom]\napi_base = \"http://127.0.0.1:9\"\n"
    ))
    .await;
    let clerk = Clerk::login(&server.base, TOKEN).await;
    (server, clerk)
}

/// Posts a form that must be refused with 400 and a message containing `says`.
async fn refused(clerk: &Clerk, path: &str, fields: &[(&str, &str)], says: &str) {
    let response = clerk.post(path, fields).await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "POST {path} {fields:?}"
    );
    let page = response.text().await.unwrap();
    assert!(
        page.contains(says),
        "POST {path}: expected 「{says}」 in\n{page}"
    );
}

async fn upload(clerk: &Clerk, text: &str) -> reqwest::Response {
    let parts = reqwest::multipart::Form::new()
        .text("csrf", clerk.csrf.clone())
        .text("file", text.to_string());
    clerk.upload("/console/regulation/upload", parts).await
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_group_and_reminder_input_is_refused_and_changes_nothing() {
    let (server, clerk) = start().await;
    let add = [
        ("name", "甲律所"),
        ("kind", "wecom"),
        ("webhook_key", "k-0123456789abcdef"),
    ];
    assert_eq!(
        clerk.post("/console/groups", &add).await.status(),
        StatusCode::SEE_OTHER
    );
    let before = clerk.page("/console/groups").await;

    refused(
        &clerk,
        "/console/groups",
        &[("name", "乙律所"), ("kind", "wecom")],
        "请填写企业微信群机器人的 Webhook key",
    )
    .await;
    refused(
        &clerk,
        "/console/groups",
        &[("name", ""), ("kind", "wecom"), ("webhook_key", "x-1")],
        "请填写群名称",
    )
    .await;
    refused(
        &clerk,
        "/console/groups",
        &[
            ("name", "丙律所"),
            ("kind", "dingtalk"),
            ("access_token", "t"),
        ],
        "加签密钥",
    )
    .await;
    refused(
        &clerk,
        "/console/groups",
        &[("name", "丁律所"), ("kind", "fax")],
        "请选择平台",
    )
    .await;
    refused(
        &clerk,
        "/console/groups",
        &[
            ("name", "甲律所"),
            ("kind", "wecom"),
            ("webhook_key", "other-key-1"),
        ],
        "操作未完成",
    )
    .await;
    refused(
        &clerk,
        "/console/groups",
        &[
            ("name", "戊律所"),
            ("kind", "wecom"),
            ("webhook_key", "k-0123456789abcdef"),
        ],
        "操作未完成",
    )
    .await;
    refused(
        &clerk,
        "/console/reminders/1",
        &[("setting", "thursday 25:00")],
        "提醒设置「thursday 25:00」无效",
    )
    .await;

    let after = clerk.page("/console/groups").await;
    let table =
        |page: &str| page[page.find("<table").unwrap()..page.find("</table>").unwrap()].to_string();
    assert_eq!(table(&before), table(&after), "the groups are as they were");
    assert!(
        clerk
            .page("/console/reminders")
            .await
            .contains("每周一 09:00")
    );

    // A missing group is a 404, not an error of ours.
    let response = clerk.post("/console/groups/99/remove", &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broadcast_needs_a_text_and_a_group() {
    let (server, clerk) = start().await;
    let add = [
        ("name", "甲律所"),
        ("kind", "wecom"),
        ("webhook_key", "k-0123456789abcdef"),
    ];
    clerk.post("/console/groups", &add).await;
    refused(
        &clerk,
        "/console/broadcast",
        &[("text", "通知"), ("action", "send")],
        "请至少选择一个群",
    )
    .await;
    refused(
        &clerk,
        "/console/broadcast",
        &[("text", ""), ("group", "1"), ("action", "send")],
        "正文不能为空",
    )
    .await;
    // A preview sends nothing.
    let preview = clerk
        .post(
            "/console/broadcast",
            &[("text", "通知"), ("group", "1"), ("action", "preview")],
        )
        .await;
    assert_eq!(preview.status(), StatusCode::OK);
    assert!(
        clerk
            .page("/console/broadcast")
            .await
            .contains("还没有群发记录")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_regulation_text_is_refused_and_a_later_version_waits_for_its_date() {
    let (server, clerk) = start().await;
    // Not a regulation at all: refused at upload, naming the problem.
    let response = upload(&clerk, "这不是规定的全文\n").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("文本无法解析"));
    assert_eq!(
        clerk.get("/console/regulation/draft").await.status(),
        StatusCode::BAD_REQUEST
    );

    // A text the lexicon does not fit (item 28 dropped): the draft page and publishing say why.
    let without_28: String = REGULATION
        .lines()
        .filter(|l| !l.starts_with("（二十八）"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        upload(&clerk, &without_28).await.status(),
        StatusCode::SEE_OTHER
    );
    let draft = clerk.get("/console/regulation/draft").await;
    assert_eq!(draft.status(), StatusCode::BAD_REQUEST);
    assert!(draft.text().await.unwrap().contains("12.28"));
    refused(
        &clerk,
        "/console/regulation/publish",
        &[("effective", "2099-01-01")],
        "12.28",
    )
    .await;

    // A good text: dates are checked, then it is published for a later date.
    let changed = REGULATION.replace("馈赠礼品、金钱", "赠送礼金、礼品");
    assert_eq!(
        upload(&clerk, &changed).await.status(),
        StatusCode::SEE_OTHER
    );
    refused(
        &clerk,
        "/console/regulation/publish",
        &[("effective", "2099-13-01")],
        "日期「2099-13-01」无效",
    )
    .await;
    refused(
        &clerk,
        "/console/regulation/publish",
        &[("effective", "2099-06-01"), ("expires", "2099-01-01")],
        "失效日期应晚于施行日期",
    )
    .await;
    refused(&clerk, "/console/regulation/publish", &[], "请填写施行日期").await;
    assert!(
        !clerk.page("/console/regulation").await.contains("2099"),
        "nothing was published"
    );
    let published = clerk
        .post(
            "/console/regulation/publish",
            &[("effective", "2099-06-01")],
        )
        .await;
    assert_eq!(published.status(), StatusCode::SEE_OTHER);
    let versions = clerk.page("/console/regulation").await;
    assert!(
        versions.contains("2099-06-01") && versions.contains("待施行"),
        "{versions}"
    );
    // Until then the bot quotes the text in effect.
    let reply = clerk
        .post("/console/try", &[("question", "第十二条第十八项是什么")])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        reply.contains("馈赠礼品、金钱") && !reply.contains("赠送礼金"),
        "{reply}"
    );
    server.shutdown().await;
}
