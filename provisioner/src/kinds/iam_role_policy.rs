//! `iam_role_policy`: the role's inline policy (DynamoDB access to the playground table).
//!
//! Fields: `role` (forces replacement), `policy` (a JSON object). The policy name is the
//! resource's physical name; the id is `<role>:<policy name>` (role names cannot contain `:`).
//! IAM returns the document percent-encoded: it is decoded and compared parsed.

use async_trait::async_trait;
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields;
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
use crate::retry::{RetryPolicy, is_iam_propagation, retry};

const KIND: &str = "iam_role_policy";

/// The `iam_role_policy` kind.
#[derive(Debug, Default)]
pub struct IamRolePolicy;

#[async_trait]
impl ResourceKind for IamRolePolicy {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn replace_on(&self) -> &'static [&'static str] {
        &["role"]
    }

    fn declared_id(&self, desired: &Desired) -> Option<String> {
        let role = desired.fields.get("role").and_then(Value::as_str)?;
        Some(format!("{role}:{}", desired.name))
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let (role, name) = split_id(id)?;
        let output = not_found_as_none(
            aws.iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| aws_error("GetRolePolicy", e)),
        )?;
        let Some(output) = output else {
            return Ok(None);
        };
        let policy = fields::parse_policy_document(KIND, output.policy_document())?;
        Ok(Some(Observed {
            id: id.to_string(),
            arn: None,
            fields: fields::fields([
                ("role", Value::String(role.to_string())),
                ("policy", policy),
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
        let role = fields::string(KIND, &desired.fields, "role")?;
        self.read(aws, &format!("{role}:{}", desired.name), &desired.fields)
            .await
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let role = fields::string(KIND, &desired.fields, "role")?;
        let id = format!("{role}:{}", desired.name);
        put_policy(aws, role, &desired.name, &desired.fields).await?;
        self.read_back(aws, &id, &Fields::new()).await
    }

    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        if let Some(other) = changes.iter().find(|c| c.field != "policy") {
            return Err(ResourceError::Invalid(format!(
                "{KIND}: cannot update field `{}` in place",
                other.field
            )));
        }
        let (role, name) = split_id(&current.id)?;
        put_policy(aws, role, name, &desired.fields).await?;
        self.read_back(aws, &current.id, &Fields::new()).await
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<(), ResourceError> {
        let (role, name) = split_id(id)?;
        ignore_not_found(
            aws.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DeleteRolePolicy", e)),
        )
    }
}

async fn put_policy(
    aws: &AwsClients,
    role: &str,
    name: &str,
    declared: &Fields,
) -> Result<(), ResourceError> {
    let document = fields::json_document(KIND, declared, "policy")?;
    retry(&RetryPolicy::default(), is_iam_propagation, || async {
        aws.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(&document)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutRolePolicy", e))
    })
    .await
}

/// `<role>:<policy name>` → (role, policy name).
fn split_id(id: &str) -> Result<(&str, &str), ResourceError> {
    id.split_once(':')
        .filter(|(role, name)| !role.is_empty() && !name.is_empty())
        .ok_or_else(|| {
            ResourceError::Invalid(format!(
                "{KIND}: id `{id}` is not `<role>:<policy name>`; fix the recorded state"
            ))
        })
}
