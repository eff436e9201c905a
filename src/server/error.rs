//! The one error type of the HTTP edge: what the client is told, and what is logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A missing or wrong signature, token or timestamp.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// A body, query or ciphertext that cannot be read.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Something failed on our side.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            // Bad input is the sender's problem: say what is wrong, log it quietly.
            HttpError::Unauthorized(reason) => {
                crate::metrics::metrics().rejected(reason);
                tracing::debug!(reason, "refused: unauthorized");
                (StatusCode::UNAUTHORIZED, format!("unauthorized: {reason}")).into_response()
            }
            HttpError::BadRequest(reason) => {
                crate::metrics::metrics().rejected("bad request");
                tracing::debug!(%reason, "refused: bad request");
                (StatusCode::BAD_REQUEST, format!("bad request: {reason}")).into_response()
            }
            // Ours: log the details, tell the client nothing about them.
            HttpError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}
