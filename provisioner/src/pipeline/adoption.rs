//! Taking existing objects into the state without changing them: one by address and id
//! (`import`), or a whole Terraform stack (`migrate`). Both only read AWS; `migrate` writes the
//! state only when asked, and shows the plan that would remain.

use super::{PipelineError, PlanOptions, Session, lock};
use crate::engine::diff;
use crate::engine::refresh::refresh;
use crate::migrate::terraform::Mapping;
use crate::migrate::{adopt_for_removal, adopt_one};
use crate::plan::Plan;
use crate::resource::{Desired, Observed};

/// Takes the existing object `id` into the state as `address`: reads only.
pub async fn import(
    session: &Session,
    desired: &[Desired],
    address: &str,
    id: &str,
) -> Result<Observed, PipelineError> {
    lock::locked(session, "import", async || {
        let mut writer = session.open_state().await?;
        let refreshed = refresh(&session.engine, &writer.document).await?;
        let mut outputs = diff::refreshed_outputs(&refreshed);
        let observed = adopt_one(
            &session.engine,
            desired,
            &mut writer.document,
            &mut outputs,
            address,
            id,
        )
        .await?;
        writer.save().await?;
        Ok(observed)
    })
    .await
}

/// What a migration adopted and what would remain to do.
#[derive(Debug)]
pub struct Migrated {
    /// How many objects the state records.
    pub adopted: usize,
    /// The plan that remains after adoption.
    pub plan: Plan,
    /// Whether the state was written.
    pub written: bool,
}

/// Adopts every mapped Terraform resource into an empty state: the declared ones in dependency
/// order (a route needs its API first), then the ones the stack does not declare, so that the
/// plan removes them. With `write`, the state is recorded; otherwise nothing is written.
pub async fn migrate(
    session: &Session,
    desired: &[Desired],
    mappings: &[Mapping],
    write: bool,
) -> Result<Migrated, PipelineError> {
    lock::locked(session, "migrate", async || {
        let mut writer = session.open_state().await?;
        if !writer.document.resources.is_empty() {
            return Err(PipelineError::Refused(format!(
                "the {0} state at {1} already records {2} resource(s): migrate adopts into an \
                 empty state. Use `provisioner import --env {0} ADDRESS ID` for single \
                 resources. Nothing was changed",
                session.engine.environment,
                session.backend.location(),
                writer.document.resources.len(),
            )));
        }
        let mut outputs = Default::default();
        for declared in desired {
            let Some(mapping) = mappings
                .iter()
                .find(|m| m.address.as_deref() == Some(declared.address.as_str()))
            else {
                continue;
            };
            let id = mapping.id.as_deref().unwrap_or_default();
            let document = &mut writer.document;
            adopt_one(
                &session.engine,
                desired,
                document,
                &mut outputs,
                &declared.address,
                id,
            )
            .await?;
        }
        for mapping in mappings.iter().filter(|m| m.is_removal()) {
            let (Some(address), Some(id)) = (&mapping.address, &mapping.id) else {
                continue;
            };
            let document = &mut writer.document;
            let (depends_on, recorded) = (&mapping.depends_on, &mapping.recorded);
            adopt_for_removal(&session.engine, document, address, id, depends_on, recorded).await?;
        }
        let refreshed = refresh(&session.engine, &writer.document).await?;
        let options = PlanOptions::default();
        let plan = session.plan_from(&writer, desired, &refreshed, false, &options)?;
        if write {
            writer.save().await?;
        }
        Ok(Migrated {
            adopted: writer.document.resources.len(),
            plan,
            written: write,
        })
    })
    .await
}
