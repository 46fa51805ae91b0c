//! Every failure a handler can return, and how it becomes an HTTP response.
//!
//! Clients depend on the body shape `{"error": "<message>"}` for every non-2xx answer. Client
//! mistakes (4xx) say what to fix; a storage failure becomes a generic 500 whose detail goes only
//! to the log, so no exception text, AWS error code or ARN ever reaches a caller.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// A failed request, already classified by the status code it answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; the message says what to change.
    #[error("{0}")]
    BadRequest(String),
    /// Auth is on and the request has no valid identity (no token, or a refused one).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The playground, user or route does not exist.
    #[error("{0}")]
    NotFound(&'static str),
    /// The resource already exists.
    #[error("{0}")]
    Conflict(&'static str),
    /// The path exists but not with this method.
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// The body is larger than the configured cap.
    #[error("Request body too large: the limit is {0} bytes")]
    PayloadTooLarge(usize),
    /// Storage failed; the detail is logged, never returned.
    #[error("storage error")]
    Storage(#[from] StoreError),
}

impl ApiError {
    /// Shorthand for a 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The only message a 500 ever carries.
pub const INTERNAL_ERROR_MESSAGE: &str = "Internal server error";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Storage(source) => {
                // The request id is on the enclosing span (Lambda) so the line can be found.
                tracing::error!(error = %source, detail = ?source, "storage request failed");
                INTERNAL_ERROR_MESSAGE.to_string()
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: a 401 names the scheme it wants.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
