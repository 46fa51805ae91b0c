//! The permissions boundary of each environment's roles: a customer managed policy that
//! bootstrap (with administrator credentials) creates and keeps up to date, and that the deploy
//! role can neither edit nor detach.
//!
//! A managed policy changes by new versions: when the document differs, bootstrap creates a
//! version and makes it the default, first deleting the oldest non-default version when the
//! policy already has IAM's maximum of five.

use aws_sdk_iam::types::Tag;

use super::github::decode_policy;
use super::policies::{self, EnvScope, PolicyInputs, same_document};
use super::{BootstrapError, Report, aws};

/// IAM keeps at most this many versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;

/// Creates the environment's boundary policy or brings its default version up to date;
/// returns its ARN.
pub async fn ensure_boundary_policy(
    iam: &aws_sdk_iam::Client,
    inputs: &PolicyInputs,
    env: &EnvScope,
    report: &mut Report,
) -> Result<String, BootstrapError> {
    let arn = policies::boundary_arn(inputs, env);
    let what = format!("permissions boundary {}", env.boundary_name);
    let document = policies::boundary_policy(inputs, env);
    let existing = match iam.get_policy().policy_arn(&arn).send().await {
        Ok(out) => out.policy,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => return Err(aws(&what, "GetPolicy", e)),
    };
    let Some(policy) = existing else {
        let tags = env
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BootstrapError::Invalid(format!("policy tags: {e}")))?;
        iam.create_policy()
            .policy_name(&env.boundary_name)
            .description(format!(
                "The most any role of the {} environment may do: what its function needs",
                env.environment
            ))
            .policy_document(document.to_string())
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws(&what, "CreatePolicy", e))?;
        report.changed(
            &what,
            "created (the function's log group, table and indexes)",
        );
        return Ok(arn);
    };
    let default_version = policy.default_version_id().unwrap_or("v1");
    let current = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id(default_version)
        .send()
        .await
        .map_err(|e| aws(&what, "GetPolicyVersion", e))?;
    let current_document = current
        .policy_version()
        .and_then(|v| v.document())
        .map(decode_policy)
        .transpose()?;
    if current_document.is_some_and(|d| same_document(&d, &document)) {
        report.unchanged(format!("{what}: up to date"));
        return Ok(arn);
    }
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .map_err(|e| aws(&what, "ListPolicyVersions", e))?;
    let mut old: Vec<_> = versions
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .collect();
    if versions.versions().len() >= MAX_POLICY_VERSIONS {
        old.sort_by_key(|v| v.create_date().map(|d| d.secs()));
        if let Some(oldest) = old.first().and_then(|v| v.version_id()) {
            iam.delete_policy_version()
                .policy_arn(&arn)
                .version_id(oldest)
                .send()
                .await
                .map_err(|e| aws(&what, "DeletePolicyVersion", e))?;
        }
    }
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(document.to_string())
        .set_as_default(true)
        .send()
        .await
        .map_err(|e| aws(&what, "CreatePolicyVersion", e))?;
    report.changed(&what, "wrote a new default version");
    Ok(arn)
}
