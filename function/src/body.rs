//! The request body as a JSON object, or a 400/413 that says what is wrong with it.
//!
//! axum's own `Json` extractor answers in plain text and insists on a `Content-Type`; the
//! original clients do not always send one, and every error here must be a JSON `{"error"}`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::config::BODY_LIMIT_BYTES;
use crate::error::ApiError;

/// A request body that parsed as a JSON object.
#[derive(Debug, Clone)]
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(BODY_LIMIT_BYTES)
                } else {
                    ApiError::bad_request("The request body could not be read")
                }
            })?;
        parse_object(&bytes).map(Self)
    }
}

/// Parses raw body bytes into a JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("The request body is not valid UTF-8"))?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "A request body is required: send a JSON object",
        ));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::bad_request(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_are_accepted() {
        assert!(parse_object(br#"{"a": 1}"#).is_ok());
        for bad in [
            &b""[..],
            b"  ",
            b"[]",
            b"3",
            b"\"x\"",
            b"{",
            b"\xff\xfe",
            b"null",
        ] {
            assert!(matches!(parse_object(bad), Err(ApiError::BadRequest(_))));
        }
    }
}
