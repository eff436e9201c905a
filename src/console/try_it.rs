//! Try it: ask a question and see the reply as a group would, with the clauses it matched.

use axum::extract::State;
use maud::{Markup, html};

use super::layout::{self, csrf};
use super::markdown::bubble;
use super::session::Session;
use super::{Clerk, Form, Page};
use crate::bot::{Markup as Dialect, Platform, fit, to_markup};
use crate::server::AppState;

fn ask_form(clerk: &Session, question: &str, platform: Platform) -> Markup {
    html! {
        form.stack id="ask" method="post" action="/console/try" {
            (csrf(clerk))
            label { "问题（像律师在群里那样问）"
                textarea name="question" rows="2" required placeholder="例如：法官的爱人请我吃饭，能去吗？" { (question) } }
            fieldset {
                legend { "显示为" }
                label.inline { input type="radio" name="platform" value="wecom" checked[platform == Platform::Wecom]; "企业微信" }
                label.inline { input type="radio" name="platform" value="dingtalk" checked[platform == Platform::Dingtalk]; "钉钉" }
            }
            button.primary type="submit" { "提问" }
        }
    }
}

pub async fn page(Clerk(clerk): Clerk) -> Page {
    let body = html! {
        (ask_form(&clerk, "", Platform::Wecom))
        p.hint { "这里的提问不计入统计。" }
    };
    Ok(layout::page(&clerk, "/console/try", "试一试", body))
}

/// Answers as the bot would in a group (same engine, same rendering), without logging the question.
pub async fn ask(State(state): State<AppState>, form: Form) -> Page {
    let question = form.get("question");
    let platform = match form.get("platform") {
        "dingtalk" => Platform::Dingtalk,
        _ => Platform::Wecom,
    };
    let bot = state.bot();
    let engine = bot.engine();
    let answer = engine.answer(question);
    let text = crate::reply::render(&engine, &answer, bot.clock().today());
    let dialect = Dialect::of(platform);
    let markdown = fit(&to_markup(&text, dialect), dialect);
    let body = html! {
        (ask_form(&form.clerk, question, platform))
        h2 { "回复" }
        (bubble(&markdown, platform, "律规助手"))
        @if !answer.matches.is_empty() {
            h2 { "匹配的条款" }
            div.table-wrap { table id="matches" {
                thead { tr { th { "条款" } th { "编号" } th { "得分" } } }
                tbody { @for m in &answer.matches {
                    tr { td { (m.citation) } td.mono.clause-id { (m.id) } td { (format!("{:.2}", m.score)) } }
                } }
            } }
        }
    };
    Ok(layout::page(&form.clerk, "/console/try", "试一试", body))
}
