//! `iam_role_policy_attachment`: a managed policy attached to the role
//! (`AWSLambdaBasicExecutionRole`, for CloudWatch Logs).
//!
//! Fields (both force replacement, an attachment has nothing to update): `role`, `policy_arn`.
//! The id is `<role>/<policy arn>`; role names cannot contain `/`, so the first `/` splits it.

use async_trait::async_trait;
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields;
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
use crate::retry::{RetryPolicy, is_iam_propagation, retry};

const KIND: &str = "iam_role_policy_attachment";

/// The `iam_role_policy_attachment` kind.
#[derive(Debug, Default)]
pub struct IamRolePolicyAttachment;

#[async_trait]
impl ResourceKind for IamRolePolicyAttachment {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn replace_on(&self) -> &'static [&'static str] {
        &["role", "policy_arn"]
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let (role, policy_arn) = split_id(id)?;
        let attached = not_found_as_none(
            aws.iam
                .list_attached_role_policies()
                .role_name(role)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| aws_error("ListAttachedRolePolicies", e)),
        )?;
        let is_attached = attached
            .unwrap_or_default()
            .iter()
            .any(|p| p.policy_arn() == Some(policy_arn));
        Ok(is_attached.then(|| Observed {
            id: id.to_string(),
            arn: None,
            fields: fields::fields([
                ("role", Value::String(role.to_string())),
                ("policy_arn", Value::String(policy_arn.to_string())),
            ]),
            outputs: Fields::new(),
            tags: None,
        }))
    }

    async fn find_existing(
        &self,
        aws: &AwsClients,
        desired: &Desired,
    ) -> Result<Option<Observed>, ResourceError> {
        self.read(aws, &id_of(&desired.fields)?, &desired.fields)
            .await
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let id = id_of(&desired.fields)?;
        let (role, policy_arn) = split_id(&id)?;
        retry(&RetryPolicy::default(), is_iam_propagation, || async {
            aws.iam
                .attach_role_policy()
                .role_name(role)
                .policy_arn(policy_arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("AttachRolePolicy", e))
        })
        .await?;
        self.read_back(aws, &id, &desired.fields).await
    }

    async fn update(
        &self,
        _aws: &AwsClients,
        _desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        match changes.first() {
            None => Ok(current.clone()),
            Some(change) => Err(ResourceError::Invalid(format!(
                "{KIND}: field `{}` can only change by replacing the attachment",
                change.field
            ))),
        }
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<(), ResourceError> {
        let (role, policy_arn) = split_id(id)?;
        ignore_not_found(
            aws.iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(policy_arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DetachRolePolicy", e)),
        )
    }
}

fn id_of(declared: &Fields) -> Result<String, ResourceError> {
    Ok(format!(
        "{}/{}",
        fields::string(KIND, declared, "role")?,
        fields::string(KIND, declared, "policy_arn")?
    ))
}

/// `<role>/<policy arn>` → (role, policy arn).
fn split_id(id: &str) -> Result<(&str, &str), ResourceError> {
    id.split_once('/')
        .filter(|(role, arn)| !role.is_empty() && arn.starts_with("arn:"))
        .ok_or_else(|| {
            ResourceError::Invalid(format!(
                "{KIND}: id `{id}` is not `<role>/<policy arn>`; fix the recorded state"
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
}
