//! The reconciliation engine: refresh what the state knows, diff it against the declaration,
//! and apply the difference in dependency order, writing the state after every step.
//!
//! The engine never names a resource kind: it looks each kind up in a [`Registry`] and talks
//! to it through [`ResourceKind`]. Every step is written to be safely re-run after a crash
//! (like a kube-rs reconciler): work in flight is recorded in the state before the AWS call, a
//! create first looks for the object under its physical name and adopts it when it carries our
//! tags, and a delete treats not-found as done.

pub mod adopt;
pub mod apply;
pub mod diff;
pub mod graph;
pub mod refresh;
pub mod refs;
pub mod writer;

use std::collections::BTreeMap;

use crate::aws::AwsClients;
use crate::resource::{Desired, Observed, ResourceError, ResourceKind, TAG_ENVIRONMENT, TAG_STACK};

/// How the engine finds the implementation of a kind (`resources::lookup` in the binary).
pub type Registry = fn(&str) -> Option<&'static dyn ResourceKind>;

/// What every engine step needs.
#[derive(Clone)]
pub struct Engine {
    pub aws: AwsClients,
    pub registry: Registry,
    /// The stack's identity in tags (`provisioner:stack`).
    pub stack_name: String,
    pub environment: String,
}

impl Engine {
    /// The kind behind `kind`, or an error naming it.
    pub fn kind(&self, kind: &str) -> Result<&'static dyn ResourceKind, EngineError> {
        (self.registry)(kind).ok_or_else(|| EngineError::UnknownKind(kind.to_string()))
    }
}

/// Everything that stops a plan, apply or destroy.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "no resource kind named '{0}': the state or plan was written by another provisioner version"
    )]
    UnknownKind(String),

    #[error("{address}: {source}")]
    Resource {
        address: String,
        #[source]
        source: ResourceError,
    },

    #[error(
        "{address} ({name}) has deletion protection on, so it will not be deleted. To delete it, \
         set `deletion_protection = false` under [env.{environment}.table] in the stack file, run \
         `provisioner apply --env {environment}`, then run this command again"
    )]
    DeletionProtected {
        address: String,
        name: String,
        environment: String,
    },

    #[error(
        "{address}: a resource named '{name}' already exists but belongs to something else \
         (its tags: {tags}); it was not touched. Rename this stack (name_prefix) or remove that \
         resource yourself"
    )]
    Foreign {
        address: String,
        name: String,
        tags: String,
    },

    #[error(
        "{address}: an existing '{name}' differs in {fields}, which cannot change in place; it was \
         not touched. Delete or rename it yourself, or change the stack to match it"
    )]
    Incompatible {
        address: String,
        name: String,
        fields: String,
    },

    #[error(
        "{address}: the reference {reference} has no value (is {target} missing from the state?)"
    )]
    UnresolvedReference {
        address: String,
        reference: String,
        target: String,
    },

    #[error("dependency cycle between {0}")]
    Cycle(String),

    #[error("{}", failed_message(.0))]
    Failed(Vec<(String, String)>),

    #[error(transparent)]
    State(Box<state::StateError>),
}

impl From<state::StateError> for EngineError {
    fn from(error: state::StateError) -> Self {
        Self::State(Box::new(error))
    }
}

fn failed_message(failures: &[(String, String)]) -> String {
    let mut text = format!(
        "{} step(s) failed; everything else that finished is recorded in the state, so re-running the command continues from here:",
        failures.len()
    );
    for (address, message) in failures {
        text.push_str(&format!("\n  {address}: {message}"));
    }
    text
}

/// Refuses to adopt an object whose tags say it belongs to another stack or environment.
/// An untagged object (a log group Lambda made itself) is ours to adopt.
pub fn check_ownership(
    stack_name: &str,
    environment: &str,
    desired: &Desired,
    existing: &Observed,
) -> Result<(), EngineError> {
    let Some(tags) = &existing.tags else {
        return Ok(());
    };
    let ours = tags.get(TAG_STACK).map(String::as_str) == Some(stack_name)
        && tags.get(TAG_ENVIRONMENT).map(String::as_str) == Some(environment);
    let foreign = !ours
        && (tags.contains_key(TAG_STACK) || tags.contains_key(TAG_ENVIRONMENT) || !tags.is_empty());
    if foreign {
        return Err(EngineError::Foreign {
            address: desired.address.clone(),
            name: desired.name.clone(),
            tags: format_tags(tags),
        });
    }
    Ok(())
}

fn format_tags(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Desired {
        Desired {
            address: "log_group.lambda".into(),
            kind: "log_group".into(),
            name: "/aws/lambda/x".into(),
            fields: Default::default(),
            tags: Default::default(),
            depends_on: vec![],
        }
    }

    fn observed(tags: Option<&[(&str, &str)]>) -> Observed {
        Observed {
            id: "x".into(),
            arn: None,
            fields: Default::default(),
            outputs: Default::default(),
            tags: tags.map(|t| {
                t.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
        }
    }

    #[test]
    fn ownership_adopts_ours_and_untagged_and_refuses_others() {
        let d = desired();
        let ok = |o: Observed| check_ownership("pg", "dev", &d, &o).is_ok();
        assert!(ok(observed(None)));
        assert!(ok(observed(Some(&[]))));
        assert!(ok(observed(Some(&[
            (TAG_STACK, "pg"),
            (TAG_ENVIRONMENT, "dev"),
            ("x", "y")
        ]))));
        assert!(!ok(observed(Some(&[
            (TAG_STACK, "pg"),
            (TAG_ENVIRONMENT, "prod")
        ]))));
        assert!(!ok(observed(Some(&[
            (TAG_STACK, "other"),
            (TAG_ENVIRONMENT, "dev")
        ]))));
        assert!(!ok(observed(Some(&[("team", "someone-else")]))));
    }
}
