//! The policy documents `bootstrap` creates, as pure functions of the stack so they can be
//! reviewed (`bootstrap --print-policy`) and unit-tested without AWS.
//!
//! - **Trust policy** of the deploy role: GitHub's OIDC provider only, audience
//!   `sts.amazonaws.com`, and an exact list of `sub` claims: one per GitHub environment plus the
//!   `main` branch. The original accepted `repo:owner/name:*` (any branch, any pull request, any
//!   fork workflow run in the repository); exact values close that.
//! - **Permission policy**: only the calls `plan`, `apply` and `destroy` make, on resources named
//!   `<prefix>-<env>-*` (and each environment's declared table name), plus the state bucket's
//!   state keys and the lock table. API Gateway v2 cannot be scoped by name (API ids are random),
//!   so it is scoped to the region's `/apis` tree.
//! - **Bucket policy**: deny every request not made over TLS.

use serde_json::{Value, json};

/// GitHub Actions' OIDC issuer host (also the provider's ARN suffix and the claim prefix).
pub const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";
/// The audience `aws-actions/configure-aws-credentials` requests.
pub const GITHUB_OIDC_AUDIENCE: &str = "sts.amazonaws.com";
/// The bucket policy statement this tool owns (other statements are kept as they are).
pub const DENY_INSECURE_TRANSPORT_SID: &str = "DenyInsecureTransport";
/// The managed policy the Lambda role may have attached (nothing else).
const BASIC_EXECUTION_POLICY_ARN: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// One environment the deploy role may deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvScope {
    pub environment: String,
    /// `<prefix>-<env>`: every name the stack gives this environment starts with it.
    pub name_base: String,
    pub table_name: String,
    pub region: String,
}

/// Everything the policies depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInputs {
    pub account_id: String,
    /// `owner/name` of the GitHub repository.
    pub repository: String,
    /// The branch deploys may also run from (`main`).
    pub branch: String,
    pub environments: Vec<EnvScope>,
    pub state_bucket: String,
    /// Key prefixes of state objects in the bucket (`provisioner`).
    pub state_prefixes: Vec<String>,
    pub lock_table: Option<String>,
    /// Region of the lock table.
    pub lock_table_region: String,
}

/// The `sub` claims the deploy role accepts, in order: each environment, then the branch.
pub fn allowed_subjects(inputs: &PolicyInputs) -> Vec<String> {
    let mut subjects: Vec<String> = inputs
        .environments
        .iter()
        .map(|e| format!("repo:{}:environment:{}", inputs.repository, e.environment))
        .collect();
    subjects.push(format!(
        "repo:{}:ref:refs/heads/{}",
        inputs.repository, inputs.branch
    ));
    subjects
}

/// The ARN of GitHub's OIDC provider in `account_id`.
pub fn oidc_provider_arn(account_id: &str) -> String {
    format!("arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}")
}

/// Trust policy of the deploy role.
pub fn trust_policy(inputs: &PolicyInputs, provider_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "GitHubActionsDeploy",
            "Effect": "Allow",
            "Principal": { "Federated": provider_arn },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    format!("{GITHUB_OIDC_HOST}:aud"): GITHUB_OIDC_AUDIENCE,
                    format!("{GITHUB_OIDC_HOST}:sub"): allowed_subjects(inputs),
                }
            }
        }]
    })
}

/// Permission policy of the deploy role: what plan, apply and destroy call, nothing more.
pub fn deploy_policy(inputs: &PolicyInputs) -> Value {
    let account = &inputs.account_id;
    let mut roles = Vec::new();
    let mut tables = Vec::new();
    let mut functions = Vec::new();
    let mut layers = Vec::new();
    let mut log_groups = Vec::new();
    let mut describe_logs = Vec::new();
    let mut apis = Vec::new();
    for e in &inputs.environments {
        let (region, base) = (&e.region, &e.name_base);
        roles.push(format!("arn:aws:iam::{account}:role/{base}-*"));
        let table = format!("arn:aws:dynamodb:{region}:{account}:table/{}", e.table_name);
        tables.push(format!("{table}/index/*"));
        tables.push(table);
        functions.push(format!(
            "arn:aws:lambda:{region}:{account}:function:{base}-*"
        ));
        layers.push(format!("arn:aws:lambda:{region}:{account}:layer:{base}-*"));
        layers.push(format!(
            "arn:aws:lambda:{region}:{account}:layer:{base}-*:*"
        ));
        let group = format!("arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{base}-*");
        log_groups.push(format!("{group}:*"));
        log_groups.push(group);
        describe_logs.push(format!("arn:aws:logs:{region}:{account}:log-group:*"));
        apis.push(format!("arn:aws:apigateway:{region}::/apis"));
        apis.push(format!("arn:aws:apigateway:{region}::/apis/*"));
        apis.push(format!("arn:aws:apigateway:{region}::/tags/*"));
    }
    let bucket = format!("arn:aws:s3:::{}", inputs.state_bucket);
    let state_objects: Vec<String> = inputs
        .state_prefixes
        .iter()
        .map(|p| match p.trim_matches('/') {
            "" => format!("{bucket}/*"),
            p => format!("{bucket}/{p}/*"),
        })
        .collect();

    let mut statements = vec![
        json!({
            "Sid": "StateBucket",
            "Effect": "Allow",
            "Action": [
                "s3:GetBucketVersioning", "s3:ListBucket", "s3:ListBucketVersions",
                "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning"
            ],
            "Resource": bucket,
        }),
        json!({
            "Sid": "StateObjects",
            "Effect": "Allow",
            "Action": [
                "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject",
                "s3:GetObjectVersion", "s3:PutObject"
            ],
            "Resource": sorted(state_objects),
        }),
    ];
    if let Some(lock_table) = &inputs.lock_table {
        statements.push(json!({
            "Sid": "StateLock",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem",
                "dynamodb:PutItem"
            ],
            "Resource": format!(
                "arn:aws:dynamodb:{}:{account}:table/{lock_table}",
                inputs.lock_table_region
            ),
        }));
    }
    statements.extend([
        json!({
            "Sid": "LambdaRoles",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:GetRole",
                "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
                "iam:ListRoleTags", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy", "iam:UpdateRole"
            ],
            "Resource": sorted(roles.clone()),
        }),
        json!({
            "Sid": "LambdaRoleManagedPolicy",
            "Effect": "Allow",
            "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": sorted(roles.clone()),
            "Condition": { "ArnEquals": { "iam:PolicyARN": BASIC_EXECUTION_POLICY_ARN } },
        }),
        json!({
            "Sid": "PassLambdaRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": sorted(roles),
            "Condition": { "StringEquals": { "iam:PassedToService": "lambda.amazonaws.com" } },
        }),
        json!({
            "Sid": "PlaygroundTables",
            "Effect": "Allow",
            "Action": [
                "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive",
                "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
                "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable"
            ],
            "Resource": sorted(tables),
        }),
        json!({
            "Sid": "Functions",
            "Effect": "Allow",
            "Action": [
                "lambda:AddPermission", "lambda:CreateFunction", "lambda:DeleteFunction",
                "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetPolicy",
                "lambda:ListTags", "lambda:RemovePermission", "lambda:TagResource",
                "lambda:UntagResource", "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration"
            ],
            "Resource": sorted(functions),
        }),
        json!({
            "Sid": "Layers",
            "Effect": "Allow",
            "Action": [
                "lambda:DeleteLayerVersion", "lambda:GetLayerVersion", "lambda:ListLayerVersions",
                "lambda:PublishLayerVersion"
            ],
            "Resource": sorted(layers),
        }),
        json!({
            "Sid": "LogGroups",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
                "logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:PutRetentionPolicy",
                "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource"
            ],
            "Resource": sorted(log_groups),
        }),
        json!({
            "Sid": "FindLogGroups",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": sorted(describe_logs),
        }),
        json!({
            "Sid": "HttpApis",
            "Effect": "Allow",
            "Action": [
                "apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST",
                "apigateway:PUT"
            ],
            "Resource": sorted(apis),
        }),
    ]);
    json!({ "Version": "2012-10-17", "Statement": statements })
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

fn sorted(mut items: Vec<String>) -> Value {
    items.sort();
    items.dedup();
    json!(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> PolicyInputs {
        let env = |name: &str, table: &str| EnvScope {
            environment: name.into(),
            name_base: format!("aimodelshare-{name}"),
            table_name: table.into(),
            region: "us-east-1".into(),
        };
        PolicyInputs {
            account_id: "123456789012".into(),
            repository: "octo/playground".into(),
            branch: "main".into(),
            environments: vec![
                env("dev", "aimodelshare-dev-playground"),
                env("prod", "PlaygroundScores"),
            ],
            state_bucket: "aimodelshare-state".into(),
            state_prefixes: vec!["provisioner".into()],
            lock_table: Some("aimodelshare-locks".into()),
            lock_table_region: "us-east-1".into(),
        }
    }

    fn all_strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| all_strings(v, out)),
            Value::Object(map) => map.values().for_each(|v| all_strings(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_trust_policy_accepts_exactly_the_environments_and_main() {
        let policy = trust_policy(&inputs(), &oidc_provider_arn("123456789012"));
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
        assert_eq!(
            statement["Principal"]["Federated"],
            "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
        );
        let equals = &statement["Condition"]["StringEquals"];
        assert_eq!(
            equals["token.actions.githubusercontent.com:aud"],
            "sts.amazonaws.com"
        );
        assert_eq!(
            equals["token.actions.githubusercontent.com:sub"],
            json!([
                "repo:octo/playground:environment:dev",
                "repo:octo/playground:environment:prod",
                "repo:octo/playground:ref:refs/heads/main"
            ])
        );
        let mut strings = Vec::new();
        all_strings(&policy, &mut strings);
        assert!(
            !strings.iter().any(|s| s.contains('*')),
            "no wildcard: {strings:?}"
        );
        assert!(statement["Condition"].get("StringLike").is_none());
    }

    #[test]
    fn the_deploy_policy_is_scoped_to_the_prefix_tables_and_state() {
        let policy = deploy_policy(&inputs());
        let statements = policy["Statement"].as_array().unwrap();
        for statement in statements {
            assert_eq!(statement["Effect"], "Allow");
            let mut actions = Vec::new();
            all_strings(&statement["Action"], &mut actions);
            assert!(
                actions.iter().all(|a| !a.contains('*')),
                "no action wildcard: {actions:?}"
            );
            let mut resources = Vec::new();
            all_strings(&statement["Resource"], &mut resources);
            assert!(!resources.contains(&"*".to_string()), "{statement}");
            for resource in &resources {
                let scoped = resource.contains("aimodelshare-dev")
                    || resource.contains("aimodelshare-prod")
                    || resource.contains("PlaygroundScores")
                    || resource.starts_with("arn:aws:s3:::aimodelshare-state")
                    || resource.ends_with("table/aimodelshare-locks")
                    || resource.starts_with("arn:aws:apigateway:us-east-1::/")
                    || resource == "arn:aws:logs:us-east-1:123456789012:log-group:*";
                assert!(scoped, "unscoped resource {resource}");
            }
        }
        let sids: Vec<&str> = statements
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert!(sids.contains(&"StateLock") && sids.contains(&"PassLambdaRole"));
        let pass = statements
            .iter()
            .find(|s| s["Sid"] == "PassLambdaRole")
            .unwrap();
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            "lambda.amazonaws.com"
        );
        let objects = statements
            .iter()
            .find(|s| s["Sid"] == "StateObjects")
            .unwrap();
        assert_eq!(
            objects["Resource"],
            json!(["arn:aws:s3:::aimodelshare-state/provisioner/*"])
        );
        let tables = statements
            .iter()
            .find(|s| s["Sid"] == "PlaygroundTables")
            .unwrap();
        assert!(tables["Resource"].as_array().unwrap().contains(&json!(
            "arn:aws:dynamodb:us-east-1:123456789012:table/PlaygroundScores"
        )));
    }

    #[test]
    fn the_deploy_role_cannot_edit_itself() {
        let policy = deploy_policy(&inputs());
        let roles = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "LambdaRoles")
            .unwrap()["Resource"]
            .clone();
        for pattern in roles.as_array().unwrap() {
            let prefix = pattern.as_str().unwrap().trim_end_matches('*');
            assert!(
                !"arn:aws:iam::123456789012:role/aimodelshare-github-deploy".starts_with(prefix)
            );
        }
    }

    #[test]
    fn no_lock_table_means_no_lock_statement() {
        let mut i = inputs();
        i.lock_table = None;
        let policy = deploy_policy(&i);
        assert!(
            !policy["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["Sid"] == "StateLock")
        );
    }

    #[test]
    fn the_bucket_policy_merge_keeps_other_statements_and_is_idempotent() {
        let merged = merge_bucket_policy(None, "b").unwrap();
        assert_eq!(merged["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(
            merged["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        assert!(
            merge_bucket_policy(Some(&merged), "b").is_none(),
            "no change twice"
        );

        let other = json!({"Version": "2012-10-17", "Statement": {"Sid": "Other", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}});
        let merged = merge_bucket_policy(Some(&other), "b").unwrap();
        let sids: Vec<&str> = merged["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, ["Other", DENY_INSECURE_TRANSPORT_SID]);

        // AWS's rewriting (reordered lists) is not a change.
        let mut rewritten = merge_bucket_policy(None, "b").unwrap();
        rewritten["Statement"][0]["Resource"] = json!(["arn:aws:s3:::b/*", "arn:aws:s3:::b"]);
        assert!(merge_bucket_policy(Some(&rewritten), "b").is_none());
    }
}
