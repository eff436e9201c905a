//! The intelligent robot's message JSON (HTTP callback and long connection alike) and its replies.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::bot::{Content, Incoming, Platform};

/// A decrypted callback: only the fields the bot uses; unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct WecomMessage {
    pub msgid: String,
    #[serde(default)]
    pub chatid: Option<String>,
    #[serde(default)]
    pub chattype: Option<String>,
    #[serde(default)]
    pub from: Option<Sender>,
    pub msgtype: String,
    #[serde(default)]
    pub text: Option<Text>,
    #[serde(default)]
    pub mixed: Option<Mixed>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Sender {
    #[serde(default)]
    pub userid: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Text {
    #[serde(default)]
    pub content: String,
}

/// Text and pictures in one message.
#[derive(Debug, Clone, Deserialize)]
pub struct Mixed {
    #[serde(default)]
    pub msg_item: Vec<MixedItem>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MixedItem {
    pub msgtype: String,
    #[serde(default)]
    pub text: Option<Text>,
}

impl WecomMessage {
    /// The message as the bot sees it; `None` for events and types the bot ignores.
    pub fn incoming(&self) -> Option<Incoming<'_>> {
        let content = match self.msgtype.as_str() {
            "text" => Content::Text(
                self.text
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default(),
            ),
            "mixed" => Content::from_parts(
                self.mixed
                    .iter()
                    .flat_map(|m| &m.msg_item)
                    .filter(|i| i.msgtype == "text")
                    .filter_map(|i| i.text.as_ref().map(|t| t.content.as_str())),
            ),
            "image" | "voice" | "file" | "video" => Content::NotText,
            _ => return None,
        };
        let sender = self.from.as_ref().map_or("", |f| f.userid.as_str());
        Some(Incoming {
            platform: Platform::Wecom,
            message_id: &self.msgid,
            conversation: self.chatid.as_deref().unwrap_or(""),
            sender,
            content,
        })
    }
}

/// A finished stream message carrying the whole reply.
pub fn stream_reply(markdown: &str) -> Value {
    json!({
        "msgtype": "stream",
        "stream": { "id": random_id(), "finish": true, "content": markdown },
    })
}

/// A random id for a stream or a request (hex).
pub fn random_id() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the system random generator works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_official_inbound_sample() {
        let json = r#"{"msgid":"MSGID1","aibotid":"AIBOTID","chatid":"CHATID","chattype":"group","from":{"userid":"zhangsan"},"response_url":"https://x","msgtype":"text","text":{"content":"@RobotA 合同违约金上限?"}}"#;
        let m: WecomMessage = serde_json::from_str(json).unwrap();
        let i = m.incoming().unwrap();
        assert_eq!((i.message_id, i.sender), ("MSGID1", "zhangsan"));
        assert_eq!(i.content, Content::Text("@RobotA 合同违约金上限?".into()));
    }

    #[test]
    fn pictures_are_not_text_and_events_are_ignored() {
        let image: WecomMessage =
            serde_json::from_str(r#"{"msgid":"a","msgtype":"image","image":{"url":"u"}}"#).unwrap();
        assert_eq!(image.incoming().unwrap().content, Content::NotText);
        let event: WecomMessage =
            serde_json::from_str(r#"{"msgid":"b","msgtype":"event","event":{}}"#).unwrap();
        assert!(event.incoming().is_none());
        let mixed: WecomMessage = serde_json::from_str(
            r#"{"msgid":"c","msgtype":"mixed","mixed":{"msg_item":[{"msgtype":"text","text":{"content":"@R 第十条"}},{"msgtype":"image"}]}}"#,
        )
        .unwrap();
        assert_eq!(
            mixed.incoming().unwrap().content,
            Content::Text("@R 第十条".into())
        );
    }
}
