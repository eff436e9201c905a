//! Turns a plain reply into each platform's markdown, within its size limit.

use super::Platform;

/// A platform's markdown dialect and the most bytes one message may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Markup {
    /// The line break the platform renders ("  \n" on DingTalk, "\n" on WeCom).
    pub line_break: &'static str,
    /// Bytes of markdown one reply may hold (the platform's limit less room for the envelope).
    pub limit: usize,
}

/// Said where a reply had to be shortened.
pub const SHORTENED: &str = "（内容较长，其余部分已省略；发送条款编号可查看原文）";

impl Markup {
    /// WeCom stream content holds 20,480 bytes; DingTalk markdown bodies 20,000 with the envelope.
    pub fn of(platform: Platform) -> Self {
        match platform {
            Platform::Wecom => Markup {
                line_break: "\n",
                limit: 20_000,
            },
            Platform::Dingtalk => Markup {
                line_break: "  \n",
                limit: 18_000,
            },
        }
    }
}

/// Renders a plain reply as markdown: 【citations】 and the conclusion's label in bold, line breaks
/// the platform shows, paragraphs kept apart.
pub fn to_markup(text: &str, markup: Markup) -> String {
    let paragraphs: Vec<String> = text
        .trim_end()
        .split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(|line| {
                    if let Some(rest) = line.strip_prefix('【').and_then(|l| l.split_once('】')) {
                        format!("**{}**{}", rest.0, rest.1)
                    } else if let Some((label @ ("结论" | "说明" | "要点"), rest)) =
                        line.split_once('：')
                    {
                        format!("**{label}**：{rest}")
                    } else {
                        line.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(markup.line_break)
        })
        .collect();
    paragraphs.join("\n\n")
}

/// Keeps a reply within the platform's limit: whole paragraphs are dropped from the end and the
/// reply says so; a clause's text is never cut in the middle silently.
pub fn fit(markdown: &str, markup: Markup) -> String {
    fit_to(markdown, markup.limit)
}

fn fit_to(markdown: &str, limit: usize) -> String {
    if markdown.len() <= limit {
        return markdown.to_string();
    }
    let room = limit.saturating_sub(SHORTENED.len() + 2);
    let mut kept = String::new();
    for paragraph in markdown.split("\n\n") {
        let extra = if kept.is_empty() {
            paragraph.len()
        } else {
            paragraph.len() + 2
        };
        if kept.len() + extra > room {
            break;
        }
        if !kept.is_empty() {
            kept.push_str("\n\n");
        }
        kept.push_str(paragraph);
    }
    if kept.is_empty() {
        let mut end = room.saturating_sub('…'.len_utf8()).min(markdown.len());
        while !markdown.is_char_boundary(end) {
            end -= 1;
        }
        kept.push_str(&markdown[..end]);
        kept.push('…');
    }
    format!("{kept}\n\n{SHORTENED}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_and_labels_are_bold_and_dingtalk_lines_break() {
        let text = "结论：不可以。\n\n【第十条】\n要点：甲。\n原文。\n";
        let wecom = to_markup(text, Markup::of(Platform::Wecom));
        assert_eq!(
            wecom,
            "**结论**：不可以。\n\n**第十条**\n**要点**：甲。\n原文。"
        );
        let dingtalk = to_markup(text, Markup::of(Platform::Dingtalk));
        assert_eq!(
            dingtalk,
            "**结论**：不可以。\n\n**第十条**  \n**要点**：甲。  \n原文。"
        );
    }

    #[test]
    fn a_long_reply_loses_whole_paragraphs_and_says_so() {
        let long = "很长".repeat(40);
        let markdown = ["第一段", long.as_str(), "第三段"].join("\n\n");
        assert_eq!(fit_to(&markdown, 1000), markdown);
        let limit = "第一段".len() + SHORTENED.len() + 2 + 5;
        let shortened = fit_to(&markdown, limit);
        assert_eq!(shortened, format!("第一段\n\n{SHORTENED}"));
        assert!(shortened.len() <= limit);
        let cut = fit_to(&"一二三四五六七八九十".repeat(10), SHORTENED.len() + 2 + 7);
        assert!(cut.ends_with(SHORTENED) && cut.contains('…'), "{cut}");
    }

    #[test]
    fn every_clause_fits_both_platforms() {
        let engine = crate::Engine::builtin().unwrap();
        let today = jiff::civil::date(2026, 1, 1);
        for question in ["负面清单", "帮助", "第四条", "第十二条"] {
            let text = crate::reply::render(&engine, &engine.answer(question), today);
            for platform in [Platform::Wecom, Platform::Dingtalk] {
                let markup = Markup::of(platform);
                let md = to_markup(&text, markup);
                assert_eq!(
                    fit(&md, markup),
                    md,
                    "{question} should fit {platform:?} whole"
                );
            }
        }
    }
}
