//! What serves an environment's traffic now, and moving it back: `provisioner status` and
//! `provisioner rollback`.
//!
//! The alias `live` is the release: the version it points at serves the traffic, a weighted
//! second version is a rollout in progress (or one a crash interrupted). `rollback` moves the
//! alias back at once, under the state lock so that no apply moves it at the same time: a
//! weighted alias drops its weight (the version before the rollout serves everything again),
//! otherwise it points at the newest version older than the live one. The state is not
//! written: the next plan reads the alias as it is and shows the move forward again, which the
//! next apply makes, so a rollback holds until the cause is fixed and released.

use std::collections::BTreeMap;

use super::{PipelineError, Session, lock};
use crate::desired::LIVE_ALIAS;
use crate::kinds::lambda_alias::{self, LambdaAlias, Spec};
use crate::kinds::lambda_rollout::{AlarmState, alarm_states};
use crate::kinds::lambda_versions;
use crate::kinds::typed::Kind;
use crate::resource::ResourceError;

/// The alias's address in the state.
const ALIAS_ADDRESS: &str = "lambda_alias.live";

/// What serves the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// The alias `live` as Lambda has it: the function, the version it points at, and a second
    /// version with its share of the traffic (0 to 1) while a rollout is not finished.
    pub alias: Spec,
    /// The published versions kept, oldest first, and the state of every alarm the
    /// environment's state records, by name.
    pub versions: Vec<u64>,
    pub alarms: Vec<AlarmState>,
}

/// What `rollback` did: the version that served before, and the one that serves now.
#[derive(Debug, Clone, PartialEq)]
pub struct RolledBack {
    pub function: String,
    pub from: String,
    pub to: String,
    /// The rollout's version and weight that were dropped, if the alias was weighted.
    pub dropped: Option<(String, f64)>,
}

/// The release serving `session`'s environment (no lock: it changes nothing).
pub async fn status(session: &Session) -> Result<Release, PipelineError> {
    let document = session.open_state().await?.document;
    let spec = live_alias(session, &document).await?;
    let aws = &session.engine.aws;
    let versions = lambda_versions::listed(aws, &spec.function_name)
        .await
        .map_err(|e| resource_error(ALIAS_ADDRESS, e))?;
    let names: Vec<String> = document
        .resources
        .values()
        .filter(|r| r.kind == "cloudwatch_metric_alarm")
        .map(|r| r.id.clone())
        .collect();
    let mut alarms = alarm_states(aws, &names)
        .await
        .map_err(|e| resource_error("cloudwatch_metric_alarm", e))?;
    alarms.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Release {
        alias: spec,
        versions,
        alarms,
    })
}

/// Moves `session`'s alias back (see the module's doc), holding the state lock.
pub async fn rollback(session: &Session) -> Result<RolledBack, PipelineError> {
    lock::locked(session, "rollback", async || {
        let document = session.open_state().await?.document;
        let current = live_alias(session, &document).await?;
        let aws = &session.engine.aws;
        let from = current.function_version.clone();
        let dropped = current.additional_version_weights.iter().next();
        let dropped = dropped.map(|(version, weight)| (version.clone(), *weight));
        let to = match &dropped {
            Some(_) => from.clone(),
            None => previous_version(session, &current).await?,
        };
        let back = Spec {
            function_version: to.clone(),
            additional_version_weights: BTreeMap::new(),
            ..current.clone()
        };
        lambda_alias::point(aws, LIVE_ALIAS, &back)
            .await
            .map_err(|e| resource_error(ALIAS_ADDRESS, e))?;
        Ok(RolledBack {
            function: current.function_name,
            from,
            to,
            dropped,
        })
    })
    .await
}

/// The newest published version older than the one `alias` serves.
async fn previous_version(session: &Session, alias: &Spec) -> Result<String, PipelineError> {
    let aws = &session.engine.aws;
    let versions = lambda_versions::listed(aws, &alias.function_name)
        .await
        .map_err(|e| resource_error(ALIAS_ADDRESS, e))?;
    let live: u64 = alias.function_version.parse().unwrap_or(u64::MAX);
    let older = versions.into_iter().rev().find(|v| *v < live);
    older.map(|v| v.to_string()).ok_or_else(|| {
        PipelineError::Refused(format!(
            "{} has no version older than the live one ({}) to roll back to",
            alias.function_name, alias.function_version
        ))
    })
}

/// The alias as AWS has it now, found by what the state recorded.
async fn live_alias(
    session: &Session,
    document: &state::StateDocument,
) -> Result<Spec, PipelineError> {
    let environment = &session.engine.environment;
    let Some(recorded) = document.resources.get(ALIAS_ADDRESS) else {
        return Err(PipelineError::Refused(format!(
            "the {environment} environment has no release alias in its state yet: run \
             `provisioner apply --env {environment}` first"
        )));
    };
    let fields = crate::engine::refresh::attributes(recorded);
    let aws = &session.engine.aws;
    let found = LambdaAlias::read(aws, &recorded.id, &fields)
        .await
        .map_err(|e| resource_error(ALIAS_ADDRESS, e))?;
    let found = found.ok_or_else(|| {
        PipelineError::Refused(format!(
            "the alias `{}` the state records is gone: run `provisioner apply --env \
             {environment}` to make it again",
            recorded.id
        ))
    })?;
    Ok(found.spec)
}

fn resource_error(address: &str, source: ResourceError) -> PipelineError {
    PipelineError::Engine(crate::engine::EngineError::Resource {
        address: address.to_string(),
        source,
    })
}
