//! The Lambda entry: the router served through the Lambda Runtime API by `lambda_http`.
//!
//! Only API Gateway HTTP API (payload 2.0) events are understood (the `apigw_http` feature).
//! Everything costly (SDK config, client) is built once per cold start, before the first event.

use aws_sdk_dynamodb::Client;

use crate::app::{AppState, app};
use crate::aws::sdk_config;
use crate::config::Config;
use crate::store::Store;

/// Serves invocations until the runtime shuts the sandbox down.
pub async fn run(config: Config) -> Result<(), lambda_http::Error> {
    let sdk = sdk_config().await;
    let store = Store::new(Client::new(&sdk), config.table_name.clone());
    lambda_http::run(app(AppState::new(store, config))).await
}
