//! `log_group`: the Lambda function's CloudWatch log group, `/aws/lambda/<function name>`.
//!
//! Field: `retention_in_days` (an integer, or null for "never expire"). Id: the group name.
//! Lambda creates this group itself the first time the function logs (moto does so on Invoke),
//! so create adopts an existing group of that name instead of failing, and brings its retention
//! and tags to the declared values.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup as AwsLogGroup;
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found};
use super::fields::{self, tag_changes};
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
use crate::retry::{RetryPolicy, is_throttling, retry};

const KIND: &str = "log_group";

/// The `log_group` kind.
#[derive(Debug, Default)]
pub struct LogGroup;

#[async_trait]
impl ResourceKind for LogGroup {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn aws_creates_it(&self) -> bool {
        true
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let Some(group) = find_log_group(aws, id).await? else {
            return Ok(None);
        };
        let arn = group_arn(&group);
        let tags = read_tags(aws, &arn).await?;
        Ok(Some(Observed {
            id: id.to_string(),
            arn: Some(arn.clone()),
            fields: fields::fields([(
                "retention_in_days",
                group.retention_in_days().map_or(Value::Null, Value::from),
            )]),
            outputs: fields::fields([("arn", Value::String(arn))]),
            tags: Some(tags),
        }))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let name = desired.name.as_str();
        let created = retry(&RetryPolicy::default(), is_throttling, || async {
            aws.logs
                .create_log_group()
                .log_group_name(name)
                .set_tags((!desired.tags.is_empty()).then(|| to_hash_map(&desired.tags)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("CreateLogGroup", e))
        })
        .await;
        match created {
            Ok(()) => {}
            Err(ResourceError::Aws {
                code: Some(code), ..
            }) if code == "ResourceAlreadyExistsException" => {
                tracing::info!(log_group = name, "log group exists already, adopting it");
            }
            Err(error) => return Err(error),
        }
        // Retention and tags are applied through the update path, so an adopted group ends
        // up exactly as declared too.
        let current = self.read_back(aws, name, &Fields::new()).await?;
        let changes = self.diff(desired, &current);
        if changes.is_empty() {
            return Ok(current);
        }
        self.update(aws, desired, &current, &changes).await
    }

    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        let name = current.id.as_str();
        for change in changes {
            match change.field.as_str() {
                "retention_in_days" => set_retention(aws, name, &desired.fields).await?,
                "tags" => {
                    let arn = current.arn.clone().unwrap_or_default();
                    let current_tags = current.tags.clone().unwrap_or_default();
                    update_tags(aws, &arn, &current_tags, &desired.tags).await?;
                }
                other => {
                    return Err(ResourceError::Invalid(format!(
                        "{KIND}: cannot update unknown field `{other}`"
                    )));
                }
            }
        }
        self.read_back(aws, name, &Fields::new()).await
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<(), ResourceError> {
        ignore_not_found(
            aws.logs
                .delete_log_group()
                .log_group_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DeleteLogGroup", e)),
        )
    }
}

/// DescribeLogGroups by prefix, keeping the exact name; `None` when there is none.
pub async fn find_log_group(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<AwsLogGroup>, ResourceError> {
    let groups: Vec<AwsLogGroup> = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("DescribeLogGroups", e))?;
    Ok(groups
        .into_iter()
        .find(|g| g.log_group_name() == Some(name)))
}

/// The group's ARN without the `:*` suffix (the form the tagging API takes).
fn group_arn(group: &AwsLogGroup) -> String {
    group
        .log_group_arn()
        .or(group.arn())
        .unwrap_or_default()
        .trim_end_matches(":*")
        .to_string()
}

async fn set_retention(
    aws: &AwsClients,
    name: &str,
    declared: &Fields,
) -> Result<(), ResourceError> {
    match declared.get("retention_in_days") {
        None | Some(Value::Null) => aws
            .logs
            .delete_retention_policy()
            .log_group_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("DeleteRetentionPolicy", e)),
        Some(_) => aws
            .logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(fields::int32(KIND, declared, "retention_in_days")?)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutRetentionPolicy", e)),
    }
}

async fn read_tags(aws: &AwsClients, arn: &str) -> Result<BTreeMap<String, String>, ResourceError> {
    let output = aws
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("ListTagsForResource", e))?;
    Ok(output
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

async fn update_tags(
    aws: &AwsClients,
    arn: &str,
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Result<(), ResourceError> {
    let (to_set, to_remove) = tag_changes(current, desired);
    if !to_remove.is_empty() {
        aws.logs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(to_remove))
            .send()
            .await
            .map_err(|e| aws_error("UntagResource", e))?;
    }
    if !to_set.is_empty() {
        aws.logs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(to_hash_map(&to_set)))
            .send()
            .await
            .map_err(|e| aws_error("TagResource", e))?;
    }
    Ok(())
}

fn to_hash_map(tags: &BTreeMap<String, String>) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
