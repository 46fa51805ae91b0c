//! Finding what the state lost: objects with our physical names and our tags that a crashed run
//! created before it could record them.
//!
//! `apply` adopts such an object in its create step (find before create). `destroy` runs this
//! scan first, so "destroy leaves nothing behind" holds even after a crash between "AWS created
//! it" and "the state says so".

use super::refresh::Refreshed;
use super::refs::{self, Outputs};
use super::{Engine, EngineError, check_ownership, graph};
use crate::kind::Desired;
use crate::plan::{Action, ResourceChange};

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
        if resolved
            .fields
            .values()
            .any(|v| refs::first_reference(v).is_some())
        {
            continue;
        }
        let kind = engine.kind(&d.kind)?;
        let found = kind
            .find_existing(&engine.aws, &resolved)
            .await
            .map_err(|source| EngineError::Resource {
                address: d.address.clone(),
                source,
            })?;
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
