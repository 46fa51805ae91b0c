//! Planning: the declaration against the refreshed state, resource by resource, field by field.
//!
//! Pure: no AWS call happens here (kinds only diff), so a plan is reproducible from its
//! inputs and unit-testable. Resources are visited in dependency order so that a resource to be
//! created or replaced makes its dependents' references "(known after apply)".

use std::collections::BTreeSet;

use serde_json::Value;

use super::refresh::Refreshed;
use super::refs::{self, Outputs};
use super::{Engine, EngineError, check_recorded_ownership, graph};
use crate::plan::{Action, PLAN_FORMAT_VERSION, Plan, ResourceChange};
use crate::resource::{Desired, FieldChange, Observed, ResourceKind, present};

/// What differs between a declaration and the object the state records for it: first its
/// identity (a declared id other than the recorded one means another object, so `name` forces
/// replacement), then the kind's own field-by-field diff.
pub fn field_changes(
    kind: &dyn ResourceKind,
    desired: &Desired,
    observed: &Observed,
) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    if let Some(id) = kind.declared_id(desired)
        && id != observed.id
    {
        changes.push(FieldChange {
            field: "name".to_string(),
            old: Some(Value::String(observed.id.clone())),
            new: Some(Value::String(id)),
            forces_replacement: true,
        });
    }
    changes.extend(kind.diff(desired, observed));
    changes
}

/// Where the plan comes from: the declaration, the state and what refresh saw.
pub struct PlanInput<'a> {
    pub desired: &'a [Desired],
    pub document: &'a state::StateDocument,
    /// Whether the state existed at all (a fresh environment has no lineage yet).
    pub state_exists: bool,
    pub refreshed: &'a Refreshed,
    pub destroy: bool,
    pub stack_hash: String,
    /// Plan replacements of objects that hold data (a table) instead of refusing them.
    pub allow_data_loss: bool,
    /// Declared addresses to replace although nothing forces it (`--replace`).
    pub replace: &'a [String],
}

/// Outputs of every resource refresh found.
pub fn refreshed_outputs(refreshed: &Refreshed) -> Outputs {
    refreshed
        .iter()
        .filter_map(|(address, observed)| {
            observed
                .as_ref()
                .map(|o| (address.clone(), o.outputs.clone()))
        })
        .collect()
}

/// Computes the plan.
pub fn make_plan(engine: &Engine, input: &PlanInput<'_>) -> Result<Plan, EngineError> {
    let desired: &[Desired] = if input.destroy { &[] } else { input.desired };
    let mut outputs = refreshed_outputs(input.refreshed);
    let mut changes = Vec::new();

    // Every declaration fits its kind before anything else is looked at.
    for d in desired {
        engine
            .kind(&d.kind)?
            .validate(d)
            .map_err(|source| EngineError::Resource {
                address: d.address.clone(),
                source,
            })?;
    }
    let addresses: Vec<String> = desired.iter().map(|d| d.address.clone()).collect();
    check_replace_requests(input.replace, &addresses)?;
    let order = graph::topological_order(&addresses, |i| desired[i].depends_on.clone())
        .map_err(EngineError::Cycle)?;
    for i in order {
        let d = &desired[i];
        let kind = engine.kind(&d.kind)?;
        let in_state = input.document.resources.get(&d.address);
        let observed = input.refreshed.get(&d.address).and_then(Option::as_ref);
        let resolved = refs::resolve_desired(d, &outputs);
        let change = match (in_state, observed) {
            (Some(_), Some(observed)) => {
                check_recorded_ownership(engine, &d.address, observed)?;
                let fields = field_changes(kind, &resolved, observed);
                let requested = input.replace.contains(&d.address);
                if fields.is_empty() && !requested {
                    None
                } else if requested || fields.iter().any(|f| f.forces_replacement) {
                    refuse_if_protected(engine, kind, &d.address, observed)?;
                    let forced = fields.iter().any(|f| f.forces_replacement);
                    if let Some(keep) = kind.holds_data(observed, &engine.environment)
                        && !input.allow_data_loss
                    {
                        if !forced {
                            return Err(EngineError::ReplaceLosesData {
                                address: d.address.clone(),
                                name: observed.id.clone(),
                            });
                        }
                        return Err(EngineError::DataLoss {
                            address: d.address.clone(),
                            old: observed.id.clone(),
                            new: d.name.clone(),
                            keep,
                        });
                    }
                    Some(ResourceChange {
                        address: d.address.clone(),
                        kind: d.kind.clone(),
                        action: Action::Replace,
                        name: d.name.clone(),
                        fields,
                        reason: None,
                        create_before_destroy: kind.coexists_with(&resolved, observed),
                    })
                } else {
                    Some(ResourceChange {
                        address: d.address.clone(),
                        kind: d.kind.clone(),
                        action: Action::Update,
                        name: d.name.clone(),
                        fields,
                        reason: None,
                        create_before_destroy: false,
                    })
                }
            }
            (in_state, _) => Some(ResourceChange {
                address: d.address.clone(),
                kind: d.kind.clone(),
                action: Action::Create,
                name: d.name.clone(),
                fields: creation_fields(&resolved),
                reason: in_state
                    .map(|_| "it no longer exists (deleted outside the provisioner)".to_string()),
                create_before_destroy: false,
            }),
        };
        if let Some(change) = change {
            if matches!(change.action, Action::Create | Action::Replace) {
                outputs.remove(&d.address);
            } else if let Some(known) = outputs.get_mut(&d.address) {
                let renewed = kind.renewed_by_update(&change.fields);
                known.retain(|output, _| !renewed.contains(&output.as_str()));
            }
            changes.push(change);
        }
    }

    // Whatever the state knows that is no longer declared goes, dependents first.
    let declared: BTreeSet<&str> = desired.iter().map(|d| d.address.as_str()).collect();
    let leftovers: Vec<&state::ResourceState> = input
        .document
        .resources
        .values()
        .filter(|r| !declared.contains(r.address.as_str()))
        .collect();
    let leftover_addresses: Vec<String> = leftovers.iter().map(|r| r.address.clone()).collect();
    let order = graph::topological_order(&leftover_addresses, |i| leftovers[i].depends_on.clone())
        .map_err(EngineError::Cycle)?;
    for i in order.into_iter().rev() {
        let resource = leftovers[i];
        // Gone already: apply only drops it from the state.
        let Some(observed) = input
            .refreshed
            .get(&resource.address)
            .and_then(Option::as_ref)
        else {
            continue;
        };
        let kind = engine.kind(&resource.kind)?;
        check_recorded_ownership(engine, &resource.address, observed)?;
        refuse_if_protected(engine, kind, &resource.address, observed)?;
        changes.push(ResourceChange {
            address: resource.address.clone(),
            kind: resource.kind.clone(),
            action: Action::Delete,
            name: resource.id.clone(),
            fields: Vec::new(),
            reason: deposed_reason(&resource.address),
            create_before_destroy: false,
        });
    }

    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        environment: engine.environment.clone(),
        stack_hash: input.stack_hash.clone(),
        state_lineage: input.state_exists.then(|| input.document.lineage.clone()),
        state_serial: input.state_exists.then_some(input.document.serial),
        destroy: input.destroy,
        allow_data_loss: input.allow_data_loss,
        replace: input.replace.to_vec(),
        changes,
        desired: input.desired.to_vec(),
        drift: super::drift::drift(input.document, input.refreshed, desired),
    })
}

/// Every address `--replace` names must be one the stack declares: a typo would otherwise
/// replace nothing, silently.
fn check_replace_requests(requested: &[String], declared: &[String]) -> Result<(), EngineError> {
    let Some(unknown) = requested.iter().find(|r| !declared.contains(r)) else {
        return Ok(());
    };
    let mut nearest: Vec<&String> = declared.iter().collect();
    nearest.sort_by(|a, b| {
        strsim::jaro_winkler(b, unknown).total_cmp(&strsim::jaro_winkler(a, unknown))
    });
    Err(EngineError::UnknownAddress {
        address: unknown.clone(),
        nearest: nearest
            .iter()
            .take(3)
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// An object that refuses deletion (deletion protection) is never planned for deletion or
/// replacement.
fn refuse_if_protected(
    engine: &Engine,
    kind: &dyn ResourceKind,
    address: &str,
    observed: &Observed,
) -> Result<(), EngineError> {
    match kind.refuses_deletion(observed, &engine.environment) {
        Some(reason) => Err(EngineError::DeletionProtected {
            address: address.to_string(),
            name: observed.id.clone(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The old object of a create-before-destroy replacement waits in the state under
/// `<address>#deposed-<n>` until it is deleted, so a crash in between never loses track of it.
pub const DEPOSED_MARK: &str = "#deposed-";

/// The address the `index`-th deposed object of `address` is recorded under.
pub fn deposed_address(address: &str, index: usize) -> String {
    format!("{address}{DEPOSED_MARK}{index}")
}

/// The declared address a recorded address stands for (itself, or the one it was deposed from).
pub fn base_address(address: &str) -> &str {
    address
        .split_once(DEPOSED_MARK)
        .map_or(address, |(base, _)| base)
}

fn deposed_reason(address: &str) -> Option<String> {
    (base_address(address) != address).then(|| {
        format!(
            "the object {} replaced; deleted once nothing uses it",
            base_address(address)
        )
    })
}

/// A create shows every declared field that has a value (and the tags) as new.
fn creation_fields(desired: &Desired) -> Vec<FieldChange> {
    let mut fields: Vec<FieldChange> = desired
        .fields
        .iter()
        .filter_map(|(field, value)| {
            Some(FieldChange {
                field: field.clone(),
                old: None,
                new: Some(present(value)?),
                forces_replacement: false,
            })
        })
        .collect();
    if !desired.tags.is_empty() {
        fields.push(FieldChange {
            field: "tags".into(),
            old: None,
            new: serde_json::to_value(&desired.tags).ok(),
            forces_replacement: false,
        });
    }
    fields
}

/// Every dependency edge the plan's steps must respect: the declaration's and the state's.
pub fn dependency_map(
    desired: &[Desired],
    document: &state::StateDocument,
) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut map: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for d in desired {
        map.entry(d.address.clone())
            .or_default()
            .extend(d.depends_on.iter().cloned());
    }
    for r in document.resources.values() {
        map.entry(r.address.clone())
            .or_default()
            .extend(r.depends_on.iter().cloned());
    }
    map
}
