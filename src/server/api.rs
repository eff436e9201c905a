//! `/api/ask` (the engine's JSON for integrations, behind an optional bearer token) and `/healthz`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AppState, HttpError};
use crate::engine::{Intent, Match};
use crate::reply;

/// The Prometheus exposition of this process's counters, with the outbox depth.
pub async fn metrics(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let depth = state.store().backlog().ok();
    let text = crate::metrics::metrics().render(depth);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
}

pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let engine = state.bot().engine();
    Json(json!({ "status": "ok", "clauses": engine.regulation.clauses().len() }))
}

#[derive(Deserialize)]
struct AskRequest {
    question: String,
}

/// The same object as `lawbot ask --json`.
#[derive(Serialize)]
pub struct AskResponse {
    pub question: String,
    pub intent: Intent,
    pub matches: Vec<Match>,
    pub reply: String,
}

pub async fn ask(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AskResponse>, HttpError> {
    if let Some(token) = &state.config().api.token {
        super::authorize_bearer(&headers, token)?;
    }
    let request: AskRequest = serde_json::from_slice(&body)
        .map_err(|e| HttpError::BadRequest(format!("expected {{\"question\": \"…\"}}: {e}")))?;
    let bot = state.bot();
    let started = std::time::Instant::now();
    let engine = bot.engine();
    let answer = engine.answer(&request.question);
    let reply = reply::render(&engine, &answer, bot.clock().today());
    crate::metrics::metrics().question(&answer, started.elapsed());
    Ok(Json(AskResponse {
        question: request.question,
        intent: answer.intent,
        matches: answer.matches,
        reply,
    }))
}
