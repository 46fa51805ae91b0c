//! `iam_role`: the Lambda function's execution role.
//!
//! Fields: `assume_role_policy` (the trust policy, a JSON object: Lambda's service principal),
//! `description`. Id and name are the role name. IAM returns the trust policy percent-encoded,
//! so it is decoded and compared parsed. Delete first detaches managed policies and deletes
//! inline ones, because DeleteRole fails with `DeleteConflict` while any is left (a crash between
//! those steps is fine: running delete again finishes the job).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields::{self, tag_changes};
use crate::aws::AwsClients;
use crate::resource::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
use crate::retry::{RetryPolicy, is_iam_propagation, retry};

const KIND: &str = "iam_role";

/// The `iam_role` kind.
#[derive(Debug, Default)]
pub struct IamRole;

#[async_trait]
impl ResourceKind for IamRole {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let Some(role) = find_role(aws, id).await? else {
            return Ok(None);
        };
        let trust = match role.assume_role_policy_document() {
            Some(document) => fields::parse_policy_document(KIND, document)?,
            None => Value::Null,
        };
        Ok(Some(Observed {
            id: role.role_name().to_string(),
            arn: Some(role.arn().to_string()),
            fields: fields::fields([
                ("assume_role_policy", trust),
                (
                    "description",
                    Value::String(role.description().unwrap_or_default().to_string()),
                ),
            ]),
            outputs: fields::fields([
                ("arn", Value::String(role.arn().to_string())),
                ("name", Value::String(role.role_name().to_string())),
            ]),
            tags: Some(
                role.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            ),
        }))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let trust = fields::json_document(KIND, &desired.fields, "assume_role_policy")?;
        let description = fields::opt_string(KIND, &desired.fields, "description")?
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        let tags = iam_tags(&desired.tags)?;
        retry(&RetryPolicy::default(), is_iam_propagation, || async {
            aws.iam
                .create_role()
                .role_name(&desired.name)
                .assume_role_policy_document(&trust)
                .set_description(description.clone())
                .set_tags(Some(tags.clone()))
                .send()
                .await
                .map_err(|e| aws_error("CreateRole", e))
        })
        .await?;
        self.read_back(aws, &desired.name, &Fields::new()).await
    }

    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        let role = current.id.as_str();
        for change in changes {
            match change.field.as_str() {
                "assume_role_policy" => {
                    let trust = fields::json_document(KIND, &desired.fields, "assume_role_policy")?;
                    retry(&RetryPolicy::default(), is_iam_propagation, || async {
                        aws.iam
                            .update_assume_role_policy()
                            .role_name(role)
                            .policy_document(&trust)
                            .send()
                            .await
                            .map_err(|e| aws_error("UpdateAssumeRolePolicy", e))
                    })
                    .await?;
                }
                "description" => {
                    let description =
                        fields::opt_string(KIND, &desired.fields, "description")?.unwrap_or("");
                    aws.iam
                        .update_role_description()
                        .role_name(role)
                        .description(description)
                        .send()
                        .await
                        .map_err(|e| aws_error("UpdateRoleDescription", e))?;
                }
                "tags" => {
                    let current_tags = current.tags.clone().unwrap_or_default();
                    update_tags(aws, role, &current_tags, &desired.tags).await?;
                }
                other => {
                    return Err(ResourceError::Invalid(format!(
                        "{KIND}: cannot update unknown field `{other}`"
                    )));
                }
            }
        }
        self.read_back(aws, role, &Fields::new()).await
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<(), ResourceError> {
        ignore_not_found(detach_all_policies(aws, id).await)?;
        ignore_not_found(
            aws.iam
                .delete_role()
                .role_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DeleteRole", e)),
        )
    }
}

/// GetRole, with not-found as `None`.
pub async fn find_role(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, ResourceError> {
    let output = not_found_as_none(
        aws.iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| aws_error("GetRole", e)),
    )?;
    Ok(output.and_then(|o| o.role))
}

/// Detaches every managed policy and deletes every inline policy of the role.
async fn detach_all_policies(aws: &AwsClients, role: &str) -> Result<(), ResourceError> {
    let attached: Vec<_> = aws
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("ListAttachedRolePolicies", e))?;
    for policy in attached {
        let Some(arn) = policy.policy_arn() else {
            continue;
        };
        ignore_not_found(
            aws.iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DetachRolePolicy", e)),
        )?;
    }
    let inline: Vec<String> = aws
        .iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| aws_error("ListRolePolicies", e))?;
    for name in inline {
        ignore_not_found(
            aws.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(&name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DeleteRolePolicy", e)),
        )?;
    }
    Ok(())
}

/// TagRole for new or changed values, UntagRole for dropped keys.
async fn update_tags(
    aws: &AwsClients,
    role: &str,
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Result<(), ResourceError> {
    let (to_set, to_remove) = tag_changes(current, desired);
    if !to_remove.is_empty() {
        aws.iam
            .untag_role()
            .role_name(role)
            .set_tag_keys(Some(to_remove))
            .send()
            .await
            .map_err(|e| aws_error("UntagRole", e))?;
    }
    if !to_set.is_empty() {
        aws.iam
            .tag_role()
            .role_name(role)
            .set_tags(Some(iam_tags(&to_set)?))
            .send()
            .await
            .map_err(|e| aws_error("TagRole", e))?;
    }
    Ok(())
}

/// Tags in IAM's shape.
fn iam_tags(
    tags: &BTreeMap<String, String>,
) -> Result<Vec<aws_sdk_iam::types::Tag>, ResourceError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ResourceError::Invalid(format!("{KIND}: tag {k}: {e}")))
        })
        .collect()
}
