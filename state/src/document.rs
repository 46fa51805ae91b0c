//! The state document: a versioned JSON format of our own (never Terraform's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format version this build writes. Older versions are upgraded on read; newer ones are
/// refused (a newer tool wrote them).
pub const CURRENT_FORMAT_VERSION: u32 = 2;

/// Everything the provisioner knows about one environment of one stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDocument {
    pub format_version: u32,
    /// Goes up by exactly one on every write.
    pub serial: u64,
    /// Fixed when the state is first created; a write with another lineage is refused.
    pub lineage: String,
    pub stack: String,
    pub environment: String,
    /// The AWS region the resources live in. `None` only in a document written before format 2,
    /// until its next write records it.
    #[serde(default)]
    pub region: Option<String>,
    /// The AWS account the resources live in; `None` as for [`StateDocument::region`].
    #[serde(default)]
    pub account_id: Option<String>,
    /// Version of the tool that last wrote this document.
    pub tool_version: String,
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Keyed by address (`lambda_function.api`).
    pub resources: BTreeMap<String, ResourceState>,
    /// Operations started but not yet confirmed (recorded before the AWS call is made).
    pub pending: Vec<PendingOperation>,
}

/// One resource the provisioner manages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// Stable address, `<kind>.<name>`.
    pub address: String,
    /// Resource kind (`lambda_function`, `dynamodb_table`, ...).
    pub kind: String,
    /// Physical id (name, id or ARN, whatever the kind's API addresses it by).
    pub id: String,
    /// ARN when the resource has one.
    pub arn: Option<String>,
    /// What the provisioner needs to diff and delete it: the kind's own fields.
    pub attributes: serde_json::Value,
    /// Addresses this resource depends on (so destroy runs in reverse order).
    pub depends_on: Vec<String>,
}

/// What a pending operation was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingAction {
    Create,
    Update,
    Replace,
    Delete,
}

/// Work in flight: written before the AWS call, removed once its result is in the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOperation {
    pub address: String,
    pub kind: String,
    pub action: PendingAction,
    /// The name/id the resource was (or will be) created under, so it can be found again.
    pub physical_name: String,
    /// RFC 3339 time the operation started.
    pub started_at: String,
}

impl StateDocument {
    /// A fresh, empty state (serial 0, new lineage) for one environment of a stack.
    pub fn new(stack: &str, environment: &str) -> Self {
        Self {
            format_version: CURRENT_FORMAT_VERSION,
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            stack: stack.to_string(),
            environment: environment.to_string(),
            region: None,
            account_id: None,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            outputs: BTreeMap::new(),
            resources: BTreeMap::new(),
            pending: Vec::new(),
        }
    }
}

/// Whom a state document belongs to: the stack, environment, region and account a command
/// works on. A document recorded for any other is refused, so a state copied to another
/// environment's key (or a `[backend]` pointing at another stack's state) never makes the
/// provisioner act on that environment's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub stack: String,
    pub environment: String,
    pub region: String,
    pub account_id: String,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stack '{}', environment '{}', region {}, account {}",
            self.stack, self.environment, self.region, self.account_id
        )
    }
}

impl StateDocument {
    /// A fresh, empty state owned by `owner`.
    pub fn owned_by(owner: &Owner) -> Self {
        let mut document = Self::new(&owner.stack, &owner.environment);
        document.region = Some(owner.region.clone());
        document.account_id = Some(owner.account_id.clone());
        document
    }

    /// Who this document says it belongs to, as text (unknown parts of an old document shown as
    /// `?`).
    pub fn owner_text(&self) -> String {
        format!(
            "stack '{}', environment '{}', region {}, account {}",
            self.stack,
            self.environment,
            self.region.as_deref().unwrap_or("?"),
            self.account_id.as_deref().unwrap_or("?")
        )
    }

    /// True when every recorded part of the owner is `owner`'s. A document written before
    /// format 2 records no region or account: those parts are not compared (the next write
    /// records them, see [`StateDocument::claim`]).
    pub fn belongs_to(&self, owner: &Owner) -> bool {
        self.stack == owner.stack
            && self.environment == owner.environment
            && self.region.as_deref().is_none_or(|r| r == owner.region)
            && self
                .account_id
                .as_deref()
                .is_none_or(|a| a == owner.account_id)
    }

    /// Records the region and account a document of an older format did not have.
    pub fn claim(&mut self, owner: &Owner) {
        self.region.get_or_insert_with(|| owner.region.clone());
        self.account_id
            .get_or_insert_with(|| owner.account_id.clone());
    }
}
