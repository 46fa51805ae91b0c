//! Refresh: read the real object behind every resource the state knows, in parallel.
//!
//! Not-found is absent (it was deleted outside the provisioner, or a delete finished before a
//! crash); any other error stops the run, because treating "access denied" as "absent" would
//! plan to create what exists, or forget what must be deleted.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use super::{Engine, EngineError};
use crate::resource::{Fields, Observed};

/// How many reads run at once: every resource of the stack (18 today) in one wave, since a
/// refresh lasts as long as its slowest wave; AWS read APIs throttle well above this, and the
/// SDK's retry absorbs a burst that meets a limit.
const PARALLEL_READS: usize = 32;

/// What each address in the state looks like now (`None`: it no longer exists).
pub type Refreshed = BTreeMap<String, Option<Observed>>;

/// Reads every resource of `document`.
pub async fn refresh(
    engine: &Engine,
    document: &state::StateDocument,
) -> Result<Refreshed, EngineError> {
    let reads = document.resources.values().map(|resource| async move {
        let kind = engine.kind(&resource.kind)?;
        let recorded = attributes(resource);
        let observed = kind
            .read(&engine.aws, &resource.id, &recorded)
            .await
            .map_err(|source| EngineError::Resource {
                address: resource.address.clone(),
                source,
            })?;
        tracing::debug!(address = %resource.address, found = observed.is_some(), "refreshed");
        Ok::<_, EngineError>((resource.address.clone(), observed))
    });
    stream::iter(reads)
        .buffer_unordered(PARALLEL_READS)
        .try_collect()
        .await
}

/// A state entry's recorded fields.
pub fn attributes(resource: &state::ResourceState) -> Fields {
    resource.attributes.as_object().cloned().unwrap_or_default()
}
