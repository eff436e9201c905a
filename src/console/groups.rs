//! The groups page: list with status and last delivery, add, edit, test-send, remove; secrets masked.

use axum::extract::{Path, State};
use maud::{Markup, html};

use super::layout::{self, csrf};
use super::session::Session;
use super::{Clerk, ConsoleError, Form, Page, done};
use crate::admin::{self, RobotFields, format_ms};
use crate::server::AppState;
use crate::store::{Group, GroupStatus, NewGroup, Robot};

/// How a group is reached, as the form's `kind` field names it.
fn kind(robot: &Robot) -> &'static str {
    match robot {
        Robot::Wecom { .. } => "wecom",
        Robot::Dingtalk { .. } => "dingtalk",
        Robot::DingtalkApp { .. } => "dingtalk_app",
    }
}

fn kind_name(robot: &Robot) -> &'static str {
    match robot {
        Robot::Wecom { .. } => "企业微信群机器人",
        Robot::Dingtalk { .. } => "钉钉自定义机器人",
        Robot::DingtalkApp { .. } => "钉钉应用机器人",
    }
}

pub fn status_badge(group: &Group) -> Markup {
    html! {
        @match group.status {
            GroupStatus::Ok => span.badge.ok { "正常" },
            GroupStatus::Broken => span.badge.bad title=[group.broken_reason.as_deref()] { "故障" },
        }
    }
}

pub async fn list(State(state): State<AppState>, Clerk(clerk): Clerk) -> Page {
    let groups = state.store().groups()?;
    let body = html! {
        div.table-wrap {
            table id="groups" {
                thead { tr {
                    th { "群名称" } th { "平台" } th { "状态" } th { "最近送达" } th { "凭据" } th { "提醒" } th { "操作" }
                } }
                tbody {
                    @for g in &groups {
                        tr {
                            td { a href={"/console/groups/" (g.id)} { (g.name) } }
                            td { (kind_name(&g.robot)) }
                            td { (status_badge(g))
                                 @if let Some(reason) = &g.broken_reason { div.muted { (reason) } } }
                            td { (g.last_delivery_at.map_or("—".to_string(), format_ms)) }
                            td.mono { (g.robot.masked()) }
                            td { (reminder_name(&g.reminder)) }
                            td.actions {
                                a.button href={"/console/groups/" (g.id)} { "编辑" }
                                form method="post" action={"/console/groups/" (g.id) "/test"} {
                                    (csrf(&clerk)) button type="submit" { "测试发送" }
                                }
                                form method="post" action={"/console/groups/" (g.id) "/remove"}
                                    data-confirm={"确定删除群组「" (g.name) "」？未发送的消息将一并删除。"} {
                                    (csrf(&clerk)) button.danger type="submit" { "删除" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if groups.is_empty() { p.muted { "还没有登记群组。" } }
        h2 { "添加群组" }
        (group_form(&clerk, None))
    };
    Ok(layout::page(&clerk, "/console/groups", "群组", body))
}

pub fn reminder_name(setting: &str) -> String {
    match setting {
        "default" => "默认".into(),
        "off" => "关闭".into(),
        other => other.to_string(),
    }
}

/// The add form, or the edit form of `group` (secrets never filled in: blank keeps them).
fn group_form(clerk: &Session, group: Option<&Group>) -> Markup {
    let action = group.map_or("/console/groups".to_string(), |g| {
        format!("/console/groups/{}", g.id)
    });
    let current = group.map(|g| kind(&g.robot)).unwrap_or("wecom");
    let (key, token, secret, conversation) = match group.map(|g| &g.robot) {
        Some(Robot::Wecom { webhook_key }) => (Some(webhook_key), None, None, None),
        Some(Robot::Dingtalk {
            access_token,
            secret,
        }) => (None, Some(access_token), Some(secret), None),
        Some(Robot::DingtalkApp { conversation_id }) => (None, None, None, Some(conversation_id)),
        None => (None, None, None, None),
    };
    let keep = |value: Option<&String>| {
        value.map(|v| format!("留空则不变（当前 {}）", crate::store::mask(v)))
    };
    html! {
        form.stack id="group-form" method="post" action=(action) autocomplete="off" {
            (csrf(clerk))
            label { "群名称" input type="text" name="name" required value=[group.map(|g| &g.name)]; }
            fieldset {
                legend { "平台与机器人" }
                @for (value, name) in [("wecom", "企业微信群机器人"), ("dingtalk", "钉钉自定义机器人"), ("dingtalk_app", "钉钉应用机器人（按会话）")] {
                    label.inline {
                        input type="radio" name="kind" value=(value) checked[value == current];
                        (name)
                    }
                }
            }
            label data-kind="wecom" { "Webhook key（企业微信）"
                input type="password" name="webhook_key" placeholder=[keep(key)]; }
            label data-kind="dingtalk" { "access_token（钉钉）"
                input type="password" name="access_token" placeholder=[keep(token)]; }
            label data-kind="dingtalk" { "加签密钥 secret（钉钉，SEC 开头）"
                input type="password" name="secret" placeholder=[keep(secret)]; }
            label data-kind="dingtalk_app" { "openConversationId（钉钉应用机器人）"
                input type="text" name="conversation_id" placeholder=[keep(conversation)]; }
            button type="submit" { @if group.is_some() { "保存" } @else { "添加" } }
        }
    }
}

/// The robot the form describes; blank fields keep `before`'s values when it is the same kind.
fn robot_fields(
    form: &Form,
    before: Option<&Robot>,
) -> Result<(String, RobotFields), ConsoleError> {
    let kind = form.get("kind");
    let old = |field: &str| -> Option<String> {
        match (before?, field) {
            (Robot::Wecom { webhook_key }, "webhook_key") => Some(webhook_key.clone()),
            (Robot::Dingtalk { access_token, .. }, "access_token") => Some(access_token.clone()),
            (Robot::Dingtalk { secret, .. }, "secret") => Some(secret.clone()),
            (Robot::DingtalkApp { conversation_id }, "conversation_id") => {
                Some(conversation_id.clone())
            }
            _ => None,
        }
    };
    let value = |field: &str| form.optional(field).or_else(|| old(field));
    let required = |field: &str, what: &str| {
        value(field).ok_or_else(|| ConsoleError::Invalid(format!("请填写{what}。")))
    };
    let (platform, fields) = match kind {
        "wecom" => (
            "wecom",
            RobotFields {
                webhook_key: Some(required("webhook_key", "企业微信群机器人的 Webhook key")?),
                ..Default::default()
            },
        ),
        "dingtalk" => (
            "dingtalk",
            RobotFields {
                access_token: Some(required("access_token", "钉钉机器人的 access_token")?),
                secret: Some(required("secret", "钉钉机器人的加签密钥 secret")?),
                ..Default::default()
            },
        ),
        "dingtalk_app" => (
            "dingtalk",
            RobotFields {
                conversation_id: Some(required("conversation_id", "钉钉群的 openConversationId")?),
                ..Default::default()
            },
        ),
        _ => return Err(ConsoleError::Invalid("请选择平台。".into())),
    };
    Ok((platform.to_string(), fields))
}

fn new_group(form: &Form, before: Option<&Robot>) -> Result<NewGroup, ConsoleError> {
    if form.get("name").is_empty() {
        return Err(ConsoleError::Invalid("请填写群名称。".into()));
    }
    let (platform, fields) = robot_fields(form, before)?;
    Ok(admin::new_group(&platform, form.get("name"), fields)?)
}

pub async fn add(State(state): State<AppState>, form: Form) -> Page {
    let group = state.store().add_group(&new_group(&form, None)?)?;
    tracing::info!(group = group.id, "console: group added");
    done(
        &state,
        &form.clerk,
        format!(
            "已添加群组「{}」。可点「测试发送」确认机器人可用。",
            group.name
        ),
        "/console/groups",
    )
}

fn id_group(state: &AppState, id: i64) -> Result<Group, ConsoleError> {
    Ok(state.store().group_by_id(id)?)
}

pub async fn edit_form(
    State(state): State<AppState>,
    Clerk(clerk): Clerk,
    Path(id): Path<i64>,
) -> Page {
    let group = id_group(&state, id)?;
    let body = html! {
        p { "平台：" (kind_name(&group.robot)) " · 状态：" (status_badge(&group))
            " · 凭据：" span.mono { (group.robot.masked()) } }
        @if let Some(reason) = &group.broken_reason { p.error { "故障原因：" (reason) } }
        (group_form(&clerk, Some(&group)))
        p { a href="/console/groups" { "← 返回群组列表" } }
    };
    Ok(layout::page(
        &clerk,
        "/console/groups",
        &format!("编辑群组：{}", group.name),
        body,
    ))
}

pub async fn edit(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> Page {
    let before = id_group(&state, id)?;
    let group = state
        .store()
        .update_group(id, &new_group(&form, Some(&before.robot))?)?;
    tracing::info!(group = id, "console: group edited");
    done(
        &state,
        &form.clerk,
        format!("已保存群组「{}」。", group.name),
        "/console/groups",
    )
}

pub async fn test(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> Page {
    let group = id_group(&state, id)?;
    let message = match admin::test_group(state.store(), state.config(), &group.name).await {
        Ok(_) => format!("测试消息已送达「{}」。", group.name),
        Err(e) => format!("测试消息未送达「{}」：{e:#}", group.name),
    };
    done(&state, &form.clerk, message, "/console/groups")
}

pub async fn remove(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> Page {
    let group = id_group(&state, id)?;
    state.store().remove_group(&group.name)?;
    tracing::info!(group = id, "console: group removed");
    done(
        &state,
        &form.clerk,
        format!("已删除群组「{}」。", group.name),
        "/console/groups",
    )
}
