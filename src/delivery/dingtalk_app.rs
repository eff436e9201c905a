//! Sends into DingTalk groups as the app robot (OpenAPI, by openConversationId), with a cached token.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::config::Secret;
use crate::store::Outcome;

/// The app's credentials and OpenAPI base URL (those of `[dingtalk.stream]`).
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub api_base: String,
}

/// The app robot: sends `sampleMarkdown` messages to groups it is in.
pub struct AppRobot {
    http: reqwest::Client,
    credentials: AppCredentials,
    token: Mutex<Option<(String, Instant)>>,
}

impl AppRobot {
    pub fn new(http: reqwest::Client, credentials: AppCredentials) -> Self {
        AppRobot {
            http,
            credentials,
            token: Mutex::new(None),
        }
    }

    fn base(&self) -> &str {
        self.credentials.api_base.trim_end_matches('/')
    }

    /// A valid access token: the cached one, or a new one (they last two hours; renewed early).
    async fn token(&self) -> Result<String, Outcome> {
        if let Some((token, until)) = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
            && Instant::now() < until
        {
            return Ok(token);
        }
        let body = json!({ "appKey": self.credentials.client_id, "appSecret": self.credentials.client_secret.expose() });
        let url = format!("{}/v1.0/oauth2/accessToken", self.base());
        let response =
            self.http
                .post(url)
                .json(&body)
                .send()
                .await
                .map_err(|e| Outcome::Retry {
                    after_ms: 5_000,
                    error: format!("network: {}", e.without_url()),
                    errcode: None,
                })?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        match answer["accessToken"].as_str() {
            Some(token) => {
                let seconds = answer["expireIn"]
                    .as_u64()
                    .unwrap_or(7200)
                    .saturating_sub(300);
                let until = Instant::now() + Duration::from_secs(seconds);
                *self.token.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((token.to_string(), until));
                Ok(token.to_string())
            }
            None if status.is_server_error() => Err(Outcome::Retry {
                after_ms: 5_000,
                error: format!("token: HTTP {status}"),
                errcode: None,
            }),
            None => Err(Outcome::Broken {
                error: format!(
                    "the app's AppKey/AppSecret were refused: HTTP {status} {}",
                    answer["code"]
                ),
                errcode: None,
            }),
        }
    }

    pub async fn send(
        &self,
        conversation_id: &str,
        title: &str,
        content: &str,
        attempts: i64,
    ) -> Outcome {
        let token = match self.token().await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        let text = super::send::shown_markdown(
            &crate::store::Robot::DingtalkApp {
                conversation_id: conversation_id.to_string(),
            },
            title,
            content,
        );
        let title = super::send::dingtalk_title(title);
        let param = json!({ "title": title, "text": text }).to_string();
        let body = json!({
            "robotCode": self.credentials.client_id,
            "openConversationId": conversation_id,
            "msgKey": "sampleMarkdown",
            "msgParam": param,
        });
        let url = format!("{}/v1.0/robot/groupMessages/send", self.base());
        let sent = self
            .http
            .post(url)
            .header("x-acs-dingtalk-access-token", token)
            .json(&body)
            .send()
            .await;
        match sent {
            Err(e) => Outcome::Retry {
                after_ms: super::send::backoff_ms(attempts),
                error: format!("network: {}", e.without_url()),
                errcode: None,
            },
            Ok(response) => {
                let status = response.status().as_u16();
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                let code = answer["code"].as_str().unwrap_or("").to_string();
                match status {
                    200..=299 => Outcome::Sent,
                    401 => {
                        // The token was refused: forget it and try again with a new one.
                        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
                        Outcome::Retry {
                            after_ms: 1_000,
                            error: format!("token refused: {code}"),
                            errcode: None,
                        }
                    }
                    429 | 500..=599 => Outcome::Retry {
                        after_ms: super::send::backoff_ms(attempts),
                        error: format!("HTTP {status} {code}"),
                        errcode: None,
                    },
                    403 => Outcome::Broken {
                        error: format!("the app robot may not post here: {code}"),
                        errcode: None,
                    },
                    _ => Outcome::Failed {
                        error: format!("message refused: HTTP {status} {code}"),
                        errcode: None,
                    },
                }
            }
        }
    }
}
