//! The regulation: versions with status and dates; upload a new text, see the clause-by-clause diff and the change notice, publish.

use axum::extract::{Multipart, State};
use jiff::civil::Date;
use maud::{Markup, html};

use super::layout::{self, csrf};
use super::markdown::bubble;
use super::session::{self, Session};
use super::{Clerk, ConsoleError, Form, Page, console, done};
use crate::admin::format_ms;
use crate::bot::Platform;
use crate::bot::{Markup as Dialect, to_markup};
use crate::publish::{self, NOTICE_TITLE, NewText};
use crate::regulation::{Change, Regulation};
use crate::server::AppState;

pub async fn page(State(state): State<AppState>, Clerk(clerk): Clerk) -> Page {
    let store = state.store();
    // The built-in version's dates and status: its metadata file (no need to build its engine).
    let metadata = console(&state)?
        .base
        .get(crate::engine::METADATA)
        .map_err(|e| ConsoleError::Internal(e.into()))?;
    let m = crate::regulation::Metadata::parse(metadata)
        .map_err(|e| ConsoleError::Internal(e.into()))?;
    let today = state.bot().clock().today().to_string();
    let active = store.active_version(&today)?.map(|v| v.id);
    let versions = store.versions()?;
    // The version answers come from: "in effect", or, past its expiry date, "expired" (the bot
    // still quotes it, and says so).
    let current = |expires: Option<&str>| {
        html! {
            @if expires.is_some_and(|e| e < today.as_str()) {
                span.badge.bad { "使用中 · 已过有效期" }
            } @else {
                span.badge.ok { "现行" }
            }
        }
    };
    let builtin_expires = m.expires.map(|d| d.to_string());
    let body = html! {
        div.table-wrap { table id="versions" {
            thead { tr { th { "版本" } th { "状态" } th { "施行日期" } th { "失效日期" } th { "发布时间" } th { "修订摘要" } th { "" } } }
            tbody {
                tr {
                    td { "0（内置文本）" } td { (m.status) } td { (m.effective) }
                    td { (m.expires.map_or("—".to_string(), |d| d.to_string())) } td { "—" } td { "随程序发布的文本" }
                    td { @if active.is_none() { (current(builtin_expires.as_deref())) } }
                }
                @for v in versions.iter().rev() {
                    tr {
                        td { (v.id) } td { (v.status) } td { (v.effective) }
                        td { (v.expires.as_deref().unwrap_or("—")) } td { (format_ms(v.published_at)) }
                        td { (v.summary) }
                        td { @if Some(v.id) == active { (current(v.expires.as_deref())) }
                             @else if v.effective.as_str() > today.as_str() { span.badge.queued { "待施行" } } }
                    }
                }
            }
        } }
        h2 { "上传新版本" }
        form.stack id="upload" method="post" action="/console/regulation/upload" enctype="multipart/form-data" {
            (csrf(&clerk))
            label { "规定全文（UTF-8 文本文件）" input type="file" name="file" accept=".txt,text/plain"; }
            label { "或直接粘贴全文" textarea name="pasted" rows="6" {} }
            button type="submit" { "上传并比较" }
        }
        p.hint { "上传后先显示与现行版本逐条比较的结果和将发出的修订通知，确认后才发布。" }
    };
    Ok(layout::page(
        &clerk,
        "/console/regulation",
        "规定版本",
        body,
    ))
}

/// Reads the uploaded text (file or pasted), checks the CSRF field, parses it and keeps it as
/// the session's draft.
pub async fn upload(
    State(state): State<AppState>,
    Clerk(clerk): Clerk,
    mut multipart: Multipart,
) -> Page {
    let mut token = String::new();
    let mut file = String::new();
    let mut pasted = String::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ConsoleError::Invalid(format!("上传内容无法读取：{e}")))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ConsoleError::Invalid(format!("上传内容无法读取：{e}")))?;
        let text = || {
            String::from_utf8(bytes.to_vec())
                .map_err(|_| ConsoleError::Invalid("文件不是 UTF-8 编码的文本。".into()))
        };
        match name.as_str() {
            "csrf" => token = text()?,
            "file" => file = text()?,
            "pasted" => pasted = text()?,
            _ => {}
        }
    }
    if !session::same(&token, &clerk.csrf) {
        return Err(ConsoleError::Forbidden);
    }
    let text = if file.trim().is_empty() { pasted } else { file };
    if text.trim().is_empty() {
        return Err(ConsoleError::Invalid("请选择文件或粘贴全文。".into()));
    }
    let text = text.replace("\r\n", "\n");
    Regulation::parse(&text).map_err(|e| ConsoleError::Invalid(format!("文本无法解析：{e}")))?;
    console(&state)?
        .sessions
        .update(&clerk.id, |s| s.draft = Some(text));
    done(
        &state,
        &clerk,
        "已上传，请核对以下变更。",
        "/console/regulation/draft",
    )
}

/// `[-deleted-]` and `{+inserted+}` marks as `<del>` and `<ins>`.
fn marked(text: &str) -> Markup {
    let mut pieces: Vec<(u8, &str)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next = [("[-", "-]", 1u8), ("{+", "+}", 2u8)]
            .iter()
            .filter_map(|(open, close, kind)| {
                let at = rest.find(open)?;
                let end = rest[at + 2..].find(close)? + at + 2;
                Some((at, end, *kind))
            })
            .min();
        match next {
            Some((at, end, kind)) => {
                pieces.push((0, &rest[..at]));
                pieces.push((kind, &rest[at + 2..end]));
                rest = &rest[end + 2..];
            }
            None => {
                pieces.push((0, rest));
                rest = "";
            }
        }
    }
    html! {
        @for (kind, piece) in pieces {
            @match kind { 1 => del { (piece) }, 2 => ins { (piece) }, _ => (piece) }
        }
    }
}

fn changes_table(changes: &[Change]) -> Markup {
    let shown: Vec<&Change> = changes
        .iter()
        .filter(|c| !matches!(c, Change::Unchanged { .. }))
        .collect();
    html! {
        @if shown.is_empty() { p { "两个版本内容相同。" } }
        @else {
            div.table-wrap { table id="diff" {
                thead { tr { th { "变更" } th { "条款" } th { "内容" } } }
                tbody { @for c in shown {
                    tr {
                        @match c {
                            Change::Added { id, text } => { td { span.badge.ok { "新增" } } td { (id.citation()) } td { ins { (text) } } }
                            Change::Removed { id, text } => { td { span.badge.bad { "删除" } } td { (id.citation()) } td { del { (text) } } }
                            Change::Reworded { id, marked: m, .. } => { td { span.badge.queued { "修改" } } td { (id.citation()) } td { (marked(m)) } }
                            Change::Renumbered { from, to, text } => { td { span.badge { "编号变更" } } td { (from.citation()) " → " (to.citation()) } td.muted { (text) } }
                            Change::RenumberedAndReworded { from, to, marked: m, .. } => { td { span.badge.queued { "编号变更并修改" } } td { (from.citation()) " → " (to.citation()) } td { (marked(m)) } }
                            Change::Unchanged { .. } => {}
                        }
                    }
                } }
            } }
        }
    }
}

fn draft_of(clerk: &Session) -> Result<&str, ConsoleError> {
    clerk
        .draft
        .as_deref()
        .ok_or_else(|| ConsoleError::Invalid("没有待发布的文本，请先上传。".into()))
}

pub async fn draft(State(state): State<AppState>, Clerk(clerk): Clerk) -> Page {
    let text = draft_of(&clerk)?;
    let current = state.bot().engine();
    let effective = state
        .bot()
        .clock()
        .today()
        .tomorrow()
        .map_err(anyhow::Error::from)?;
    let new = NewText {
        text,
        effective,
        expires: None,
        status: None,
    };
    let prepared = publish::prepare(&console(&state)?.base, &current, new)
        .map_err(|e| ConsoleError::Invalid(format!("{e:#}")))?;
    let notice = to_markup(&prepared.notice, Dialect::of(Platform::Wecom));
    let groups = state.store().groups()?.len();
    let body = html! {
        p { (prepared.version.summary) }
        (changes_table(&prepared.changes))
        h2 { "发布" }
        form.stack id="publish" method="post" action="/console/regulation/publish" {
            (csrf(&clerk))
            label { "施行日期" input type="date" name="effective" value=(effective) required; }
            label { "失效日期（可不填）" input type="date" name="expires"; }
            label { "状态" input type="text" name="status" value=(current.metadata.status); }
            button.primary type="submit" { "发布" }
        }
        h2 { "将发出的修订通知" }
        p.hint { "发布后排队发送到全部 " (groups) " 个群（以企业微信显示为例，施行日期按上面填写的为准）。" }
        (bubble(&format!("**{NOTICE_TITLE}**\n{notice}"), Platform::Wecom, "修订通知"))
    };
    Ok(layout::page(
        &clerk,
        "/console/regulation",
        "新版本：逐条比较",
        body,
    ))
}

fn date(form: &Form, name: &str) -> Result<Option<Date>, ConsoleError> {
    form.optional(name)
        .map(|v| {
            v.parse::<Date>()
                .map_err(|_| ConsoleError::Invalid(format!("日期「{v}」无效。")))
        })
        .transpose()
}

pub async fn publish(State(state): State<AppState>, form: Form) -> Page {
    let text = draft_of(&form.clerk)?.to_string();
    let effective = date(&form, "effective")?
        .ok_or_else(|| ConsoleError::Invalid("请填写施行日期。".into()))?;
    let expires = date(&form, "expires")?;
    if expires.is_some_and(|e| e <= effective) {
        return Err(ConsoleError::Invalid("失效日期应晚于施行日期。".into()));
    }
    let console = console(&state)?;
    let current = state.bot().engine();
    let status = form.optional("status");
    let new = NewText {
        text: &text,
        effective,
        expires,
        status: status.as_deref(),
    };
    let published = publish::publish(state.store(), &console.base, &current, new)
        .map_err(|e| ConsoleError::Invalid(format!("{e:#}")))?;
    console.sessions.update(&form.clerk.id, |s| s.draft = None);
    // In effect today: answer from it now, not at the next check.
    let (engine, _) = publish::engine_in_effect(
        state.store(),
        &console.base,
        state.bot().engine(),
        state.bot().clock().today(),
    )?;
    state.bot().set_engine(engine);
    tracing::info!(version = published.version, %effective, "console: regulation published");
    let notice = match published.broadcast {
        Some(id) => format!("修订通知已排队（群发 #{id}）。"),
        None => "尚无群组，未发送修订通知。".into(),
    };
    done(
        &state,
        &form.clerk,
        format!(
            "已发布为版本 {}，自 {effective} 起施行。{notice}",
            published.version
        ),
        "/console/regulation",
    )
}
