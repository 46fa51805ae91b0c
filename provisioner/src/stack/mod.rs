//! The declared stack: the stack file parsed, validated and resolved for one environment.
//!
//! Two layers, kept apart as ripgrep keeps its low-level and high-level arguments apart:
//! [`raw::RawStack`] is the file as written (every key optional, unknown keys refused, spans
//! kept for errors); [`ResolvedStack`] is one environment with overrides merged, defaults filled
//! and every name computed. Everything downstream (desired resources, backend, hashing for plan
//! files) reads only the resolved form, so a default lives in exactly one place.

mod alarms;
mod auth;
mod backend;
pub mod error;
mod limits;
pub mod raw;
mod release;
mod resolve;

use std::path::{Path, PathBuf};

pub use alarms::ResolvedAlarms;
pub use auth::ResolvedAuth;
pub use error::StackError;
pub use limits::{Throttle, Throttling};
pub use raw::{Architecture, Tracing};
pub use release::ResolvedRelease;
pub use resolve::{
    BackendSettings, CodeSource, ResolvedApi, ResolvedLambda, ResolvedStack, ResolvedTable,
};

/// A parsed stack file, not yet resolved for an environment.
#[derive(Debug, Clone)]
pub struct Stack {
    pub path: PathBuf,
    /// Directory relative paths in the file are resolved against (the file's directory).
    pub root: PathBuf,
    source: String,
    raw: raw::RawStack,
}

impl Stack {
    /// Reads and parses `path`. Syntax errors, unknown keys and wrong types are reported here.
    pub fn load(path: &Path) -> Result<Self, StackError> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            StackError::whole_file(
                path,
                format!("cannot read the stack file: {e}"),
                Some("pass the stack file with --stack FILE (default: stack.toml)".to_string()),
            )
        })?;
        Self::parse(path, source)
    }

    /// Parses `source` as if read from `path`.
    pub fn parse(path: &Path, source: String) -> Result<Self, StackError> {
        let raw: raw::RawStack = toml::from_str(&source).map_err(|e| {
            let message = e.message().trim().to_string();
            let hint = error::hint_for_unknown(&message).or_else(|| generic_hint(&message));
            StackError::at(path, &source, e.span(), message, hint)
        })?;
        let root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(Self {
            path: path.to_path_buf(),
            root,
            source,
            raw,
        })
    }

    /// The environments the file declares (`[env.<name>]`), sorted.
    pub fn environments(&self) -> Vec<String> {
        self.raw.env.keys().cloned().collect()
    }

    /// Resolves one environment, after checking every environment (so two environments can
    /// never share a table).
    pub fn resolve(&self, environment: &str) -> Result<ResolvedStack, StackError> {
        let all = self.resolve_all()?;
        let declared = self.environments();
        all.into_iter()
            .find(|r| r.environment == environment)
            .ok_or_else(|| {
                StackError::whole_file(
                    &self.path,
                    format!("environment '{environment}' is not declared in the stack file"),
                    Some(format!(
                        "declared environments: {}; add an [env.{environment}] table to declare it",
                        if declared.is_empty() {
                            "none".to_string()
                        } else {
                            declared.join(", ")
                        }
                    )),
                )
            })
    }

    /// Resolves every declared environment and checks what spans environments.
    pub fn resolve_all(&self) -> Result<Vec<ResolvedStack>, StackError> {
        if self.raw.env.is_empty() {
            return Err(StackError::whole_file(
                &self.path,
                "the stack file declares no environment",
                Some("add [env.dev], [env.stage] and [env.prod] tables (they may be empty)".into()),
            ));
        }
        let resolved = self
            .raw
            .env
            .iter()
            .map(|(name, overrides)| resolve::resolve(self, name, overrides))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, a) in resolved.iter().enumerate() {
            if let Some(b) = resolved[..i]
                .iter()
                .find(|b| b.table.name == a.table.name && b.region == a.region)
            {
                return Err(self.error_at(
                    self.raw.env.get(&a.environment).map(|s| s.span()),
                    format!(
                        "environments '{}' and '{}' would share the table '{}'",
                        b.environment, a.environment, a.table.name
                    ),
                    Some("every environment needs its own table: remove the `name` override under [table] or give each environment a different one".into()),
                ));
            }
        }
        Ok(resolved)
    }

    pub(crate) fn raw(&self) -> &raw::RawStack {
        &self.raw
    }

    pub(crate) fn error_at(
        &self,
        span: Option<std::ops::Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> StackError {
        StackError::at(&self.path, &self.source, span, message, hint)
    }
}

/// Hints for toml's own messages that are not about unknown names.
fn generic_hint(message: &str) -> Option<String> {
    if message.starts_with("invalid type") {
        Some("check the value's type: strings need quotes, numbers and booleans do not".into())
    } else if message.contains("duplicate key") {
        Some("each key may appear once per table; remove the repeated one".into())
    } else if message.starts_with("invalid") || message.starts_with("expected") {
        Some("this is not valid TOML here; see https://toml.io for the syntax".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
