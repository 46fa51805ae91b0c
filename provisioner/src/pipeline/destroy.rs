//! Destroying an environment: computed and applied in one run (`destroy`), or planned first
//! (`plan --destroy --out FILE`, read-only) and applied later exactly as reviewed (`apply
//! FILE`), refused like any saved plan when the state or the stack moved since.
//!
//! A destroy also deletes this stack's objects the state lost (an interrupted run created
//! them but never recorded them): they are found by their declared names and tags. A destroy
//! plan finds them too, in memory only, so what it shows is what the destroy deletes.

use super::{Applied, Declared, Inputs, PipelineError, PlanOptions, Session, lock};
use crate::engine::adopt;
use crate::engine::apply::Progress;
use crate::engine::refresh::{Refreshed, refresh};
use crate::engine::writer::StateWriter;
use crate::plan::Plan;

impl Session {
    /// Refreshes the state, adds this stack's objects it lost (in `writer`'s document, unsaved)
    /// and plans their deletion with everything recorded. Returns the plan, what refresh saw
    /// and the addresses it found unrecorded.
    pub(super) async fn make_destroy_plan(
        &self,
        writer: &mut StateWriter<'_>,
        declared: &Declared,
        options: &PlanOptions,
        progress: &dyn Progress,
    ) -> Result<(Plan, Refreshed, Vec<String>), PipelineError> {
        let (document, engine) = (&mut writer.document, &self.engine);
        let found = self.until_interrupted(async {
            let (refreshed, desired) = tokio::join!(refresh(engine, document), declared.get());
            let (mut refreshed, desired) = (refreshed?, desired?);
            let mut found =
                adopt::adopt_pending_orphans(engine, desired, document, &mut refreshed).await?;
            found.extend(adopt::adopt_unrecorded(engine, desired, document, &mut refreshed).await?);
            Ok((found, refreshed))
        });
        let (adopted, refreshed) = found.await?;
        if !adopted.is_empty() {
            progress.note(&format!(
                "found {} object(s) of this stack missing from the state (an interrupted run?): {}",
                adopted.len(),
                adopted.join(", ")
            ));
        }
        let plan = self.plan_from(writer, declared.get().await?, &refreshed, true, options)?;
        Ok((plan, refreshed, adopted))
    }
}

/// Deletes everything the stack made in the environment, this stack's objects the state lost
/// included: what `inputs.saved` (made by [`super::plan`] with `destroy` set) lists, checked as
/// [`super::apply`] checks a saved plan, or else what it computes now once `approve` agrees.
/// `Ok(None)` when there was never anything.
pub async fn destroy(
    session: &Session,
    inputs: Inputs<'_>,
    approve: impl AsyncFnOnce(&Plan) -> Result<bool, PipelineError>,
    progress: &dyn Progress,
) -> Result<Option<Applied>, PipelineError> {
    lock::locked(session, "destroy", async || {
        let mut writer = session.open_for_run(&inputs, true, progress).await?;
        let planned =
            session.make_destroy_plan(&mut writer, inputs.desired, inputs.options, progress);
        let (plan, refreshed, adopted) = planned.await?;
        if inputs.saved.is_none() && !adopted.is_empty() {
            // Recorded even if the destroy is declined: they are this stack's. A saved plan
            // writes nothing before its check passed, as it promises ("nothing was changed").
            writer.save().await?;
        }
        if plan.is_empty() && !writer.exists {
            return Ok(None);
        }
        let planned = (inputs.saved, plan, &refreshed);
        let applied = session.approved_run(planned, &mut writer, approve, "destroy", progress);
        Ok(Some(applied.await?))
    })
    .await
}
