//! Migrating the original Terraform stack as its users have it, without an outage.
//!
//! The real `terraform` 1.11 applies `fixtures/original-terraform/main.tf` (written after the
//! upstream `infra/main.tf`: the role `<prefix>-dev-lambda-role`, the table policy as a
//! customer-managed policy with its own attachment beside the basic-execution attachment, the
//! permission `AllowInvokeFromHttpApi`) in workspace `dev`, and the table is seeded. Then, on the
//! S3 backend with its DynamoDB lock after `bootstrap`, as a real account would be: `migrate`
//! (dry run, then `--write`), `plan`, `apply`. The apply runs through a proxy that, after every
//! AWS call that changes something and before the provisioner hears the answer, checks what the
//! live function may do: its role must still allow reading and writing the table (its inline
//! and attached policies, within its permissions boundary, evaluated by the library's policy
//! evaluator) and API Gateway must still be allowed to invoke it. Then: an empty plan, every
//! item still in the table, the Terraform role and policy gone, nothing else left behind.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::proxy::ObservingProxy;
use common::{Fixture, terraform};
use provisioner::bootstrap::evaluate::{Request, evaluate, evaluate_bounded};
use serde_json::Value;

const ITEMS: usize = 25;
const BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// Applies the original configuration in workspace `dev`; returns its state file.
fn terraform_original(f: &Fixture, table: &str) -> std::path::PathBuf {
    let dir = f.dir.path().join("terraform");
    let main_tf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/original-terraform/main.tf");
    terraform::init(&dir, &main_tf);
    terraform::run(
        &dir,
        &[
            "workspace".into(),
            "new".into(),
            "dev".into(),
            "-no-color".into(),
        ],
    );
    terraform::apply(
        &dir,
        &[
            format!("endpoint={}", testkit::endpoint()),
            format!("name_prefix={}", f.prefix),
            format!("table_name={table}"),
            format!("lambda_zip={}", f.dir.path().join("function.zip").display()),
        ],
    );
    terraform::forget_providers(&dir);
    dir.join("terraform.tfstate.d/dev/terraform.tfstate")
}

/// A policy document as IAM returns it (percent-encoded), parsed.
fn decode(document: &str) -> Value {
    provisioner::kinds::fields::parse_policy_document("test", document).unwrap()
}

/// A customer-managed policy's default document.
async fn managed_policy(iam: &aws_sdk_iam::Client, arn: &str) -> Value {
    let policy = iam.get_policy().policy_arn(arn).send().await.unwrap();
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap()
        .to_string();
    let document = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    decode(
        document
            .policy_version()
            .and_then(|v| v.document())
            .unwrap(),
    )
}

/// What the live function may do now; each broken guarantee is one line.
async fn what_the_function_lost(
    sdk: &aws_config::SdkConfig,
    function: &str,
    table_arn: &str,
) -> Vec<String> {
    let iam = aws_sdk_iam::Client::new(sdk);
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let mut lost = Vec::new();
    let config = lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .unwrap();
    let role_arn = config.role().unwrap().to_string();
    let role_name = role_arn.rsplit('/').next().unwrap().to_string();
    let Ok(role) = iam.get_role().role_name(&role_name).send().await else {
        return vec![format!("its role {role_arn} does not exist")];
    };
    let role = role.role().unwrap();
    if role.arn() != role_arn {
        lost.push(format!("its role is {} now, not {role_arn}", role.arn()));
    }
    let mut policies = Vec::new();
    let inline = iam
        .list_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    for name in inline.policy_names() {
        let policy = iam
            .get_role_policy()
            .role_name(&role_name)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        policies.push(decode(policy.policy_document()));
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    let mut logs = false;
    for policy in attached.attached_policies() {
        let arn = policy.policy_arn().unwrap();
        if arn == BASIC {
            logs = true;
        } else if !arn.starts_with("arn:aws:iam::aws:") {
            policies.push(managed_policy(&iam, arn).await);
        }
    }
    if !logs {
        lost.push("AWSLambdaBasicExecutionRole (its logs)".into());
    }
    let boundary = match role
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
    {
        Some(arn) => vec![managed_policy(&iam, arn).await],
        None => Vec::new(),
    };
    for action in [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
    ] {
        let request = Request::new(action, table_arn);
        let decision = if boundary.is_empty() {
            evaluate(&policies, &request)
        } else {
            evaluate_bounded(&policies, &boundary, &request)
        };
        if !decision.is_allowed() {
            lost.push(format!("{action} on the table ({decision:?})"));
        }
    }
    let invocable = match lambda.get_policy().function_name(function).send().await {
        Ok(policy) => {
            let document: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
            document["Statement"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| {
                    s["Effect"] == "Allow"
                        && s["Principal"]["Service"] == "apigateway.amazonaws.com"
                        && s["Action"] == "lambda:InvokeFunction"
                })
        }
        Err(_) => false,
    };
    if !invocable {
        lost.push("API Gateway's permission to invoke it".into());
    }
    lost
}

#[tokio::test(flavor = "multi_thread")]
async fn the_original_stack_migrates_without_an_outage() {
    let table = format!("PlaygroundScores-{}", &testkit::unique_name("x")[2..]);
    let f = Fixture::on_s3(&format!("[env.dev.table]\nname = \"{table}\"\n"));
    let tf_state = terraform_original(&f, &table);
    let sdk = testkit::sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    terraform::seed_table(&dynamodb, &table, ITEMS).await;
    let function = f.function_name();
    let old_role = format!("{}-dev-lambda-role", f.prefix);
    let table_arn = format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}");
    assert_eq!(
        what_the_function_lost(&sdk, &function, &table_arn).await,
        Vec::<String>::new(),
        "Terraform's stack works"
    );

    f.ok(&["bootstrap", "--repo", "octo/playground", "--env", "dev"]);
    let source = tf_state.to_str().unwrap();
    let dry = f.ok(&["migrate", "--env", "dev", "--from-terraform-state", source]);
    for expected in [
        "aws_iam_role.lambda_exec_role",
        "->  iam_role.lambda",
        "aws_iam_role_policy_attachment.lambda_logs",
        "->  iam_role_policy_attachment.basic_execution",
        "->  iam_role_policy_attachment.attach_ddb_rw",
        "->  iam_policy.ddb_rw",
        "->  lambda_permission.apigw (AllowInvokeFromHttpApi)",
        &format!("iam_role.lambda: \"{old_role}\" -> \"{}\"", f.role_name()),
        "Dry run: nothing was written",
    ] {
        assert!(
            dry.contains(expected),
            "the dry run lacks {expected:?}:\n{dry}"
        );
    }
    assert!(
        !dry.contains("not adopted"),
        "everything of the original is adopted:\n{dry}"
    );
    f.ok(&[
        "migrate",
        "--env",
        "dev",
        "--from-terraform-state",
        source,
        "--write",
    ]);

    let plan: Value = serde_json::from_str(&f.ok(&["plan", "--env", "dev", "--json"])).unwrap();
    let action = |address: &str| {
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .map(|c| {
                (
                    c["action"].as_str().unwrap().to_string(),
                    c["create_before_destroy"] == true,
                )
            })
    };
    assert_eq!(action("iam_role.lambda"), Some(("replace".into(), true)));
    assert_eq!(
        action("iam_role_policy_attachment.basic_execution"),
        Some(("replace".into(), true))
    );
    assert_eq!(
        action("lambda_permission.apigw"),
        Some(("replace".into(), true))
    );
    assert_eq!(
        action("iam_role_policy.dynamodb"),
        Some(("create".into(), false))
    );
    assert_eq!(
        action("iam_role_policy_attachment.attach_ddb_rw"),
        Some(("delete".into(), false))
    );
    assert_eq!(action("iam_policy.ddb_rw"), Some(("delete".into(), false)));
    assert_eq!(
        action("dynamodb_table.playground").map(|a| a.0),
        Some("update".into())
    );

    // The apply, checked after every AWS write.
    let lost_along_the_way: Arc<Mutex<Vec<String>>> = Arc::default();
    let writes = Arc::new(Mutex::new(0usize));
    let runtime = tokio::runtime::Handle::current();
    let proxy = {
        let (lost, writes, sdk) = (
            Arc::clone(&lost_along_the_way),
            Arc::clone(&writes),
            sdk.clone(),
        );
        let (function, table_arn) = (function.clone(), table_arn.clone());
        ObservingProxy::start(move |request| {
            *writes.lock().unwrap() += 1;
            let now = runtime.block_on(what_the_function_lost(&sdk, &function, &table_arn));
            lost.lock().unwrap().extend(
                now.into_iter()
                    .map(|l| format!("after {}: {l}", request.name())),
            );
        })
    };
    let applied = f
        .command(&["apply", "--env", "dev", "--auto-approve"])
        .env("AWS_ENDPOINT_URL", proxy.url())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert!(applied.status.success(), "apply failed:\n{stderr}");
    let writes = *writes.lock().unwrap();
    assert!(writes >= 15, "the proxy saw the apply's writes ({writes})");
    let lost = lost_along_the_way.lock().unwrap().clone();
    assert!(
        lost.is_empty(),
        "the live function lost what it had during apply:\n{}\n\n{stderr}",
        lost.join("\n")
    );
    assert!(
        stderr
            .find("iam_role.lambda#deposed-0: destroying")
            .unwrap()
            > stderr.find("lambda_function.api: updated").unwrap(),
        "the old role goes after the function moved to the new one:\n{stderr}"
    );

    let (code, out) = f.plan();
    assert_eq!(code, 0, "converged after apply: {out}");
    assert_eq!(
        terraform::item_count(&dynamodb, &table).await,
        ITEMS,
        "every item survives"
    );
    assert_eq!(
        what_the_function_lost(&sdk, &function, &table_arn).await,
        Vec::<String>::new()
    );
    let iam = aws_sdk_iam::Client::new(&sdk);
    assert!(
        iam.get_role().role_name(&old_role).send().await.is_err(),
        "Terraform's role is gone"
    );
    let policy_arn = format!("arn:aws:iam::123456789012:policy/{}-dev-ddb-rw", f.prefix);
    assert!(
        iam.get_policy()
            .policy_arn(&policy_arn)
            .send()
            .await
            .is_err(),
        "Terraform's table policy is gone"
    );
    let listed = f.ok(&["state", "list", "--env", "dev"]);
    assert!(
        !listed.contains("deposed") && !listed.contains("ddb_rw"),
        "{listed}"
    );

    // The table holds data: destroy is asked to keep nothing, so it goes with the rest.
    f.destroy();
    assert_eq!(
        common::Aws::new().await.leftovers(&f).await,
        Vec::<String>::new()
    );
}
