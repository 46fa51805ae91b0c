//! Migration from a Terraform stack, with a state file the real `terraform` wrote: the
//! benchmark's yardstick (`tests/bench/terraform/main.tf`, which declares what the stack declares,
//! with a table named `PlaygroundScores-…`) is applied to the emulator by Terraform, the table is filled, then `provisioner migrate`
//! adopts everything. The remaining plan holds only intended changes (no create, replace or
//! delete), and after apply every item is still in the table. Also: Terraform's own lock is
//! honoured for an s3:// state, a dry run writes nothing, and `import` adopts one resource.
//! The original configuration as its users have it is `migrate_original.rs`.

use crate::common;

use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::types::AttributeValue;
use common::{Fixture, terraform};
use serde_json::Value;

const ITEMS: usize = 30;

/// Applies the original configuration with Terraform; returns the path of its state file.
fn terraform_apply(f: &Fixture, table: &str) -> PathBuf {
    let dir = f.dir.path().join("terraform");
    let main_tf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bench/terraform/main.tf");
    terraform::init(&dir, &main_tf);
    let zip = f.dir.path().join("function.zip");
    terraform::apply(
        &dir,
        &[
            format!("endpoint={}", testkit::endpoint()),
            format!("name_prefix={}", f.prefix),
            "environment=dev".into(),
            format!("table_name={table}"),
            format!("lambda_zip={}", zip.display()),
            "lambda_architecture=x86_64".into(),
            // The grown stack: alias, access log group, alarms and dashboard, as declared here.
            "monitoring=true".into(),
        ],
    );
    terraform::forget_providers(&dir);
    dir.join("terraform.tfstate")
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_adopts_a_terraform_stack_and_keeps_every_item() {
    let suffix = testkit::unique_name("x");
    let table = format!("PlaygroundScores-{}", &suffix[2..]);
    let f = Fixture::new(&format!("[env.dev.table]\nname = \"{table}\"\n"));
    let tf_state = terraform_apply(&f, &table);
    let dynamodb = testkit::dynamodb_client().await;
    terraform::seed_table(&dynamodb, &table, ITEMS).await;
    assert_eq!(terraform::item_count(&dynamodb, &table).await, ITEMS);

    // The same state in S3, where the original kept it, guarded by Terraform's lock table.
    let bucket = format!("{}-tf", f.prefix);
    let lock_table = format!("{}-tf-locks", f.prefix);
    let key = "aimodelshare/infra/terraform.tfstate";
    let sdk = testkit::sdk_config().await;
    state::ensure_backend_resources(
        &state::BackendConfig::S3 {
            bucket: bucket.clone(),
            prefix: String::new(),
            environment: "dev".into(),
            lock_table: Some(lock_table.clone()),
            s3_lock: false,
        },
        &sdk,
    )
    .await
    .unwrap();
    let s3 = testkit::s3_client().await;
    s3.put_object()
        .bucket(&bucket)
        .key(key)
        .body(std::fs::read(&tf_state).unwrap().into())
        .send()
        .await
        .unwrap();
    let url = format!("s3://{bucket}/{key}");
    let lock_id = format!("{bucket}/{key}");

    // A terraform run holds the lock: migrate refuses and writes nothing.
    dynamodb
        .put_item()
        .table_name(&lock_table)
        .item("LockID", AttributeValue::S(lock_id.clone()))
        .item(
            "Info",
            AttributeValue::S(
                serde_json::json!({"ID": "tf-run-1", "Operation": "OperationTypeApply",
                    "Info": "", "Who": "ci@runner", "Version": "1.11.4",
                    "Created": "2026-11-25T18:00:00Z", "Path": lock_id})
                .to_string(),
            ),
        )
        .send()
        .await
        .unwrap();
    let migrate_s3 = |extra: &[&str]| {
        let mut args = vec![
            "migrate",
            "--env",
            "dev",
            "--from-terraform-state",
            &url,
            "--terraform-lock-table",
            &lock_table,
        ];
        args.extend_from_slice(extra);
        f.run(&args)
    };
    let refused = migrate_s3(&[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("terraform run is in progress"), "{stderr}");
    assert!(stderr.contains("tf-run-1"), "{stderr}");
    assert!(
        !f.state_file().exists(),
        "nothing written while Terraform holds its lock"
    );

    // Lock free: a dry run from S3 maps everything, takes and gives back Terraform's lock,
    // and writes nothing.
    dynamodb
        .delete_item()
        .table_name(&lock_table)
        .key("LockID", AttributeValue::S(lock_id.clone()))
        .send()
        .await
        .unwrap();
    let dry = migrate_s3(&[]);
    assert!(dry.status.success());
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(out.contains("aws_dynamodb_table.playground"), "{out}");
    assert!(
        out.contains("->  apigw_route.get_tables"),
        "routes map by route key: {out}"
    );
    let resources = f.resource_count();
    assert!(
        out.contains(&format!("Adopted {resources} resource(s)")),
        "the yardstick declares what the stack declares: {out}"
    );
    assert!(out.contains("Dry run: nothing was written"), "{out}");
    let lock_after = dynamodb
        .get_item()
        .table_name(&lock_table)
        .key("LockID", AttributeValue::S(lock_id.clone()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(lock_after.item().is_none(), "Terraform's lock was released");
    let no_state = f.run(&["state", "list", "--env", "dev"]);
    assert!(!no_state.status.success(), "a dry run writes no state");

    // For real, from the local state file.
    let tf_state = tf_state.to_str().unwrap();
    let migrate_file = [
        "migrate",
        "--env",
        "dev",
        "--from-terraform-state",
        tf_state,
    ];
    let written = f.ok(&[&migrate_file[..], &["--write"]].concat());
    assert!(written.contains("Wrote the dev state"), "{written}");
    let listed = f.ok(&["state", "list", "--env", "dev"]);
    assert_eq!(listed.lines().count(), resources, "{listed}");
    assert!(listed.contains(&table), "{listed}");

    // A second migrate is refused: the state is no longer empty.
    let again = f.run(&migrate_file);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("provisioner import"));

    // What remains is intended: in-place updates (tags the stack adds, the alarms'
    // descriptions), and the permission on the alias re-created (its source ARN fixed: the yardstick's provider skips the account id in the
    // API's execution ARN, `skip_requesting_account_id`). Nothing else is created, nothing is
    // deleted, and the table is at most updated in place.
    let plan = f.ok(&["plan", "--env", "dev", "--json"]);
    let plan: Value = serde_json::from_str(&plan).unwrap();
    for change in plan["changes"].as_array().unwrap() {
        let action = change["action"].as_str().unwrap();
        // The permission moves to the release alias (`qualifier`), which is new.
        let permission_arn_fix = action == "replace"
            && change["address"] == "lambda_permission.apigw"
            && change["fields"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["field"] == "source_arn" || f["field"] == "qualifier");
        let release_alias = action == "create" && change["address"] == "lambda_alias.live";
        // The function's role moves under the environment's IAM path (with its boundary):
        // IAM cannot move a role, so it is re-created, and its two policies with it.
        let fields = change["fields"].as_array().unwrap();
        let role_path_move = action == "replace"
            && (change["address"] == "iam_role.lambda"
                && fields.iter().any(|f| f["field"] == "path")
                || change["address"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("iam_role_"))
                    && fields
                        .iter()
                        .all(|f| change["after_unknown"][f["field"].as_str().unwrap()] == true));
        assert!(
            action == "update" || permission_arn_fix || role_path_move || release_alias,
            "unintended change after migrate: {change}"
        );
    }

    f.apply();
    assert_eq!(
        terraform::item_count(&dynamodb, &table).await,
        ITEMS,
        "every item survives"
    );
    let (code, out) = f.plan();
    assert_eq!(code, 0, "converged after apply: {out}");

    f.destroy();
}

#[tokio::test(flavor = "multi_thread")]
async fn import_adopts_one_resource_and_refuses_bad_input() {
    let f = Fixture::new("");
    let iam_role = f.role_name();
    let iam = testkit::iam_client().await;
    iam.create_role()
        .role_name(&iam_role)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();

    let unknown = f.run(&["import", "--env", "dev", "iam_role.lamda", &iam_role]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean 'iam_role.lambda'"));

    let missing = f.run(&[
        "import",
        "--env",
        "dev",
        "iam_role.lambda",
        "no-such-role-x1",
    ]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no iam_role with id"));

    let route = f.run(&["import", "--env", "dev", "apigw_route.get_tables", "abc123"]);
    assert!(!route.status.success());
    assert!(
        String::from_utf8_lossy(&route.stderr).contains("apigw_api.http"),
        "names the dependency to import first"
    );

    let out = f.ok(&["import", "--env", "dev", "iam_role.lambda", &iam_role]);
    assert!(out.contains("Imported iam_role.lambda"), "{out}");
    let listed = f.ok(&["state", "list", "--env", "dev"]);
    assert!(listed.contains("iam_role.lambda"), "{listed}");
    let twice = f.run(&["import", "--env", "dev", "iam_role.lambda", &iam_role]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already in the state"));

    // The role is now managed: destroy deletes it (and nothing else exists).
    f.destroy();
    assert!(iam.get_role().role_name(&iam_role).send().await.is_err());
}
