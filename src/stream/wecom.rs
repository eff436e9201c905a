//! WeCom intelligent robot over its WebSocket: subscribe, heartbeat, answer on the same req_id, reconnect.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::{backoff, step};
use crate::bot::{Bot, Outcome};
use crate::config::WecomLongConnection;
use crate::platform::wecom::message::{WecomMessage, random_id, stream_reply};

/// How a session ended, when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The service is stopping.
    Stopped,
    /// The server closed the connection.
    Closed,
    /// Another connection subscribed with the same bot and WeCom dropped this one.
    Kicked,
}

/// Heartbeats that may go unanswered before the link is considered dead.
const MAX_MISSED_PONGS: u32 = 2;

/// Keeps the connection up until `stop` turns true, reconnecting with backoff.
pub async fn run(config: WecomLongConnection, bot: Arc<Bot>, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        match session(&config, &bot, &mut stop).await {
            Ok(End::Stopped) => return,
            Ok(End::Closed) => {
                tracing::info!("WeCom long connection closed by the server; reconnecting");
                failures = 0;
            }
            Ok(End::Kicked) => {
                tracing::warn!(
                    bot_id = %config.bot_id,
                    "WeCom dropped this long connection because another instance subscribed with the same bot_id; \
                     run one instance per robot (reconnecting in 30 s)"
                );
                failures = 5;
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "WeCom long connection failed");
                failures = failures.saturating_add(1);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff(failures)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// One connection: subscribe, then answer messages and keep the heartbeat until it ends.
pub async fn session(
    config: &WecomLongConnection,
    bot: &Bot,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<End> {
    let connect = async {
        let (ws, _) = tokio_tungstenite::connect_async(config.url.as_str())
            .await
            .with_context(|| format!("cannot connect to {}", config.url))?;
        Ok(ws)
    };
    let Some(ws) = step(stop, "connecting", connect).await? else {
        return Ok(End::Stopped);
    };
    let (mut tx, mut rx) = ws.split();
    let secret = config
        .secret
        .as_ref()
        .map(|s| s.expose())
        .unwrap_or_default();
    let subscribe_id = format!("aibot_subscribe_{}", random_id());
    let subscribe = json!({
        "cmd": "aibot_subscribe",
        "headers": { "req_id": subscribe_id },
        "body": { "bot_id": config.bot_id, "secret": secret },
    });
    tx.send(Message::text(subscribe.to_string()))
        .await
        .context("sending the subscription")?;
    let subscription = async {
        while let Some(message) = rx.next().await {
            if let Message::Text(text) = message.context("reading the subscription answer")? {
                let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                if frame["headers"]["req_id"] == subscribe_id.as_str() {
                    return Ok(frame);
                }
            }
        }
        Err(anyhow!(
            "the connection closed before the subscription was answered"
        ))
    };
    let Some(ack) = step(stop, "subscribing", subscription).await? else {
        return Ok(End::Stopped);
    };
    if ack["errcode"].as_i64() != Some(0) {
        bail!(
            "subscription refused: errcode {} {}",
            ack["errcode"],
            ack["errmsg"]
        );
    }
    tracing::info!(bot_id = %config.bot_id, "WeCom long connection subscribed");

    let period = Duration::from_secs(config.heartbeat_seconds.max(1));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut missed = 0u32;
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = tx.send(Message::Close(None)).await;
                return Ok(End::Stopped);
            }
            _ = heartbeat.tick() => {
                if missed >= MAX_MISSED_PONGS {
                    bail!("{missed} heartbeats went unanswered");
                }
                missed += 1;
                let ping = json!({ "cmd": "ping", "headers": { "req_id": format!("ping_{}", random_id()) } });
                tx.send(Message::text(ping.to_string())).await.context("sending a heartbeat")?;
            }
            message = rx.next() => {
                let text = match message {
                    None | Some(Ok(Message::Close(_))) => return Ok(End::Closed),
                    Some(Err(e)) => return Err(e).context("reading from the long connection"),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    tracing::debug!("ignored a frame that is not JSON");
                    continue;
                };
                match frame["cmd"].as_str() {
                    Some("aibot_msg_callback") => {
                        if let Some(reply) = answer(bot, &frame) {
                            tx.send(Message::text(reply.to_string())).await.context("sending a reply")?;
                        }
                    }
                    Some("aibot_event_callback") => {
                        if frame["body"]["event"]["eventtype"] == "disconnected_event" {
                            return Ok(End::Kicked);
                        }
                    }
                    _ => {
                        let req_id = frame["headers"]["req_id"].as_str().unwrap_or("");
                        if req_id.starts_with("ping") {
                            missed = 0;
                        } else if frame["errcode"].as_i64().is_some_and(|c| c != 0) {
                            tracing::warn!(errcode = %frame["errcode"], errmsg = %frame["errmsg"], "WeCom refused a frame");
                        }
                    }
                }
            }
        }
    }
}

/// The `aibot_respond_msg` frame answering a message callback, on the callback's req_id.
fn answer(bot: &Bot, frame: &Value) -> Option<Value> {
    let message: WecomMessage = match serde_json::from_value(frame["body"].clone()) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "ignored a message callback that is not the expected JSON");
            return None;
        }
    };
    let incoming = message.incoming()?;
    match bot.handle(&incoming) {
        Outcome::Duplicate => None,
        Outcome::Reply(reply) => Some(json!({
            "cmd": "aibot_respond_msg",
            "headers": { "req_id": frame["headers"]["req_id"] },
            "body": stream_reply(&reply.markdown),
        })),
    }
}
