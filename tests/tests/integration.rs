//! Every end-to-end test of the testkit in one test binary (one link of the AWS SDK instead of
//! one per file). Run one suite with `cargo test -p testkit --test integration MODULE::`.

mod api_common;

mod api_auth;
mod api_concurrency;
mod api_delete;
mod api_gateway;
mod api_http;
mod api_limits;
mod api_original_table;
mod api_tables;
mod api_users;
mod lambda_auth;
mod lambda_runtime_api;
