//! CORS headers on every response, and `OPTIONS` on any path answered without storage access.
//!
//! The allowed methods and headers are the contract's ([`crate::contract`]), and the origins
//! come from `CORS_ALLOW_ORIGINS`: the provisioner gives API Gateway the same lists and the same
//! setting, so the two never disagree. Preflights are answered here, before routing, so an
//! unknown path or a missing playground still gets its CORS answer.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::contract;

/// `Access-Control-Allow-Methods` of every response.
pub const ALLOW_METHODS: &str = contract::CORS_ALLOW_METHODS;
/// `Access-Control-Allow-Headers` of every response.
pub const ALLOW_HEADERS: &str = contract::CORS_ALLOW_HEADERS;

/// Which origins may call the API.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    any_origin: bool,
    origins: Vec<HeaderValue>,
}

impl CorsPolicy {
    /// A policy for the configured origins; `*` among them allows any origin. Origins that are
    /// not valid header values are skipped (they could never match a request anyway).
    pub fn new(origins: &[String]) -> Self {
        let any_origin = origins.is_empty() || origins.iter().any(|o| o == "*");
        let origins = origins
            .iter()
            .filter(|o| *o != "*")
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        Self {
            any_origin,
            origins,
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`: `*`, the request's
    /// origin when it is allowed, else the first configured origin (which the browser rejects).
    fn allow_origin(&self, origin: Option<&HeaderValue>) -> HeaderValue {
        if self.any_origin {
            return HeaderValue::from_static("*");
        }
        origin
            .filter(|o| self.origins.contains(o))
            .or_else(|| self.origins.first())
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("*"))
    }

    fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            self.allow_origin(origin),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        if !self.any_origin {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

/// Middleware: answers `OPTIONS` itself and adds the CORS headers to every other response.
pub async fn apply(State(policy): State<CorsPolicy>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = if request.method() == Method::OPTIONS {
        Json(json!({})).into_response()
    } else {
        next.run(request).await
    };
    policy.decorate(origin.as_ref(), response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_allows_any_origin() {
        let policy = CorsPolicy::new(&["*".to_string()]);
        let origin = HeaderValue::from_static("https://x.example");
        assert_eq!(policy.allow_origin(Some(&origin)), "*");
    }

    #[test]
    fn listed_origins_are_echoed() {
        let policy = CorsPolicy::new(&[
            "https://a.example".to_string(),
            "https://b.example".to_string(),
        ]);
        let b = HeaderValue::from_static("https://b.example");
        let evil = HeaderValue::from_static("https://evil.example");
        assert_eq!(policy.allow_origin(Some(&b)), "https://b.example");
        assert_eq!(policy.allow_origin(Some(&evil)), "https://a.example");
        assert_eq!(policy.allow_origin(None), "https://a.example");
    }
}
