//! Apply: run a plan's steps in dependency order, independent steps concurrently, writing the
//! state after every step.
//!
//! One coordinating loop owns the state; each step runs as its own task and reports back.
//! Before a step's AWS call its pending operation is written; after it, the resource (or its
//! absence) is. A step that fails stops new steps from starting, lets running ones finish and
//! be recorded, and the run ends with every failure and its AWS message.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use state::{PendingAction, ResourceState};
use tokio::task::JoinSet;

use super::refresh::{Refreshed, attributes};
use super::refs::{self, Outputs};
use super::writer::StateWriter;
use super::{Engine, EngineError, check_ownership, diff, graph};
use crate::plan::{Action, Plan, ResourceChange};
use crate::resource::{Desired, Fields, Observed, ResourceError, ResourceKind};

/// Where progress lines go (stderr in the CLI).
pub trait Progress: Send + Sync {
    fn started(&self, change: &ResourceChange);
    fn finished(&self, change: &ResourceChange, elapsed: Duration, id: Option<&str>);
    fn failed(&self, change: &ResourceChange, elapsed: Duration, error: &str);
}

/// What a finished step did.
enum Outcome {
    Present(Box<Observed>),
    Deleted,
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

    let changes = &plan.changes;
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

    loop {
        if failures.is_empty() {
            let ready: Vec<usize> = (0..changes.len())
                .filter(|&i| !started[i] && waits[i].iter().all(|&j| done[j]))
                .collect();
            for i in ready {
                started[i] = true;
                let change = &changes[i];
                match prepare(engine, plan, change, refreshed, &outputs, writer).await {
                    Ok(step) => {
                        progress.started(change);
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
        let Some(joined) = tasks.join_next().await else {
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
        match result {
            Ok(Outcome::Present(observed)) => {
                let observed = *observed;
                let declared = plan.desired.iter().find(|d| d.address == change.address);
                let resolved = declared.map(|d| refs::resolve_desired(d, &outputs));
                outputs.insert(change.address.clone(), observed.outputs.clone());
                writer
                    .record(state_entry(change, resolved.as_ref(), &observed))
                    .await?;
                progress.finished(change, elapsed, Some(&observed.id));
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
    stack_name: String,
}

async fn prepare(
    engine: &Engine,
    plan: &Plan,
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
        desired,
        recorded,
        current: refreshed.get(&change.address).cloned().flatten(),
        stack_name: engine.stack_name.clone(),
    })
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
                if let Some((id, fields)) = &self.recorded {
                    self.kind.delete(aws, id, fields).await.map_err(wrap)?;
                }
                Ok(Outcome::Deleted)
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
                    let changes = self.kind.diff(desired, current);
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
                None => self.create_or_adopt(engine, desired).await,
            },
            (Action::Create, Some(desired)) => self.create_or_adopt(engine, desired).await,
            (_, None) => Err(wrap(ResourceError::Invalid(
                "a step without a declaration".into(),
            ))),
        }
    }

    /// Creates, unless an object with this physical name exists: then adopt it (when its tags
    /// say it is ours) and bring it to the declaration.
    async fn create_or_adopt(
        &self,
        engine: &Engine,
        desired: &Desired,
    ) -> Result<Outcome, EngineError> {
        let aws = &engine.aws;
        let wrap = |source: ResourceError| EngineError::Resource {
            address: self.address.clone(),
            source,
        };
        let Some(existing) = self.kind.find_existing(aws, desired).await.map_err(wrap)? else {
            let created = self.kind.create(aws, desired).await.map_err(wrap)?;
            return Ok(Outcome::Present(Box::new(created)));
        };
        check_ownership(&self.stack_name, &engine.environment, desired, &existing)?;
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
            return Ok(Outcome::Present(Box::new(existing)));
        }
        let updated = self
            .kind
            .update(aws, desired, &existing, &changes)
            .await
            .map_err(wrap)?;
        Ok(Outcome::Present(Box::new(updated)))
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
