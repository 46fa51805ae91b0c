//! `iam_policy`: a customer-managed IAM policy.
//!
//! The stack grants the function its table access with an inline policy, so it never declares
//! this kind; the original Terraform configuration used one (`aws_iam_policy.ddb_rw`, attached
//! to the function's role). `migrate` adopts such a policy and its attachment into the state
//! under their Terraform names, so that the plan removes them once the stack's inline policy is
//! in place, instead of leaving them behind unmanaged.
//!
//! Fields: `name` (forces replacement), `policy` (the default version's document, a JSON
//! object). Id: the policy ARN, which IAM makes (it holds the account id), so there is no
//! declared id. IAM returns documents percent-encoded; they are decoded and compared parsed.
//! Delete removes the non-default versions first, as IAM requires; a policy still attached to
//! something is refused by IAM (its attachments are deleted first, since they depend on it).
//! Its tags are read but never written: the stack only ever removes such a policy.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{AwsResult, NotFound};
use super::fields;
use super::tags;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};

/// The `iam_policy` kind.
pub struct IamPolicy;

/// A managed policy's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The policy's name.
    pub name: String,
    /// The default version's document, a JSON object (`null` when IAM has none to show).
    pub policy: Value,
}

#[async_trait]
impl Kind for IamPolicy {
    const ABOUT: About = About::kind("iam_policy", "the policy ARN")
        .terraform("aws_iam_policy", TerraformId::Attribute("arn"))
        .replace_on(&["name"])
        .aws_assigns_id();
    type Spec = Spec;

    /// Only what removing a policy `migrate` adopted takes (the stack never creates one), on
    /// the environment's names only.
    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        vec![json!({
            "Sid": "AdoptedPoliciesReadAndRemove",
            "Effect": "Allow",
            "Action": [
                "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:GetPolicy",
                "iam:GetPolicyVersion", "iam:ListPolicyVersions"
            ],
            "Resource": scope.iam_arn(&format!("policy/{}-*", scope.env.name_base)),
        })]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let call = aws.iam.get_policy().policy_arn(id);
        let found = call.send().await.aws("GetPolicy").absent()?;
        let Some(policy) = found.and_then(|o| o.policy) else {
            return Ok(None);
        };
        let version = policy.default_version_id().unwrap_or("v1");
        let call = aws
            .iam
            .get_policy_version()
            .policy_arn(id)
            .version_id(version);
        let document = call
            .send()
            .await
            .aws("GetPolicyVersion")
            .absent()?
            .and_then(|o| o.policy_version)
            .and_then(|v| v.document)
            .map(|d| fields::parse_policy_document(Self::NAME, &d))
            .transpose()?
            .unwrap_or(Value::Null);
        let name = policy.policy_name().unwrap_or_default().to_string();
        let spec = Spec {
            name: name.clone(),
            policy: document,
        };
        Ok(Some(
            Found::new(id, spec)
                .with_arn(id)
                .with_output("arn", id)
                .with_output("name", name)
                .with_tags(tags::from_iam(policy.tags())),
        ))
    }

    async fn create(aws: &AwsClients, _name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        let document = fields::policy_json(Self::NAME, "policy", &spec.policy)?;
        let call = aws
            .iam
            .create_policy()
            .policy_name(&spec.name)
            .policy_document(document);
        let created = call.send().await.aws("CreatePolicy")?;
        let arn = created.policy.and_then(|p| p.arn).ok_or_else(|| {
            ResourceError::Invalid(format!("{}: CreatePolicy gave no ARN", Self::NAME))
        })?;
        Self::read_back(aws, &arn, &Fields::new()).await
    }

    /// A new default version with the declared document; the oldest other version goes first
    /// when IAM's limit of five is reached.
    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        if let Some(other) = change.changed.iter().find(|field| *field != "policy") {
            return Err(ResourceError::Invalid(format!(
                "{}: field `{other}` cannot change in place",
                Self::NAME
            )));
        }
        let arn = change.id;
        let versions = non_default_versions(aws, arn).await?;
        if versions.len() >= 4
            && let Some(oldest) = versions.first()
        {
            delete_version(aws, arn, oldest).await?;
        }
        let document = fields::policy_json(Self::NAME, "policy", &change.spec.policy)?;
        let call = aws
            .iam
            .create_policy_version()
            .policy_arn(arn)
            .policy_document(document)
            .set_as_default(true);
        call.send().await.aws("CreatePolicyVersion")?;
        Self::read_back(aws, arn, &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let Some(versions) = non_default_versions(aws, id).await.absent()? else {
            return Ok(());
        };
        for version in versions {
            delete_version(aws, id, &version).await?;
        }
        let call = aws.iam.delete_policy().policy_arn(id);
        call.send().await.aws("DeletePolicy").gone()
    }
}

/// The ids of the policy's versions other than the default, oldest first.
async fn non_default_versions(aws: &AwsClients, arn: &str) -> Result<Vec<String>, ResourceError> {
    let call = aws.iam.list_policy_versions().policy_arn(arn);
    let listed = call.send().await.aws("ListPolicyVersions")?;
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
    let call = aws.iam.delete_policy_version().policy_arn(arn);
    let call = call.version_id(version);
    call.send().await.aws("DeletePolicyVersion").gone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policies_are_removed_only_under_the_environments_names() {
        let (env, statements) = crate::kinds::dev_statements::<IamPolicy>();
        assert_eq!(
            statements[0]["Resource"],
            format!("arn:aws:iam::123456789012:policy/{}-*", env.name_base)
        );
        assert_eq!(
            IamPolicy::ABOUT
                .terraform_id
                .of(&json!({"arn": "arn:aws:iam::1:policy/p", "name": "p"}))
                .as_deref(),
            Some("arn:aws:iam::1:policy/p")
        );
    }
}
