//! `provisioner bootstrap` against the emulator: every setting of the state bucket, the lock
//! table with PITR, GitHub's OIDC provider (reused when present), one deploy role per
//! environment with its exact trust condition, permissions scoped to that environment and a
//! permissions boundary per environment; a second run changes nothing; `--print-policy` creates
//! nothing. What bootstrap and apply refuse is in `bootstrap_guards.rs`.

use crate::common;

use common::bootstrap::{Account, decode, managed_policy, strings, versioning_enabled};
use serde_json::{Value, json};

const ENVS: [&str; 3] = ["dev", "stage", "prod"];

/// What the first run prints for each environment: its role, the secret and branch policy to
/// set in GitHub; and prod's reviewer.
fn assert_first_run_output(a: &Account, first: &str) {
    for env in ENVS {
        let role_arn = format!("arn:aws:iam::123456789012:role/{}", a.role_name(env));
        assert!(first.contains(&role_arn), "{first}");
        let secret = format!(
            "gh secret set AWS_ROLE_TO_ASSUME --repo octo/playground --env {env} --body '{role_arn}'"
        );
        testkit::assert_contains(first, &secret);
        let branch_policy = format!(
            "repos/octo/playground/environments/{env}/deployment-branch-policies -f name=main"
        );
        testkit::assert_contains(first, &branch_policy);
    }
    assert!(
        first.contains("\"reviewers\""),
        "prod gets a reviewer: {first}"
    );
    assert!(first.contains("change(s) made"), "{first}");
}

/// The bucket: versioning, encryption, public access block, TLS-only policy, lifecycle.
async fn assert_state_bucket(a: &Account, s3: &aws_sdk_s3::Client) {
    assert!(versioning_enabled(&a.bucket));
    let encryption = s3
        .get_bucket_encryption()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let block = s3
        .get_public_access_block()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let policy = s3
        .get_bucket_policy()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let deny = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "DenyInsecureTransport")
        .expect("the TLS statement");
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let rule = lifecycle
        .rules()
        .iter()
        .find(|r| r.id() == Some("expire-noncurrent-state-versions"))
        .expect("the lifecycle rule");
    assert_eq!(
        rule.noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days()),
        Some(30)
    );
}

/// The lock table: LockID string key, on demand, PITR.
async fn assert_lock_table(a: &Account, dynamodb: &aws_sdk_dynamodb::Client) {
    let table = dynamodb
        .describe_table()
        .table_name(&a.lock_table)
        .send()
        .await
        .unwrap();
    let table = table.table().unwrap();
    assert_eq!(table.key_schema()[0].attribute_name(), "LockID");
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str()),
        Some("PAY_PER_REQUEST")
    );
    let backups = dynamodb
        .describe_continuous_backups()
        .table_name(&a.lock_table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        backups
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
            .map(|s| s.as_str()),
        Some("ENABLED")
    );
}

/// The OIDC provider: exactly one for GitHub, with our audience. Returns its ARN.
async fn github_provider(iam: &aws_sdk_iam::Client) -> String {
    let providers = iam.list_open_id_connect_providers().send().await.unwrap();
    let github: Vec<&str> = providers
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .filter(|arn| arn.ends_with("oidc-provider/token.actions.githubusercontent.com"))
        .collect();
    assert_eq!(github.len(), 1, "{github:?}");
    let provider = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(github[0])
        .send()
        .await
        .unwrap();
    assert!(
        provider
            .client_id_list()
            .contains(&"sts.amazonaws.com".to_string())
    );
    github[0].to_string()
}

/// An environment's role trusts exactly its own subject, through `provider`.
async fn assert_trust(a: &Account, iam: &aws_sdk_iam::Client, env: &str, provider: &str) {
    let role = iam
        .get_role()
        .role_name(a.role_name(env))
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    let trust = decode(role.assume_role_policy_document().unwrap());
    assert_eq!(trust["Statement"].as_array().unwrap().len(), 1);
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Principal"]["Federated"], provider);
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    // The whole condition, so that no other key or operator widens it.
    let subject = format!("repo:octo/playground:environment:{env}");
    let condition = json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": subject}});
    assert_eq!(statement["Condition"], condition);
    assert!(!trust.to_string().contains('*'), "{trust}");
    assert!(
        role.tags()
            .iter()
            .any(|t| t.key() == "provisioner:deploy-role" && t.value() == env)
    );
}

/// An environment's deploy permissions name only its own resources (and the shared state).
async fn assert_permissions_scoped(a: &Account, iam: &aws_sdk_iam::Client, env: &str) {
    let permissions = iam
        .get_role_policy()
        .role_name(a.role_name(env))
        .policy_name("provisioner-deploy")
        .send()
        .await
        .unwrap();
    let permissions = decode(permissions.policy_document());
    let text = permissions.to_string();
    for other in ENVS.iter().filter(|o| **o != env) {
        assert!(
            !text.contains(&format!("{}-{other}-", a.prefix)),
            "{env} names {other}"
        );
        assert!(
            !text.contains(&format!("/{other}/")),
            "{env} names {other}'s path or state"
        );
    }
    assert!(!text.contains("s3:DeleteObjectVersion") && !text.contains("s3:PutBucketVersioning"));
    for statement in permissions["Statement"].as_array().unwrap() {
        for resource in strings(&statement["Resource"]) {
            let scoped = resource.contains(&format!("{}-{env}-", a.prefix))
                || resource.contains(&format!("role/{}/{env}/", a.prefix))
                || resource.contains(&format!("{}-Scores", a.prefix))
                || resource.starts_with(&format!("arn:aws:s3:::{}", a.bucket))
                || resource.ends_with(&format!("table/{}", a.lock_table))
                || resource.starts_with("arn:aws:apigateway:us-east-1::/")
                || resource == "arn:aws:logs:us-east-1:123456789012:log-group:*"
                || (resource == "*" && statement["Effect"] == "Deny")
                || (resource == "*" && only_unscopable_actions(statement));
            assert!(scoped, "unscoped resource {resource} in {statement}");
        }
    }
}

/// An environment's permissions boundary covers its own function's logs.
async fn assert_boundary(a: &Account, iam: &aws_sdk_iam::Client, env: &str) {
    let boundary_arn = format!(
        "arn:aws:iam::123456789012:policy/{}-{env}-function-boundary",
        a.prefix
    );
    let document = managed_policy(iam, &boundary_arn).await;
    assert!(
        document
            .to_string()
            .contains(&format!("/aws/lambda/{}-{env}-api", a.prefix)),
        "{document}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bootstrap_sets_up_everything_then_changes_nothing() {
    let a = Account::new();
    let first = a.bootstrap(&["--noncurrent-days", "30", "--force-tls-policy"]);
    assert_first_run_output(&a, &first);

    let iam = testkit::iam_client().await;
    assert_state_bucket(&a, &testkit::s3_client().await).await;
    assert_lock_table(&a, &testkit::dynamodb_client().await).await;
    let provider = github_provider(&iam).await;
    // One role per environment: exactly its own subject, its own resources, the boundary.
    for env in ENVS {
        assert_trust(&a, &iam, env, &provider).await;
        assert_permissions_scoped(&a, &iam, env).await;
        assert_boundary(&a, &iam, env).await;
    }

    // A second run changes nothing and says so.
    let second = a.bootstrap(&["--noncurrent-days", "30", "--force-tls-policy"]);
    assert!(
        second.contains("No changes: everything was already set up."),
        "{second}"
    );
    assert!(!second.contains("  ~ "), "{second}");
    assert!(second.contains("reused the account's provider"), "{second}");

    // A new retention is one change, and says what it was.
    let third = a.bootstrap(&["--noncurrent-days", "45", "--force-tls-policy"]);
    assert!(third.contains("1 change(s) made."), "{third}");
    assert!(third.contains("after 45 days (was 30)"), "{third}");

    // A drifted trust policy (someone added the main branch) is put back.
    let drifted = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub":
            ["repo:octo/playground:environment:dev", "repo:octo/playground:ref:refs/heads/main"]}}}]});
    iam.update_assume_role_policy()
        .role_name(a.role_name("dev"))
        .policy_document(drifted.to_string())
        .send()
        .await
        .unwrap();
    let fourth = a.bootstrap(&["--noncurrent-days", "45", "--force-tls-policy"]);
    assert!(fourth.contains("rewrote the trust policy"), "{fourth}");
    assert!(fourth.contains("1 change(s) made."), "{fourth}");
}

#[tokio::test(flavor = "multi_thread")]
async fn print_policy_shows_the_documents_and_creates_nothing() {
    let a = Account::new();
    let out = a.bootstrap(&["--print-policy"]);
    assert!(
        out.contains("repo:octo/playground:environment:prod"),
        "{out}"
    );
    assert!(!out.contains("refs/heads"), "no branch subject: {out}");
    assert!(
        out.contains("\"Sid\": \"PassOnlyTheFunctionRoleToLambda\""),
        "{out}"
    );
    assert!(out.contains("function-boundary"), "{out}");
    assert!(out.contains("DenyInsecureTransport"), "{out}");

    let iam = testkit::iam_client().await;
    assert!(
        iam.get_role()
            .role_name(a.role_name("dev"))
            .send()
            .await
            .is_err()
    );
    let s3 = testkit::s3_client().await;
    assert!(s3.head_bucket().bucket(&a.bucket).send().await.is_err());
    let dynamodb = testkit::dynamodb_client().await;
    assert!(
        dynamodb
            .describe_table()
            .table_name(&a.lock_table)
            .send()
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_http_endpoint_gets_no_tls_only_policy_unless_forced() {
    let a = Account::new();
    let out = a.bootstrap(&[]);
    assert!(out.contains("TLS-only policy skipped"), "{out}");
    let s3 = testkit::s3_client().await;
    assert!(
        s3.get_bucket_policy()
            .bucket(&a.bucket)
            .send()
            .await
            .is_err(),
        "no bucket policy was put"
    );
    // The state in the bucket stays readable by this tool over the plain-HTTP endpoint.
    s3.put_object()
        .bucket(&a.bucket)
        .key("provisioner/dev/probe")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    s3.get_object()
        .bucket(&a.bucket)
        .key("provisioner/dev/probe")
        .send()
        .await
        .unwrap();
}

/// Actions IAM defines no resource type for, so a policy can grant them only on `*` (the
/// Service Authorization Reference, "Actions defined by Amazon SNS", "... by Amazon
/// CloudWatch Logs" and "... by Resource Group Tagging API"): reading and removing a
/// subscription by its ARN, the log delivery an HTTP API stage's access logs are made with (API
/// Gateway's "Configuring logging for HTTP APIs" lists these for the caller), and reading many
/// objects' tags in one call. Every other `*` in the deploy policy is a test failure.
const UNSCOPABLE: &[&str] = &[
    "sns:GetSubscriptionAttributes",
    "sns:Unsubscribe",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "tag:GetResources",
];

/// True when every action of `statement` is one of [`UNSCOPABLE`].
fn only_unscopable_actions(statement: &serde_json::Value) -> bool {
    let actions = strings(&statement["Action"]);
    !actions.is_empty() && actions.iter().all(|a| UNSCOPABLE.contains(&a.as_str()))
}
