//! GitHub's OIDC identity provider and the deploy roles (one per environment) GitHub Actions
//! assumes through it.
//!
//! An account has at most one provider per issuer URL, and other projects may already use it,
//! so an existing provider is reused: only our audience is added to it when missing, nothing is
//! removed. The role's trust and inline permission policies are compared as parsed JSON (IAM
//! returns them percent-encoded and may reorder lists) and rewritten only when they differ.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::policies::{
    self, EnvScope, GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, PolicyInputs, same_document,
};
use super::{AwsResult, BootstrapError, NotFound, On, Report, aws};
use crate::resource::TAG_STACK;

/// The name of the deploy role's inline permission policy.
pub const DEPLOY_POLICY_NAME: &str = "provisioner-deploy";
/// The tag bootstrap puts on each deploy role (value: its environment); an existing role
/// without it is never taken over.
pub const DEPLOY_ROLE_TAG: &str = "provisioner:deploy-role";

/// Thumbprints of GitHub's OIDC certificate chain. AWS no longer checks them for this issuer
/// (it trusts its own CA store), but CreateOpenIDConnectProvider historically required one.
const GITHUB_THUMBPRINTS: &[&str] = &[
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
];

/// Finds or creates the provider; returns its ARN.
pub async fn ensure_oidc_provider(
    iam: &aws_sdk_iam::Client,
    report: &mut Report,
) -> Result<String, BootstrapError> {
    let what = format!("OIDC provider {GITHUB_OIDC_HOST}");
    let call = iam.list_open_id_connect_providers();
    let listed = call
        .send()
        .await
        .aws("ListOpenIDConnectProviders")
        .on(&what)?;
    let suffix = format!(":oidc-provider/{GITHUB_OIDC_HOST}");
    let existing = listed
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .find(|arn| arn.ends_with(&suffix))
        .map(str::to_string);
    let Some(arn) = existing else {
        let created = match iam
            .create_open_id_connect_provider()
            .url(format!("https://{GITHUB_OIDC_HOST}"))
            .client_id_list(GITHUB_OIDC_AUDIENCE)
            .set_thumbprint_list(Some(
                GITHUB_THUMBPRINTS.iter().map(ToString::to_string).collect(),
            ))
            .send()
            .await
        {
            Ok(created) => created,
            // Another bootstrap created it between our list and create: reuse it.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_entity_already_exists_exception()) =>
            {
                let arn = policies::oidc_provider_arn(&account_of_listing(iam).await?);
                report.unchanged(format!("{what}: reused the account's provider ({arn})"));
                return Ok(arn);
            }
            Err(e) => return Err(aws(&what, "CreateOpenIDConnectProvider", e)),
        };
        let arn = created
            .open_id_connect_provider_arn()
            .map(str::to_string)
            .ok_or_else(|| BootstrapError::Invalid(format!("{what}: created without an ARN")))?;
        report.changed(&what, format!("created ({arn})"));
        return Ok(arn);
    };
    let call = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn);
    let provider = call
        .send()
        .await
        .aws("GetOpenIDConnectProvider")
        .on(&what)?;
    if provider
        .client_id_list()
        .iter()
        .any(|c| c == GITHUB_OIDC_AUDIENCE)
    {
        report.unchanged(format!("{what}: reused the account's provider ({arn})"));
    } else {
        let call = iam
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .client_id(GITHUB_OIDC_AUDIENCE);
        call.send()
            .await
            .aws("AddClientIDToOpenIDConnectProvider")
            .on(&what)?;
        report.changed(
            &what,
            format!("reused the account's provider, added the audience {GITHUB_OIDC_AUDIENCE}"),
        );
    }
    Ok(arn)
}

/// The account id, for building the provider's ARN after a lost creation race.
async fn account_of_listing(iam: &aws_sdk_iam::Client) -> Result<String, BootstrapError> {
    let call = iam.list_open_id_connect_providers();
    let listed = call
        .send()
        .await
        .aws("ListOpenIDConnectProviders")
        .on("OIDC providers")?;
    listed
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .find(|arn| arn.ends_with(GITHUB_OIDC_HOST))
        .and_then(|arn| arn.split(':').nth(4))
        .map(str::to_string)
        .ok_or_else(|| {
            BootstrapError::Invalid(format!(
                "the OIDC provider {GITHUB_OIDC_HOST} exists but is not listed; run bootstrap again"
            ))
        })
}

/// IAM returns policy documents percent-encoded; this gives the parsed JSON.
pub fn decode_policy(text: &str) -> Result<Value, BootstrapError> {
    let decoded = percent_decode_str(text).decode_utf8_lossy();
    serde_json::from_str(&decoded).map_err(|e| {
        BootstrapError::Invalid(format!("a policy document IAM returned is not JSON: {e}"))
    })
}

/// Whether the policy document IAM holds (`held`, percent-encoded; `None` when there is none)
/// says what `wanted` says; when it does, the report notes `what: label` as unchanged. Every
/// document bootstrap keeps (a boundary, a trust, a permission policy) is checked this way
/// before it is written.
pub(super) fn up_to_date(
    report: &mut Report,
    what: &str,
    label: &str,
    held: Option<&str>,
    wanted: &Value,
) -> Result<bool, BootstrapError> {
    let held = held.map(decode_policy).transpose()?;
    let same = held.is_some_and(|document| same_document(&document, wanted));
    if same {
        report.unchanged(format!("{what}: {label}"));
    }
    Ok(same)
}

/// Creates an environment's deploy role or brings its trust and permission policies up to
/// date; returns its ARN.
///
/// An existing role is taken over only when it carries this environment's deploy-role tag (set
/// when bootstrap created it): a `--role-name` that names any other role (an administrator's,
/// the function's) is refused instead of being made to trust GitHub.
pub async fn ensure_deploy_role(
    iam: &aws_sdk_iam::Client,
    inputs: &PolicyInputs,
    env: &EnvScope,
    provider_arn: &str,
    report: &mut Report,
) -> Result<String, BootstrapError> {
    let role = &env.deploy_role_name;
    let what = format!("deploy role {role}");
    let trust = policies::trust_policy(inputs, env, provider_arn);
    let permissions = policies::deploy_policy(inputs, env);

    let existing = find_role(iam, role, &what).await?;
    let arn = match existing {
        None => {
            let mut tags = env.tags.clone();
            tags.insert(DEPLOY_ROLE_TAG.to_string(), env.environment.clone());
            let tags = crate::kinds::tags::iam(&tags).on(&what)?;
            let call = iam
                .create_role()
                .role_name(role)
                .description(format!(
                    "GitHub Actions deploys of {} to its {} environment (plan, apply, destroy)",
                    inputs.repository, env.environment
                ))
                .assume_role_policy_document(trust.to_string())
                .set_tags(Some(tags));
            let created = call.send().await.aws("CreateRole").on(&what)?;
            report.changed(
                &what,
                format!(
                    "created, trusting only GitHub OIDC tokens of {}",
                    policies::allowed_subject(inputs, env)
                ),
            );
            created.role.map(|r| r.arn).unwrap_or_default()
        }
        Some(current) => {
            let tag = |key: &str| {
                current
                    .tags()
                    .iter()
                    .find(|t| t.key() == key)
                    .map(|t| t.value().to_string())
            };
            if tag(DEPLOY_ROLE_TAG).as_deref() != Some(env.environment.as_str())
                || tag(TAG_STACK).as_deref() != Some(env.stack_name.as_str())
            {
                return Err(BootstrapError::Invalid(format!(
                    "the role {role} exists but is not the deploy role bootstrap made for the                      {} environment of {} (it lacks the tags {DEPLOY_ROLE_TAG}={} and                      {TAG_STACK}={}); nothing was changed on it. Pick another --role-name",
                    env.environment, env.stack_name, env.environment, env.stack_name
                )));
            }
            let held = current.assume_role_policy_document();
            if !up_to_date(report, &what, "trust policy", held, &trust)? {
                let call = iam
                    .update_assume_role_policy()
                    .role_name(role)
                    .policy_document(trust.to_string());
                call.send().await.aws("UpdateAssumeRolePolicy").on(&what)?;
                report.changed(&what, "rewrote the trust policy");
            }
            current.arn
        }
    };

    let call = iam
        .get_role_policy()
        .role_name(role)
        .policy_name(DEPLOY_POLICY_NAME);
    let current = call.send().await.aws("GetRolePolicy").absent().on(&what)?;
    let held = current.as_ref().map(|out| out.policy_document());
    if !up_to_date(report, &what, "permission policy", held, &permissions)? {
        let call = iam
            .put_role_policy()
            .role_name(role)
            .policy_name(DEPLOY_POLICY_NAME)
            .policy_document(permissions.to_string());
        call.send().await.aws("PutRolePolicy").on(&what)?;
        report.changed(
            &what,
            format!("wrote the permission policy {DEPLOY_POLICY_NAME}"),
        );
    }
    Ok(arn)
}

/// Warns when the one deploy role an earlier bootstrap made for every environment (trusting
/// `main` and able to escalate) still exists: it is not deleted here, since running deploys may
/// still use it, but it must go once each environment's secret names its own role.
pub async fn report_shared_role(
    iam: &aws_sdk_iam::Client,
    name: &str,
    stack_name: &str,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    let what = format!("shared deploy role {name}");
    let Some(role) = find_role(iam, name, &what).await? else {
        return Ok(());
    };
    let ours = role
        .tags()
        .iter()
        .any(|t| t.key() == TAG_STACK && t.value() == stack_name);
    if ours {
        report.warnings.push(format!(
            "the role {name}, which an earlier bootstrap made for every environment, still \
             exists and can still deploy (and escalate in) all of them. Once each GitHub \
             environment's secret names its own role, delete it:\n    aws iam \
             delete-role-policy --role-name {name} --policy-name {DEPLOY_POLICY_NAME} && aws \
             iam delete-role --role-name {name}"
        ));
    }
    Ok(())
}

/// GetRole, with not-found as `None`.
async fn find_role(
    iam: &aws_sdk_iam::Client,
    name: &str,
    what: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, BootstrapError> {
    let got = iam.get_role().role_name(name).send().await;
    Ok(got
        .aws("GetRole")
        .absent()
        .on(what)?
        .and_then(|out| out.role))
}
