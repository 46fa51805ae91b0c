//! Bringing existing resources under this tool without touching them: `import` adopts one
//! resource by address and id; `migrate` reads the original Terraform stack's state
//! ([`terraform`]), adopts every resource it can map, and leaves the rest of the work to an
//! ordinary plan (the runtime change to Rust, the log group Terraform never created).
//!
//! Adoption only reads: the kind reads the object by id, and the state records what it found.
//! Nothing is created, changed or deleted here; data in the table is never involved. While a
//! migration reads a Terraform state in S3 it holds Terraform's own DynamoDB lock on it
//! ([`terraform_lock`]), so no `terraform apply` can run at the same time.

pub mod terraform;
pub mod terraform_lock;

use crate::engine::refs::{self, Outputs};
use crate::engine::{Engine, EngineError};
use crate::plan::{Action, ResourceChange};
use crate::resource::{Desired, Fields, Observed, ResourceError, TAG_ENVIRONMENT, TAG_STACK};

/// Why a resource could not be adopted.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error(
        "the stack has no resource '{address}'{suggestion}; addresses are those `provisioner plan` \
         shows, e.g. dynamodb_table.playground"
    )]
    UnknownAddress { address: String, suggestion: String },
    #[error(
        "{address} is already in the state (id {id}); `provisioner state show --env {environment} \
         {address}` shows it. Nothing was changed"
    )]
    AlreadyManaged {
        address: String,
        id: String,
        environment: String,
    },
    #[error(
        "{address}: no {kind} with id '{id}' exists in this account and region; check the id \
         (for example with the AWS console). Nothing was changed"
    )]
    NotFound {
        address: String,
        kind: String,
        id: String,
    },
    #[error(
        "{address}: it depends on {missing}, which is not in the state yet: import that first. \
         Nothing was changed"
    )]
    MissingDependency { address: String, missing: String },
    #[error(
        "{address}: '{id}' carries the tags of another stack or environment ({tags}); it was not \
         adopted. Nothing was changed"
    )]
    Foreign {
        address: String,
        id: String,
        tags: String,
    },
    #[error("{address}: reading '{id}' failed: {source}")]
    Read {
        address: String,
        id: String,
        #[source]
        source: ResourceError,
    },
    #[error(transparent)]
    Engine(#[from] Box<EngineError>),
}

impl From<EngineError> for AdoptError {
    fn from(error: EngineError) -> Self {
        Self::Engine(Box::new(error))
    }
}

/// Reads the object `id` for the declared resource `address` and records it in `document`.
/// `outputs` holds the outputs of resources already in the state (for references such as a
/// route's API id); the adopted resource's outputs are added to it.
pub async fn adopt_one(
    engine: &Engine,
    desired: &[Desired],
    document: &mut state::StateDocument,
    outputs: &mut Outputs,
    address: &str,
    id: &str,
) -> Result<Observed, AdoptError> {
    let Some(declared) = desired.iter().find(|d| d.address == address) else {
        let suggestion = desired
            .iter()
            .map(|d| d.address.as_str())
            .max_by(|a, b| {
                strsim::jaro_winkler(a, address).total_cmp(&strsim::jaro_winkler(b, address))
            })
            .filter(|best| strsim::jaro_winkler(best, address) > 0.8)
            .map_or(String::new(), |best| format!(" (did you mean '{best}'?)"));
        return Err(AdoptError::UnknownAddress {
            address: address.to_string(),
            suggestion,
        });
    };
    if let Some(existing) = document.resources.get(address) {
        return Err(AdoptError::AlreadyManaged {
            address: address.to_string(),
            id: existing.id.clone(),
            environment: engine.environment.clone(),
        });
    }
    let mut resolved = refs::resolve_desired(declared, outputs);
    // A field that still refers to an object the state lacks is left out: the object may be
    // one the next apply creates (the stage's access log group, which the original stack never
    // had), and then the next plan sets the field. A read that needed it (a route without its
    // API's id) fails, and the dependency is what to adopt first.
    let unresolved: Vec<String> = resolved
        .fields
        .iter()
        .filter_map(|(_, value)| refs::first_reference(value))
        .collect();
    resolved
        .fields
        .retain(|_, value| refs::first_reference(value).is_none());
    let missing_dependency = || {
        let reference = &unresolved[0];
        let missing = refs::split(reference).map_or(reference.clone(), |(a, _)| a.to_string());
        AdoptError::MissingDependency {
            address: address.to_string(),
            missing,
        }
    };
    let observed = match read_existing(engine, &declared.kind, address, id, &resolved.fields).await
    {
        Err(AdoptError::Read { .. }) if !unresolved.is_empty() => return Err(missing_dependency()),
        other => other?,
    };
    if let Some(tags) = &observed.tags {
        let other_stack = tags.get(TAG_STACK).is_some_and(|s| *s != engine.stack_name);
        let other_env = tags
            .get(TAG_ENVIRONMENT)
            .is_some_and(|e| *e != engine.environment);
        if other_stack || other_env {
            return Err(AdoptError::Foreign {
                address: address.to_string(),
                id: id.to_string(),
                tags: tags
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let change = ResourceChange {
        address: address.to_string(),
        kind: declared.kind.clone(),
        action: Action::Create,
        name: declared.name.clone(),
        fields: Vec::new(),
        reason: None,
        create_before_destroy: false,
    };
    document.resources.insert(
        address.to_string(),
        crate::engine::apply::state_entry(&change, Some(&resolved), &observed),
    );
    outputs.insert(address.to_string(), observed.outputs.clone());
    tracing::info!(address, id, "adopted");
    Ok(observed)
}

/// Records an object the stack does not declare (the original's customer-managed policy and its
/// attachment, its permission on the function rather than the alias) under `address`, read by
/// `id` and `recorded`, so that the next plan deletes it; its delete waits for the
/// creates and updates of the run, and for the deletes of what it lists in `depends_on`'s
/// reverse. Reading it is the only AWS call.
pub async fn adopt_for_removal(
    engine: &Engine,
    document: &mut state::StateDocument,
    address: &str,
    id: &str,
    depends_on: &[String],
    recorded: &Fields,
) -> Result<Observed, AdoptError> {
    let kind_name = address.split('.').next().unwrap_or(address);
    let observed = read_existing(engine, kind_name, address, id, recorded).await?;
    document.resources.insert(
        address.to_string(),
        state::ResourceState {
            address: address.to_string(),
            kind: kind_name.to_string(),
            id: observed.id.clone(),
            arn: observed.arn.clone(),
            attributes: serde_json::Value::Object(observed.fields.clone()),
            depends_on: depends_on.to_vec(),
        },
    );
    tracing::info!(address, id, "adopted for removal");
    Ok(observed)
}

/// Reads the object `id` that an adoption names: it must exist, since adopting is recording
/// what is there (`recorded` gives the kind the parent ids it reads by).
async fn read_existing(
    engine: &Engine,
    kind_name: &str,
    address: &str,
    id: &str,
    recorded: &Fields,
) -> Result<Observed, AdoptError> {
    let kind = engine.kind(kind_name)?;
    let read = kind.read(&engine.aws, id, recorded).await;
    let found = read.map_err(|source| AdoptError::Read {
        address: address.to_string(),
        id: id.to_string(),
        source,
    })?;
    found.ok_or_else(|| AdoptError::NotFound {
        address: address.to_string(),
        kind: kind_name.to_string(),
        id: id.to_string(),
    })
}
