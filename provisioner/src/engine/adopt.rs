//! Finding what the state lost: objects with our physical names and our tags that a crashed run
//! created before it could record them.
//!
//! `apply` adopts such an object in its create step (find before create). `destroy` runs this
//! scan first, so "destroy leaves nothing behind" holds even after a crash between "AWS created
//! it" and "the state says so".

use super::refresh::Refreshed;
use super::refs::{self, Outputs};
use super::{Engine, EngineError, check_ownership, graph};
use crate::plan::{Action, ResourceChange};
use crate::resource::{Desired, Observed, ResourceKind};

/// Looks for every declared resource the state does not know, in dependency order (a route
/// can only be found once its API is). Adds what it finds to the state document and to
/// `refreshed`; returns the adopted addresses.
pub async fn adopt_unrecorded(
    engine: &Engine,
    desired: &[Desired],
    document: &mut state::StateDocument,
    refreshed: &mut Refreshed,
) -> Result<Vec<String>, EngineError> {
    let addresses: Vec<String> = desired.iter().map(|d| d.address.clone()).collect();
    let order = graph::topological_order(&addresses, |i| desired[i].depends_on.clone())
        .map_err(EngineError::Cycle)?;
    let mut outputs: Outputs = super::diff::refreshed_outputs(refreshed);
    let mut adopted = Vec::new();
    for i in order {
        let d = &desired[i];
        if document.resources.contains_key(&d.address) {
            continue;
        }
        let resolved = refs::resolve_desired(d, &outputs);
        if still_references(&resolved) {
            continue;
        }
        let kind = engine.kind(&d.kind)?;
        let found = find(engine, kind, &d.address, &resolved).await?;
        let Some(observed) = found else { continue };
        if check_ownership(engine, kind, &resolved, &observed).is_err() {
            tracing::warn!(address = %d.address, name = %d.name, "exists but is not ours; leaving it alone");
            continue;
        }
        tracing::info!(address = %d.address, id = %observed.id, "found an unrecorded object of this stack");
        let change = ResourceChange {
            address: d.address.clone(),
            kind: d.kind.clone(),
            action: Action::Create,
            name: d.name.clone(),
            fields: Vec::new(),
            reason: None,
            create_before_destroy: false,
        };
        document.resources.insert(
            d.address.clone(),
            super::apply::state_entry(&change, Some(&resolved), &observed),
        );
        outputs.insert(d.address.clone(), observed.outputs.clone());
        refreshed.insert(d.address.clone(), Some(observed));
        adopted.push(d.address.clone());
    }
    Ok(adopted)
}

/// Objects an interrupted run was creating under a name that is no longer declared (it was
/// renaming, and the stack file went back): the state has only their pending record, naming
/// them. Each one that exists and carries this stack's tags is taken into the state as a deposed
/// object of its address, so the plan deletes it instead of leaving it behind. Returns their
/// addresses.
pub async fn adopt_pending_orphans(
    engine: &Engine,
    desired: &[Desired],
    document: &mut state::StateDocument,
    refreshed: &mut Refreshed,
) -> Result<Vec<String>, EngineError> {
    let outputs: Outputs = super::diff::refreshed_outputs(refreshed);
    let mut adopted = Vec::new();
    let pending = document.pending.clone();
    for op in pending.iter().filter(|op| {
        matches!(
            op.action,
            state::PendingAction::Create | state::PendingAction::Replace
        )
    }) {
        let Some(declared) = desired.iter().find(|d| d.address == op.address) else {
            continue;
        };
        let recorded = document.resources.values().any(|r| {
            super::diff::base_address(&r.address) == op.address && r.id == op.physical_name
        });
        if declared.name == op.physical_name || recorded {
            continue;
        }
        let mut orphan = refs::resolve_desired(declared, &outputs);
        if still_references(&orphan) {
            continue;
        }
        orphan.name = op.physical_name.clone();
        let kind = engine.kind(&declared.kind)?;
        // A declaration whose fields name the object (an attachment's role) cannot be looked
        // up under another name this way; those are found through their parent's deletion.
        let found = find(engine, kind, &op.address, &orphan).await?;
        let Some(observed) = found else {
            continue;
        };
        if observed.id != op.physical_name && kind.declared_id(&orphan).is_some() {
            continue;
        }
        if check_ownership(engine, kind, &orphan, &observed).is_err() {
            continue;
        }
        let address = (0..)
            .map(|n| super::diff::deposed_address(&op.address, n))
            .find(|a| !document.resources.contains_key(a))
            .unwrap_or_default();
        tracing::info!(%address, id = %observed.id, "found what an interrupted run was creating");
        let change = ResourceChange {
            address: address.clone(),
            kind: declared.kind.clone(),
            action: Action::Delete,
            name: observed.id.clone(),
            fields: Vec::new(),
            reason: None,
            create_before_destroy: false,
        };
        document.resources.insert(
            address.clone(),
            super::apply::state_entry(&change, Some(&orphan), &observed),
        );
        refreshed.insert(address.clone(), Some(observed));
        adopted.push(address);
    }
    Ok(adopted)
}

/// Whether a resolved declaration still names an output nobody knows yet: it cannot be looked
/// up until what it refers to exists.
fn still_references(resolved: &Desired) -> bool {
    resolved
        .fields
        .values()
        .any(|v| refs::first_reference(v).is_some())
}

/// Looks for the object `resolved` would create, an error named by `address`.
async fn find(
    engine: &Engine,
    kind: &dyn ResourceKind,
    address: &str,
    resolved: &Desired,
) -> Result<Option<Observed>, EngineError> {
    let found = kind.find_existing(&engine.aws, resolved).await;
    found.map_err(|source| EngineError::Resource {
        address: address.to_string(),
        source,
    })
}
