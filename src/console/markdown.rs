//! Markdown shown as a group will see it, in a chat bubble: raw HTML and script links never pass.

use maud::{Markup, PreEscaped, html};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::bot::Platform;
use crate::store::Robot;

/// The markdown as HTML the way `platform` shows it: WeCom breaks lines at every newline,
/// DingTalk only where the markdown asks ("  \n"); HTML in the message is shown as text.
pub fn to_html(markdown: &str, platform: Platform) -> String {
    // Whether each open link was kept, so that a dropped link's end is dropped too.
    let mut links: Vec<bool> = Vec::new();
    let events = Parser::new(markdown).filter_map(|event| match event {
        Event::SoftBreak if platform == Platform::Wecom => Some(Event::HardBreak),
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        // Links keep their text; only http(s) targets stay links.
        Event::Start(Tag::Link { ref dest_url, .. }) => {
            let kept = dest_url.starts_with("https://") || dest_url.starts_with("http://");
            links.push(kept);
            kept.then_some(event)
        }
        Event::End(TagEnd::Link) => links.pop().unwrap_or(false).then_some(event),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// A kind of robot as the previews show it: its name, a robot of that kind (no credentials), how
/// its platform renders markdown, and the bytes one message may carry.
pub struct SampleRobot {
    pub name: &'static str,
    pub robot: Robot,
    pub platform: Platform,
    pub limit: usize,
}

/// The WeCom group robot and the DingTalk custom robot, and the DingTalk app robot if `with_app`.
pub fn sample_robots(with_app: bool) -> Vec<SampleRobot> {
    let mut robots = vec![
        SampleRobot {
            name: "企业微信",
            robot: Robot::Wecom {
                webhook_key: String::new(),
            },
            platform: Platform::Wecom,
            limit: 4096,
        },
        SampleRobot {
            name: "钉钉自定义机器人",
            robot: Robot::Dingtalk {
                access_token: String::new(),
                secret: String::new(),
            },
            platform: Platform::Dingtalk,
            limit: 20_000,
        },
    ];
    if with_app {
        robots.push(SampleRobot {
            name: "钉钉应用机器人",
            robot: Robot::DingtalkApp {
                conversation_id: String::new(),
            },
            platform: Platform::Dingtalk,
            limit: 15_000,
        });
    }
    robots
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
