//! Every integration test of the state crate in one test binary (one link of the AWS SDK
//! instead of one per file). Run one suite with `cargo test -p state --test integration MODULE::`.

mod common;

mod backend_history;
mod backend_locks;
mod backend_suite;
mod history_safe;
mod killed_holder;
mod terraform_compat;
