//! Broadcasts: compose markdown, preview it as each platform shows it (size and split), choose groups, send, watch the report.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use maud::{Markup, html};

use super::layout::{self, csrf};
use super::markdown::{bubble, sample_robots};
use super::session::Session;
use super::{Clerk, ConsoleError, Form, Page};
use crate::admin::{self, format_ms};
use crate::delivery::{parts_for, shown_markdown};
use crate::server::AppState;
use crate::store::{Delivery, Group, Robot};

const DEFAULT_TITLE: &str = "巴州区司法局通知";

/// The compose form, filled with what was typed; groups checked as chosen (all, at first).
fn compose_form(
    clerk: &Session,
    groups: &[Group],
    title: &str,
    text: &str,
    chosen: Option<&[i64]>,
) -> Markup {
    html! {
        form.stack id="compose" method="post" action="/console/broadcast" {
            (csrf(clerk))
            label { "标题" input type="text" name="title" value=(title) required maxlength="64"; }
            label { "正文（Markdown：**粗体**、空行分段）"
                textarea name="text" rows="10" required { (text) } }
            fieldset.groups {
                legend { "发送到" }
                @if groups.is_empty() { p.muted { "还没有登记群组，请先到「群组」页添加。" } }
                @for g in groups {
                    label.inline {
                        input type="checkbox" name="group" value=(g.id)
                            checked[chosen.is_none_or(|c| c.contains(&g.id))];
                        (g.name) span.muted { " · " (platform_name(g.robot.platform())) }
                    }
                }
            }
            div.buttons {
                button type="submit" name="action" value="preview" { "预览" }
                button.primary type="submit" name="action" value="send" { "发送" }
            }
        }
    }
}

pub async fn compose(State(state): State<AppState>, Clerk(clerk): Clerk) -> Page {
    let groups = state.store().groups()?;
    let recent = state.store().recent_broadcasts(20)?;
    let body = html! {
        (compose_form(&clerk, &groups, DEFAULT_TITLE, "", None))
        h2 { "最近的群发" }
        @if recent.is_empty() { p.muted { "还没有群发记录。" } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "编号" } th { "标题" } th { "类型" } th { "时间" } th { "送达" } } }
                tbody { @for b in &recent {
                    tr {
                        td { a href={"/console/broadcasts/" (b.id)} { "#" (b.id) } }
                        td { a href={"/console/broadcasts/" (b.id)} { (b.title) } }
                        td { (kind_name(&b.kind)) }
                        td { (format_ms(b.created_at)) }
                        td { (b.delivered) " / " (b.groups) " 个群" }
                    }
                } }
            } }
        }
    };
    Ok(layout::page(&clerk, "/console/broadcast", "群发通知", body))
}

fn kind_name(kind: &str) -> &str {
    match kind {
        "announcement" => "通知",
        "reminder" => "每周提醒",
        other => other,
    }
}

/// The message as each kind of robot will carry it: parts, sizes and how the group sees them.
pub fn preview(title: &str, text: &str, groups: &[Group]) -> Markup {
    let with_app = groups
        .iter()
        .any(|g| matches!(g.robot, Robot::DingtalkApp { .. }));
    let robots = sample_robots(with_app);
    html! {
        section.previews id="preview" {
            @for sample in &robots {
                @let parts = parts_for(&sample.robot, title, text);
                div.preview {
                    h3 { (sample.name) }
                    p.muted { "共 " (parts.len()) " 条消息（每条上限 " (sample.limit) " 字节）" }
                    @for (i, part) in parts.iter().enumerate() {
                        (bubble(&shown_markdown(&sample.robot, title, part), sample.platform,
                            &format!("第 {}/{} 条", i + 1, parts.len())))
                    }
                }
            }
        }
    }
}

pub async fn submit(State(state): State<AppState>, form: Form) -> Page {
    let groups = state.store().groups()?;
    let title = Some(form.get("title"))
        .filter(|t| !t.is_empty())
        .unwrap_or(DEFAULT_TITLE);
    let text = form.get("text");
    let chosen: Vec<i64> = form
        .all("group")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    if form.get("action") == "send" {
        if text.is_empty() {
            return Err(ConsoleError::Invalid("正文不能为空。".into()));
        }
        let names: Vec<String> = groups
            .iter()
            .filter(|g| chosen.contains(&g.id))
            .map(|g| g.name.clone())
            .collect();
        if names.is_empty() {
            return Err(ConsoleError::Invalid("请至少选择一个群。".into()));
        }
        let (id, n) = admin::broadcast(state.store(), title, text, &names)?;
        tracing::info!(broadcast = id, groups = n, "console: broadcast queued");
        return super::done(
            &state,
            &form.clerk,
            format!("已排队发送到 {n} 个群。"),
            &format!("/console/broadcasts/{id}"),
        );
    }
    let body = html! {
        (compose_form(&form.clerk, &groups, title, text, Some(&chosen)))
        h2 { "预览" }
        @if text.is_empty() { p.muted { "正文为空。" } } @else { (preview(title, text, &groups)) }
    };
    Ok(layout::page(
        &form.clerk,
        "/console/broadcast",
        "群发通知",
        body,
    ))
}

fn status_name(status: &str) -> &str {
    match status {
        "sent" => "已送达",
        "queued" => "排队中",
        "failed" => "失败",
        "broken" => "群组故障",
        other => other,
    }
}

fn platform_name(platform: &str) -> &str {
    match platform {
        "wecom" => "企业微信",
        "dingtalk" => "钉钉",
        other => other,
    }
}

fn report_rows(deliveries: &[Delivery]) -> Markup {
    html! {
        @for d in deliveries {
            tr data-status=(d.status) {
                td { (d.group) }
                td { (platform_name(&d.platform)) }
                td { span class={"badge " (d.status)} { (status_name(&d.status)) } }
                td { (d.parts_sent) " / " (d.parts) }
                td { (d.attempts) }
                td { (d.sent_at.map_or("—".to_string(), format_ms)) }
                td { (d.last_error.as_deref().unwrap_or("")) }
            }
        }
    }
}

/// True when no delivery will change any more by itself.
fn settled(deliveries: &[Delivery]) -> bool {
    deliveries.iter().all(|d| d.status != "queued")
}

pub async fn report(
    State(state): State<AppState>,
    Clerk(clerk): Clerk,
    Path(id): Path<i64>,
) -> Page {
    let deliveries = state.store().broadcast_report(id)?;
    let sent = deliveries.iter().filter(|d| d.status == "sent").count();
    let body = html! {
        p id="summary" { (sent) " / " (deliveries.len()) " 个群已送达。"
            @if !settled(&deliveries) { span.muted { "（送达情况自动刷新）" } } }
        div.table-wrap {
            table id="report" data-rows={"/console/broadcasts/" (id) "/rows"} data-settled=(settled(&deliveries)) {
                thead { tr { th { "群" } th { "平台" } th { "状态" } th { "已发/分条" } th { "尝试次数" } th { "送达时间" } th { "最近错误" } } }
                tbody { (report_rows(&deliveries)) }
            }
        }
        noscript { p { a href={"/console/broadcasts/" (id)} { "刷新" } } }
        p { a href="/console/broadcast" { "← 返回群发" } }
    };
    Ok(layout::page(
        &clerk,
        "/console/broadcast",
        &format!("群发 #{id} 送达情况"),
        body,
    ))
}

/// The report's table rows, for the page's script to refresh in place.
pub async fn rows(State(state): State<AppState>, Clerk(_): Clerk, Path(id): Path<i64>) -> Page {
    let deliveries = state.store().broadcast_report(id)?;
    let settled = if settled(&deliveries) {
        "true"
    } else {
        "false"
    };
    Ok((
        [(header::HeaderName::from_static("x-settled"), settled)],
        Html(report_rows(&deliveries).into_string()),
    )
        .into_response())
}
