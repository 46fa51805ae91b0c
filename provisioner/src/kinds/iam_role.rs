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
//!
//! IAM is eventually consistent: a write to a role another write is still changing fails with
//! `ConcurrentModification`, and a trust policy naming a principal created a moment ago fails
//! with "Invalid principal in policy"; both are retried ([`iam_not_yet_consistent`], shared with
//! the role's policies and attachments, which write to the role too).

use async_trait::async_trait;
use aws_sdk_iam::types::AttachedPolicy;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{self, AwsResult, NotFound};
use super::fields;
use super::tags;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};
use crate::retry::{RetryPolicy, retry};

/// The `iam_role` kind.
pub struct IamRole;

/// A role's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The trust policy, a JSON object (`null` when AWS reports none).
    pub assume_role_policy: Value,
    /// Empty for none.
    #[serde(default)]
    pub description: String,
    /// The IAM path the role lives under.
    #[serde(default = "root_path")]
    pub path: String,
    /// A managed policy's name in the role's account, or a full policy ARN; `None`: no boundary.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
}

/// IAM's path when none is given.
fn root_path() -> String {
    "/".to_string()
}

/// Fields an update can change; the others force replacement.
const UPDATABLE: &[&str] = &["description", "permissions_boundary", "tags"];

#[async_trait]
impl Kind for IamRole {
    const ABOUT: About = About::kind("iam_role", "the role name")
        .terraform("aws_iam_role", TerraformId::Attribute("name"))
        .replace_on(&["path", "assume_role_policy"]);
    type Spec = Spec;

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        vec![
            only_with_the_boundary(
                scope,
                "RolesOnlyWithTheBoundary",
                json!(["iam:CreateRole", "iam:PutRolePermissionsBoundary"]),
            ),
            json!({
                "Sid": "RolesUnderThePath",
                "Effect": "Allow",
                "Action": [
                    "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetRole",
                    "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:ListRoleTags",
                    "iam:TagRole", "iam:UntagRole", "iam:UpdateRoleDescription"
                ],
                "Resource": roles_under_the_path(scope),
            }),
            // Looking the function's role up by name, and removing the one an earlier version
            // created at `/` (a path change replaces it): reads and removals only.
            json!({
                "Sid": "FunctionRoleByNameReadAndRemove",
                "Effect": "Allow",
                "Action": [
                    "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetRole",
                    "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:ListRoleTags"
                ],
                "Resource": function_role_by_name(scope),
            }),
        ]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let Some(role) = find_role(aws, id).await? else {
            return Ok(None);
        };
        let trust = match role.assume_role_policy_document() {
            Some(document) => fields::parse_policy_document(Self::NAME, document)?,
            None => Value::Null,
        };
        let boundary = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn());
        let spec = Spec {
            assume_role_policy: trust,
            description: role.description().unwrap_or_default().to_string(),
            path: role.path().to_string(),
            permissions_boundary: boundary_field(role.arn(), boundary),
        };
        Ok(Some(
            Found::new(role.role_name(), spec)
                .with_arn(role.arn())
                .with_output("arn", role.arn())
                .with_output("name", role.role_name())
                .with_tags(tags::from_iam(role.tags())),
        ))
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, tags: &Tags) -> Made<Spec> {
        let trust =
            fields::policy_json(Self::NAME, "assume_role_policy", &spec.assume_role_policy)?;
        let boundary = match &spec.permissions_boundary {
            Some(declared) => Some(boundary_arn(declared, "aws", aws.account_id().await?)),
            None => None,
        };
        let tags = tags::iam(tags)?;
        let description = Some(spec.description.clone()).filter(|d| !d.is_empty());
        retry(&RetryPolicy::default(), iam_not_yet_consistent, || async {
            let call = aws
                .iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(&trust)
                .path(&spec.path)
                .set_permissions_boundary(boundary.clone())
                .set_description(description.clone())
                .set_tags(Some(tags.clone()));
            call.send().await.aws("CreateRole")
        })
        .await?;
        Self::read_back(aws, name, &Fields::new()).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        let role = change.id;
        if let Some(field) = change
            .changed
            .iter()
            .find(|f| !UPDATABLE.contains(&f.as_str()))
        {
            let why = if Self::REPLACE_ON.contains(&field.as_str()) {
                "cannot change in place; the role is replaced instead"
            } else {
                "is not a field an update can change"
            };
            return Err(ResourceError::Invalid(format!(
                "{}: `{field}` {why}",
                Self::NAME
            )));
        }
        if change.has("description") {
            let call = aws
                .iam
                .update_role_description()
                .role_name(role)
                .description(&change.spec.description);
            call.send().await.aws("UpdateRoleDescription")?;
        }
        if change.has("permissions_boundary") {
            update_boundary(aws, change).await?;
        }
        tags::iam_role(aws, role, change).await?;
        Self::read_back(aws, role, &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        detach_all_policies(aws, id).await.gone()?;
        let call = aws.iam.delete_role().role_name(id);
        call.send().await.aws("DeleteRole").gone()
    }
}

/// GetRole, with not-found as `None`.
pub async fn find_role(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, ResourceError> {
    let call = aws.iam.get_role().role_name(name);
    let output = call.send().await.aws("GetRole").absent()?;
    Ok(output.and_then(|o| o.role))
}

/// Sets (or removes, when declared `null`) the role's permissions boundary.
async fn update_boundary(aws: &AwsClients, change: &Update<'_, Spec>) -> Result<(), ResourceError> {
    let role = change.id;
    let Some(declared) = &change.spec.permissions_boundary else {
        let call = aws.iam.delete_role_permissions_boundary().role_name(role);
        call.send().await.aws("DeleteRolePermissionsBoundary")?;
        return Ok(());
    };
    let role_arn = change.current.arn.as_deref().unwrap_or_default();
    let arn = match arn_parts(role_arn) {
        Some((partition, account)) => boundary_arn(declared, partition, account),
        None => boundary_arn(declared, "aws", aws.account_id().await?),
    };
    retry(&RetryPolicy::default(), iam_not_yet_consistent, || async {
        let call = aws
            .iam
            .put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(&arn);
        call.send().await.aws("PutRolePermissionsBoundary")
    })
    .await?;
    Ok(())
}

/// The managed policies attached to `role`, from every page.
pub async fn attached_policies(
    aws: &AwsClients,
    role: &str,
) -> Result<Vec<AttachedPolicy>, ResourceError> {
    let call = aws.iam.list_attached_role_policies().role_name(role);
    let pages = call.into_paginator().items().send();
    errors::every_item(pages, "ListAttachedRolePolicies").await
}

/// A policy on a role: a managed one attached by its ARN, or an inline one by its name. The
/// role's own delete takes every one off first; the attachment and inline policy kinds take off
/// their own.
#[derive(Debug, Clone, Copy)]
pub enum RolePolicy<'a> {
    Attached(&'a str),
    Inline(&'a str),
}

impl RolePolicy<'_> {
    /// Takes the policy off `role` (DetachRolePolicy, DeleteRolePolicy); not-found is success.
    pub async fn remove(self, aws: &AwsClients, role: &str) -> Result<(), ResourceError> {
        match self {
            Self::Attached(arn) => {
                let call = aws.iam.detach_role_policy().role_name(role).policy_arn(arn);
                call.send().await.aws("DetachRolePolicy").gone()
            }
            Self::Inline(name) => {
                let call = aws.iam.delete_role_policy().role_name(role);
                let call = call.policy_name(name);
                call.send().await.aws("DeleteRolePolicy").gone()
            }
        }
    }
}

/// Detaches every managed policy and deletes every inline policy of the role.
async fn detach_all_policies(aws: &AwsClients, role: &str) -> Result<(), ResourceError> {
    for policy in attached_policies(aws, role).await? {
        let Some(arn) = policy.policy_arn() else {
            continue;
        };
        RolePolicy::Attached(arn).remove(aws, role).await?;
    }
    let call = aws.iam.list_role_policies().role_name(role);
    let inline = errors::every_item(call.into_paginator().items().send(), "ListRolePolicies");
    for name in inline.await? {
        RolePolicy::Inline(&name).remove(aws, role).await?;
    }
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
/// own account (as declared), else the full ARN; `None` when the role has none.
fn boundary_field(role_arn: &str, boundary: Option<&str>) -> Option<String> {
    let boundary = boundary?;
    let own_name = arn_parts(role_arn).and_then(|(partition, account)| {
        boundary
            .strip_prefix(&format!("arn:{partition}:iam::{account}:policy/"))
            .filter(|name| !name.contains('/'))
    });
    Some(own_name.unwrap_or(boundary).to_string())
}

/// The environment's roles: those under its path, the only ones the deploy role may write.
pub fn roles_under_the_path(scope: &DeployScope<'_>) -> String {
    scope.iam_arn(&format!("role{}*", scope.env.role_path))
}

/// The function's role by its name at `/`, where an earlier version created it (read and
/// removed only).
pub fn function_role_by_name(scope: &DeployScope<'_>) -> String {
    scope.iam_arn(&format!("role/{}", scope.env.function_role_name))
}

/// The statement `sid` allowing `actions` (reads and removals) on the environment's roles, and
/// also on the function's role an earlier version created at `/`, so what is left on that one
/// can be read and removed (a role's inline policies, its attachments).
pub fn on_every_role(scope: &DeployScope<'_>, sid: &str, actions: &[&str]) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": [roles_under_the_path(scope), function_role_by_name(scope)],
    })
}

/// The statement `sid` allowing `actions` (writes) on the environment's roles only while they
/// carry its permissions boundary, so no write can make a role without it.
pub fn only_with_the_boundary(scope: &DeployScope<'_>, sid: &str, actions: Value) -> Value {
    let boundary = scope.iam_arn(&format!("policy/{}", scope.env.boundary_name));
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": roles_under_the_path(scope),
        "Condition": { "StringEquals": { "iam:PermissionsBoundary": boundary } },
    })
}

/// A write IAM refused only because it has not caught up yet: another change to the same role
/// still in flight (`ConcurrentModification`), or a principal created a moment ago that IAM
/// does not know yet ("Invalid principal in policy", terraform-provider-aws' IAM retry).
pub fn iam_not_yet_consistent(error: &ResourceError) -> bool {
    errors::code(error) == Some("ConcurrentModification")
        || errors::says(error, "Invalid principal in policy")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::errors::testing::{assert_retries, aws};

    const ROLE: &str = "arn:aws:iam::123456789012:role/app/dev/app-dev-lambda";

    #[test]
    fn a_boundary_in_the_roles_account_reads_as_its_name() {
        assert_eq!(
            boundary_field(
                ROLE,
                Some("arn:aws:iam::123456789012:policy/app-dev-function-boundary")
            )
            .as_deref(),
            Some("app-dev-function-boundary")
        );
        assert_eq!(boundary_field(ROLE, None), None);
        for foreign in [
            "arn:aws:iam::999999999999:policy/app-dev-function-boundary",
            "arn:aws:iam::123456789012:policy/some/path/boundary",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ] {
            assert_eq!(
                boundary_field(ROLE, Some(foreign)).as_deref(),
                Some(foreign)
            );
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
        assert_eq!(IamRole::REPLACE_ON, ["path", "assume_role_policy"]);
    }

    #[test]
    fn a_role_without_path_or_boundary_is_declared_at_the_root_without_one() {
        let spec: Result<Spec, _> = serde_json::from_value(json!({"assume_role_policy": {}}));
        let spec = spec.ok();
        assert_eq!(spec.as_ref().map(|s| s.path.as_str()), Some("/"));
        assert_eq!(spec.and_then(|s| s.permissions_boundary), None);
        let misspelt: Result<Spec, _> =
            serde_json::from_value(json!({"assume_role_policy": {}, "pathh": "/x/"}));
        assert!(misspelt.is_err());
    }

    #[test]
    fn iam_writes_are_retried_only_while_iam_catches_up() {
        assert_retries(
            iam_not_yet_consistent,
            &[
                aws("ConcurrentModification", "x"),
                aws(
                    "MalformedPolicyDocument",
                    "Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/new\"",
                ),
            ],
            &[
                aws("AccessDenied", "no"),
                aws("MalformedPolicyDocument", "Syntax errors in policy"),
                aws("ThrottlingException", "slow down"),
                aws("NoSuchEntity", "gone"),
                ResourceError::Invalid("i".into()),
            ],
        );
    }

    #[test]
    fn the_roles_are_written_only_under_the_path_with_the_boundary() {
        let (env, statements) = crate::kinds::dev_statements::<IamRole>();
        let writes = &statements[0];
        assert_eq!(
            writes["Resource"],
            format!("arn:aws:iam::123456789012:role{}*", env.role_path)
        );
        assert_eq!(
            writes["Condition"]["StringEquals"]["iam:PermissionsBoundary"],
            format!("arn:aws:iam::123456789012:policy/{}", env.boundary_name)
        );
        assert_eq!(
            statements[2]["Resource"],
            format!("arn:aws:iam::123456789012:role/{}", env.function_role_name)
        );
    }
}
