//! The one trait every AWS resource kind implements, and the data it exchanges with the engine.
//!
//! The engine never names a kind: it asks each resource's kind to read, create, update, delete
//! and diff, through [`ResourceKind`]. Adding a kind is one new file in `kinds/` plus its
//! entry in the stack declaration (`desired.rs`).
//!
//! Fields are plain JSON ([`Fields`]) so that a plan is data: it can be diffed field by field,
//! printed as text, serialised as JSON and saved to a plan file without knowing any kind.
//! Each kind normalises what AWS reports into exactly the shape it declares (policy documents
//! parsed, lists sorted, defaults filled), so a plain JSON equality is a correct diff.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
pub use crate::kinds::typed::About;

/// A kind's own fields, as a JSON object.
pub type Fields = serde_json::Map<String, Value>;

/// Tags of an object, by key.
pub type Tags = BTreeMap<String, String>;

/// Tag keys every taggable resource carries, so anything the tool created can be found again.
pub const TAG_STACK: &str = "provisioner:stack";
/// See [`TAG_STACK`].
pub const TAG_ENVIRONMENT: &str = "provisioner:environment";

/// What the stack declares for one resource, with every reference already resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Desired {
    /// Stable address, `<kind>.<name>` (`lambda_function.api`).
    pub address: String,
    /// The kind's name (`lambda_function`), the key into the registry.
    pub kind: String,
    /// Physical name the resource is created under (`playground-dev-api`), also used to find
    /// it again when it exists but the state lost it (adoption).
    pub name: String,
    /// Declared values of the kind's fields. Only these are compared against AWS.
    pub fields: Fields,
    /// Tags (empty for kinds that cannot be tagged).
    pub tags: BTreeMap<String, String>,
    /// Addresses this resource depends on.
    pub depends_on: Vec<String>,
}

/// What AWS says about one resource, normalised into the kind's declared shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Physical id the kind's API addresses it by (name, id, or `role/policy-arn` pairs).
    pub id: String,
    pub arn: Option<String>,
    /// The kind's fields as they are now (same keys and shapes as [`Desired::fields`]).
    pub fields: Fields,
    /// Computed values other resources reference (`arn`, `invoke_arn`, `api_endpoint`, ...).
    pub outputs: Fields,
    /// Tags as they are now; `None` for kinds that cannot be tagged.
    pub tags: Option<BTreeMap<String, String>>,
    /// True when `tags` came from the tagging API's index, which can lag the object's own tags
    /// ([`crate::kinds::tag_index`]); never saved: a refresh confirms them before anything
    /// compares them.
    #[serde(skip)]
    pub tags_indexed: bool,
}

/// One field that differs between the declaration and AWS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    /// `None` when AWS has no value for it.
    pub old: Option<Value>,
    /// `None` when the declaration drops it.
    pub new: Option<Value>,
    /// True when the kind cannot change this field in place (the plan shows `-/+`).
    pub forces_replacement: bool,
}

/// Errors of one AWS call, kept typed so the engine can decide to retry or stop.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// AWS refused or failed; `code` is the AWS error code when there is one.
    #[error("{operation} failed: {message}")]
    Aws {
        operation: String,
        code: Option<String>,
        message: String,
    },
    /// The resource never reached a stable state in time.
    #[error("{0}")]
    Timeout(String),
    /// Declared or recorded fields the kind cannot work with (a bug or a hand-edited state).
    #[error("{0}")]
    Invalid(String),
    /// A release an alarm stopped: the alias serves the version before again.
    #[error("{0}")]
    RolledBack(String),
    /// Reading a local file (a zip) failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ResourceError {
    /// The same error again, for each of several objects one failed request answers (a listing
    /// read for all of an API's routes): an I/O error keeps its kind and message.
    pub fn repeated(&self) -> Self {
        match self {
            Self::Aws {
                operation,
                code,
                message,
            } => Self::Aws {
                operation: operation.clone(),
                code: code.clone(),
                message: message.clone(),
            },
            Self::Timeout(message) => Self::Timeout(message.clone()),
            Self::Invalid(message) => Self::Invalid(message.clone()),
            Self::RolledBack(message) => Self::RolledBack(message.clone()),
            Self::Io { path, source } => Self::Io {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
        }
    }
}

/// One AWS resource kind.
///
/// Implementations follow terraform-provider-aws' order in one file: CRUD, `find_*` (turns
/// not-found into `None`), waits, retry predicates. `delete` treats not-found as success.
#[async_trait]
pub trait ResourceKind: Send + Sync {
    /// The kind's name, as in addresses (`lambda_function`).
    fn kind(&self) -> &'static str;

    /// Fields that cannot be changed in place: a change to any of them replaces the resource.
    fn replace_on(&self) -> &'static [&'static str];

    /// Terraform's type for the kind and the id `import` takes.
    fn about(&self) -> About;

    /// The fields a declaration of this kind may hold.
    fn declared_fields(&self) -> &'static [&'static str];

    /// True when AWS assigns the object's id (there is no declared one).
    fn aws_assigns_id(&self) -> bool;

    /// Outputs an update of `changes` gives new values (a function's published version after
    /// a change of its code), unknown at plan time for an object to be updated so.
    fn renewed_by_update(&self, _changes: &[FieldChange]) -> &'static [&'static str] {
        &[]
    }

    /// Checks a declaration against the kind's fields before anything is done: a misspelt or
    /// mistyped field is an error at plan time, not half way through an apply.
    fn validate(&self, desired: &Desired) -> Result<(), ResourceError>;

    /// The deploy role's policy statements this kind needs in one environment.
    fn deploy_statements(&self, scope: &DeployScope<'_>) -> Vec<Value>;

    /// The id this kind reads an object by, from its Terraform state attributes.
    fn terraform_id(&self, attributes: &Value) -> Option<String>;

    /// The physical id the declaration gives its object, where the declaration decides it (a
    /// name, or `role/policy-arn`): the recorded object is the declared one only if its id is
    /// this, so a different one is another object and the change is a replacement. `None` for
    /// kinds whose id AWS assigns (an API, a route): their declared fields say the rest.
    fn declared_id(&self, desired: &Desired) -> Option<String>;

    /// Whether the replacement of `old` can exist beside it (AWS would not refuse the second
    /// one), so it is created before the old one is deleted and whatever depends on it never
    /// goes without it.
    fn coexists_with(&self, desired: &Desired, old: &Observed) -> bool;

    /// When deleting the object loses what no apply can bring back (a table's items): how to
    /// keep `old` instead (in `environment`'s stack file). A plan that would replace it is
    /// refused unless the operator allows data loss explicitly.
    fn holds_data(&self, old: &Observed, environment: &str) -> Option<String>;

    /// True when AWS itself creates this object under the declared name (Lambda creates the
    /// function's log group when it first logs): such an object is adopted without this stack's
    /// tags. Any other object with a declared name but without them belongs to someone else.
    fn aws_creates_it(&self) -> bool;

    /// Why the observed object refuses deletion (a table's deletion protection) and how to
    /// allow it, in `environment`: it is never planned for deletion or replacement.
    fn refuses_deletion(&self, observed: &Observed, environment: &str) -> Option<String>;

    /// Reads the real object by its physical id. `recorded` holds the fields the state recorded
    /// last (some kinds need a parent id from there). `Ok(None)` only when AWS says not found;
    /// any other error (access denied, throttling that outlived retries) is an `Err`.
    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError>;

    /// Reads several objects of this kind, one answer per `(id, recorded)` in order: a refresh
    /// reads every object the state knows, and a kind whose parent lists its children in one
    /// call (an API's routes) answers from that listing instead of one request per object.
    /// Default: one [`ResourceKind::read`] each, all at once.
    async fn read_many(
        &self,
        aws: &AwsClients,
        objects: &[(String, Fields)],
    ) -> Vec<Result<Option<Observed>, ResourceError>> {
        let reads = objects
            .iter()
            .map(|(id, recorded)| self.read(aws, id, recorded));
        futures::future::join_all(reads).await
    }

    /// Looks for an existing object that `desired` would create (same physical name), so a
    /// resource the state lost is adopted instead of duplicated.
    async fn find_existing(
        &self,
        aws: &AwsClients,
        desired: &Desired,
    ) -> Result<Option<Observed>, ResourceError>;

    /// Creates the resource and waits until it is usable.
    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError>;

    /// Changes `changes` (none of them forces replacement) in place and waits until stable.
    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError>;

    /// Deletes the resource; not-found is success.
    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        recorded: &Fields,
    ) -> Result<(), ResourceError>;

    /// Field-by-field differences between what is declared and what AWS has. Only declared
    /// fields are compared; tags are diffed as the field `tags` when the kind is taggable.
    fn diff(&self, desired: &Desired, observed: &Observed) -> Vec<FieldChange>;
}

/// A field's value, `None` for JSON `null`: an optional setting declared as unset and one AWS
/// does not report are both "no value", and a plan saved to a file reads back the same.
pub fn present(value: &Value) -> Option<Value> {
    (!value.is_null()).then(|| value.clone())
}

/// The default diff: JSON equality per declared field (a missing value equals `null`), plus
/// tags.
pub fn diff_fields(
    replace_on: &[&str],
    desired: &Desired,
    observed: &Observed,
) -> Vec<FieldChange> {
    let mut changes: Vec<FieldChange> = desired
        .fields
        .iter()
        .map(|(field, new)| (field, observed.fields.get(field.as_str()), new))
        .filter(|(_, old, new)| old.unwrap_or(&Value::Null) != *new)
        .map(|(field, old, new)| FieldChange {
            field: field.clone(),
            old: old.and_then(present),
            new: present(new),
            forces_replacement: replace_on.contains(&field.as_str()),
        })
        .collect();
    if let Some(tags) = &observed.tags
        && tags != &desired.tags
    {
        changes.push(FieldChange {
            field: "tags".to_string(),
            old: Some(serde_json::to_value(tags).unwrap_or(Value::Null)),
            new: Some(serde_json::to_value(&desired.tags).unwrap_or(Value::Null)),
            forces_replacement: false,
        });
    }
    changes
}
