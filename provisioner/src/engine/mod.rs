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
mod drift;
pub mod graph;
pub mod interrupt;
pub mod progress;
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
    /// The tags the stack puts on every object it can tag (its own and the two provisioner
    /// tags): what a refresh expects to read when nothing changed them.
    pub stack_tags: crate::resource::Tags,
    /// Set when the run is asked to stop (SIGINT, SIGTERM): apply starts no new step.
    pub interrupt: interrupt::Interrupt,
}

impl Engine {
    /// The kind behind `kind`, or an error naming it.
    pub fn kind(&self, kind: &str) -> Result<&'static dyn ResourceKind, EngineError> {
        (self.registry)(kind).ok_or_else(|| EngineError::UnknownKind(kind.to_string()))
    }

    /// Whom this run's state must belong to: this stack and environment, in the engine's region
    /// and the credentials' account (one STS call per process, shared with every ARN built).
    pub async fn owner(&self) -> Result<state::Owner, EngineError> {
        let account_id = self
            .aws
            .account_id()
            .await
            .map_err(|source| EngineError::Resource {
                address: "(the caller's account)".to_string(),
                source,
            })?;
        Ok(state::Owner {
            stack: self.stack_name.clone(),
            environment: self.environment.clone(),
            region: self.aws.region.clone(),
            account_id: account_id.to_string(),
        })
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

    #[error("{address} ({name}) will not be deleted: {reason}")]
    DeletionProtected {
        address: String,
        name: String,
        /// Why, and how to allow it (from the kind).
        reason: String,
    },

    #[error(transparent)]
    NotOurs(Box<NotOurs>),

    #[error(
        "{address}: the state records {id}, but that object is tagged as another stack's or \
         environment's ({tags}), not {TAG_STACK}={stack}, {TAG_ENVIRONMENT}={environment}. \
         Nothing was changed. Is this state another environment's copy? Check the stack file's \
         [backend], or remove the entry with care if the state is wrong"
    )]
    RecordedNotOurs {
        address: String,
        id: String,
        tags: String,
        stack: String,
        environment: String,
    },

    #[error(
        "{address}: the stack now declares {new} where the state has {old}; replacing it would \
         create an empty {new} and delete {old} with its data. Nothing was changed. To keep it, \
         {keep}; to replace it, back up or copy the data first (point-in-time recovery, an \
         export to S3) and run again with --allow-data-loss"
    )]
    DataLoss {
        address: String,
        old: String,
        new: String,
        /// How to keep the old object (from the kind).
        keep: String,
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

    #[error(
        "--replace {address}: replacing {name} deletes it with its data and creates it empty. \
         Nothing was changed. Back up or copy the data first (point-in-time recovery, an export \
         to S3) and run again with --allow-data-loss"
    )]
    ReplaceLosesData { address: String, name: String },

    #[error(
        "--replace {address}: the stack declares no such address; the nearest are {nearest} \
         (`provisioner plan` shows every address)"
    )]
    UnknownAddress { address: String, nearest: String },

    #[error("dependency cycle between {0}")]
    Cycle(String),

    #[error("{}", interrupted_message(*.signal, .abandoned, *.not_started))]
    Interrupted {
        signal: i32,
        /// Steps still running when the run stopped waiting; their pending records remain.
        abandoned: Vec<String>,
        /// Steps of the plan that never started.
        not_started: usize,
    },

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

fn interrupted_message(signal: i32, abandoned: &[String], not_started: usize) -> String {
    let name = match signal {
        2 => "SIGINT".to_string(),
        15 => "SIGTERM".to_string(),
        other => format!("signal {other}"),
    };
    let mut text = format!(
        "stopped by {name}: {not_started} step(s) not started; every finished step is recorded in \
         the state and the lock is released, so running the command again continues from here"
    );
    if !abandoned.is_empty() {
        text.push_str(&format!(
            ". Not waited for (recorded as pending, the next run finishes them): {}",
            abandoned.join(", ")
        ));
    }
    text
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

/// An existing object under a declared name that this stack may not take over.
#[derive(Debug, thiserror::Error)]
#[error(
    "{address}: a {kind} named '{name}' already exists but belongs to something else: it does \
     not carry the tags {TAG_STACK}={stack} and {TAG_ENVIRONMENT}={environment} (its tags: \
     {tags}). It was not touched. If this stack should manage it, take it over explicitly \
     with `provisioner import --env {environment} {address} {id}`; otherwise rename this \
     stack's objects (name_prefix) or remove that one yourself"
)]
pub struct NotOurs {
    pub address: String,
    pub kind: String,
    pub name: String,
    pub id: String,
    pub tags: String,
    pub stack: String,
    pub environment: String,
}

/// Whether an existing object found under a declared name may be adopted without an explicit
/// `import`: only when it carries this stack's and environment's tags (a crashed run of this
/// stack made it). A kind that cannot be tagged is scoped by its parent (an attachment of our
/// role, a route of our API), which is ours already. An object AWS itself creates under the
/// declared name ([`ResourceKind::aws_creates_it`]) is adopted untagged, never with another
/// stack's tags.
pub fn check_ownership(
    engine: &Engine,
    kind: &dyn ResourceKind,
    desired: &Desired,
    existing: &Observed,
) -> Result<(), EngineError> {
    let Some(tags) = &existing.tags else {
        return Ok(());
    };
    let ours = tags.get(TAG_STACK) == Some(&engine.stack_name)
        && tags.get(TAG_ENVIRONMENT) == Some(&engine.environment);
    let made_by_aws = kind.aws_creates_it() && tags.is_empty();
    if ours || made_by_aws {
        return Ok(());
    }
    Err(EngineError::NotOurs(Box::new(NotOurs {
        address: desired.address.clone(),
        kind: desired.kind.clone(),
        name: desired.name.clone(),
        id: existing.id.clone(),
        tags: format_tags(tags),
        stack: engine.stack_name.clone(),
        environment: engine.environment.clone(),
    })))
}

/// Refuses to act on a recorded object that carries another stack's or environment's tags: the
/// state points at something that is not this environment's (a copied or mixed-up state).
/// An object without our tags at all (adopted from Terraform, not yet tagged) is fine: the plan
/// tags it.
pub fn check_recorded_ownership(
    engine: &Engine,
    address: &str,
    observed: &Observed,
) -> Result<(), EngineError> {
    let Some(tags) = &observed.tags else {
        return Ok(());
    };
    let other = |key: &str, ours: &str| tags.get(key).is_some_and(|v| v != ours);
    if other(TAG_STACK, &engine.stack_name) || other(TAG_ENVIRONMENT, &engine.environment) {
        return Err(EngineError::RecordedNotOurs {
            address: address.to_string(),
            id: observed.id.clone(),
            tags: format_tags(tags),
            stack: engine.stack_name.clone(),
            environment: engine.environment.clone(),
        });
    }
    Ok(())
}

fn format_tags(tags: &BTreeMap<String, String>) -> String {
    if tags.is_empty() {
        return "none".to_string();
    }
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
            tags_indexed: false,
        }
    }

    fn engine() -> Engine {
        Engine {
            aws: AwsClients::new(
                aws_config::SdkConfig::builder()
                    .behavior_version(aws_config::BehaviorVersion::latest())
                    .build(),
            ),
            registry: crate::kinds::lookup,
            stack_name: "pg".into(),
            environment: "dev".into(),
            stack_tags: Default::default(),
            interrupt: Default::default(),
        }
    }

    #[test]
    fn adoption_needs_our_tags_except_what_aws_creates_untagged() {
        let e = engine();
        let d = desired();
        let role = crate::kinds::lookup("iam_role").unwrap();
        let log_group = crate::kinds::lookup("log_group").unwrap();
        let ok = |kind: &dyn ResourceKind, o: Observed| check_ownership(&e, kind, &d, &o).is_ok();
        let ours: &[(&str, &str)] = &[(TAG_STACK, "pg"), (TAG_ENVIRONMENT, "dev"), ("x", "y")];
        assert!(
            ok(role, observed(None)),
            "untaggable kinds follow their parent"
        );
        assert!(ok(role, observed(Some(ours))));
        assert!(
            !ok(role, observed(Some(&[]))),
            "an untagged role is someone else's"
        );
        assert!(!ok(role, observed(Some(&[("team", "someone-else")]))));
        assert!(
            ok(log_group, observed(Some(&[]))),
            "Lambda makes the log group untagged"
        );
        assert!(!ok(log_group, observed(Some(&[("owner", "another-team")]))));
        let other_env: &[(&str, &str)] = &[(TAG_STACK, "pg"), (TAG_ENVIRONMENT, "prod")];
        assert!(!ok(role, observed(Some(other_env))));
        assert!(!ok(log_group, observed(Some(other_env))));
        assert!(!ok(
            role,
            observed(Some(&[(TAG_STACK, "other"), (TAG_ENVIRONMENT, "dev")]))
        ));
        let error = check_ownership(&e, role, &d, &observed(Some(&[]))).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("provisioner import --env dev log_group.lambda x"),
            "{text}"
        );
    }

    #[test]
    fn a_recorded_object_of_another_environment_is_refused() {
        let e = engine();
        let check = |tags| check_recorded_ownership(&e, "iam_role.lambda", &observed(tags));
        assert!(check(None).is_ok());
        assert!(
            check(Some(&[])).is_ok(),
            "not tagged yet (adopted from Terraform)"
        );
        assert!(check(Some(&[(TAG_STACK, "pg"), (TAG_ENVIRONMENT, "dev")])).is_ok());
        assert!(check(Some(&[(TAG_STACK, "pg"), (TAG_ENVIRONMENT, "stage")])).is_err());
        assert!(check(Some(&[(TAG_STACK, "other")])).is_err());
    }
}
