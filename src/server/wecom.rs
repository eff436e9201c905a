//! WeCom intelligent robot callbacks: check the signature, decrypt, hand off, encrypt the reply.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{AppState, HttpError};
use crate::bot::Outcome;
use crate::platform::wecom::crypto::{CryptoError, WecomCrypto};
use crate::platform::wecom::message::{WecomMessage, stream_reply};

/// The intelligent robot's receive id is empty.
const RECEIVE_ID: &str = "";
/// Callbacks older or newer than this are refused as replays.
const MAX_SKEW_SECONDS: i64 = 3600;

/// `GET`: URL verification — answer the decrypted `echostr` as plain text.
pub async fn verify_url(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<String, HttpError> {
    let crypto = crypto(&state)?;
    let q = Params::parse(query.as_deref());
    let (signature, timestamp, nonce) = q.signed(&state)?;
    let echostr = q.get("echostr")?;
    crypto
        .verify(signature, timestamp, nonce, echostr)
        .map_err(|_| HttpError::Unauthorized("wrong signature"))?;
    crypto.decrypt(echostr, RECEIVE_ID).map_err(bad_cipher)
}

#[derive(Deserialize)]
struct Envelope {
    encrypt: String,
}

/// `POST`: an encrypted message; the reply is an encrypted, finished stream message.
pub async fn callback(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, HttpError> {
    let crypto = crypto(&state)?;
    let q = Params::parse(query.as_deref());
    let (signature, timestamp, nonce) = q.signed(&state)?;
    let envelope: Envelope = serde_json::from_slice(&body)
        .map_err(|e| HttpError::BadRequest(format!("expected {{\"encrypt\": \"…\"}}: {e}")))?;
    crypto
        .verify(signature, timestamp, nonce, &envelope.encrypt)
        .map_err(|_| HttpError::Unauthorized("wrong signature"))?;
    let plaintext = crypto
        .decrypt(&envelope.encrypt, RECEIVE_ID)
        .map_err(bad_cipher)?;
    let message: WecomMessage = serde_json::from_str(&plaintext).map_err(|e| {
        HttpError::BadRequest(format!("decrypted message is not the expected JSON: {e}"))
    })?;
    let Some(incoming) = message.incoming() else {
        return Ok(().into_response());
    };
    match state.bot().handle(&incoming) {
        Outcome::Duplicate => Ok(().into_response()),
        Outcome::Reply(reply) => {
            let plaintext = stream_reply(&reply.markdown).to_string();
            let now = state.bot().clock().unix_ms() / 1000;
            Ok(Json(crypto.encrypted_reply(&plaintext, now, nonce)).into_response())
        }
    }
}

fn crypto(state: &AppState) -> Result<&WecomCrypto, HttpError> {
    state
        .inner
        .wecom
        .as_ref()
        .ok_or_else(|| HttpError::Internal(anyhow::anyhow!("WeCom is not configured")))
}

fn bad_cipher(e: CryptoError) -> HttpError {
    HttpError::BadRequest(format!("cannot decrypt: {e}"))
}

/// Query parameters, percent-decoded without turning `+` into a space (base64 keeps its `+`).
struct Params(HashMap<String, String>);

impl Params {
    fn parse(query: Option<&str>) -> Self {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Params(
            query
                .unwrap_or("")
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (decode(k), decode(v)))
                .collect(),
        )
    }

    fn get(&self, name: &'static str) -> Result<&str, HttpError> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| HttpError::BadRequest(format!("missing {name}")))
    }

    /// The signature, a timestamp within the allowed skew, and the nonce.
    fn signed(&self, state: &AppState) -> Result<(&str, &str, &str), HttpError> {
        let signature = self
            .get("msg_signature")
            .map_err(|_| HttpError::Unauthorized("missing msg_signature"))?;
        let timestamp = self
            .get("timestamp")
            .map_err(|_| HttpError::Unauthorized("missing timestamp"))?;
        let nonce = self.get("nonce")?;
        let seconds: i64 = timestamp
            .parse()
            .map_err(|_| HttpError::Unauthorized("timestamp is not a number"))?;
        let now = state.bot().clock().unix_ms() / 1000;
        if now.abs_diff(seconds) > MAX_SKEW_SECONDS.unsigned_abs() {
            return Err(HttpError::Unauthorized("stale timestamp"));
        }
        Ok((signature, timestamp, nonce))
    }
}
