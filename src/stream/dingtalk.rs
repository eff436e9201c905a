//! DingTalk stream mode: open a gateway ticket, ack every frame at once, answer through sessionWebhook.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::{backoff, step};
use crate::bot::{Bot, Outcome};
use crate::config::DingtalkStream;
use crate::platform::dingtalk::message::{DingtalkMessage, markdown_reply};

/// The topic robot messages arrive on.
pub const BOT_TOPIC: &str = "/v1.0/im/bot/messages/get";
const WEBHOOK_TRIES: u32 = 3;
/// Keepalive pings that may go unanswered before the link is considered dead.
const MAX_MISSED_PONGS: u32 = 2;

/// How a session ended, when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The service is stopping.
    Stopped,
    /// The gateway closed the connection or asked us to reconnect.
    Closed,
}

#[derive(Deserialize)]
struct Ticket {
    endpoint: String,
    ticket: String,
}

/// Keeps a stream connection up until `stop` turns true, reconnecting with a fresh ticket.
pub async fn run(config: DingtalkStream, bot: Arc<Bot>, mut stop: watch::Receiver<bool>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        match session(&config, &bot, &http, &mut stop).await {
            Ok(End::Stopped) => return,
            Ok(End::Closed) => {
                tracing::info!("DingTalk stream closed; reconnecting with a new ticket");
                failures = 0;
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "DingTalk stream failed");
                failures = failures.saturating_add(1);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff(failures)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Asks the gateway for an endpoint and a one-time ticket.
async fn open(config: &DingtalkStream, http: &reqwest::Client) -> anyhow::Result<Ticket> {
    let url = format!(
        "{}/v1.0/gateway/connections/open",
        config.api_base.trim_end_matches('/')
    );
    let secret = config
        .client_secret
        .as_ref()
        .map(|s| s.expose())
        .unwrap_or_default();
    let body = json!({
        "clientId": config.client_id,
        "clientSecret": secret,
        "subscriptions": [{ "type": "CALLBACK", "topic": BOT_TOPIC }],
        "ua": concat!("lawbot/", env!("CARGO_PKG_VERSION")),
        "localIp": "127.0.0.1",
    });
    let response = http
        .post(&url)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("the gateway refused the connection: HTTP {status}");
    }
    response
        .json()
        .await
        .context("the gateway's answer has no endpoint and ticket")
}

/// One connection: ack and answer frames until it ends.
pub async fn session(
    config: &DingtalkStream,
    bot: &Arc<Bot>,
    http: &reqwest::Client,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<End> {
    let Some(ticket) = step(stop, "opening a gateway ticket", open(config, http)).await? else {
        return Ok(End::Stopped);
    };
    let ticket_param =
        percent_encoding::utf8_percent_encode(&ticket.ticket, percent_encoding::NON_ALPHANUMERIC);
    let url = format!("{}?ticket={ticket_param}", ticket.endpoint);
    let connect = async {
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .with_context(|| format!("cannot connect to {}", ticket.endpoint))?;
        Ok(ws)
    };
    let Some(ws) = step(stop, "connecting", connect).await? else {
        return Ok(End::Stopped);
    };
    tracing::info!(client_id = %config.client_id, "DingTalk stream connected");
    let (mut tx, mut rx) = ws.split();
    let mut replies = Replies::new(http.clone());
    let period = Duration::from_secs(config.heartbeat_seconds.max(1));
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut missed = 0u32;
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = tx.send(Message::Close(None)).await;
                return Ok(End::Stopped);
            }
            _ = keepalive.tick() => {
                if missed >= MAX_MISSED_PONGS {
                    bail!("{missed} keepalive pings went unanswered");
                }
                missed += 1;
                tx.send(Message::Ping(Vec::new().into())).await.context("sending a keepalive ping")?;
            }
            message = rx.next() => {
                let text = match message {
                    None | Some(Ok(Message::Close(_))) => return Ok(End::Closed),
                    Some(Err(e)) => return Err(e).context("reading from the stream"),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Pong(_))) => {
                        missed = 0;
                        continue;
                    }
                    Some(Ok(_)) => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    tracing::debug!("ignored a frame that is not JSON");
                    continue;
                };
                let topic = frame["headers"]["topic"].as_str().unwrap_or("");
                match (frame["type"].as_str().unwrap_or(""), topic) {
                    ("SYSTEM", "ping") => {
                        tx.send(Message::text(ack(&frame, frame["data"].clone()).to_string())).await?;
                    }
                    ("SYSTEM", "disconnect") => return Ok(End::Closed),
                    (_, BOT_TOPIC) => {
                        // Ack first, so the gateway does not redeliver, then answer.
                        tx.send(Message::text(ack(&frame, json!("{\"response\": null}")).to_string())).await?;
                        if let Some((conversation, webhook, body)) = answer(bot, &frame) {
                            replies.send(conversation, webhook, body);
                        }
                    }
                    _ => {
                        tx.send(Message::text(ack(&frame, json!("{\"response\": null}")).to_string())).await?;
                    }
                }
            }
        }
    }
}

/// The acknowledgement of a frame, echoing its messageId.
fn ack(frame: &Value, data: Value) -> Value {
    json!({
        "code": 200,
        "headers": { "messageId": frame["headers"]["messageId"], "contentType": "application/json" },
        "message": "OK",
        "data": data,
    })
}

/// The reply to a robot message and where it goes: (conversation, sessionWebhook, body).
fn answer(bot: &Bot, frame: &Value) -> Option<(String, String, Value)> {
    let data = frame["data"].as_str()?;
    let message: DingtalkMessage = match serde_json::from_str(data) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "ignored a robot frame that is not the expected JSON");
            return None;
        }
    };
    let webhook = message
        .session_webhook
        .clone()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))?;
    let incoming = message.incoming()?;
    match bot.handle(&incoming) {
        Outcome::Duplicate => None,
        Outcome::Reply(reply) => {
            let conversation = message.conversation_id.clone().unwrap_or_default();
            Some((
                conversation,
                webhook,
                markdown_reply(&reply.markdown, message.sender_staff_id.as_deref()),
            ))
        }
    }
}

/// Posts replies to sessionWebhooks, in order within each conversation, never blocking the reader.
struct Replies {
    http: reqwest::Client,
    queues: HashMap<String, mpsc::UnboundedSender<(String, Value)>>,
}

impl Replies {
    fn new(http: reqwest::Client) -> Self {
        Replies {
            http,
            queues: HashMap::new(),
        }
    }

    fn send(&mut self, conversation: String, webhook: String, body: Value) {
        let queue = self.queues.entry(conversation).or_insert_with(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<(String, Value)>();
            let http = self.http.clone();
            tokio::spawn(async move {
                while let Some((webhook, body)) = rx.recv().await {
                    post(&http, &webhook, &body).await;
                }
            });
            tx
        });
        let _ = queue.send((webhook, body));
    }
}

async fn post(http: &reqwest::Client, webhook: &str, body: &Value) {
    for attempt in 0..WEBHOOK_TRIES {
        match http.post(webhook).json(body).send().await {
            Ok(r) if r.status().is_success() => {
                let answer: Value = r.json().await.unwrap_or_default();
                match answer["errcode"].as_i64() {
                    None | Some(0) => return,
                    Some(code) => {
                        tracing::warn!(errcode = code, errmsg = %answer["errmsg"], "DingTalk refused a reply");
                        return;
                    }
                }
            }
            Ok(r) => {
                tracing::warn!(status = %r.status(), attempt, "sessionWebhook answered with an error")
            }
            Err(e) => {
                tracing::warn!(error = %e.without_url(), attempt, "cannot reach the sessionWebhook")
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
}
