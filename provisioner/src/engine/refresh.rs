//! Refresh: read the real object behind every resource the state knows, in parallel.
//!
//! Not-found is absent (it was deleted outside the provisioner, or a delete finished before a
//! crash); any other error stops the run, because treating "access denied" as "absent" would
//! plan to create what exists, or forget what must be deleted.

use std::collections::BTreeMap;

use super::{Engine, EngineError};
use crate::resource::{Fields, Observed, ResourceError, ResourceKind};

/// What each address in the state looks like now (`None`: it no longer exists).
pub type Refreshed = BTreeMap<String, Option<Observed>>;

/// Reads every resource of `document`: every kind at once, each kind's objects through its
/// [`read_many`](crate::resource::ResourceKind::read_many), so a kind read from its parent's
/// listing (an API's routes) costs one request, not one per object. A refresh lasts as long as
/// its slowest read, so nothing waits for a wave; AWS read APIs throttle well above a stack's
/// couple of dozen reads, and the SDK's retry absorbs a burst that meets a limit.
pub async fn refresh(
    engine: &Engine,
    document: &state::StateDocument,
) -> Result<Refreshed, EngineError> {
    let mut by_kind: BTreeMap<&str, Vec<&state::ResourceState>> = BTreeMap::new();
    for resource in document.resources.values() {
        by_kind.entry(&resource.kind).or_default().push(resource);
    }
    let reads = by_kind.into_iter().map(|(kind, resources)| async move {
        let kind = engine.kind(kind)?;
        let objects: Vec<(String, Fields)> = resources
            .iter()
            .map(|resource| (resource.id.clone(), attributes(resource)))
            .collect();
        let answers = kind.read_many(&engine.aws, &objects).await;
        let found = resources
            .iter()
            .zip(answers)
            .map(|(resource, answer)| async move {
                let address = resource.address.clone();
                match confirm_indexed_tags(engine, kind, resource, answer).await {
                    Ok(observed) => {
                        tracing::debug!(%address, found = observed.is_some(), "refreshed");
                        Ok((address, observed))
                    }
                    Err(source) => Err(EngineError::Resource { address, source }),
                }
            });
        futures::future::try_join_all(found).await
    });
    let per_kind = futures::future::try_join_all(reads).await?;
    Ok(per_kind.into_iter().flatten().collect())
}

/// `answer` as it stands, unless its tags came from the tagging API's index and are not exactly
/// the stack's: then the object is read again by the kind's own read, whose tags are the
/// object's own. The index lags tag changes ([`crate::kinds::tag_index`]); only the read of
/// record may show one as a change to make, or decide whose an object is.
async fn confirm_indexed_tags(
    engine: &Engine,
    kind: &dyn ResourceKind,
    resource: &state::ResourceState,
    answer: Result<Option<Observed>, ResourceError>,
) -> Result<Option<Observed>, ResourceError> {
    match answer? {
        Some(observed)
            if observed.tags_indexed && observed.tags.as_ref() != Some(&engine.stack_tags) =>
        {
            tracing::debug!(address = %resource.address, "indexed tags differ from the stack's; reading them again");
            kind.read(&engine.aws, &resource.id, &attributes(resource))
                .await
        }
        other => Ok(other),
    }
}

/// A state entry's recorded fields.
pub fn attributes(resource: &state::ResourceState) -> Fields {
    resource.attributes.as_object().cloned().unwrap_or_default()
}
