//! The policy documents `bootstrap` creates, as pure functions of the stack so they can be
//! reviewed (`bootstrap --print-policy`), unit-tested and evaluated ([`super::evaluate`])
//! without AWS.
//!
//! Every environment gets its own deploy role, so a token of one GitHub environment can touch
//! nothing of another:
//! - **Trust policy**: GitHub's OIDC provider only, audience `sts.amazonaws.com`, and exactly
//!   one `sub` claim, `repo:OWNER/NAME:environment:ENV`. No branch subject: a job on `main`
//!   without an environment, or a job of another environment, cannot assume it, so the
//!   environment's protection rules (deployment branches, required reviewers) always apply.
//! - **Permission policy**: only the calls plan, apply and destroy make, on this environment's
//!   names (`<prefix>-<env>-*`), its table, its state object and its lock item. IAM writes are
//!   confined to roles under the environment's path (`/<prefix>/<env>/`) and allowed only with the
//!   environment's permissions boundary; the boundary cannot be removed or edited, trust
//!   policies cannot be updated, and only the function's role may be passed, only to Lambda.
//!   API Gateway ids are random, so API calls are conditioned on the API's `provisioner:stack`
//!   and `provisioner:environment` tags instead of names. The state bucket's settings are only
//!   read (apply refuses when versioning or the public access block is off) and no object
//!   version can be deleted, so CI cannot erase the state's history.
//! - **Permissions boundary** (a managed policy per environment): the most any role the deploy
//!   role creates can do, which is what the function needs: write its log group, and the item
//!   calls on its table and indexes.
//! - **Bucket policy**: deny every request not made over TLS.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::desired::{self, FUNCTION_TABLE_ACTIONS};
use crate::resource::{TAG_ENVIRONMENT, TAG_STACK};
use crate::stack::{BackendSettings, ResolvedStack};

/// GitHub Actions' OIDC issuer host (also the provider's ARN suffix and the claim prefix).
pub const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";
/// The audience `aws-actions/configure-aws-credentials` requests.
pub const GITHUB_OIDC_AUDIENCE: &str = "sts.amazonaws.com";
/// The bucket policy statement this tool owns (other statements are kept as they are).
pub const DENY_INSECURE_TRANSPORT_SID: &str = "DenyInsecureTransport";
/// The state key prefix an S3 backend uses when the stack names none.
const DEFAULT_STATE_PREFIX: &str = "provisioner";

/// One environment: its deploy role, its boundary and the names its resources get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvScope {
    pub environment: String,
    /// The `provisioner:stack` tag value (the name prefix).
    pub stack_name: String,
    /// `<prefix>-<env>`: every name the stack gives this environment starts with it.
    pub name_base: String,
    pub region: String,
    pub table_name: String,
    pub function_name: String,
    /// The function's role and the IAM path of the environment's roles (`/<prefix>/<env>/`).
    pub function_role_name: String,
    pub role_path: String,
    /// The permissions boundary managed policy (`<prefix>-<env>-function-boundary`).
    pub boundary_name: String,
    /// The environment's state object key in the bucket (`provisioner/<env>/state.json`).
    pub state_key: String,
    /// The environment's deploy role.
    pub deploy_role_name: String,
    /// Tags of the environment's deploy role and boundary policy.
    pub tags: BTreeMap<String, String>,
}

impl EnvScope {
    /// The scope of one resolved environment, deployed by the role `deploy_role_name`.
    pub fn of(stack: &ResolvedStack, deploy_role_name: String) -> Self {
        let prefix = match &stack.backend {
            BackendSettings::S3 { prefix, .. } => prefix.as_str(),
            BackendSettings::Local { .. } => DEFAULT_STATE_PREFIX,
        };
        Self {
            environment: stack.environment.clone(),
            stack_name: stack.stack_name.clone(),
            name_base: stack.name_base(),
            region: stack.region.clone(),
            table_name: stack.table.name.clone(),
            function_name: stack.lambda.function_name.clone(),
            function_role_name: stack.lambda.role_name.clone(),
            role_path: desired::function_role_path(stack),
            boundary_name: desired::boundary_policy_name(stack),
            state_key: state::s3::state_key(prefix, &stack.environment),
            deploy_role_name,
            tags: stack.tags.clone(),
        }
    }
}

/// One environment in one account: what a kind's deploy statements are scoped to.
#[derive(Debug, Clone, Copy)]
pub struct DeployScope<'a> {
    pub account_id: &'a str,
    pub env: &'a EnvScope,
}

impl DeployScope<'_> {
    /// `arn:aws:<service>:<region>:<account>:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.env.region, self.account_id
        )
    }

    /// An IAM ARN (global: no region): `arn:aws:iam::<account>:<resource>`.
    pub fn iam_arn(&self, resource: &str) -> String {
        format!("arn:aws:iam::{}:{resource}", self.account_id)
    }

    /// One statement allowing `actions` on `resource` (an ARN or pattern, or a list of them).
    pub fn allow(&self, sid: &str, actions: &[&str], resource: impl Into<Value>) -> Value {
        let resource = resource.into();
        json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource})
    }

    /// The condition that a request's or resource's tags (`aws:RequestTag`, `aws:ResourceTag`)
    /// name this stack and environment.
    pub fn tagged_as_ours(&self, tag: &str) -> Value {
        json!({
            format!("aws:{tag}/{TAG_STACK}"): self.env.stack_name,
            format!("aws:{tag}/{TAG_ENVIRONMENT}"): self.env.environment,
        })
    }
}

/// Everything the policies depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInputs {
    pub account_id: String,
    /// `owner/name` of the GitHub repository.
    pub repository: String,
    pub environments: Vec<EnvScope>,
    pub state_bucket: String,
    pub lock_table: Option<String>,
    /// Region of the lock table.
    pub lock_table_region: String,
}

/// The one `sub` claim an environment's deploy role accepts.
pub fn allowed_subject(inputs: &PolicyInputs, env: &EnvScope) -> String {
    format!("repo:{}:environment:{}", inputs.repository, env.environment)
}

/// The ARN of GitHub's OIDC provider in `account_id`.
pub fn oidc_provider_arn(account_id: &str) -> String {
    format!("arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}")
}

/// The environment's deploy role ARN.
pub fn deploy_role_arn(inputs: &PolicyInputs, env: &EnvScope) -> String {
    format!(
        "arn:aws:iam::{}:role/{}",
        inputs.account_id, env.deploy_role_name
    )
}

/// The function role's ARN (under the environment's path).
pub fn function_role_arn(inputs: &PolicyInputs, env: &EnvScope) -> String {
    format!(
        "arn:aws:iam::{}:role{}{}",
        inputs.account_id, env.role_path, env.function_role_name
    )
}

/// The environment's permissions boundary ARN.
pub fn boundary_arn(inputs: &PolicyInputs, env: &EnvScope) -> String {
    format!(
        "arn:aws:iam::{}:policy/{}",
        inputs.account_id, env.boundary_name
    )
}

/// Trust policy of an environment's deploy role.
pub fn trust_policy(inputs: &PolicyInputs, env: &EnvScope, provider_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "GitHubActionsEnvironment",
            "Effect": "Allow",
            "Principal": { "Federated": provider_arn },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    format!("{GITHUB_OIDC_HOST}:aud"): GITHUB_OIDC_AUDIENCE,
                    format!("{GITHUB_OIDC_HOST}:sub"): allowed_subject(inputs, env),
                }
            }
        }]
    })
}

/// The permissions boundary of the environment's roles: what the function needs, nothing more.
pub fn boundary_policy(inputs: &PolicyInputs, env: &EnvScope) -> Value {
    let (account, region) = (&inputs.account_id, &env.region);
    let group = format!(
        "arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{}",
        env.function_name
    );
    let table = format!(
        "arn:aws:dynamodb:{region}:{account}:table/{}",
        env.table_name
    );
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FunctionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [group.clone(), format!("{group}:*")],
            },
            {
                "Sid": "FunctionTable",
                "Effect": "Allow",
                "Action": FUNCTION_TABLE_ACTIONS,
                "Resource": [table.clone(), format!("{table}/index/*")],
            },
        ]
    })
}

/// Permission policy of an environment's deploy role: what plan, apply and destroy call on
/// that environment, nothing more: the state's object and lock item, then each kind's own
/// statements (`deploy_statements` of every registered kind), under the denies that keep the
/// role from escalating.
pub fn deploy_policy(inputs: &PolicyInputs, env: &EnvScope) -> Value {
    let account = &inputs.account_id;
    let bucket = format!("arn:aws:s3:::{}", inputs.state_bucket);
    let state_object = format!("{bucket}/{}", env.state_key);
    let lock_object = format!("{state_object}.tflock");

    let mut statements = vec![
        json!({
            "Sid": "StateBucketReadOnly",
            "Effect": "Allow",
            "Action": [
                "s3:GetBucketPublicAccessBlock", "s3:GetBucketVersioning", "s3:ListBucket",
                "s3:ListBucketVersions"
            ],
            "Resource": bucket,
        }),
        json!({
            "Sid": "StateObject",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            "Resource": [state_object, lock_object.clone()],
        }),
        json!({
            "Sid": "StateLockObject",
            "Effect": "Allow",
            "Action": "s3:DeleteObject",
            "Resource": lock_object,
        }),
        // A refresh reads the tags of several objects in one call (crate::kinds::tag_index).
        // GetResources can only be granted on `*`; it reads tags, nothing else, and a role
        // without it still works, one tag read per object.
        json!({
            "Sid": "ReadTagsTogether",
            "Effect": "Allow",
            "Action": "tag:GetResources",
            "Resource": "*",
        }),
    ];
    if let Some(lock_table) = &inputs.lock_table {
        let table_arn = format!(
            "arn:aws:dynamodb:{}:{account}:table/{lock_table}",
            inputs.lock_table_region
        );
        statements.push(json!({
            "Sid": "StateLockItem",
            "Effect": "Allow",
            "Action": ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": table_arn.clone(),
            "Condition": { "ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": format!("{}/{}", inputs.state_bucket, env.state_key)
            } },
        }));
        statements.push(json!({
            "Sid": "StateLockTable",
            "Effect": "Allow",
            "Action": "dynamodb:DescribeTable",
            "Resource": table_arn,
        }));
    }
    // What no kind may do, whatever a kind's statement allows: give a role another boundary or
    // none, edit the boundary or trust policies, or make managed policies.
    let boundary = boundary_arn(inputs, env);
    statements.extend([
        json!({
            "Sid": "NoOtherBoundary",
            "Effect": "Deny",
            "Action": [
                "iam:AttachRolePolicy", "iam:CreateRole", "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy"
            ],
            "Resource": "*",
            "Condition": { "StringNotEquals": { "iam:PermissionsBoundary": boundary } },
        }),
        json!({
            "Sid": "NoTrustChangesOrNewPolicies",
            "Effect": "Deny",
            "Action": [
                "iam:CreatePolicy", "iam:DeleteRolePermissionsBoundary",
                "iam:UpdateAssumeRolePolicy"
            ],
            "Resource": "*",
        }),
        // The boundary's name matches the environment's names (`<prefix>-<env>-*`), which the
        // removal of a policy `migrate` adopted is allowed on: this keeps the boundary itself
        // out of reach.
        json!({
            "Sid": "NoBoundaryChanges",
            "Effect": "Deny",
            "Action": [
                "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion"
            ],
            "Resource": boundary,
        }),
    ]);
    // What each kind's read, create, update and delete call, from the kind itself.
    let scope = DeployScope {
        account_id: &inputs.account_id,
        env,
    };
    statements.extend(
        crate::kinds::all()
            .iter()
            .flat_map(|kind| kind.deploy_statements(&scope)),
    );
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Refuses environments and deploy role names that would share names: one environment's
/// role could then change another's resources (its names are matched by `<prefix>-<env>-*`),
/// or bootstrap would take over a role that is not a deploy role.
pub fn check_names(inputs: &PolicyInputs) -> Result<(), String> {
    let envs = &inputs.environments;
    for a in envs {
        for b in envs.iter().filter(|b| b.environment != a.environment) {
            if format!("{}-", b.name_base).starts_with(&format!("{}-", a.name_base)) {
                return Err(format!(
                    "environments '{}' and '{}' would share names: every name of '{}' starts \
                     with '{}-', and so do the names of '{}' ({}-...). Rename one of them",
                    a.environment,
                    b.environment,
                    a.environment,
                    a.name_base,
                    b.environment,
                    b.name_base
                ));
            }
            if a.table_name == b.table_name {
                return Err(format!(
                    "environments '{}' and '{}' declare the same table '{}'; each environment \
                     needs its own",
                    a.environment, b.environment, a.table_name
                ));
            }
            if a.deploy_role_name.eq_ignore_ascii_case(&b.deploy_role_name) {
                return Err(format!(
                    "environments '{}' and '{}' would share the deploy role '{}': put {{env}} \
                     in --role-name",
                    a.environment, b.environment, a.deploy_role_name
                ));
            }
        }
        let role = &a.deploy_role_name;
        if role.is_empty()
            || role.len() > 64
            || !role
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
        {
            return Err(format!(
                "'{role}' is not a valid IAM role name (1 to 64 letters, digits or +=,.@_-)"
            ));
        }
        for owner in envs {
            let namespace = format!("{}-", owner.name_base);
            if role
                .to_ascii_lowercase()
                .starts_with(&namespace.to_ascii_lowercase())
            {
                return Err(format!(
                    "the deploy role name '{role}' starts with '{namespace}', the names of \
                     environment '{}' (its function role is {}): pick another --role-name, or \
                     rename that environment",
                    owner.environment, owner.function_role_name
                ));
            }
        }
    }
    Ok(())
}

/// The statement that denies plain-HTTP access to the state bucket.
pub fn deny_insecure_transport(bucket: &str) -> Value {
    json!({
        "Sid": DENY_INSECURE_TRANSPORT_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
        "Condition": { "Bool": { "aws:SecureTransport": "false" } },
    })
}

/// `existing` (a bucket policy, if any) with our statement added or replaced; `None` when it
/// already holds exactly our statement.
pub fn merge_bucket_policy(existing: Option<&Value>, bucket: &str) -> Option<Value> {
    let ours = deny_insecure_transport(bucket);
    let mut policy = existing
        .cloned()
        .unwrap_or_else(|| json!({ "Version": "2012-10-17", "Statement": [] }));
    let statements = match policy.get_mut("Statement") {
        Some(Value::Array(list)) => list,
        Some(single @ Value::Object(_)) => {
            *single = Value::Array(vec![single.take()]);
            single.as_array_mut()?
        }
        _ => {
            policy["Statement"] = json!([]);
            policy["Statement"].as_array_mut()?
        }
    };
    let position = statements
        .iter()
        .position(|s| s.get("Sid").and_then(Value::as_str) == Some(DENY_INSECURE_TRANSPORT_SID));
    match position {
        Some(i) if same_statement(&statements[i], &ours) => return None,
        Some(i) => statements[i] = ours,
        None => statements.push(ours),
    }
    Some(policy)
}

/// Statements compare equal when they say the same thing, whatever the order of lists and
/// whether a one-element list is written as a bare string (AWS rewrites both).
fn same_statement(a: &Value, b: &Value) -> bool {
    normalise(a) == normalise(b)
}

fn normalise(value: &Value) -> Value {
    match value {
        Value::Array(items) if items.len() == 1 => normalise(&items[0]),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalise).collect();
            items.sort_by_key(|v| v.to_string());
            Value::Array(items)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

/// Policy documents compare equal when they say the same thing (see [`same_statement`]).
pub fn same_document(a: &Value, b: &Value) -> bool {
    normalise(a) == normalise(b)
}

#[cfg(test)]
mod tests;
