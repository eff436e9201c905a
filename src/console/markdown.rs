//! Markdown shown as a group will see it, in a chat bubble: raw HTML and script links never pass.

use maud::{Markup, PreEscaped, html};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::bot::Platform;

/// The markdown as HTML the way `platform` shows it: WeCom breaks lines at every newline,
/// DingTalk only where the markdown asks ("  \n"); HTML in the message is shown as text.
pub fn to_html(markdown: &str, platform: Platform) -> String {
    let events = Parser::new(markdown).filter_map(|event| match event {
        Event::SoftBreak if platform == Platform::Wecom => Some(Event::HardBreak),
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        // Links keep their text; only http(s) targets stay links.
        Event::Start(Tag::Link { dest_url, .. })
            if !(dest_url.starts_with("https://") || dest_url.starts_with("http://")) =>
        {
            None
        }
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    // A dropped link start leaves its end tag alone: close tags of links without an opening.
    balance_links(&out)
}

/// Drops `</a>` tags that have no open `<a`.
fn balance_links(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut open = 0usize;
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with("<a ") {
            open += 1;
        } else if rest.starts_with("</a>") {
            if open == 0 {
                rest = &rest[4..];
                continue;
            }
            open -= 1;
        }
        out.push('<');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// A chat bubble with the message, its size in bytes and, if given, its part number.
pub fn bubble(markdown: &str, platform: Platform, caption: &str) -> Markup {
    html! {
        figure.bubble {
            figcaption { (caption) " · " (markdown.len()) " 字节" }
            div.message { (PreEscaped(to_html(markdown, platform))) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_in_a_message_is_shown_as_text() {
        let inline = to_html("**粗体** <img src=x onerror=alert(1)>", Platform::Wecom);
        assert!(!inline.contains("<img"), "{inline}");
        assert!(inline.contains("&lt;img") && inline.contains("<strong>粗体</strong>"));
        let block = to_html("<script>alert(1)</script>", Platform::Dingtalk);
        assert!(
            !block.contains("<script>") && block.contains("&lt;script&gt;"),
            "{block}"
        );
    }

    #[test]
    fn script_links_lose_their_target_but_keep_their_text() {
        let html = to_html(
            "[点我](javascript:alert(1)) [官网](https://example.org)",
            Platform::Dingtalk,
        );
        assert!(!html.contains("javascript"), "{html}");
        assert!(html.contains("点我"));
        assert!(
            html.contains("<a href=\"https://example.org\">官网</a>"),
            "{html}"
        );
    }

    #[test]
    fn wecom_breaks_every_line_and_dingtalk_only_marked_ones() {
        assert!(to_html("一\n二", Platform::Wecom).contains("<br"));
        assert!(!to_html("一\n二", Platform::Dingtalk).contains("<br"));
        assert!(to_html("一  \n二", Platform::Dingtalk).contains("<br"));
    }
}
