//! One environment of the stack: overrides merged, defaults filled, values checked, names made.
//!
//! The original Terraform defaults live here and nowhere else. The one deliberate departure:
//! the original shared one `PlaygroundScores` table between environments; here each environment
//! gets `<prefix>-<env>-playground` unless it names its own.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use serde::Serialize;
use serde_spanned::Spanned;

use super::alarms::{ResolvedAlarms, resolve_alarms};
use super::auth::{ResolvedAuth, is_protected, resolve_auth};
use super::limits::{Throttling, resolve_reserved_concurrency, resolve_throttling};
use super::raw::{Architecture, EnvOverrides, Tracing};
use super::release::{ResolvedRelease, resolve_release};
use super::{Stack, StackError};
use crate::resource::{TAG_ENVIRONMENT, TAG_STACK};

/// CloudWatch Logs' allowed retention values, in days.
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// One environment, ready to turn into desired resources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedStack {
    pub environment: String,
    pub name_prefix: String,
    /// The stack's identity: its `provisioner:stack` tag and the owner recorded in its state
    /// (`[stack] name`, default the name prefix). It stays when `name_prefix` is changed to
    /// rename the stack's objects, so the state is still recognised as this stack's.
    pub stack_name: String,
    pub region: String,
    /// Every tag a taggable resource carries (the stack's own plus the two provisioner tags).
    pub tags: BTreeMap<String, String>,
    pub table: ResolvedTable,
    pub lambda: ResolvedLambda,
    pub api: ResolvedApi,
    /// Identity on the API; `None` when `[auth]` is off.
    pub auth: Option<ResolvedAuth>,
    pub release: ResolvedRelease,
    /// The CloudWatch alarms and dashboard; `None` when `[alarms] enabled = false`.
    pub alarms: Option<ResolvedAlarms>,
    /// Real users depend on it (`[stack] protected`, by default `prod` only).
    pub protected: bool,
    pub backend: BackendSettings,
    /// Directory relative paths are resolved against; not part of the stack's identity.
    #[serde(skip)]
    pub root: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedTable {
    pub name: String,
    pub point_in_time_recovery: bool,
    pub by_user_index: bool,
    pub deletion_protection: bool,
    pub ordered_indexes: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedLambda {
    pub function_name: String,
    pub role_name: String,
    pub policy_name: String,
    pub memory_mb: i64,
    pub timeout_seconds: i64,
    pub architecture: Architecture,
    pub code: CodeSource,
    /// Layer zip (relative to the stack file) and the layer's name.
    pub layer_zip: Option<String>,
    pub layer_name: String,
    pub log_group: String,
    pub log_retention_days: i64,
    pub safe_concurrency: bool,
    pub reserved_concurrency: Option<i64>,
    pub tracing: Tracing,
}

/// Where the function's code zip comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeSource {
    /// Build the `function` crate for the declared architecture.
    Build,
    /// A prebuilt zip, relative to the stack file.
    Prebuilt(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedApi {
    pub name: String,
    pub stage_name: String,
    pub cors_allow_origins: Vec<String>,
    /// `DELETE /tables/{tableId}` is deployed.
    pub allow_table_delete: bool,
    pub throttling: Throttling,
}

/// Where the environment's state lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum BackendSettings {
    S3 {
        bucket: String,
        prefix: String,
        lock_table: Option<String>,
        s3_lock: bool,
    },
    Local {
        /// Relative to the stack file.
        dir: String,
    },
}

impl ResolvedStack {
    /// `<name_prefix>-<env>`, the start of every name the environment's objects get (role,
    /// function, API, alarms, dashboard, ...), and the namespace its deploy role may write in.
    pub fn name_base(&self) -> String {
        format!("{}-{}", self.name_prefix, self.environment)
    }

    /// The state crate's configuration for this environment's backend.
    pub fn backend_config(&self) -> state::BackendConfig {
        match &self.backend {
            BackendSettings::S3 {
                bucket,
                prefix,
                lock_table,
                s3_lock,
            } => state::BackendConfig::S3 {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                environment: self.environment.clone(),
                lock_table: lock_table.clone(),
                s3_lock: *s3_lock,
            },
            BackendSettings::Local { dir } => state::BackendConfig::Local {
                dir: self.root.join(dir),
                environment: self.environment.clone(),
            },
        }
    }

    /// A path from the stack file, made absolute against its directory.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

/// An override's value when present, else the base value.
pub(super) fn pick<'a, T>(over: &'a Option<T>, base: &'a Option<T>) -> Option<&'a T> {
    over.as_ref().or(base.as_ref())
}

pub(super) fn span_of<T>(value: Option<&Spanned<T>>) -> Option<Range<usize>> {
    value.map(Spanned::span)
}

pub(super) fn resolve(
    stack: &Stack,
    environment: &str,
    overrides: &Spanned<EnvOverrides>,
) -> Result<ResolvedStack, StackError> {
    let raw = stack.raw();
    let over = overrides.get_ref();
    let bad = |span: Option<Range<usize>>, message: String, hint: &str| {
        stack.error_at(span, message, Some(hint.to_string()))
    };

    if !is_slug(environment, 16) {
        return Err(bad(
            Some(overrides.span()),
            format!("environment name '{environment}' is not usable in resource names"),
            "use 1 to 16 lowercase letters, digits or dashes, e.g. [env.dev]",
        ));
    }

    // [stack]
    let prefix_value = pick(&over.stack.name_prefix, &raw.stack.name_prefix);
    let name_prefix = prefix_value.map_or("aimodelshare", |s| s.get_ref().as_str());
    if !is_slug(name_prefix, 32) {
        return Err(bad(
            span_of(prefix_value),
            format!("name_prefix '{name_prefix}' is not usable in resource names"),
            "use 1 to 32 lowercase letters, digits or dashes, starting with a letter or digit",
        ));
    }
    let name_value = pick(&over.stack.name, &raw.stack.name);
    let stack_name = name_value.map_or(name_prefix, |s| s.get_ref().as_str());
    if !is_slug(stack_name, 64) {
        return Err(bad(
            span_of(name_value),
            format!("stack name '{stack_name}' is not usable as a tag value"),
            "use 1 to 64 lowercase letters, digits or dashes, e.g. the name_prefix the stack was first applied with",
        ));
    }
    let region_value = pick(&over.stack.region, &raw.stack.region);
    let region = region_value.map_or("us-east-1", |s| s.get_ref().as_str());
    if !is_region(region) {
        return Err(bad(
            span_of(region_value),
            format!("region '{region}' is not an AWS region name"),
            "write a region like us-east-1 or eu-west-3",
        ));
    }
    let mut tags = BTreeMap::new();
    for (key, value) in raw
        .stack
        .tags
        .iter()
        .flatten()
        .chain(over.stack.tags.iter().flatten())
    {
        if key.is_empty()
            || key.len() > 128
            || key.starts_with("aws:")
            || key.starts_with("provisioner:")
        {
            return Err(bad(
                Some(value.span()),
                format!("tag key '{key}' cannot be used"),
                "tag keys are 1 to 128 characters and may not start with aws: or provisioner: (the provisioner sets its own)",
            ));
        }
        if value.get_ref().len() > 256 {
            return Err(bad(
                Some(value.span()),
                format!("the value of tag '{key}' is longer than 256 characters"),
                "shorten the tag value",
            ));
        }
        tags.insert(key.clone(), value.get_ref().clone());
    }
    tags.insert(TAG_STACK.to_string(), stack_name.to_string());
    tags.insert(TAG_ENVIRONMENT.to_string(), environment.to_string());
    let base = format!("{name_prefix}-{environment}");

    // [table]
    let table_value = pick(&over.table.name, &raw.table.name);
    let table_name =
        table_value.map_or_else(|| format!("{base}-playground"), |s| s.get_ref().clone());
    if !(3..=255).contains(&table_name.len())
        || !table_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(bad(
            span_of(table_value),
            format!("table name '{table_name}' is not a valid DynamoDB table name"),
            "use 3 to 255 letters, digits, '_', '-' or '.'",
        ));
    }
    let table = ResolvedTable {
        name: table_name,
        point_in_time_recovery: *pick(
            &over.table.point_in_time_recovery,
            &raw.table.point_in_time_recovery,
        )
        .unwrap_or(&true),
        by_user_index: *pick(&over.table.by_user_index, &raw.table.by_user_index).unwrap_or(&true),
        deletion_protection: *pick(
            &over.table.deletion_protection,
            &raw.table.deletion_protection,
        )
        .unwrap_or(&false),
        ordered_indexes: *pick(&over.table.ordered_indexes, &raw.table.ordered_indexes)
            .unwrap_or(&true),
    };

    // [lambda]
    let memory_value = pick(&over.lambda.memory_mb, &raw.lambda.memory_mb);
    let memory_mb = memory_value.map_or(256, |s| *s.get_ref());
    if !(128..=10240).contains(&memory_mb) {
        return Err(bad(
            span_of(memory_value),
            format!("memory_mb = {memory_mb} is outside what Lambda allows"),
            "use a value from 128 to 10240 (MB), e.g. 256",
        ));
    }
    let timeout_value = pick(&over.lambda.timeout_seconds, &raw.lambda.timeout_seconds);
    let timeout_seconds = timeout_value.map_or(10, |s| *s.get_ref());
    if !(1..=900).contains(&timeout_seconds) {
        return Err(bad(
            span_of(timeout_value),
            format!("timeout_seconds = {timeout_seconds} is outside what Lambda allows"),
            "use a value from 1 to 900 (seconds); behind API Gateway more than 29 is never used",
        ));
    }
    let retention_value = pick(
        &over.lambda.log_retention_days,
        &raw.lambda.log_retention_days,
    );
    let log_retention_days = retention_value.map_or(14, |s| *s.get_ref());
    if !LOG_RETENTION_DAYS.contains(&log_retention_days) {
        let allowed = LOG_RETENTION_DAYS
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(bad(
            span_of(retention_value),
            format!(
                "log_retention_days = {log_retention_days} is not a retention CloudWatch Logs accepts"
            ),
            &format!("use one of {allowed}"),
        ));
    }
    let code = match pick(&over.lambda.package, &raw.lambda.package) {
        Some(path) => {
            check_file(
                stack,
                path,
                "package",
                "build it with `provisioner package --out dist` or remove `package` to build at plan time",
            )?;
            CodeSource::Prebuilt(path.get_ref().clone())
        }
        None => CodeSource::Build,
    };
    let layer_zip = match pick(&over.lambda.layer_zip, &raw.lambda.layer_zip) {
        Some(path) => {
            check_file(
                stack,
                path,
                "layer_zip",
                "build the layer zip first or remove `layer_zip`",
            )?;
            Some(path.get_ref().clone())
        }
        None => None,
    };
    let function_name = format!("{base}-api");
    let lambda = ResolvedLambda {
        role_name: format!("{base}-lambda"),
        policy_name: format!("{base}-dynamodb"),
        memory_mb,
        timeout_seconds,
        architecture: *pick(&over.lambda.architecture, &raw.lambda.architecture)
            .unwrap_or(&Architecture::Arm64),
        code,
        layer_zip,
        layer_name: format!("{base}-extra"),
        log_group: format!("/aws/lambda/{function_name}"),
        log_retention_days,
        safe_concurrency: *pick(&over.lambda.safe_concurrency, &raw.lambda.safe_concurrency)
            .unwrap_or(&true),
        reserved_concurrency: resolve_reserved_concurrency(stack, over)?,
        tracing: *pick(&over.lambda.tracing, &raw.lambda.tracing).unwrap_or(&Tracing::PassThrough),
        function_name,
    };

    // [api]
    let stage_value = pick(&over.api.stage_name, &raw.api.stage_name);
    let stage_name = stage_value.map_or(environment, |s| s.get_ref().as_str());
    if stage_name.is_empty()
        || stage_name.len() > 128
        || !stage_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    {
        return Err(bad(
            span_of(stage_value),
            format!("stage_name '{stage_name}' is not a valid API Gateway stage name"),
            "use 1 to 128 letters, digits, '_' or '-'",
        ));
    }
    let origins_value = pick(&over.api.cors_allow_origins, &raw.api.cors_allow_origins);
    let cors_allow_origins =
        origins_value.map_or_else(|| vec!["*".to_string()], |s| s.get_ref().clone());
    if cors_allow_origins.is_empty()
        || cors_allow_origins.iter().any(|o| {
            !(o == "*"
                || ((o.starts_with("https://") || o.starts_with("http://"))
                    && !o.ends_with('/')
                    && !o.contains(',')
                    && !o.contains(char::is_whitespace)))
        })
    {
        return Err(bad(
            span_of(origins_value),
            "cors_allow_origins must list \"*\" or origins like \"https://example.com\""
                .to_string(),
            "write each origin as scheme://host[:port] with no path or trailing slash, e.g. [\"https://app.example.com\"]",
        ));
    }
    let api = ResolvedApi {
        name: format!("{base}-http-api"),
        stage_name: stage_name.to_string(),
        allow_table_delete: *pick(&over.api.allow_table_delete, &raw.api.allow_table_delete)
            .unwrap_or(&false),
        throttling: resolve_throttling(stack, over)?,
        cors_allow_origins,
    };
    let protected = is_protected(stack, over, environment);
    let auth = resolve_auth(stack, over, protected, &api.cors_allow_origins)?;

    let backend = super::backend::resolve_backend(stack, over)?;

    Ok(ResolvedStack {
        environment: environment.to_string(),
        name_prefix: name_prefix.to_string(),
        stack_name: stack_name.to_string(),
        region: region.to_string(),
        tags,
        table,
        lambda,
        api,
        auth,
        release: resolve_release(stack, over)?,
        alarms: resolve_alarms(stack, over)?,
        protected,
        backend,
        root: stack.root.clone(),
    })
}

fn check_file(
    stack: &Stack,
    path: &Spanned<String>,
    key: &str,
    hint: &str,
) -> Result<(), StackError> {
    let full = stack.root.join(path.get_ref());
    if full.is_file() {
        Ok(())
    } else {
        Err(stack.error_at(
            Some(path.span()),
            format!(
                "{key} = \"{}\": no such file ({})",
                path.get_ref(),
                full.display()
            ),
            Some(hint.to_string()),
        ))
    }
}

/// Lowercase letters, digits and dashes, not starting or ending with a dash.
fn is_slug(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}
