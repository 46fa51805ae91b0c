//! The playground API: an HTTP API over DynamoDB where playgrounds ("tables") track their
//! users' submission counts.
//!
//! One router ([`app::app`]) is served two ways: on Lambda through `lambda_http`
//! ([`lambda::run`]) and locally over HTTP ([`serve::run`]). Requests flow
//! CORS → stage rewrite → route → handler → [`store`], the only module that talks to DynamoDB.
//! The routes, the CORS lists and the table's keys and indexes are data in [`contract`], which
//! the provisioner compiles too, so the deployed API and table are the ones this code serves.
//! The API it serves is described by the OpenAPI file shipped in the binary
//! ([`handlers::OPENAPI_JSON`], also at `GET /openapi.json`, a route of the contract).

pub mod app;
pub mod auth;
pub mod aws;
pub mod body;
pub mod config;
pub mod contract;
pub mod cors;
pub mod domain;
pub mod error;
pub mod handlers;
mod json_body;
pub mod lambda;
pub mod logging;
pub mod page_body;
pub mod pagination;
pub mod path_ids;
pub mod responses;
pub mod serve;
pub mod stage;
pub mod store;
pub mod validate;
