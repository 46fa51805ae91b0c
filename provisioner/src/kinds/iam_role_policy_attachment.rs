//! `iam_role_policy_attachment`: a managed policy attached to the role
//! (`AWSLambdaBasicExecutionRole`, for CloudWatch Logs).
//!
//! Fields (both force replacement, an attachment has nothing to update): `role`, `policy_arn`.
//! The id is `<role>/<policy arn>`; role names cannot contain `/`, so the first `/` splits it.
//! The stack names the attachment by that id too, from the role's declared name, while `role`
//! refers to the role's output: so the declared id is known at plan time even when the role is
//! being re-created, and a role re-created under its own name keeps the attachment's id (it is
//! re-attached after the old one is detached, never both at once).
//!
//! AttachRolePolicy right after the role was written may meet IAM still catching up; it is
//! retried like the role's own writes ([`iam_not_yet_consistent`]).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{AwsResult, NotFound};
use super::iam_role::{
    RolePolicy, attached_policies, iam_not_yet_consistent, on_every_role, only_with_the_boundary,
};
use super::typed::{About, Found, Kind, Made, Read, TerraformId};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::desired::BASIC_EXECUTION_POLICY_ARN;
use crate::resource::{Fields, ResourceError, Tags};
use crate::retry::{RetryPolicy, retry};

/// The `iam_role_policy_attachment` kind.
pub struct IamRolePolicyAttachment;

/// An attachment's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The role's name.
    pub role: String,
    /// The managed policy's ARN.
    pub policy_arn: String,
}

#[async_trait]
impl Kind for IamRolePolicyAttachment {
    const ABOUT: About = About::kind("iam_role_policy_attachment", "`<role>/<policy arn>`")
        .terraform(
            "aws_iam_role_policy_attachment",
            TerraformId::Joined("role", "/", "policy_arn"),
        )
        .replace_on(&["role", "policy_arn"]);
    type Spec = Spec;

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        let mut attach = only_with_the_boundary(
            scope,
            "AttachBasicExecutionOnlyWithTheBoundary",
            json!("iam:AttachRolePolicy"),
        );
        // And only the basic execution policy.
        attach["Condition"]["ArnEquals"] = json!({ "iam:PolicyARN": BASIC_EXECUTION_POLICY_ARN });
        vec![
            attach,
            on_every_role(
                scope,
                "RoleAttachmentsReadAndDetach",
                &["iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"],
            ),
        ]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let (role, policy_arn) = split_id(id)?;
        let attached = attached_policies(aws, role).await.absent()?;
        let is_attached = attached
            .unwrap_or_default()
            .iter()
            .any(|p| p.policy_arn() == Some(policy_arn));
        let spec = Spec {
            role: role.to_string(),
            policy_arn: policy_arn.to_string(),
        };
        Ok(is_attached.then(|| Found::new(id, spec)))
    }

    /// By `<role>/<policy arn>` from the declared fields (the declared name may be any label).
    async fn find_existing(aws: &AwsClients, _name: &str, spec: &Spec, _tags: &Tags) -> Read<Spec> {
        Self::read(aws, &id_of(spec), &Fields::new()).await
    }

    async fn create(aws: &AwsClients, _name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        retry(&RetryPolicy::default(), iam_not_yet_consistent, || async {
            let call = aws
                .iam
                .attach_role_policy()
                .role_name(&spec.role)
                .policy_arn(&spec.policy_arn);
            call.send().await.aws("AttachRolePolicy")
        })
        .await?;
        Self::read_back(aws, &id_of(spec), &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let (role, policy_arn) = split_id(id)?;
        RolePolicy::Attached(policy_arn).remove(aws, role).await
    }
}

/// `<role>/<policy arn>`.
fn id_of(spec: &Spec) -> String {
    format!("{}/{}", spec.role, spec.policy_arn)
}

/// `<role>/<policy arn>` → (role, policy arn).
fn split_id(id: &str) -> Result<(&str, &str), ResourceError> {
    id.split_once('/')
        .filter(|(role, arn)| !role.is_empty() && arn.starts_with("arn:"))
        .ok_or_else(|| {
            ResourceError::Invalid(format!(
                "{}: id `{id}` is not `<role>/<policy arn>`; fix the recorded state",
                IamRolePolicyAttachment::NAME
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_splits_at_the_first_slash() {
        let id = "r/arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
        assert_eq!(
            split_id(id).ok(),
            Some((
                "r",
                "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
            ))
        );
        assert!(split_id("no-slash").is_err());
        assert!(split_id("r/not-an-arn").is_err());
    }

    #[test]
    fn terraform_names_the_attachment_by_role_and_policy() {
        let attributes =
            json!({"role": "r", "policy_arn": "arn:aws:iam::aws:policy/P", "id": "r-2024"});
        assert_eq!(
            IamRolePolicyAttachment::ABOUT
                .terraform_id
                .of(&attributes)
                .as_deref(),
            Some("r/arn:aws:iam::aws:policy/P")
        );
        assert_eq!(
            IamRolePolicyAttachment::ABOUT
                .terraform_id
                .of(&json!({"role": "r"})),
            None
        );
    }
}
