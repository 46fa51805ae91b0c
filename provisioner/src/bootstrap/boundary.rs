//! The permissions boundary of each environment's roles: a customer managed policy that
//! bootstrap (with administrator credentials) creates and keeps up to date, and that the deploy
//! role can neither edit nor detach.
//!
//! A managed policy changes by new versions: when the document differs, bootstrap creates a
//! version and makes it the default, first deleting the oldest non-default version when the
//! policy already has IAM's maximum of five.

use super::github::up_to_date;
use super::policies::{self, EnvScope, PolicyInputs};
use super::{AwsResult, BootstrapError, NotFound, On, Report};

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
    let got = iam.get_policy().policy_arn(&arn).send().await;
    let existing = got.aws("GetPolicy").absent().on(&what)?;
    let Some(policy) = existing.and_then(|out| out.policy) else {
        let tags = crate::kinds::tags::iam(&env.tags).on(&what)?;
        let call = iam
            .create_policy()
            .policy_name(&env.boundary_name)
            .description(format!(
                "The most any role of the {} environment may do: what its function needs",
                env.environment
            ))
            .policy_document(document.to_string())
            .set_tags(Some(tags));
        call.send().await.aws("CreatePolicy").on(&what)?;
        report.changed(
            &what,
            "created (the function's log group, table and indexes)",
        );
        return Ok(arn);
    };
    let default_version = policy.default_version_id().unwrap_or("v1");
    let call = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id(default_version);
    let current = call.send().await.aws("GetPolicyVersion").on(&what)?;
    let held = current.policy_version().and_then(|v| v.document());
    if up_to_date(report, &what, "up to date", held, &document)? {
        return Ok(arn);
    }
    let call = iam.list_policy_versions().policy_arn(&arn);
    let versions = call.send().await.aws("ListPolicyVersions").on(&what)?;
    let mut old: Vec<_> = versions
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .collect();
    if versions.versions().len() >= MAX_POLICY_VERSIONS {
        old.sort_by_key(|v| v.create_date().map(|d| d.secs()));
        if let Some(oldest) = old.first().and_then(|v| v.version_id()) {
            let call = iam
                .delete_policy_version()
                .policy_arn(&arn)
                .version_id(oldest);
            call.send().await.aws("DeletePolicyVersion").on(&what)?;
        }
    }
    let call = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(document.to_string())
        .set_as_default(true);
    call.send().await.aws("CreatePolicyVersion").on(&what)?;
    report.changed(&what, "wrote a new default version");
    Ok(arn)
}
