//! Apply: run a plan's steps in dependency order, independent steps concurrently, writing the
//! state after every step.
//!
//! One coordinating loop owns the state; each step runs as its own task and reports back.
//! Before a step's AWS call its pending operation is written; after it, the resource (or its
//! absence) is. A step that fails stops new steps from starting, lets running ones finish and
//! be recorded, and the run ends with every failure and its AWS message.
//!
//! A create-before-destroy replacement is two steps: the old object is first moved aside in the
//! state (deposed, `<address>#deposed-<n>`), the new one is created under the address, and the
//! deposed one is deleted with the other deletes, once everything that used it has moved on.
//! Every delete waits for every create and update, so nothing loses a permission or a target
//! while its replacement is being made.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use state::{PendingAction, ResourceState};
use tokio::task::JoinSet;

use super::progress::Heartbeat;
pub use super::progress::Progress;
use super::refresh::{Refreshed, attributes};
use super::refs::{self, Outputs};
use super::writer::StateWriter;
use super::{Engine, EngineError, check_ownership, diff, graph};
use crate::plan::{Action, Plan, ResourceChange};
use crate::resource::{Desired, Fields, Observed, ResourceError, ResourceKind};

/// How long a stopped run waits for the steps in flight to finish before it leaves them to the
/// next run (a second signal stops the wait at once).
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(20);

/// What a finished step did.
enum Outcome {
    Present(Box<Observed>),
    Adopted(Box<Observed>),
    Deleted,
}

/// The plan's changes as steps: each create-before-destroy replacement also gets the delete of
/// its deposed object, under the address it will be deposed to.
fn steps_of(plan: &Plan, document: &state::StateDocument) -> Vec<ResourceChange> {
    let mut steps = plan.changes.clone();
    for change in &plan.changes {
        if change.action != Action::Replace || !change.create_before_destroy {
            continue;
        }
        let Some(recorded) = document.resources.get(&change.address) else {
            continue;
        };
        let address = (0..)
            .map(|n| diff::deposed_address(&change.address, n))
            .find(|a| !document.resources.contains_key(a) && !steps.iter().any(|s| &s.address == a))
            .unwrap_or_default();
        steps.push(ResourceChange {
            address,
            kind: change.kind.clone(),
            action: Action::Delete,
            name: recorded.id.clone(),
            fields: Vec::new(),
            reason: Some(format!("replaced by the new {}", change.address)),
            create_before_destroy: false,
        });
    }
    steps
}

/// Executes `plan` against the refreshed world; returns every resource's outputs afterwards.
pub async fn execute(
    engine: &Engine,
    plan: &Plan,
    refreshed: &Refreshed,
    writer: &mut StateWriter<'_>,
    progress: &dyn Progress,
) -> Result<Outputs, EngineError> {
    let mut outputs = diff::refreshed_outputs(refreshed);

    // Resources that vanished are dropped from the state up front: they need no step.
    let vanished: Vec<String> = refreshed
        .iter()
        .filter(|(_, o)| o.is_none())
        .map(|(a, _)| a.clone())
        .collect();
    if !vanished.is_empty() {
        for address in &vanished {
            tracing::info!(%address, "no longer exists; dropping it from the state");
            writer.document.resources.remove(address);
        }
        writer.save().await?;
    }

    let changes = &steps_of(plan, &writer.document);
    let depends_on = diff::dependency_map(&plan.desired, &writer.document);
    let waits = graph::waits(changes, &depends_on);
    graph::order_from_edges(&waits).map_err(|cycle| {
        EngineError::Cycle(
            cycle
                .iter()
                .map(|&i| changes[i].address.clone())
                .collect::<Vec<_>>()
                .join(", "),
        )
    })?;

    let mut started = vec![false; changes.len()];
    let mut done = vec![false; changes.len()];
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut tasks: JoinSet<(usize, Duration, Result<Outcome, EngineError>)> = JoinSet::new();
    let interrupt = &engine.interrupt;
    let mut in_flight_deadline: Option<Instant> = None;
    let mut heartbeat = Heartbeat::default();

    loop {
        if failures.is_empty() && interrupt.signal().is_none() {
            let ready: Vec<usize> = (0..changes.len())
                .filter(|&i| !started[i] && waits[i].iter().all(|&j| done[j]))
                .collect();
            for i in ready {
                started[i] = true;
                let change = &changes[i];
                match prepare(engine, plan, changes, change, refreshed, &outputs, writer).await {
                    Ok(step) => {
                        progress.started(change);
                        heartbeat.started(i);
                        let engine = engine.clone();
                        tasks.spawn(async move {
                            let clock = Instant::now();
                            let result = step.run(&engine).await;
                            (i, clock.elapsed(), result)
                        });
                    }
                    Err(error) => {
                        progress.failed(change, Duration::ZERO, &error.to_string());
                        failures.push((change.address.clone(), error.to_string()));
                        break;
                    }
                }
            }
        }
        let joined = if interrupt.signal().is_some() {
            // Stopping: let the steps in flight finish, within a bound, unless asked again.
            let deadline =
                *in_flight_deadline.get_or_insert_with(|| Instant::now() + IN_FLIGHT_GRACE);
            tokio::select! {
                joined = tasks.join_next() => joined,
                _ = tokio::time::sleep_until(deadline.into()) => break,
                _ = interrupt.raised(2) => break,
                beat = heartbeat.beat() => {
                    beat.into_iter().for_each(|(i, t)| progress.still_running(&changes[i], t));
                    continue;
                }
            }
        } else {
            tokio::select! {
                joined = tasks.join_next() => joined,
                _ = interrupt.raised(1) => continue,
                beat = heartbeat.beat() => {
                    beat.into_iter().for_each(|(i, t)| progress.still_running(&changes[i], t));
                    continue;
                }
            }
        };
        let Some(joined) = joined else {
            break;
        };
        let (i, elapsed, result) = match joined {
            Ok(r) => r,
            Err(join_error) => {
                failures.push(("(task)".to_string(), join_error.to_string()));
                continue;
            }
        };
        let change = &changes[i];
        heartbeat.ended(i);
        match result {
            Ok(outcome @ (Outcome::Present(_) | Outcome::Adopted(_))) => {
                let (observed, adopted) = match outcome {
                    Outcome::Adopted(observed) => (*observed, true),
                    Outcome::Present(observed) => (*observed, false),
                    Outcome::Deleted => unreachable!("matched above"),
                };
                let declared = plan.desired.iter().find(|d| d.address == change.address);
                let resolved = declared.map(|d| refs::resolve_desired(d, &outputs));
                outputs.insert(change.address.clone(), observed.outputs.clone());
                writer
                    .record(state_entry(change, resolved.as_ref(), &observed))
                    .await?;
                if adopted {
                    progress.adopted(change, elapsed, &observed.id);
                } else {
                    progress.finished(change, elapsed, Some(&observed.id));
                }
                done[i] = true;
            }
            Ok(Outcome::Deleted) => {
                outputs.remove(&change.address);
                writer.forget(&change.address).await?;
                progress.finished(change, elapsed, None);
                done[i] = true;
            }
            Err(error) => {
                progress.failed(change, elapsed, &error.to_string());
                failures.push((change.address.clone(), error.to_string()));
            }
        }
    }

    if let Some(signal) = interrupt.signal() {
        // What is still running is abandoned with its pending record in the state.
        let abandoned: Vec<String> = (0..changes.len())
            .filter(|&i| started[i] && !done[i])
            .map(|i| changes[i].address.clone())
            .filter(|a| !failures.iter().any(|(f, _)| f == a))
            .collect();
        tasks.abort_all();
        writer.save().await?;
        if failures.is_empty() {
            return Err(EngineError::Interrupted {
                signal,
                abandoned,
                not_started: started.iter().filter(|s| !**s).count(),
            });
        }
    }
    if !failures.is_empty() {
        let skipped: Vec<&str> = (0..changes.len())
            .filter(|&i| !started[i])
            .map(|i| changes[i].address.as_str())
            .collect();
        if !skipped.is_empty() {
            tracing::warn!(?skipped, "not started because an earlier step failed");
        }
        return Err(EngineError::Failed(failures));
    }
    writer.document.pending.clear();
    writer.save().await?;
    Ok(outputs)
}

/// One step, with everything it needs to run on its own task.
struct Step {
    kind: &'static dyn ResourceKind,
    address: String,
    action: Action,
    /// The declaration with references resolved (not for deletes).
    desired: Option<Desired>,
    /// What the state recorded (id and fields), for updates, replaces and deletes.
    recorded: Option<(String, Fields)>,
    /// What refresh saw, for updates.
    current: Option<Observed>,
    /// A replacement whose new object is created while the old one (deposed) still exists.
    create_before_destroy: bool,
    /// For a deposed object: the id of the object now recorded at its address, which its
    /// delete must never touch.
    live_id: Option<String>,
}

async fn prepare(
    engine: &Engine,
    plan: &Plan,
    steps: &[ResourceChange],
    change: &ResourceChange,
    refreshed: &Refreshed,
    outputs: &Outputs,
    writer: &mut StateWriter<'_>,
) -> Result<Step, EngineError> {
    let kind = engine.kind(&change.kind)?;
    let desired = match change.action {
        Action::Delete => None,
        _ => {
            let declared = plan
                .desired
                .iter()
                .find(|d| d.address == change.address)
                .ok_or_else(|| EngineError::Resource {
                    address: change.address.clone(),
                    source: ResourceError::Invalid(
                        "the plan changes a resource it does not declare".into(),
                    ),
                })?;
            let resolved = refs::resolve_desired(declared, outputs);
            if let Some(reference) = resolved.fields.values().find_map(refs::first_reference) {
                let target = refs::split(&reference)
                    .map(|(a, _)| a.to_string())
                    .unwrap_or_default();
                return Err(EngineError::UnresolvedReference {
                    address: change.address.clone(),
                    reference,
                    target,
                });
            }
            Some(resolved)
        }
    };
    let recorded = writer
        .document
        .resources
        .get(&change.address)
        .map(|r| (r.id.clone(), attributes(r)));
    let current = refreshed.get(&change.address).cloned().flatten();
    // The plan decided create-before-destroy with some values unknown; now that they are
    // resolved, the new object must really be another one than the old (a policy of a role
    // re-created under the same name is the same policy), or the old one goes first.
    let create_before_destroy = change.action == Action::Replace
        && change.create_before_destroy
        && match (&desired, &current) {
            (Some(desired), Some(old)) => kind.coexists_with(desired, old),
            _ => true,
        };
    if create_before_destroy {
        depose(writer, change, steps).await?;
    }
    let pending = match change.action {
        Action::Create => PendingAction::Create,
        Action::Update => PendingAction::Update,
        Action::Replace => PendingAction::Replace,
        Action::Delete => PendingAction::Delete,
    };
    let physical = desired
        .as_ref()
        .map(|d| d.name.clone())
        .or_else(|| recorded.as_ref().map(|(id, _)| id.clone()))
        .unwrap_or_else(|| change.name.clone());
    writer
        .begin(&change.address, &change.kind, pending, &physical)
        .await?;
    Ok(Step {
        kind,
        address: change.address.clone(),
        action: change.action,
        create_before_destroy,
        desired,
        recorded,
        current,
        live_id: (change.address != diff::base_address(&change.address))
            .then(|| {
                writer
                    .document
                    .resources
                    .get(diff::base_address(&change.address))
            })
            .flatten()
            .map(|r| r.id.clone()),
    })
}

/// Moves the recorded object of `change` to the deposed address its delete step was planned
/// under, and writes the state, before the replacement is created.
async fn depose(
    writer: &mut StateWriter<'_>,
    change: &ResourceChange,
    steps: &[ResourceChange],
) -> Result<(), EngineError> {
    let Some(mut old) = writer.document.resources.remove(&change.address) else {
        return Ok(());
    };
    let deposed = steps
        .iter()
        .find(|s| {
            s.action == Action::Delete
                && diff::base_address(&s.address) == change.address
                && s.address != change.address
                && s.name == old.id
        })
        .map(|s| s.address.clone())
        .unwrap_or_else(|| diff::deposed_address(&change.address, 0));
    tracing::info!(address = %change.address, id = %old.id, deposed = %deposed, "keeping the old object until its replacement is in use");
    old.address = deposed.clone();
    writer.document.resources.insert(deposed, old);
    writer.save().await
}

impl Step {
    async fn run(self, engine: &Engine) -> Result<Outcome, EngineError> {
        let aws = &engine.aws;
        let wrap = |source: ResourceError| EngineError::Resource {
            address: self.address.clone(),
            source,
        };
        match (self.action, &self.desired) {
            (Action::Delete, _) => {
                if let Some((id, fields)) = &self.recorded
                    && Some(id) != self.live_id.as_ref()
                {
                    self.kind.delete(aws, id, fields).await.map_err(wrap)?;
                }
                Ok(Outcome::Deleted)
            }
            (Action::Replace, Some(desired)) if self.create_before_destroy => {
                let old_id = self.recorded.as_ref().map(|(id, _)| id.as_str());
                self.create_or_adopt(engine, desired, old_id).await
            }
            (Action::Replace, Some(desired)) => {
                if let Some((id, fields)) = &self.recorded {
                    self.kind.delete(aws, id, fields).await.map_err(wrap)?;
                }
                let created = self.kind.create(aws, desired).await.map_err(wrap)?;
                Ok(Outcome::Present(Box::new(created)))
            }
            (Action::Update, Some(desired)) => match &self.current {
                Some(current) => {
                    let changes = diff::field_changes(self.kind, desired, current);
                    if changes.is_empty() {
                        return Ok(Outcome::Present(Box::new(current.clone())));
                    }
                    if let Some(forcing) = changes.iter().find(|c| c.forces_replacement) {
                        return Err(wrap(ResourceError::Invalid(format!(
                            "{} changed since the plan and now needs a replacement; run plan again",
                            forcing.field
                        ))));
                    }
                    let updated = self
                        .kind
                        .update(aws, desired, current, &changes)
                        .await
                        .map_err(wrap)?;
                    Ok(Outcome::Present(Box::new(updated)))
                }
                None => self.create_or_adopt(engine, desired, None).await,
            },
            (Action::Create, Some(desired)) => self.create_or_adopt(engine, desired, None).await,
            (_, None) => Err(wrap(ResourceError::Invalid(
                "a step without a declaration".into(),
            ))),
        }
    }

    /// Creates, unless an object with this physical name exists: then adopt it (when its tags
    /// say it is this stack's) and bring it to the declaration. `replacing` is the id of the
    /// object being replaced, which is never taken for its own replacement.
    async fn create_or_adopt(
        &self,
        engine: &Engine,
        desired: &Desired,
        replacing: Option<&str>,
    ) -> Result<Outcome, EngineError> {
        let aws = &engine.aws;
        let wrap = |source: ResourceError| EngineError::Resource {
            address: self.address.clone(),
            source,
        };
        let found = self.kind.find_existing(aws, desired).await.map_err(wrap)?;
        let Some(existing) = found.filter(|e| Some(e.id.as_str()) != replacing) else {
            let created = self.kind.create(aws, desired).await.map_err(wrap)?;
            return Ok(Outcome::Present(Box::new(created)));
        };
        check_ownership(engine, self.kind, desired, &existing)?;
        tracing::info!(address = %self.address, id = %existing.id, "adopting the existing object");
        let changes = self.kind.diff(desired, &existing);
        let forcing: Vec<&str> = changes
            .iter()
            .filter(|c| c.forces_replacement)
            .map(|c| c.field.as_str())
            .collect();
        if !forcing.is_empty() {
            return Err(EngineError::Incompatible {
                address: self.address.clone(),
                name: desired.name.clone(),
                fields: forcing.join(", "),
            });
        }
        if changes.is_empty() {
            return Ok(Outcome::Adopted(Box::new(existing)));
        }
        let updated = self
            .kind
            .update(aws, desired, &existing, &changes)
            .await
            .map_err(wrap)?;
        Ok(Outcome::Adopted(Box::new(updated)))
    }
}

/// The state entry of a resource as it is after a step: the declaration's fields overlaid with
/// what AWS reported, so a later read or delete has every id it needs.
pub(crate) fn state_entry(
    change: &ResourceChange,
    resolved: Option<&Desired>,
    observed: &Observed,
) -> ResourceState {
    let mut fields: Fields = resolved.map(|d| d.fields.clone()).unwrap_or_default();
    for (k, v) in &observed.fields {
        fields.insert(k.clone(), v.clone());
    }
    let depends_on: BTreeSet<String> = resolved
        .map(|d| d.depends_on.iter().cloned().collect())
        .unwrap_or_default();
    ResourceState {
        address: change.address.clone(),
        kind: change.kind.clone(),
        id: observed.id.clone(),
        arn: observed.arn.clone(),
        attributes: Value::Object(fields),
        depends_on: depends_on.into_iter().collect(),
    }
}
