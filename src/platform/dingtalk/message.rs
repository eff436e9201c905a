//! The robot's message JSON (HTTP callback and stream mode alike) and its markdown replies.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::bot::{Content, Incoming, Platform};

/// An inbound robot message: only the fields the bot uses; unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DingtalkMessage {
    pub msgtype: String,
    #[serde(default)]
    pub text: Option<Text>,
    pub msg_id: String,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub sender_id: Option<String>,
    #[serde(default)]
    pub sender_staff_id: Option<String>,
    #[serde(default)]
    pub session_webhook: Option<String>,
    #[serde(default)]
    pub session_webhook_expired_time: Option<i64>,
    #[serde(default)]
    pub content: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Text {
    #[serde(default)]
    pub content: String,
}

impl DingtalkMessage {
    /// The message as the bot sees it; `None` for types the bot ignores.
    pub fn incoming(&self) -> Option<Incoming<'_>> {
        let content = match self.msgtype.as_str() {
            "text" => Content::Text(
                self.text
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default(),
            ),
            "richText" => Content::from_parts(
                self.content
                    .as_ref()
                    .and_then(|c| c.get("richText"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|part| part.get("text").and_then(Value::as_str)),
            ),
            "picture" | "audio" | "video" | "file" => Content::NotText,
            _ => return None,
        };
        let sender = self
            .sender_staff_id
            .as_deref()
            .or(self.sender_id.as_deref())
            .unwrap_or("");
        Some(Incoming {
            platform: Platform::Dingtalk,
            message_id: &self.msg_id,
            conversation: self.conversation_id.as_deref().unwrap_or(""),
            sender,
            content,
        })
    }
}

/// A markdown robot message that @-mentions the asker when their staff id is known.
pub fn markdown_reply(markdown: &str, asker_staff_id: Option<&str>) -> Value {
    match asker_staff_id.filter(|s| !s.is_empty()) {
        Some(staff) => json!({
            "msgtype": "markdown",
            "markdown": { "title": "律规助手", "text": format!("@{staff}\n\n{markdown}") },
            "at": { "atUserIds": [staff], "isAtAll": false },
        }),
        None => json!({
            "msgtype": "markdown",
            "markdown": { "title": "律规助手", "text": markdown },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_group_text_message_leniently() {
        let json = r#"{"msgtype":"text","text":{"content":" 第十条"},"msgId":"m1","createAt":1700000000000,
            "conversationType":"2","conversationId":"cid1","senderId":"s1","senderStaffId":"staff1",
            "sessionWebhook":"http://127.0.0.1/hook","somethingNew":{"x":1}}"#;
        let m: DingtalkMessage = serde_json::from_str(json).unwrap();
        let i = m.incoming().unwrap();
        assert_eq!((i.message_id, i.sender), ("m1", "staff1"));
        assert_eq!(i.content, Content::Text(" 第十条".into()));
    }

    #[test]
    fn pictures_are_not_text_and_unknown_types_are_ignored() {
        let p: DingtalkMessage =
            serde_json::from_str(r#"{"msgtype":"picture","msgId":"p"}"#).unwrap();
        assert_eq!(p.incoming().unwrap().content, Content::NotText);
        let u: DingtalkMessage =
            serde_json::from_str(r#"{"msgtype":"interactiveCard","msgId":"u"}"#).unwrap();
        assert!(u.incoming().is_none());
    }

    #[test]
    fn the_reply_mentions_the_asker() {
        let r = markdown_reply("**结论**：不可以。", Some("staff1"));
        assert_eq!(r["at"]["atUserIds"][0], "staff1");
        assert!(
            r["markdown"]["text"]
                .as_str()
                .unwrap()
                .starts_with("@staff1")
        );
    }
}
