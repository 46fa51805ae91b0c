//! The commands' work as library functions: `plan`, `apply`, `destroy` and `import` of one
//! environment, each under the environment's lock ([`lock::locked`]), so the command line only
//! parses, asks and prints (the cargo-lambda shape), and tests can drive a whole run.
//!
//! The order of a run: lock → state (refusing another owner's) → refresh (the code zips are
//! hashed beside these three, see [`declared`]) → find what an interrupted run left (pending
//! creates under old names; for destroy, this stack's objects the state lost) → plan → approval
//! → apply in dependency order → outputs → unlock. Plan is read-only; a stop asked for (SIGINT,
//! SIGTERM) before the first step ends the run unchanged.

pub mod adoption;
pub mod declared;
pub mod destroy;
pub mod lock;
pub mod release;
pub mod saved;

pub use adoption::{Migrated, import, migrate};
pub use declared::Declared;
pub use destroy::destroy;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::engine::apply::{self, Progress};
use crate::engine::refresh::{Refreshed, refresh};
use crate::engine::writer::StateWriter;
use crate::engine::{Engine, EngineError, adopt, diff};
use crate::migrate::AdoptError;
use crate::output;
use crate::plan::Plan;
use crate::resource::Desired;
use crate::stack::ResolvedStack;

/// One environment, ready to work on.
pub struct Session {
    pub resolved: ResolvedStack,
    pub engine: Engine,
    pub backend: state::Backend,
    /// How long to wait for another run's lock.
    pub lock_timeout: std::time::Duration,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    State(#[from] Box<state::StateError>),
    #[error(transparent)]
    Adopt(#[from] AdoptError),
    /// A code zip the stack names could not be read.
    #[error(transparent)]
    Package(#[from] crate::package::PackageError),
    /// The run refused to go on, with what to do (a stale saved plan, a declined approval).
    #[error("{0}")]
    Refused(String),
    #[error("releasing the state lock: {0}")]
    Unlock(Box<state::StateError>),
}

impl From<state::StateError> for PipelineError {
    fn from(error: state::StateError) -> Self {
        Self::State(Box::new(error))
    }
}

/// What a run did.
#[derive(Debug)]
pub struct Applied {
    pub plan: Plan,
    /// The environment's outputs afterwards (empty after destroy).
    pub outputs: BTreeMap<String, Value>,
}

/// How a plan is made.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Plan replacements of objects that hold data instead of refusing them.
    pub allow_data_loss: bool,
    /// Plan what a destroy deletes (`plan --destroy`) instead of what an apply changes.
    pub destroy: bool,
    /// Declared addresses to replace although nothing forces it (`--replace`).
    pub replace: Vec<String>,
}

impl Session {
    /// Opens the environment's state, refusing one of another stack, environment, region or
    /// account.
    async fn open_state(&self) -> Result<StateWriter<'_>, PipelineError> {
        let owner = self.engine.owner().await?;
        Ok(StateWriter::open(&self.backend, &owner).await?)
    }

    /// Runs `work`, which changes nothing in AWS, unless a stop is asked for first.
    async fn until_interrupted<T>(
        &self,
        work: impl Future<Output = Result<T, PipelineError>>,
    ) -> Result<T, PipelineError> {
        tokio::select! {
            result = work => result,
            _ = self.engine.interrupt.raised(1) => Err(stopped()),
        }
    }

    /// Refreshes, finds what an interrupted run left under names no longer declared, and plans.
    async fn make_plan(
        &self,
        writer: &mut StateWriter<'_>,
        declared: &Declared,
        options: &PlanOptions,
        progress: &dyn Progress,
    ) -> Result<(Plan, Refreshed), PipelineError> {
        // The refresh reads what the state records: it needs nothing of the declaration, whose
        // zips may still be hashing.
        let (refreshed, desired) =
            tokio::join!(refresh(&self.engine, &writer.document), declared.get());
        let (mut refreshed, desired) = (refreshed?, desired?);
        let orphans = adopt::adopt_pending_orphans(
            &self.engine,
            desired,
            &mut writer.document,
            &mut refreshed,
        )
        .await?;
        if !orphans.is_empty() {
            progress.note(&format!(
                "found what an interrupted run was creating under names no longer declared; the \
                 plan deletes it: {}",
                orphans.join(", ")
            ));
        }
        let plan = self.plan_from(writer, desired, &refreshed, false, options)?;
        Ok((plan, refreshed))
    }

    /// The plan from `writer`'s state and what the refresh found.
    fn plan_from(
        &self,
        writer: &StateWriter<'_>,
        desired: &[Desired],
        refreshed: &Refreshed,
        destroy: bool,
        options: &PlanOptions,
    ) -> Result<Plan, PipelineError> {
        let input = diff::PlanInput {
            desired,
            document: &writer.document,
            state_exists: writer.exists,
            refreshed,
            destroy,
            stack_hash: saved::stack_hash(&self.resolved, desired),
            allow_data_loss: options.allow_data_loss,
            replace: &options.replace,
        };
        Ok(diff::make_plan(&self.engine, &input)?)
    }

    /// Applies `plan`, then records the environment's outputs.
    async fn run(
        &self,
        plan: &Plan,
        refreshed: &Refreshed,
        writer: &mut StateWriter<'_>,
        progress: &dyn Progress,
    ) -> Result<BTreeMap<String, Value>, PipelineError> {
        if self.engine.interrupt.signal().is_some() {
            return Err(stopped());
        }
        let outputs = apply::execute(&self.engine, plan, refreshed, writer, progress).await?;
        let stack_outputs = if plan.destroy {
            BTreeMap::new()
        } else {
            output::stack_outputs(&self.resolved, &outputs)
        };
        if writer.document.outputs != stack_outputs || !writer.exists {
            writer.document.outputs = stack_outputs;
            writer.save().await?;
        }
        Ok(writer.document.outputs.clone())
    }
}

fn stopped() -> PipelineError {
    PipelineError::Refused("stopped by a signal before anything was changed".into())
}

/// Tells about operations an interrupted run left in flight, which this run finishes.
fn note_pending(writer: &StateWriter<'_>, progress: &dyn Progress) {
    for op in &writer.document.pending {
        let doing = match op.action {
            state::PendingAction::Create => "creating",
            state::PendingAction::Update => "updating",
            state::PendingAction::Replace => "replacing",
            state::PendingAction::Delete => "deleting",
        };
        progress.note(&format!(
            "a previous run was interrupted while it was {doing} {} ({}); this run finishes it",
            op.address, op.physical_name
        ));
    }
}

/// What would change (or, with `options.destroy`, what a destroy deletes): read-only, under
/// the lock.
pub async fn plan(
    session: &Session,
    desired: &Declared,
    options: &PlanOptions,
    progress: &dyn Progress,
) -> Result<Plan, PipelineError> {
    lock::locked(session, "plan", async || {
        let mut writer = session.open_state().await?;
        if options.destroy {
            let planned = session.make_destroy_plan(&mut writer, desired, options, progress);
            return Ok(planned.await?.0);
        }
        let planned = session.make_plan(&mut writer, desired, options, progress);
        Ok(session.until_interrupted(planned).await?.0)
    })
    .await
}

/// What `apply` and `destroy` work from: the declaration, how to plan, and the saved plan to
/// apply exactly, if any (checked against what is computed now instead of asking).
pub struct Inputs<'a> {
    pub desired: &'a Declared,
    pub options: &'a PlanOptions,
    pub saved: Option<&'a Plan>,
}

impl Session {
    /// Opens the state under the lock, tells about what an interrupted run left, and checks a
    /// saved plan was made from this state and stack (and destroys when `destroying`).
    async fn open_for_run(
        &self,
        inputs: &Inputs<'_>,
        destroying: bool,
        progress: &dyn Progress,
    ) -> Result<StateWriter<'_>, PipelineError> {
        let writer = self.open_state().await?;
        note_pending(&writer, progress);
        if let Some(saved) = inputs.saved {
            let stack_hash = saved::stack_hash(&self.resolved, inputs.desired.get().await?);
            saved::check_origin(saved, &writer, &stack_hash, destroying)?;
        }
        Ok(writer)
    }

    /// Applies `plan` once it may go ahead: a saved plan must be exactly it (it was reviewed),
    /// an empty plan needs nobody's word, any other needs `approve`'s; `verb` names the run.
    async fn approved_run(
        &self,
        (saved, plan, refreshed): (Option<&Plan>, Plan, &Refreshed),
        writer: &mut StateWriter<'_>,
        approve: impl AsyncFnOnce(&Plan) -> Result<bool, PipelineError>,
        verb: &str,
        progress: &dyn Progress,
    ) -> Result<Applied, PipelineError> {
        match saved {
            Some(saved) => saved::check_contents(saved, &plan)?,
            None if plan.is_empty() => {}
            None if self.until_interrupted(approve(&plan)).await? => {}
            None => {
                return Err(PipelineError::Refused(format!(
                    "{verb} cancelled; nothing was changed"
                )));
            }
        }
        let outputs = self.run(&plan, refreshed, writer, progress).await?;
        Ok(Applied { plan, outputs })
    }
}

/// Makes the environment match the stack: computes the plan (or checks that a saved one is
/// exactly what it computes now), asks `approve`, and applies it.
pub async fn apply(
    session: &Session,
    inputs: Inputs<'_>,
    approve: impl AsyncFnOnce(&Plan) -> Result<bool, PipelineError>,
    progress: &dyn Progress,
) -> Result<Applied, PipelineError> {
    lock::locked(session, "apply", async || {
        let mut writer = session.open_for_run(&inputs, false, progress).await?;
        // A saved plan carries its own choices.
        let options = match inputs.saved {
            Some(saved) => PlanOptions {
                allow_data_loss: saved.allow_data_loss,
                replace: saved.replace.clone(),
                ..inputs.options.clone()
            },
            None => inputs.options.clone(),
        };
        let planned = session.make_plan(&mut writer, inputs.desired, &options, progress);
        let (plan, refreshed) = session.until_interrupted(planned).await?;
        let planned = (inputs.saved, plan, &refreshed);
        session
            .approved_run(planned, &mut writer, approve, "apply", progress)
            .await
    })
    .await
}
