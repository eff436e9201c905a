//! Weekly reminders: each group's schedule, the next weeks' topics and send times, a preview of one.

use axum::extract::{Path, Query, State};
use maud::html;
use serde::Deserialize;

use super::groups::reminder_name;
use super::layout::{self, csrf};
use super::markdown::{bubble, sample_robots};
use super::{Clerk, ConsoleError, Form, Page, done};
use crate::admin::{reminder_setting, upcoming_reminders};
use crate::bot::{Markup as Dialect, to_markup};
use crate::delivery::{REMINDER_TITLE, shown_markdown};
use crate::remind::{self, ReminderSetting, WeekKey};
use crate::server::AppState;

/// Weeks shown ahead.
const WEEKS: usize = 8;

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// `每周一 09:00`, or `关闭`.
fn setting_name(setting: ReminderSetting) -> String {
    match setting.schedule() {
        None => "关闭".into(),
        Some(s) => {
            let day = WEEKDAYS[usize::from(s.weekday().to_monday_zero_offset().unsigned_abs())];
            format!("每{day} {:02}:{:02}", s.time().hour(), s.time().minute())
        }
    }
}

/// `2026-11-30 周一 09:00`, Beijing time.
fn slot_name(slot: jiff::Timestamp) -> String {
    let zoned = slot.to_zoned(remind::time_zone());
    let day = WEEKDAYS[usize::from(zoned.weekday().to_monday_zero_offset().unsigned_abs())];
    format!("{} {day} {}", zoned.date(), zoned.strftime("%H:%M"))
}

#[derive(Deserialize)]
pub struct Shown {
    /// The week whose reminder to preview (`2026-W49`).
    preview: Option<String>,
}

fn default_setting(state: &AppState) -> Result<ReminderSetting, ConsoleError> {
    state
        .config()
        .reminders
        .default
        .parse()
        .map_err(|e| ConsoleError::Internal(anyhow::anyhow!("[reminders] default: {e}")))
}

pub async fn page(
    State(state): State<AppState>,
    Clerk(clerk): Clerk,
    Query(shown): Query<Shown>,
) -> Page {
    let default = default_setting(&state)?;
    let engine = state.bot().engine();
    let now = jiff::Timestamp::now();
    let groups = state.store().groups()?;
    let (rows, off) = upcoming_reminders(state.store(), &engine, default, WEEKS, now)?;
    let topics = remind::topics(&engine.regulation);
    let preview = match shown.preview.as_deref() {
        Some(week) => {
            let week: WeekKey = week
                .parse()
                .map_err(|e: remind::WeekKeyError| ConsoleError::Invalid(e.to_string()))?;
            let topic = remind::topic_for(week, &topics);
            topic
                .and_then(|t| {
                    remind::reminder_text(&engine.regulation, &engine.lexicon.summaries, t, week)
                })
                .map(|text| (week, text))
        }
        None => None,
    };
    let body = html! {
        p { "默认时间：" strong { (setting_name(default)) } "（北京时间；群组可单独设置，或关闭）。每周按顺序轮换一条规定。" }
        h2 { "各群设置" }
        div.table-wrap { table id="schedules" {
            thead { tr { th { "群" } th { "设置" } th { "实际" } th { "下次发送" } th { "修改" } } }
            tbody { @for g in &groups {
                @let setting = reminder_setting(g, default);
                @let next = setting.schedule().and_then(|s| remind::preview(&s, now, 1, &topics).first().copied());
                tr {
                    td { (g.name) }
                    td { (reminder_name(&g.reminder)) }
                    td { (setting_name(setting)) }
                    td { @match next { Some(up) => { (slot_name(up.slot)) " · " (up.topic.citation()) }, None => "—" } }
                    td {
                        form.inline method="post" action={"/console/reminders/" (g.id)} {
                            (csrf(&clerk))
                            input type="text" name="setting" value=(g.reminder) size="10"
                                aria-label={"「" (g.name) "」的提醒设置"} placeholder="default / off / mon 09:00";
                            button type="submit" { "保存" }
                        }
                    }
                }
            } }
        } }
        p.hint { "设置写法：default（默认）、off（关闭）、或「星期 时:分」如 mon 09:00、fri 16:30。" }
        h2 { "接下来" (WEEKS) "周" }
        div.table-wrap { table id="upcoming" {
            thead { tr { th { "周" } th { "发送时间（北京时间）" } th { "条款" } th { "群" } th { "" } } }
            tbody { @for r in &rows {
                tr {
                    td { (r.week) }
                    td { (slot_name(r.slot)) }
                    td { (r.topic.citation()) }
                    td { (r.groups.join("、")) }
                    td { a href={"/console/reminders?preview=" (r.week) "#preview"} { "预览" } }
                }
            } }
        } }
        @if !off.is_empty() { p.muted { "已关闭提醒：" (off.join("、")) } }
        @if let Some((week, text)) = &preview {
            h2 id="preview" { (week) " 的提醒预览" }
            div.previews {
                @for sample in sample_robots(false) {
                    @let markdown = to_markup(text, Dialect::of(sample.platform));
                    div.preview {
                        h3 { (sample.name) }
                        (bubble(&shown_markdown(&sample.robot, REMINDER_TITLE, &markdown), sample.platform, sample.name))
                    }
                }
            }
        }
    };
    Ok(layout::page(&clerk, "/console/reminders", "每周提醒", body))
}

pub async fn set(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> Page {
    let group = state.store().group_by_id(id)?;
    let value = form.get("setting");
    let setting = match value {
        "" | "default" | "默认" => "default".to_string(),
        other => other
            .parse::<ReminderSetting>()
            .map_err(|e| ConsoleError::Invalid(format!("提醒设置「{other}」无效：{e}")))?
            .to_string(),
    };
    state.store().set_reminder(&group.name, &setting)?;
    let shown = if setting == "default" {
        format!("默认（{}）", setting_name(default_setting(&state)?))
    } else {
        setting_name(setting.parse().unwrap_or_default())
    };
    done(
        &state,
        &form.clerk,
        format!("「{}」的提醒已设为{shown}。", group.name),
        "/console/reminders",
    )
}
