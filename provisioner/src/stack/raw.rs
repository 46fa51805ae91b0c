//! The stack file exactly as written: every key optional, unknown keys refused.
//!
//! The same section types serve the top level and each `[env.<name>]` override, so an
//! environment can override any knob with the same spelling. Values that need more checks than
//! their type are wrapped in [`Spanned`] so a bad value is reported at its own line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStack {
    #[serde(default)]
    pub stack: StackSection,
    #[serde(default)]
    pub table: TableSection,
    #[serde(default)]
    pub lambda: LambdaSection,
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub auth: AuthSection,
    #[serde(default)]
    pub release: ReleaseSection,
    #[serde(default)]
    pub alarms: AlarmsSection,
    #[serde(default)]
    pub backend: BackendSection,
    /// Per-environment overrides; their keys are the environments `--env` accepts.
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<EnvOverrides>>,
}

/// `[env.<name>]`: any section again, each key overriding the top-level one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvOverrides {
    #[serde(default)]
    pub stack: StackSection,
    #[serde(default)]
    pub table: TableSection,
    #[serde(default)]
    pub lambda: LambdaSection,
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub auth: AuthSection,
    #[serde(default)]
    pub release: ReleaseSection,
    #[serde(default)]
    pub alarms: AlarmsSection,
    #[serde(default)]
    pub backend: BackendSection,
}

/// `[stack]`: naming, region, tags.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackSection {
    /// The stack's identity, in its `provisioner:stack` tag and its state (default: the name
    /// prefix). Set it to the old prefix to rename the stack's objects with a new `name_prefix`.
    pub name: Option<Spanned<String>>,
    /// Prefix of every physical name: `<prefix>-<env>-...` (default `aimodelshare`).
    pub name_prefix: Option<Spanned<String>>,
    /// AWS region (default `us-east-1`; `AWS_REGION` is not consulted, the stack decides).
    pub region: Option<Spanned<String>>,
    /// Extra tags on every taggable resource (merged key by key with overrides).
    pub tags: Option<BTreeMap<String, Spanned<String>>>,
    /// An environment real users depend on (default: true for `prod`, false elsewhere): `validate`
    /// refuses settings that are only acceptable for experiments there (CORS `*` with auth).
    pub protected: Option<bool>,
}

/// `[table]`: the DynamoDB table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSection {
    /// Table name (default `<prefix>-<env>-playground`).
    pub name: Option<Spanned<String>>,
    /// Point-in-time recovery (default on).
    pub point_in_time_recovery: Option<bool>,
    /// The `byUser` global secondary index (default on; the API's listings need it).
    pub by_user_index: Option<bool>,
    /// Deletion protection (default off; the shipped stack turns it on for prod).
    pub deletion_protection: Option<bool>,
    /// The function's sparse ordering indexes `byCreatedAt` and `bySubmissionCount` (default
    /// on; without them listings are only sorted within a page, as in the original).
    pub ordered_indexes: Option<bool>,
}

/// `[lambda]`: the function.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSection {
    /// Memory in MB (default 256; 128..=10240).
    pub memory_mb: Option<Spanned<i64>>,
    /// Timeout in seconds (default 10; 1..=900, and at most 29 behind API Gateway is wise).
    pub timeout_seconds: Option<Spanned<i64>>,
    /// `arm64` (default) or `x86_64`.
    pub architecture: Option<Architecture>,
    /// A prebuilt code zip (relative to the stack file); default: build the `function` crate.
    pub package: Option<Spanned<String>>,
    /// An optional layer zip to publish and attach.
    pub layer_zip: Option<Spanned<String>>,
    /// Retention of `/aws/lambda/<function>` in days (default 14; CloudWatch's allowed values).
    pub log_retention_days: Option<Spanned<i64>>,
    /// `SAFE_CONCURRENCY` for the function (default true).
    pub safe_concurrency: Option<bool>,
    /// Reserved concurrency: at most this many instances at once, and as many kept for it
    /// (default: none, the account's shared pool; 0 stops the function).
    pub reserved_concurrency: Option<Spanned<i64>>,
    /// X-Ray tracing: `pass_through` (default) or `active`.
    pub tracing: Option<Tracing>,
}

/// `[release]`: how a new version of the function reaches its traffic.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSection {
    /// Published versions kept for rollback (default 5, at least 2: the live one and the one
    /// before); older ones are deleted once the alias has moved.
    pub keep_versions: Option<Spanned<i64>>,
    /// `all_at_once` (default), `canary` or `linear`.
    pub strategy: Option<Spanned<String>>,
    /// The new version's share per step, in percent (default 10).
    pub percent: Option<Spanned<i64>>,
    /// How long each weighted step is watched (`30s`, `5m`; default `1m`).
    pub interval: Option<Spanned<String>>,
    /// How long the last step is watched more before the alias moves fully (default `5m`).
    pub bake: Option<Spanned<String>>,
}

/// `[alarms]`: the CloudWatch alarms that watch a release and the environment, their
/// thresholds, and who is told when one fires (defaults in `super::alarms`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmsSection {
    /// The alarms and the dashboard (default true).
    pub enabled: Option<bool>,
    /// Errors per minute of the alias, and of a new version alone in a rollout.
    pub function_errors: Option<Spanned<f64>>,
    /// Throttled invocations per minute.
    pub function_throttles: Option<Spanned<f64>>,
    /// The p99 duration, as a percentage of the timeout.
    pub duration_percent: Option<Spanned<f64>>,
    /// The share of the stage's requests answered 5xx, in percent.
    pub api_5xx_percent: Option<Spanned<f64>>,
    /// The stage's p99 latency, in milliseconds.
    pub api_latency_ms: Option<Spanned<f64>>,
    /// Throttled table reads (and, apart, writes) per minute.
    pub table_throttles: Option<Spanned<f64>>,
    /// E-mail addresses the alarms' SNS topic notifies.
    pub notify: Option<Spanned<Vec<String>>>,
}

/// Lambda's X-Ray tracing modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tracing {
    PassThrough,
    Active,
}

impl Tracing {
    /// Lambda's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PassThrough => "PassThrough",
            Self::Active => "Active",
        }
    }
}

/// `[api]`: the HTTP API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Stage name (default: the environment's name).
    pub stage_name: Option<Spanned<String>>,
    /// CORS origins (default `["*"]`), also passed to the function.
    pub cors_allow_origins: Option<Spanned<Vec<String>>>,
    /// Deploy `DELETE /tables/{tableId}` (default false: API Gateway does not know the route).
    pub allow_table_delete: Option<bool>,
    /// The stage's steady request rate per second, every route (default: the account's).
    pub throttle_rate_limit: Option<Spanned<f64>>,
    /// The stage's burst, every route (set with `throttle_rate_limit`).
    pub throttle_burst_limit: Option<Spanned<i64>>,
    /// A stricter rate for the routes that write (default: the stage's).
    pub write_throttle_rate_limit: Option<Spanned<f64>>,
    /// A stricter burst for the routes that write (set with `write_throttle_rate_limit`).
    pub write_throttle_burst_limit: Option<Spanned<i64>>,
}

/// `[auth]`: verified identity on the API, through an API Gateway JWT authorizer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// Put the authorizer in front of the write routes (default false: the open API of today).
    pub enabled: Option<bool>,
    /// The token issuer (`iss`), an `https://` URL whose OpenID configuration lists the keys.
    pub issuer: Option<Spanned<String>>,
    /// Accepted audiences (`aud`, or `client_id` for Cognito access tokens).
    pub audience: Option<Spanned<Vec<String>>>,
    /// The claim that must equal `{username}` for a user to write their own row (default `sub`).
    pub username_claim: Option<Spanned<String>>,
    /// Members of this group may change or delete any playground and any row.
    pub admin_group: Option<Spanned<String>>,
    /// The claim listing the caller's groups (default `cognito:groups`).
    pub groups_claim: Option<Spanned<String>>,
    /// Leave the reads open to everyone (default true); false puts them behind the authorizer.
    pub public_reads: Option<bool>,
}

/// `[backend]`: where the state lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSection {
    /// `s3` or `local` (default `local` when no bucket is given, else `s3`).
    #[serde(rename = "type")]
    pub kind: Option<BackendKind>,
    /// S3 bucket holding the state.
    pub bucket: Option<Spanned<String>>,
    /// Key prefix in the bucket (default `provisioner`).
    pub prefix: Option<Spanned<String>>,
    /// DynamoDB lock table (Terraform's `LockID` item format).
    pub lock_table: Option<Spanned<String>>,
    /// Also lock with an S3 `.tflock` object (default false).
    pub s3_lock: Option<bool>,
    /// Directory of the local backend, relative to the stack file (default: its directory).
    pub dir: Option<Spanned<String>>,
}

/// Lambda instruction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Arm64,
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Architecture {
    /// Lambda's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arm64 => "arm64",
            Self::X86_64 => "x86_64",
        }
    }

    /// The Rust target the function is cross-built for.
    pub fn rust_target(self) -> &'static str {
        match self {
            Self::Arm64 => "aarch64-unknown-linux-musl",
            Self::X86_64 => "x86_64-unknown-linux-musl",
        }
    }
}

impl std::str::FromStr for Architecture {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "arm64" => Ok(Self::Arm64),
            "x86_64" => Ok(Self::X86_64),
            other => Err(format!(
                "unknown architecture {other:?}: use arm64 or x86_64"
            )),
        }
    }
}

/// State backend type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    S3,
    Local,
}
