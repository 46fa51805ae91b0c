//! Every integration test of the provisioner in one test binary: one link of the AWS SDK
//! instead of one per file (each was about 80 MB on disk, and CI ran out of it). Each module is
//! one suite; run one with `cargo test -p provisioner --test integration MODULE::`.

mod common;
mod kinds_support;

mod api_auth_apply;
mod bootstrap;
mod bootstrap_guards;
mod cancel;
mod changes;
mod cli_conventions;
mod concurrency;
mod crash;
mod crash_s3;
mod crash_unheard;
mod engine;
mod engine_fake;
mod identity_adopt;
mod identity_owner;
mod identity_rename;
mod identity_saved_plan;
mod kinds_apigw;
mod kinds_cloudwatch;
mod kinds_dynamodb;
mod kinds_iam;
mod kinds_lambda;
mod kinds_lambda_release;
mod kinds_logs;
mod kinds_replay;
mod lifecycle;
mod lock_ci_run;
mod migrate;
mod migrate_original;
mod noop_plan;
mod package;
mod plan_diff;
mod plan_verbs;
mod policy_allowed;
mod policy_escalation;
mod release_canary;
mod release_cmd;
mod role_drift;
mod saved_plan;
mod stack_errors;
mod state_cmd;
