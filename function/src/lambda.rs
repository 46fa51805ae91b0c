//! The Lambda entry: the router served through the Lambda Runtime API by `lambda_http`.
//!
//! Only API Gateway HTTP API (payload 2.0) events are understood (the `apigw_http` feature).
//! Everything costly (SDK config, client) is built once per cold start, before the first event.
//! Each invocation runs in an error-level span carrying the request id, so every log line of
//! the invocation names it whatever the configured log level (the runtime's own span is
//! info-level and disappears when the level is `warn`).

use aws_sdk_dynamodb::Client;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::RequestExt;
use tracing::Instrument;

use crate::app::{AppState, app};
use crate::aws::{Host, sdk_config};
use crate::config::Config;
use crate::store::Store;

/// Serves invocations until the runtime shuts the sandbox down.
pub async fn run(config: Config) -> Result<(), lambda_http::Error> {
    let sdk = sdk_config(Host::Lambda).await;
    let store = Store::new(Client::new(&sdk), config.table_name.clone());
    let router = app(AppState::new(store, config)).layer(middleware::from_fn(with_request_id));
    lambda_http::run(router).await
}

async fn with_request_id(request: Request, next: Next) -> Response {
    let request_id = request
        .lambda_context_ref()
        .map_or_else(String::new, |c| c.request_id.clone());
    let span = tracing::error_span!("invocation", requestId = %request_id);
    next.run(request).instrument(span).await
}
