//! A function's published versions: what `lambda_function` publishes after each change of its
//! code or configuration, and what `lambda_alias` prunes once it has moved.
//!
//! A version is an immutable snapshot of the code and configuration, so a release can be served
//! through an alias, weighted against the one before (a canary) and moved back at once. Old
//! versions are deleted beyond a count to keep, never one an alias serves (AWS refuses that
//! anyway, with `ResourceConflictException`, which is then left for the next prune).

use std::collections::BTreeSet;

use super::errors::{self, AwsResult, NotFound};
use super::lambda_function::update_in_progress;
use crate::aws::AwsClients;
use crate::resource::{Fields, ResourceError};
use crate::retry::{RetryPolicy, retry};

/// `$LATEST`, the unpublished head every change is made to.
const LATEST: &str = "$LATEST";

/// Publishes a version when the function declares `publish`, after its last change: the
/// recorded fields its read back takes the version from (empty without `publish`).
pub async fn publish_if(
    aws: &AwsClients,
    function: &str,
    publish: bool,
    code_sha256: &str,
) -> Result<Fields, ResourceError> {
    let mut recorded = Fields::new();
    if publish {
        let version = self::publish(aws, function, code_sha256).await?;
        recorded.insert("version".into(), version.into());
    }
    Ok(recorded)
}

/// Publishes the function's current code and configuration as a version and returns its
/// number. `code_sha256` guards the race with another writer: Lambda refuses to publish code
/// other than the one just uploaded. Publishing what an existing version already holds returns
/// that version (Lambda does not make a copy).
pub async fn publish(
    aws: &AwsClients,
    function: &str,
    code_sha256: &str,
) -> Result<String, ResourceError> {
    let published = retry(&RetryPolicy::default(), update_in_progress, || async {
        let call = aws.lambda.publish_version().function_name(function);
        call.code_sha256(code_sha256)
            .send()
            .await
            .aws("PublishVersion")
    })
    .await?;
    published.version().map(str::to_string).ok_or_else(|| {
        ResourceError::Invalid(format!("{function}: PublishVersion gave no version"))
    })
}

/// The function's published versions, oldest first (numbers, `$LATEST` left out).
pub async fn listed(aws: &AwsClients, function: &str) -> Result<Vec<u64>, ResourceError> {
    let listing = aws
        .lambda
        .list_versions_by_function()
        .function_name(function)
        .into_paginator()
        .items()
        .send();
    let versions = errors::every_item(listing, "ListVersionsByFunction")
        .await
        .absent()?
        .unwrap_or_default();
    let mut numbers: Vec<u64> = versions
        .iter()
        .filter_map(|v| v.version())
        .filter(|v| *v != LATEST)
        .filter_map(|v| v.parse().ok())
        .collect();
    numbers.sort_unstable();
    Ok(numbers)
}

/// The versions (oldest first) to delete so that at most `keep` remain, the newest kept, and
/// every version in `live` (what an alias serves or weights, the layer version just published)
/// kept whatever its age. Function and layer versions alike (numbered `u64` and `i64`).
pub fn beyond<V: Copy + Ord + ToString>(
    versions: &[V],
    keep: usize,
    live: &BTreeSet<String>,
) -> Vec<V> {
    let is_live = |v: &V| live.contains(&v.to_string());
    let kept_newest: BTreeSet<V> = versions.iter().rev().take(keep).copied().collect();
    versions
        .iter()
        .copied()
        .filter(|v| !kept_newest.contains(v) && !is_live(v))
        .collect()
}

/// Deletes the function's versions beyond `keep`, sparing `live`. A version AWS still finds in
/// use (an alias outside this stack) is left for a later prune.
pub async fn prune(
    aws: &AwsClients,
    function: &str,
    keep: usize,
    live: &BTreeSet<String>,
) -> Result<Vec<u64>, ResourceError> {
    let doomed = beyond(&listed(aws, function).await?, keep, live);
    let mut deleted = Vec::new();
    for version in doomed {
        let call = aws.lambda.delete_function().function_name(function);
        let result = call
            .qualifier(version.to_string())
            .send()
            .await
            .aws("DeleteFunction")
            .gone();
        match result {
            Ok(()) => deleted.push(version),
            Err(error) if update_in_progress(&error) => {
                tracing::info!(%function, version, "version still in use: kept for now");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(versions: &[&str]) -> BTreeSet<String> {
        versions.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_newest_are_kept_and_what_an_alias_serves_whatever_its_age() {
        let versions = [1, 2, 3, 4, 5, 6, 7];
        assert_eq!(beyond(&versions, 3, &live(&["7"])), [1, 2, 3, 4]);
        assert_eq!(beyond(&versions, 3, &live(&["2", "7"])), [1, 3, 4]);
        assert_eq!(beyond(&versions, 10, &live(&[])), Vec::<u64>::new());
        // Keeping none still spares what is served.
        assert_eq!(beyond(&versions, 0, &live(&["6"])), [1, 2, 3, 4, 5, 7]);
    }
}
