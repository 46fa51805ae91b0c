//! `log_group`: the Lambda function's CloudWatch log group, `/aws/lambda/<function name>`.
//!
//! Id: the group name. Lambda creates this group itself, untagged, the first time the function
//! logs (moto does so on Invoke), so an untagged group of that name is adopted as this stack's
//! ([`Kind::aws_creates_it`]), and create adopts one that appears in between instead of failing;
//! its retention and tags are then brought to the declared values.

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup as AwsLogGroup;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::early_read;
use super::errors::{self, AwsResult, NotFound};
use super::tag_index::{self, TagIndex};
use super::tags;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};

/// The `log_group` kind.
pub struct LogGroup;

/// A log group's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Days the events are kept; `None`: never expire.
    pub retention_in_days: Option<i32>,
}

#[async_trait]
impl Kind for LogGroup {
    const ABOUT: About = About::kind("log_group", "the log group's name (/aws/lambda/<function>)")
        .terraform("aws_cloudwatch_log_group", TerraformId::Attribute("name"));
    type Spec = Spec;

    fn aws_creates_it() -> bool {
        true
    }

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        // The function's logs, and the API stage's access logs.
        let groups = ["lambda", "apigateway"].map(|service| {
            let group = format!("log-group:/aws/{service}/{}-*", scope.env.name_base);
            scope.arn("logs", &group)
        });
        let resources: Vec<String> = groups
            .iter()
            .flat_map(|group| [group.clone(), format!("{group}:*")])
            .collect();
        vec![
            json!({
                "Sid": "LogGroup",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
                    "logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:PutRetentionPolicy",
                    "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource"
                ],
                "Resource": resources,
            }),
            json!({
                "Sid": "FindLogGroups",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": scope.arn("logs", "log-group:*"),
            }),
        ]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        read_group(aws, id).await
    }

    /// The groups the state records, expected to exist, with their tags from the tagging API's
    /// index, asked once for them all beside their describes ([`tag_index`]).
    async fn read_many(aws: &AwsClients, objects: &[(String, Fields)]) -> Vec<Read<Spec>> {
        let resources: Vec<String> = objects
            .iter()
            .map(|(id, _)| format!("log-group:{id}"))
            .collect();
        let (groups, index) = tokio::join!(
            early_read::each(objects, |id| find_log_group(aws, id)),
            tag_index::read(aws, "logs", &resources)
        );
        let reads = objects.iter().zip(groups).map(|((id, _), group)| {
            let index = &index;
            async move { found(aws, id, group?, index).await }
        });
        futures::future::join_all(reads).await
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, tags: &Tags) -> Made<Spec> {
        let call = aws
            .logs
            .create_log_group()
            .log_group_name(name)
            .set_tags((!tags.is_empty()).then(|| tags::as_map(tags)));
        match call.send().await.aws("CreateLogGroup") {
            Ok(_) => {}
            Err(ResourceError::Aws {
                code: Some(code), ..
            }) if code == "ResourceAlreadyExistsException" => {
                tracing::info!(log_group = name, "log group exists already, adopting it");
            }
            Err(error) => return Err(error),
        }
        // Retention and tags go through the update path, so an adopted group ends up exactly
        // as declared too.
        let current = Self::read_back(aws, name, &Fields::new()).await?;
        let mut changed = Vec::new();
        if current.spec != *spec {
            changed.push("retention_in_days".to_string());
        }
        if current.tags.as_ref() != Some(tags) {
            changed.push("tags".to_string());
        }
        if changed.is_empty() {
            return Ok(current);
        }
        let change = Update {
            id: name,
            name,
            spec,
            tags,
            current: &current,
            changed: &changed,
        };
        Self::update(aws, &change).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        let name = change.id;
        if change.has("retention_in_days") {
            match change.spec.retention_in_days {
                None => {
                    let call = aws.logs.delete_retention_policy().log_group_name(name);
                    call.send().await.aws("DeleteRetentionPolicy")?;
                }
                Some(days) => {
                    let call = aws
                        .logs
                        .put_retention_policy()
                        .log_group_name(name)
                        .retention_in_days(days);
                    call.send().await.aws("PutRetentionPolicy")?;
                }
            }
        }
        tags::logs(aws, change.arn(), change).await?;
        Self::read_back(aws, name, &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let call = aws.logs.delete_log_group().log_group_name(id);
        call.send().await.aws("DeleteLogGroup").gone()
    }
}

/// DescribeLogGroups by prefix, keeping the exact name; `None` when there is none.
pub async fn find_log_group(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<AwsLogGroup>, ResourceError> {
    let call = aws.logs.describe_log_groups().log_group_name_prefix(name);
    let groups = errors::every_item(call.into_paginator().items().send(), "DescribeLogGroups");
    let mut groups = groups.await?.into_iter();
    Ok(groups.find(|g| g.log_group_name() == Some(name)))
}

/// The group named `id` and its tags, read by its own calls.
async fn read_group(aws: &AwsClients, id: &str) -> Read<Spec> {
    let group = find_log_group(aws, id).await?;
    found(aws, id, group, &TagIndex::default()).await
}

/// `group`, when there is one, with its tags from `index` when it lists the group's ARN, or
/// read now.
async fn found(
    aws: &AwsClients,
    id: &str,
    group: Option<AwsLogGroup>,
    index: &TagIndex,
) -> Read<Spec> {
    let Some(group) = group else {
        return Ok(None);
    };
    let arn = group_arn(&group);
    let spec = Spec {
        retention_in_days: group.retention_in_days(),
    };
    let found = Found::new(id, spec)
        .with_arn(arn.as_str())
        .with_output("arn", arn.as_str());
    Ok(Some(
        index.tag(found, &arn, |arn| read_tags(aws, arn)).await?,
    ))
}

/// The group's tags (ListTagsForResource of its ARN without `:*`).
async fn read_tags(aws: &AwsClients, arn: String) -> Result<Tags, ResourceError> {
    let listed = aws.logs.list_tags_for_resource().resource_arn(arn);
    let listed = listed.send().await.aws("ListTagsForResource")?;
    let tags = listed.tags().into_iter().flatten();
    Ok(tags.map(|(k, v)| (k.clone(), v.clone())).collect())
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
