//! `iam_policy`: a customer-managed IAM policy.
//!
//! The stack grants the function its table access with an inline policy, so it never declares
//! this kind; the original Terraform configuration used one (`aws_iam_policy.ddb_rw`, attached
//! to the function's role). `migrate` adopts such a policy and its attachment into the state
//! under their Terraform names, so that the plan removes them once the stack's inline policy is
//! in place, instead of leaving them behind unmanaged.
//!
//! Fields: `name` (forces replacement), `policy` (the default version's document, a JSON
//! object). Id: the policy ARN. IAM returns documents percent-encoded; they are decoded and
//! compared parsed. Delete removes the non-default versions first, as IAM requires; a policy
//! still attached to something is refused by IAM (its attachments are deleted first, since
//! they depend on it).

use async_trait::async_trait;
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields;
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};

const KIND: &str = "iam_policy";

/// The `iam_policy` kind.
#[derive(Debug, Default)]
pub struct IamPolicy;

#[async_trait]
impl ResourceKind for IamPolicy {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn replace_on(&self) -> &'static [&'static str] {
        &["name"]
    }

    /// IAM names the policy by an ARN that holds the account id: there is no declared id.
    fn declared_id(&self, _desired: &Desired) -> Option<String> {
        None
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let found = not_found_as_none(
            aws.iam
                .get_policy()
                .policy_arn(id)
                .send()
                .await
                .map_err(|e| aws_error("GetPolicy", e)),
        )?;
        let Some(policy) = found.and_then(|o| o.policy) else {
            return Ok(None);
        };
        let version = policy.default_version_id().unwrap_or("v1");
        let document = not_found_as_none(
            aws.iam
                .get_policy_version()
                .policy_arn(id)
                .version_id(version)
                .send()
                .await
                .map_err(|e| aws_error("GetPolicyVersion", e)),
        )?
        .and_then(|o| o.policy_version)
        .and_then(|v| v.document)
        .map(|d| fields::parse_policy_document(KIND, &d))
        .transpose()?
        .unwrap_or(Value::Null);
        let name = policy.policy_name().unwrap_or_default().to_string();
        Ok(Some(Observed {
            id: id.to_string(),
            arn: Some(id.to_string()),
            fields: fields::fields([("name", Value::String(name.clone())), ("policy", document)]),
            outputs: fields::fields([
                ("arn", Value::String(id.to_string())),
                ("name", Value::String(name)),
            ]),
            tags: Some(
                policy
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            ),
        }))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let document = fields::json_document(KIND, &desired.fields, "policy")?;
        let created = aws
            .iam
            .create_policy()
            .policy_name(fields::string(KIND, &desired.fields, "name")?)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| aws_error("CreatePolicy", e))?;
        let arn = created
            .policy
            .and_then(|p| p.arn)
            .ok_or_else(|| ResourceError::Invalid(format!("{KIND}: CreatePolicy gave no ARN")))?;
        self.read_back(aws, &arn, &Fields::new()).await
    }

    /// A new default version with the declared document; the oldest other version goes first
    /// when IAM's limit of five is reached.
    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        if let Some(other) = changes.iter().find(|c| c.field != "policy") {
            return Err(ResourceError::Invalid(format!(
                "{KIND}: field `{}` cannot change in place",
                other.field
            )));
        }
        let versions = non_default_versions(aws, &current.id).await?;
        if versions.len() >= 4
            && let Some(oldest) = versions.first()
        {
            delete_version(aws, &current.id, oldest).await?;
        }
        aws.iam
            .create_policy_version()
            .policy_arn(&current.id)
            .policy_document(fields::json_document(KIND, &desired.fields, "policy")?)
            .set_as_default(true)
            .send()
            .await
            .map_err(|e| aws_error("CreatePolicyVersion", e))?;
        self.read_back(aws, &current.id, &Fields::new()).await
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<(), ResourceError> {
        let versions = match non_default_versions(aws, id).await {
            Ok(versions) => versions,
            Err(error) => return ignore_not_found(Err(error)),
        };
        for version in versions {
            delete_version(aws, id, &version).await?;
        }
        ignore_not_found(
            aws.iam
                .delete_policy()
                .policy_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DeletePolicy", e)),
        )
    }
}

/// The ids of the policy's versions other than the default, oldest first.
async fn non_default_versions(aws: &AwsClients, arn: &str) -> Result<Vec<String>, ResourceError> {
    let listed = aws
        .iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("ListPolicyVersions", e))?;
    let mut versions: Vec<_> = listed
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .collect();
    versions.sort_by_key(|v| v.create_date().map(|d| (d.secs(), d.subsec_nanos())));
    Ok(versions
        .iter()
        .filter_map(|v| v.version_id().map(str::to_string))
        .collect())
}

async fn delete_version(aws: &AwsClients, arn: &str, version: &str) -> Result<(), ResourceError> {
    ignore_not_found(
        aws.iam
            .delete_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("DeletePolicyVersion", e)),
    )
}
