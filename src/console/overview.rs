//! The overview: questions per week, the most asked clauses, what no clause matched, broken groups, the backlog.

use axum::extract::State;
use maud::html;

use super::{Clerk, Page, charts, layout};
use crate::admin::format_ms;
use crate::regulation::ClauseId;
use crate::remind::WeekKey;
use crate::server::AppState;
use crate::store::GroupStatus;

/// Weeks the charts cover.
const WEEKS: i64 = 12;

pub async fn page(State(state): State<AppState>, Clerk(clerk): Clerk) -> Page {
    let store = state.store();
    let engine = state.bot().engine();
    let now = jiff::Timestamp::now();
    let stats = crate::admin::question_stats(store, WEEKS)?;
    // Every week of the period, the quiet ones too.
    let mut weeks: Vec<WeekKey> = vec![WeekKey::of(now)];
    for _ in 1..WEEKS {
        let monday = weeks[weeks.len() - 1].day(jiff::civil::Weekday::Monday);
        let earlier = WeekKey::containing(monday.yesterday().map_err(anyhow::Error::from)?);
        weeks.push(earlier);
    }
    weeks.reverse();
    let per_week: Vec<(String, i64)> = weeks
        .iter()
        .map(|w| {
            let key = w.to_string();
            let n = stats
                .by_week
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(0, |(_, n)| *n);
            (format!("第{}周", w.week()), n)
        })
        .collect();
    let top: Vec<(String, i64)> = stats
        .by_clause
        .iter()
        .take(10)
        .map(|(id, n)| {
            let label = match id.parse::<ClauseId>() {
                Ok(c) => {
                    let summary = engine.lexicon.summaries.get(&c).map_or("", String::as_str);
                    format!("{id} {}", summary.chars().take(10).collect::<String>())
                }
                Err(_) => id.clone(),
            };
            (label, *n)
        })
        .collect();
    let groups = store.groups()?;
    let broken: Vec<_> = groups
        .iter()
        .filter(|g| g.status == GroupStatus::Broken)
        .collect();
    let backlog = store.backlog()?;
    let body = html! {
        section.cards {
            div.card { span.big { (stats.total) } span { "近" (WEEKS) "周提问" } }
            div.card { span.big { (groups.len()) } span { "已登记群组" } }
            div.card class=[(!broken.is_empty()).then_some("warn")] {
                span.big { (broken.len()) } span { "故障群组" }
            }
            div.card { span.big id="backlog" { (backlog) } span { "待发送消息" } }
        }
        section {
            h2 { "每周提问数" }
            div.chart-wrap { (charts::columns("每周提问数", &per_week)) }
        }
        section {
            h2 { "最常问到的条款" }
            @if top.is_empty() {
                p.muted { "近" (WEEKS) "周还没有匹配到条款的提问。" }
            } @else {
                div.chart-wrap { (charts::bars("最常问到的条款（首个匹配）", &top)) }
            }
        }
        section {
            h2 { "未覆盖的提问" }
            p.hint { "没有任何条款匹配的提问，可据此扩充词库。只保存问题文字，不保存提问人。" }
            @if stats.not_covered.is_empty() {
                p.muted { "暂无。" }
            } @else {
                ul.questions { @for q in &stats.not_covered { li { (q) } } }
            }
        }
        section {
            h2 { "故障群组" }
            @if broken.is_empty() {
                p.muted { "所有群组工作正常。" }
            } @else {
                ul { @for g in &broken {
                    li {
                        a href={"/console/groups/" (g.id)} { (g.name) }
                        "：" (g.broken_reason.as_deref().unwrap_or("平台拒绝了机器人凭据"))
                        @if let Some(at) = g.last_delivery_at { " （最近送达 " (format_ms(at)) "）" }
                    }
                } }
            }
        }
    };
    Ok(layout::page(&clerk, "/console", "概览", body))
}
