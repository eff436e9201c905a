//! The admin API for the bureau's tools: groups and broadcasts, behind `[admin] token`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, HttpError};
use crate::admin;
use crate::store::{Group, GroupStatus, StoreError};

/// Every admin route checks the bearer token first, in constant time.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), HttpError> {
    match &state.config().admin.token {
        Some(token) => super::authorize_bearer(headers, token),
        None => Err(HttpError::Unauthorized("the admin API is off")),
    }
}

fn store_error(e: StoreError) -> HttpError {
    match e {
        StoreError::NotFound(m) | StoreError::Invalid(m) => HttpError::BadRequest(m),
        other => HttpError::Internal(other.into()),
    }
}

fn json_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, HttpError> {
    serde_json::from_slice(body).map_err(|e| HttpError::BadRequest(format!("malformed JSON: {e}")))
}

/// A group as the API shows it: secrets masked.
fn group_json(g: &Group) -> Value {
    json!({
        "id": g.id,
        "name": g.name,
        "platform": g.robot.platform(),
        "robot": g.robot.masked(),
        "status": if g.status == GroupStatus::Broken { "broken" } else { "ok" },
        "broken_reason": g.broken_reason,
        "last_delivery_at": g.last_delivery_at,
        "reminder": g.reminder,
    })
}

pub async fn list_groups(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, HttpError> {
    authorize(&state, &headers)?;
    let groups = state.store().groups().map_err(store_error)?;
    Ok(Json(
        json!({ "groups": groups.iter().map(group_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
struct NewGroupRequest {
    platform: String,
    name: String,
    webhook_key: Option<String>,
    access_token: Option<String>,
    secret: Option<String>,
    conversation_id: Option<String>,
}

pub async fn add_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), HttpError> {
    authorize(&state, &headers)?;
    let r: NewGroupRequest = json_body(&body)?;
    let fields = admin::RobotFields {
        webhook_key: r.webhook_key,
        access_token: r.access_token,
        secret: r.secret,
        conversation_id: r.conversation_id,
    };
    let new = admin::new_group(&r.platform, &r.name, fields).map_err(store_error)?;
    let group = state.store().add_group(&new).map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(group_json(&group))))
}

pub async fn remove_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<StatusCode, HttpError> {
    authorize(&state, &headers)?;
    state.store().remove_group(&name).map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct BroadcastRequest {
    title: Option<String>,
    text: String,
    #[serde(default)]
    groups: Vec<String>,
}

pub async fn broadcast(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), HttpError> {
    authorize(&state, &headers)?;
    let r: BroadcastRequest = json_body(&body)?;
    let title = r.title.as_deref().unwrap_or("巴州区司法局通知");
    let (id, groups) =
        admin::broadcast(state.store(), title, &r.text, &r.groups).map_err(store_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "groups": groups })),
    ))
}

pub async fn broadcast_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, HttpError> {
    authorize(&state, &headers)?;
    let deliveries = state.store().broadcast_report(id).map_err(store_error)?;
    let rows: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            json!({
                "group": d.group, "platform": d.platform, "status": d.status,
                "parts_sent": d.parts_sent, "parts": d.parts, "attempts": d.attempts,
                "last_error": d.last_error, "sent_at": d.sent_at,
            })
        })
        .collect();
    Ok(Json(json!({ "id": id, "deliveries": rows })))
}
