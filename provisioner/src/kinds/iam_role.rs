//! `iam_role`: the Lambda function's execution role.
//!
//! Fields: `assume_role_policy` (the trust policy, a JSON object: Lambda's service principal),
//! `description`, `path` (the IAM path, `/` when not declared) and `permissions_boundary` (the
//! name of a managed policy in the role's own account, or a full policy ARN; `null` for none).
//! Id and name are the role name. IAM returns the trust policy percent-encoded, so it is decoded
//! and compared parsed; it returns the boundary as an ARN, which reads back as the bare policy
//! name when the policy is in the role's own account, so a declared name compares equal.
//!
//! `path` and `assume_role_policy` force replacement: IAM cannot move a role to another path,
//! and the deploy role holds no `iam:UpdateAssumeRolePolicy` (IAM cannot condition that call on
//! the new trust, so allowing it would let a deploy token make any role under its path trust
//! anyone). A drifted trust policy therefore shows in the plan as `-/+` and is repaired by
//! re-creating the role with the declared trust. The boundary is changed in place
//! (`PutRolePermissionsBoundary`), which the deploy role may do only with its own boundary.
//!
//! Delete first detaches managed policies and deletes inline ones, because DeleteRole fails with
//! `DeleteConflict` while any is left (a crash between those steps is fine: running delete again
//! finishes the job).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields::{self, tag_changes};
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
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

    fn replace_on(&self) -> &'static [&'static str] {
        &["path", "assume_role_policy"]
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
                ("path", Value::String(role.path().to_string())),
                (
                    "permissions_boundary",
                    boundary_field(
                        role.arn(),
                        role.permissions_boundary()
                            .and_then(|b| b.permissions_boundary_arn()),
                    ),
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
        let path = fields::opt_string(KIND, &desired.fields, "path")?.map(str::to_string);
        let boundary = match fields::opt_string(KIND, &desired.fields, "permissions_boundary")? {
            Some(declared) => Some(boundary_arn(declared, "aws", aws.account_id().await?)),
            None => None,
        };
        retry(&RetryPolicy::default(), is_iam_propagation, || async {
            aws.iam
                .create_role()
                .role_name(&desired.name)
                .assume_role_policy_document(&trust)
                .set_path(path.clone())
                .set_permissions_boundary(boundary.clone())
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
                "permissions_boundary" => {
                    update_boundary(aws, desired, current).await?;
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
                field @ ("path" | "assume_role_policy") => {
                    return Err(ResourceError::Invalid(format!(
                        "{KIND}: `{field}` cannot change in place; the role is replaced instead"
                    )));
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

/// Sets (or removes, when declared `null`) the role's permissions boundary.
async fn update_boundary(
    aws: &AwsClients,
    desired: &Desired,
    current: &Observed,
) -> Result<(), ResourceError> {
    let role = current.id.as_str();
    let Some(declared) = fields::opt_string(KIND, &desired.fields, "permissions_boundary")? else {
        aws.iam
            .delete_role_permissions_boundary()
            .role_name(role)
            .send()
            .await
            .map_err(|e| aws_error("DeleteRolePermissionsBoundary", e))?;
        return Ok(());
    };
    let role_arn = current.arn.as_deref().unwrap_or_default();
    let arn = match arn_parts(role_arn) {
        Some((partition, account)) => boundary_arn(declared, partition, account),
        None => boundary_arn(declared, "aws", aws.account_id().await?),
    };
    retry(&RetryPolicy::default(), is_iam_propagation, || async {
        aws.iam
            .put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(&arn)
            .send()
            .await
            .map_err(|e| aws_error("PutRolePermissionsBoundary", e))
    })
    .await?;
    Ok(())
}

/// `(partition, account)` of an IAM ARN (`arn:aws:iam::123456789012:role/x`).
fn arn_parts(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(_), Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some((partition, account))
}

/// The boundary ARN for a declared value: a full ARN as is, a policy name in `account`.
fn boundary_arn(declared: &str, partition: &str, account: &str) -> String {
    if declared.starts_with("arn:") {
        declared.to_string()
    } else {
        format!("arn:{partition}:iam::{account}:policy/{declared}")
    }
}

/// The observed `permissions_boundary`: the bare policy name when the policy is in the role's
/// own account (as declared), else the full ARN; `null` when the role has none.
fn boundary_field(role_arn: &str, boundary: Option<&str>) -> Value {
    let Some(boundary) = boundary else {
        return Value::Null;
    };
    let own_name = arn_parts(role_arn).and_then(|(partition, account)| {
        boundary
            .strip_prefix(&format!("arn:{partition}:iam::{account}:policy/"))
            .filter(|name| !name.contains('/'))
    });
    Value::String(own_name.unwrap_or(boundary).to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/app/dev/app-dev-lambda";

    #[test]
    fn a_boundary_in_the_roles_account_reads_as_its_name() {
        assert_eq!(
            boundary_field(
                ROLE,
                Some("arn:aws:iam::123456789012:policy/app-dev-function-boundary")
            ),
            "app-dev-function-boundary"
        );
        assert_eq!(boundary_field(ROLE, None), Value::Null);
        for foreign in [
            "arn:aws:iam::999999999999:policy/app-dev-function-boundary",
            "arn:aws:iam::123456789012:policy/some/path/boundary",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ] {
            assert_eq!(boundary_field(ROLE, Some(foreign)), foreign);
        }
    }

    #[test]
    fn a_declared_name_becomes_an_arn_in_the_account() {
        assert_eq!(
            boundary_arn("b", "aws", "123456789012"),
            "arn:aws:iam::123456789012:policy/b"
        );
        assert_eq!(
            boundary_arn("arn:aws:iam::1:policy/x", "aws", "2"),
            "arn:aws:iam::1:policy/x"
        );
        assert_eq!(arn_parts(ROLE), Some(("aws", "123456789012")));
        assert_eq!(arn_parts("not an arn"), None);
    }

    #[test]
    fn path_and_trust_force_replacement() {
        assert_eq!(IamRole.replace_on(), ["path", "assume_role_policy"]);
    }
}
