//! Sends one message to a group robot (WeCom webhook or DingTalk custom robot) and classifies the result.

use std::time::Duration;

use serde_json::{Value, json};

use super::dingtalk_app::{AppCredentials, AppRobot};
use crate::platform::dingtalk::sign::webhook_sign_param;
use crate::store::{Group, Outcome, Robot};

/// Base URLs of the platforms' send APIs (the official hosts, or local fakes in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub wecom: String,
    pub dingtalk: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            wecom: "https://qyapi.weixin.qq.com".into(),
            dingtalk: "https://oapi.dingtalk.com".into(),
        }
    }
}

/// Errcodes that mean the robot itself is refused: the group is broken until someone fixes it.
/// 93000 WeCom invalid webhook key; 300001 DingTalk bad token; 310000 DingTalk sign, keyword or clock.
const BROKEN: &[i64] = &[93000, 300001, 310000];
/// WeCom: over 20 messages a minute.
const WECOM_THROTTLED: i64 = 45009;
/// DingTalk: over 20 messages a minute, throttled for ten minutes.
const DINGTALK_THROTTLED: i64 = 130101;

/// The title DingTalk shows in the chat list and notification (its markdown needs one).
pub fn dingtalk_title(title: &str) -> &str {
    if title.is_empty() {
        "律规助手"
    } else {
        title
    }
}

/// The markdown a group sees for one part of a message: the title in bold, then the part.
pub fn shown_markdown(robot: &Robot, title: &str, content: &str) -> String {
    match robot {
        Robot::Wecom { .. } if title.is_empty() => content.to_string(),
        Robot::Wecom { .. } => format!("**{title}**\n{content}"),
        Robot::Dingtalk { .. } | Robot::DingtalkApp { .. } => {
            format!("**{}**\n\n{content}", dingtalk_title(title))
        }
    }
}

/// An HTTP client for the group robots.
pub struct Sender {
    http: reqwest::Client,
    endpoints: Endpoints,
    app: Option<AppRobot>,
}

impl Sender {
    pub fn new(endpoints: Endpoints) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Sender {
            http,
            endpoints,
            app: None,
        }
    }

    /// Also sends to groups reached by the DingTalk app robot.
    pub fn with_app(mut self, credentials: AppCredentials) -> Self {
        self.app = Some(AppRobot::new(self.http.clone(), credentials));
        self
    }

    /// Sends one part; `attempts` (made so far) sets the backoff of a retry.
    pub async fn send(
        &self,
        group: &Group,
        title: &str,
        content: &str,
        attempts: i64,
        now_ms: i64,
    ) -> Outcome {
        let (url, body) = match &group.robot {
            Robot::DingtalkApp { conversation_id } => {
                return match &self.app {
                    Some(app) => app.send(conversation_id, title, content, attempts).await,
                    None => Outcome::Broken {
                        error: "the DingTalk app robot is not configured ([dingtalk.stream] client_id and client_secret)".into(),
                        errcode: None,
                    },
                };
            }
            Robot::Wecom { webhook_key } => {
                let key = percent_encoding::utf8_percent_encode(
                    webhook_key,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                let url = format!(
                    "{}/cgi-bin/webhook/send?key={key}",
                    self.endpoints.wecom.trim_end_matches('/')
                );
                let content = shown_markdown(&group.robot, title, content);
                (
                    url,
                    json!({ "msgtype": "markdown", "markdown": { "content": content } }),
                )
            }
            Robot::Dingtalk {
                access_token,
                secret,
            } => {
                let token = percent_encoding::utf8_percent_encode(
                    access_token,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                // The signature is rebuilt for every request: DingTalk refuses one older than an hour.
                let url = format!(
                    "{}/robot/send?access_token={token}&timestamp={now_ms}&sign={}",
                    self.endpoints.dingtalk.trim_end_matches('/'),
                    webhook_sign_param(secret, now_ms)
                );
                let text = shown_markdown(&group.robot, title, content);
                let title = dingtalk_title(title);
                (
                    url,
                    json!({ "msgtype": "markdown", "markdown": { "title": title, "text": text } }),
                )
            }
        };
        match self.http.post(url).json(&body).send().await {
            Err(e) => Outcome::Retry {
                after_ms: backoff_ms(attempts),
                // Without the URL: it carries the webhook key or access token.
                error: format!("network: {}", e.without_url()),
                errcode: None,
            },
            Ok(response) => {
                let status = response.status();
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                classify(&group.robot, status.as_u16(), &answer, attempts)
            }
        }
    }
}

/// What an answer means: sent, retry later, a message refused, or the robot refused.
pub fn classify(robot: &Robot, status: u16, answer: &Value, attempts: i64) -> Outcome {
    let errcode = answer["errcode"].as_i64();
    let errmsg = answer["errmsg"].as_str().unwrap_or("");
    let error = |what: &str| match errcode {
        Some(code) => format!("{what}: errcode {code} {errmsg}")
            .trim_end()
            .to_string(),
        None => format!("{what}: HTTP {status}"),
    };
    if status >= 500 || status == 429 {
        return Outcome::Retry {
            after_ms: backoff_ms(attempts),
            error: error("server error"),
            errcode,
        };
    }
    match (robot, errcode) {
        (_, Some(0)) if status < 300 => Outcome::Sent,
        (_, Some(code)) if BROKEN.contains(&code) => Outcome::Broken {
            error: error("robot refused"),
            errcode,
        },
        (Robot::Wecom { .. }, Some(WECOM_THROTTLED)) => Outcome::Retry {
            after_ms: 60_000,
            error: error("throttled"),
            errcode,
        },
        (Robot::Dingtalk { .. }, Some(DINGTALK_THROTTLED)) => Outcome::Retry {
            after_ms: 10 * 60_000,
            error: error("throttled for ten minutes"),
            errcode,
        },
        (_, Some(_)) => Outcome::Failed {
            error: error("message refused"),
            errcode,
        },
        (_, None) if status >= 400 => Outcome::Failed {
            error: error("message refused"),
            errcode,
        },
        (_, None) => Outcome::Retry {
            after_ms: backoff_ms(attempts),
            error: error("unreadable answer"),
            errcode,
        },
    }
}

/// 5 s, 10 s, 20 s … capped at 10 minutes.
pub(super) fn backoff_ms(attempts: i64) -> i64 {
    (5_000i64 << attempts.clamp(0, 7)).min(600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wecom() -> Robot {
        Robot::Wecom {
            webhook_key: "k".into(),
        }
    }
    fn dingtalk() -> Robot {
        Robot::Dingtalk {
            access_token: "t".into(),
            secret: "s".into(),
        }
    }
    fn answer(code: i64) -> Value {
        json!({ "errcode": code, "errmsg": "x" })
    }

    #[test]
    fn answers_are_classified_as_the_platforms_document_them() {
        assert_eq!(classify(&wecom(), 200, &answer(0), 0), Outcome::Sent);
        assert!(matches!(
            classify(&wecom(), 200, &answer(45009), 0),
            Outcome::Retry {
                after_ms: 60_000,
                ..
            }
        ));
        assert!(matches!(
            classify(&dingtalk(), 200, &answer(130101), 0),
            Outcome::Retry {
                after_ms: 600_000,
                ..
            }
        ));
        for code in [93000, 300001, 310000] {
            assert!(
                matches!(
                    classify(&wecom(), 200, &answer(code), 0),
                    Outcome::Broken { .. }
                ),
                "{code}"
            );
        }
        assert!(matches!(
            classify(&dingtalk(), 200, &answer(460101), 0),
            Outcome::Failed { .. }
        ));
        assert!(matches!(
            classify(&wecom(), 502, &Value::Null, 0),
            Outcome::Retry {
                after_ms: 5_000,
                ..
            }
        ));
        assert!(matches!(
            classify(&wecom(), 200, &Value::Null, 3),
            Outcome::Retry {
                after_ms: 40_000,
                ..
            }
        ));
        assert!(matches!(
            classify(&wecom(), 404, &Value::Null, 0),
            Outcome::Failed { .. }
        ));
    }

    #[test]
    fn backoff_doubles_to_ten_minutes() {
        let table: Vec<i64> = (0..9).map(backoff_ms).collect();
        assert_eq!(
            table,
            [
                5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000
            ]
        );
    }
}
