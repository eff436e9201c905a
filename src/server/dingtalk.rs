//! DingTalk robot HTTP callbacks: check `timestamp` and `sign`, hand off, answer with markdown.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::{AppState, HttpError};
use crate::bot::Outcome;
use crate::platform::dingtalk::message::{DingtalkMessage, markdown_reply};
use crate::platform::dingtalk::sign::{SignError, verify_callback};

pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, HttpError> {
    let Some(secret) = state
        .config()
        .dingtalk
        .as_ref()
        .and_then(|d| d.app_secret.as_ref())
    else {
        return Err(HttpError::Internal(anyhow::anyhow!(
            "DingTalk is not configured"
        )));
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let now = state.bot().clock().unix_ms();
    verify_callback(secret.expose(), header("timestamp"), header("sign"), now).map_err(|e| {
        HttpError::Unauthorized(match e {
            SignError::MissingTimestamp | SignError::BadTimestamp => {
                "missing or malformed timestamp"
            }
            SignError::StaleTimestamp { .. } => "stale timestamp",
            SignError::MissingSign => "missing sign",
            SignError::BadSignature => "wrong sign",
        })
    })?;
    let message: DingtalkMessage = serde_json::from_slice(&body)
        .map_err(|e| HttpError::BadRequest(format!("not a DingTalk robot message: {e}")))?;
    let Some(incoming) = message.incoming() else {
        return Ok(Json(json!({})));
    };
    match state.bot().handle(&incoming) {
        Outcome::Duplicate => Ok(Json(json!({}))),
        Outcome::Reply(reply) => Ok(Json(markdown_reply(
            &reply.markdown,
            message.sender_staff_id.as_deref(),
        ))),
    }
}
