//! `iam_role_policy`: the role's inline policy (DynamoDB access to the playground table).
//!
//! Fields: `role` (forces replacement), `policy` (a JSON object). The policy name is the
//! resource's physical name; the id is `<role>:<policy name>` (role names cannot contain `:`).
//! IAM returns the document percent-encoded: it is decoded and compared parsed.
//!
//! `role` refers to the role's output, so while the role is being re-created the declared id is
//! not known ([`typed::known`]): the plan cannot tell yet whether the new policy is another
//! object than the old one, and apply decides it once the role's name is resolved.
//! PutRolePolicy right after the role was written may meet IAM still catching up; it is retried
//! like the role's own writes ([`iam_not_yet_consistent`]).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{AwsResult, NotFound};
use super::fields;
use super::iam_role::{RolePolicy, iam_not_yet_consistent, on_every_role, only_with_the_boundary};
use super::typed::{self, About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};
use crate::retry::{RetryPolicy, retry};

/// The `iam_role_policy` kind.
pub struct IamRolePolicy;

/// An inline policy's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The role's name.
    pub role: String,
    /// The policy document, a JSON object.
    pub policy: Value,
}

#[async_trait]
impl Kind for IamRolePolicy {
    const ABOUT: About = About::kind("iam_role_policy", "`<role>:<policy name>`")
        .terraform(
            "aws_iam_role_policy",
            TerraformId::Joined("role", ":", "name"),
        )
        .replace_on(&["role"]);
    type Spec = Spec;

    fn declared_id(name: &str, spec: &Spec) -> Option<String> {
        typed::known(&spec.role).map(|role| format!("{role}:{name}"))
    }

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        vec![
            only_with_the_boundary(
                scope,
                "InlinePoliciesOnlyWithTheBoundary",
                json!("iam:PutRolePolicy"),
            ),
            on_every_role(
                scope,
                "InlinePoliciesReadAndDelete",
                &["iam:DeleteRolePolicy", "iam:GetRolePolicy"],
            ),
        ]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let (role, name) = split_id(id)?;
        let call = aws.iam.get_role_policy().role_name(role).policy_name(name);
        let Some(output) = call.send().await.aws("GetRolePolicy").absent()? else {
            return Ok(None);
        };
        let policy = fields::parse_policy_document(Self::NAME, output.policy_document())?;
        let role = role.to_string();
        Ok(Some(Found::new(id, Spec { role, policy })))
    }

    async fn find_existing(aws: &AwsClients, name: &str, spec: &Spec, _tags: &Tags) -> Read<Spec> {
        Self::read(aws, &format!("{}:{name}", spec.role), &Fields::new()).await
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        put_policy(aws, &spec.role, name, &spec.policy).await?;
        Self::read_back(aws, &format!("{}:{name}", spec.role), &Fields::new()).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        if let Some(other) = change.changed.iter().find(|field| *field != "policy") {
            return Err(ResourceError::Invalid(format!(
                "{}: cannot update field `{other}` in place",
                Self::NAME
            )));
        }
        let (role, name) = split_id(change.id)?;
        put_policy(aws, role, name, &change.spec.policy).await?;
        Self::read_back(aws, change.id, &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let (role, name) = split_id(id)?;
        RolePolicy::Inline(name).remove(aws, role).await
    }
}

/// PutRolePolicy, retried while IAM catches up with the role.
async fn put_policy(
    aws: &AwsClients,
    role: &str,
    name: &str,
    policy: &Value,
) -> Result<(), ResourceError> {
    let document = fields::policy_json(IamRolePolicy::NAME, "policy", policy)?;
    retry(&RetryPolicy::default(), iam_not_yet_consistent, || async {
        let call = aws
            .iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(&document);
        call.send().await.aws("PutRolePolicy").map(drop)
    })
    .await
}

/// `<role>:<policy name>` → (role, policy name).
fn split_id(id: &str) -> Result<(&str, &str), ResourceError> {
    id.split_once(':')
        .filter(|(role, name)| !role.is_empty() && !name.is_empty())
        .ok_or_else(|| {
            ResourceError::Invalid(format!(
                "{}: id `{id}` is not `<role>:<policy name>`; fix the recorded state",
                IamRolePolicy::NAME
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(role: &str) -> Spec {
        Spec {
            role: role.into(),
            policy: json!({}),
        }
    }

    #[test]
    fn the_declared_id_waits_for_the_roles_name() {
        assert_eq!(
            IamRolePolicy::declared_id("p", &spec("r")).as_deref(),
            Some("r:p")
        );
        assert_eq!(
            IamRolePolicy::declared_id("p", &spec(typed::KNOWN_AFTER_APPLY)),
            None
        );
    }

    #[test]
    fn ids_split_at_the_colon_and_terraform_ids_join_there() {
        assert_eq!(split_id("r:p").ok(), Some(("r", "p")));
        assert!(split_id("r").is_err());
        assert!(split_id(":p").is_err());
        assert_eq!(
            IamRolePolicy::ABOUT
                .terraform_id
                .of(&json!({"role": "r", "name": "p", "id": "r:p"}))
                .as_deref(),
            Some("r:p")
        );
    }
}
