//! `provisioner bootstrap` against the emulator: every setting of the state bucket, the lock
//! table with PITR, GitHub's OIDC provider (reused when present), one deploy role per
//! environment with its exact trust condition, permissions scoped to that environment and a
//! permissions boundary per environment; a second run changes nothing; `--print-policy` creates
//! nothing; colliding names and roles bootstrap did not make are refused; apply refuses a bucket
//! whose versioning or public access block is off (and changes nothing on it).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

struct Account {
    dir: tempfile::TempDir,
    prefix: String,
    bucket: String,
    lock_table: String,
}

impl Account {
    fn new() -> Self {
        testkit::endpoint();
        let dir = tempfile::tempdir().expect("a temp dir");
        let prefix = testkit::unique_name("bs");
        let bucket = format!("{prefix}-state");
        let lock_table = format!("{prefix}-locks");
        let stack = format!(
            "[stack]\nname_prefix = \"{prefix}\"\ntags = {{ Project = \"bootstrap-test\" }}\n\n\
             [backend]\ntype = \"s3\"\nbucket = \"{bucket}\"\nlock_table = \"{lock_table}\"\n\n\
             [env.dev]\n\n[env.stage]\n\n[env.prod.table]\nname = \"{prefix}-Scores\"\n"
        );
        std::fs::write(dir.path().join("stack.toml"), stack).expect("write the stack file");
        Self {
            dir,
            prefix,
            bucket,
            lock_table,
        }
    }

    fn stack(&self) -> PathBuf {
        self.dir.path().join("stack.toml")
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new(testkit::binary("provisioner"))
            .args(args)
            .current_dir(self.dir.path())
            .envs(testkit::aws_env())
            .env_remove("AWS_PROFILE")
            .env_remove("GITHUB_REPOSITORY")
            .stdin(Stdio::null())
            .output()
            .expect("run provisioner");
        eprintln!(
            "$ provisioner {}\n--- exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            args.join(" "),
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "provisioner {args:?} failed");
        String::from_utf8_lossy(&output.stdout).to_string()
    }

    /// `provisioner --stack <this stack> bootstrap ARGS`, run to the end.
    fn bootstrap_run(&self, args: &[&str]) -> Output {
        let stack = self.stack();
        self.run(&[&["--stack", stack.to_str().unwrap(), "bootstrap"], args].concat())
    }

    /// `provisioner --stack <this stack> bootstrap --repo octo/playground EXTRA`; asserts
    /// success and returns stdout.
    fn bootstrap(&self, extra: &[&str]) -> String {
        let stack = self.stack();
        let args = [
            "--stack",
            stack.to_str().unwrap(),
            "bootstrap",
            "--repo",
            "octo/playground",
        ];
        self.ok(&[&args[..], extra].concat())
    }

    fn role_name(&self, env: &str) -> String {
        format!("{}-github-deploy-{env}", self.prefix)
    }

    /// `provisioner --stack <this stack> ARGS` with the fake function zip CI would have built
    /// (`--package-dir`), so plan and apply never build.
    fn deploy_run(&self, args: &[&str]) -> Output {
        let dir = self.dir.path().join("dist");
        if !dir.join("function-arm64.zip").exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let binary = dir.join("bootstrap-binary");
            std::fs::write(&binary, b"#!/bin/sh\necho not really a lambda\n").unwrap();
            provisioner::package::zip_bootstrap(&binary, &dir.join("function-arm64.zip")).unwrap();
        }
        let stack = self.stack();
        self.run(
            &[
                &[
                    "--stack",
                    stack.to_str().unwrap(),
                    "--package-dir",
                    dir.to_str().unwrap(),
                ],
                args,
            ]
            .concat(),
        )
    }
}

fn decode(text: &str) -> Value {
    serde_json::from_str(&percent_decode_str(text).decode_utf8_lossy()).expect("policy JSON")
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        _ => vec![],
    }
}

/// GetBucketVersioning read over plain HTTP (the Rust SDK cannot parse moto's reply).
fn versioning_enabled(bucket: &str) -> bool {
    let out = Command::new("curl")
        .args([
            "-sf",
            &format!("{}/{bucket}?versioning", testkit::endpoint()),
        ])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).contains("<Status>Enabled</Status>")
}

#[tokio::test(flavor = "multi_thread")]
async fn bootstrap_sets_up_everything_then_changes_nothing() {
    let a = Account::new();
    let first = a.bootstrap(&["--noncurrent-days", "30", "--force-tls-policy"]);
    for env in ["dev", "stage", "prod"] {
        let role_arn = format!("arn:aws:iam::123456789012:role/{}", a.role_name(env));
        assert!(first.contains(&role_arn), "{first}");
        assert!(
            first.contains(&format!(
                "gh secret set AWS_ROLE_TO_ASSUME --repo octo/playground --env {env} --body '{role_arn}'"
            )),
            "{first}"
        );
        assert!(
            first.contains(&format!(
                "repos/octo/playground/environments/{env}/deployment-branch-policies -f name=main"
            )),
            "{first}"
        );
    }
    assert!(
        first.contains("\"reviewers\""),
        "prod gets a reviewer: {first}"
    );
    assert!(first.contains("change(s) made"), "{first}");

    let sdk = testkit::sdk_config().await;
    let s3 = testkit::s3_client().await;
    let dynamodb = testkit::dynamodb_client().await;
    let iam = aws_sdk_iam::Client::new(&sdk);

    // The bucket: versioning, encryption, public access block, TLS-only policy, lifecycle.
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

    // The lock table: LockID string key, on demand, PITR.
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

    // The OIDC provider: exactly one for GitHub, with our audience.
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

    // One role per environment: exactly its own subject, its own resources, the boundary.
    for env in ["dev", "stage", "prod"] {
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
        assert_eq!(statement["Principal"]["Federated"], github[0]);
        assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
        let equals = &statement["Condition"]["StringEquals"];
        assert_eq!(
            equals["token.actions.githubusercontent.com:aud"],
            "sts.amazonaws.com"
        );
        assert_eq!(
            equals["token.actions.githubusercontent.com:sub"],
            format!("repo:octo/playground:environment:{env}")
        );
        assert!(!trust.to_string().contains('*'), "{trust}");
        assert!(
            role.tags()
                .iter()
                .any(|t| t.key() == "provisioner:deploy-role" && t.value() == env)
        );

        let permissions = iam
            .get_role_policy()
            .role_name(a.role_name(env))
            .policy_name("provisioner-deploy")
            .send()
            .await
            .unwrap();
        let permissions = decode(permissions.policy_document());
        let text = permissions.to_string();
        for other in ["dev", "stage", "prod"].iter().filter(|o| **o != env) {
            assert!(
                !text.contains(&format!("{}-{other}-", a.prefix)),
                "{env} names {other}"
            );
            assert!(
                !text.contains(&format!("/{other}/")),
                "{env} names {other}'s path or state"
            );
        }
        assert!(
            !text.contains("s3:DeleteObjectVersion") && !text.contains("s3:PutBucketVersioning")
        );
        for statement in permissions["Statement"].as_array().unwrap() {
            for resource in strings(&statement["Resource"]) {
                let scoped = resource.contains(&format!("{}-{env}-", a.prefix))
                    || resource.contains(&format!("role/{}/{env}/", a.prefix))
                    || resource.contains(&format!("{}-Scores", a.prefix))
                    || resource.starts_with(&format!("arn:aws:s3:::{}", a.bucket))
                    || resource.ends_with(&format!("table/{}", a.lock_table))
                    || resource.starts_with("arn:aws:apigateway:us-east-1::/")
                    || resource == "arn:aws:logs:us-east-1:123456789012:log-group:*"
                    || (resource == "*" && statement["Effect"] == "Deny");
                assert!(scoped, "unscoped resource {resource} in {statement}");
            }
        }

        let boundary_arn = format!(
            "arn:aws:iam::123456789012:policy/{}-{env}-function-boundary",
            a.prefix
        );
        let boundary = iam
            .get_policy()
            .policy_arn(&boundary_arn)
            .send()
            .await
            .unwrap();
        let version = iam
            .get_policy_version()
            .policy_arn(&boundary_arn)
            .version_id(boundary.policy().unwrap().default_version_id().unwrap())
            .send()
            .await
            .unwrap();
        let document = decode(version.policy_version().unwrap().document().unwrap());
        assert!(
            document
                .to_string()
                .contains(&format!("/aws/lambda/{}-{env}-api", a.prefix)),
            "{document}"
        );
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
        "Principal": {"Federated": github[0]}, "Action": "sts:AssumeRoleWithWebIdentity",
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

    let sdk = testkit::sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&sdk);
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

#[test]
fn bad_input_is_refused_with_what_to_do() {
    let a = Account::new();
    let wildcard = a.bootstrap_run(&["--repo", "octo/*"]);
    assert!(!wildcard.status.success());
    assert!(String::from_utf8_lossy(&wildcard.stderr).contains("owner/name"));

    let no_repo = a.bootstrap_run(&[]);
    assert!(!no_repo.status.success());
    assert!(String::from_utf8_lossy(&no_repo.stderr).contains("--repo"));

    // One role name for three environments, a role name inside an environment's names.
    let shared = a.bootstrap_run(&[
        "--repo",
        "octo/pg",
        "--account-id",
        "123456789012",
        "--print-policy",
        "--role-name",
        "deployer",
    ]);
    assert!(!shared.status.success());
    assert!(String::from_utf8_lossy(&shared.stderr).contains("{env}"));
    let inside = a.bootstrap_run(&[
        "--repo",
        "octo/pg",
        "--account-id",
        "123456789012",
        "--print-policy",
        "--role-name",
        &format!("{}-prod-{{env}}", a.prefix),
    ]);
    assert!(!inside.status.success());
    assert!(String::from_utf8_lossy(&inside.stderr).contains(&format!("{}-prod-", a.prefix)));

    // An environment named `github` would own the deploy roles' names.
    let text = std::fs::read_to_string(a.stack()).unwrap();
    std::fs::write(a.stack(), format!("{text}\n[env.github]\n")).unwrap();
    let github = a.bootstrap_run(&[
        "--repo",
        "octo/pg",
        "--account-id",
        "123456789012",
        "--print-policy",
    ]);
    assert!(!github.status.success());
    let stderr = String::from_utf8_lossy(&github.stderr);
    assert!(stderr.contains("environment 'github'"), "{stderr}");

    std::fs::write(a.stack(), "[backend]\ntype = \"local\"\n\n[env.dev]\n").unwrap();
    let no_bucket = a.bootstrap_run(&["--repo", "octo/pg"]);
    assert!(!no_bucket.status.success());
    assert!(String::from_utf8_lossy(&no_bucket.stderr).contains("--bucket"));
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

/// `--role-name` naming a role bootstrap did not make (an administrator's, say) is refused and
/// that role is left exactly as it was, instead of being made to trust GitHub.
#[tokio::test(flavor = "multi_thread")]
async fn a_role_bootstrap_did_not_make_is_never_taken_over() {
    let a = Account::new();
    let sdk = testkit::sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let admin = format!("{}-admin", a.prefix);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name(&admin)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let out = a.bootstrap_run(&[
        "--repo",
        "octo/playground",
        "--env",
        "dev",
        "--role-name",
        &admin,
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not the deploy role"), "{stderr}");
    let role = iam.get_role().role_name(&admin).send().await.unwrap();
    assert_eq!(
        decode(role.role().unwrap().assume_role_policy_document().unwrap()),
        trust
    );
    assert!(
        iam.get_role_policy()
            .role_name(&admin)
            .policy_name("provisioner-deploy")
            .send()
            .await
            .is_err(),
        "no deploy policy was put on it"
    );
}

/// The one role an earlier bootstrap made for every environment is reported, with the
/// commands that delete it.
#[tokio::test(flavor = "multi_thread")]
async fn the_shared_role_of_an_earlier_bootstrap_is_reported() {
    let a = Account::new();
    let sdk = testkit::sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let shared = format!("{}-github-deploy", a.prefix);
    iam.create_role()
        .role_name(&shared)
        .assume_role_policy_document(json!({"Version": "2012-10-17", "Statement": []}).to_string())
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("provisioner:stack")
                .value(&a.prefix)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let out = a.bootstrap(&[]);
    assert!(out.contains("WARNING"), "{out}");
    assert!(
        out.contains(&format!("aws iam delete-role --role-name {shared}")),
        "{out}"
    );
}

/// Apply only reads the state bucket's settings: with versioning suspended (or the public
/// access block gone) it refuses and leaves the bucket as it is; bootstrap puts them back.
#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_a_bucket_whose_history_is_not_safe() {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

    let a = Account::new();
    a.bootstrap(&["--env", "dev"]);
    let s3 = testkit::s3_client().await;
    s3.put_bucket_versioning()
        .bucket(&a.bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let refused = a.deploy_run(&["apply", "--env", "dev", "--auto-approve"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("versioning is off"), "{stderr}");
    assert!(stderr.contains("provisioner bootstrap"), "{stderr}");
    assert!(
        !versioning_enabled(&a.bucket),
        "apply did not turn versioning back on"
    );

    a.bootstrap(&["--env", "dev"]);
    assert!(versioning_enabled(&a.bucket));
    s3.delete_public_access_block()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let refused = a.deploy_run(&["apply", "--env", "dev", "--auto-approve"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("public access is not all blocked"),
        "{stderr}"
    );
    assert!(
        s3.get_public_access_block()
            .bucket(&a.bucket)
            .send()
            .await
            .is_err(),
        "apply did not put the public access block back"
    );

    a.bootstrap(&["--env", "dev"]);
    let applied = a.deploy_run(&["apply", "--env", "dev", "--auto-approve"]);
    assert!(applied.status.success(), "apply runs on a safe bucket");
    let destroyed = a.deploy_run(&["destroy", "--env", "dev", "--auto-approve"]);
    assert!(destroyed.status.success());
}
