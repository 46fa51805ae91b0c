//! The lock table: created (when missing) by the `state` crate; here point-in-time recovery is
//! switched on, retried while a just-created table cannot take it yet.

use aws_sdk_dynamodb::types::{PointInTimeRecoverySpecification, PointInTimeRecoveryStatus};

use super::{AwsResult, BootstrapError, NotFound, On, Report};
use crate::kinds::dynamodb_table::table_still_settling;
use crate::retry::{RetryPolicy, retry};

/// True when the table exists; any error but not-found is an error.
pub async fn exists(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<bool, BootstrapError> {
    let described = dynamodb.describe_table().table_name(table).send().await;
    let found = described.aws("DescribeTable").absent();
    Ok(found.on(&format!("lock table {table}"))?.is_some())
}

/// Turns PITR on unless it is on.
pub async fn ensure_pitr(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    let what = format!("lock table {table}");
    let call = dynamodb.describe_continuous_backups().table_name(table);
    let described = call
        .send()
        .await
        .aws("DescribeContinuousBackups")
        .on(&what)?;
    let enabled = described
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled);
    if enabled {
        report.unchanged(format!("{what}: point-in-time recovery on"));
        return Ok(());
    }
    let specification = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(true)
        .build()
        .map_err(|e| BootstrapError::Invalid(format!("PITR settings: {e}")))?;
    retry(&RetryPolicy::default(), table_still_settling, || async {
        dynamodb
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(specification.clone())
            .send()
            .await
            .aws("UpdateContinuousBackups")
    })
    .await
    .on(&what)?;
    report.changed(what, "turned point-in-time recovery on");
    Ok(())
}
