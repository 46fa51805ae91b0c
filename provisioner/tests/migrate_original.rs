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

use crate::common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::bootstrap::managed_policy;
use common::identity::inline_policy;
use common::identity::json_change;
use common::proxy::ObservingProxy;
use common::{Aws, Fixture, terraform};
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

/// What the live function may do now; each broken guarantee is one line.
async fn what_the_function_lost(aws: &Aws, function: &str, table_arn: &str) -> Vec<String> {
    let iam = &aws.iam;
    let mut lost = Vec::new();
    let config = aws.function_configuration(function).await;
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
    for name in aws.inline_policy_names(&role_name).await {
        policies.push(inline_policy(aws, &role_name, &name).await);
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
            policies.push(managed_policy(iam, arn).await);
        }
    }
    if !logs {
        lost.push("AWSLambdaBasicExecutionRole (its logs)".into());
    }
    let boundary = match role
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
    {
        Some(arn) => vec![managed_policy(iam, arn).await],
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
    // The permission that counts is the one on what the API invokes: the function, or its
    // alias once the integration targets it.
    let qualifier = integration_qualifier(aws, function).await;
    let policy = aws.lambda.get_policy().function_name(function);
    let invocable = match policy.set_qualifier(qualifier).send().await {
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

/// The qualifier (an alias) of the function the API's Lambda integration invokes, if any.
async fn integration_qualifier(aws: &Aws, function: &str) -> Option<String> {
    let apis = aws.apigw.get_apis().send().await.unwrap();
    for api in apis.items() {
        let api_id = api.api_id().unwrap_or_default();
        let integrations = aws.apigw.get_integrations().api_id(api_id).send().await;
        for integration in integrations.unwrap().items() {
            let uri = integration.integration_uri().unwrap_or_default();
            if let Some((_, rest)) = uri.split_once(&format!(":function:{function}")) {
                let target = rest.trim_end_matches("/invocations");
                return target.strip_prefix(':').map(str::to_string);
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn the_original_stack_migrates_without_an_outage() {
    let table = format!("PlaygroundScores-{}", &testkit::unique_name("x")[2..]);
    let f = Fixture::on_s3(&format!("[env.dev.table]\nname = \"{table}\"\n"));
    let tf_state = terraform_original(&f, &table);
    let aws = Aws::new().await;
    terraform::seed_table(&aws.dynamodb, &table, ITEMS).await;
    let function = f.function_name();
    let old_role = format!("{}-dev-lambda-role", f.prefix);
    let table_arn = format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}");
    assert_eq!(
        what_the_function_lost(&aws, &function, &table_arn).await,
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
        // On the function itself: the stack's is on the alias, so this one is removed after.
        "->  lambda_permission.allow_invoke (AllowInvokeFromHttpApi)",
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
    // Each address's action and whether its replacement is made before the old one goes.
    let expected = [
        ("iam_role.lambda", "replace", true),
        (
            "iam_role_policy_attachment.basic_execution",
            "replace",
            true,
        ),
        ("lambda_permission.apigw", "create", false),
        ("lambda_permission.allow_invoke", "delete", false),
        // The original served `$LATEST`; the release alias is new.
        ("lambda_alias.live", "create", false),
        ("iam_role_policy.dynamodb", "create", false),
        ("iam_role_policy_attachment.attach_ddb_rw", "delete", false),
        ("iam_policy.ddb_rw", "delete", false),
    ];
    for (address, action, create_before_destroy) in expected {
        let change = json_change(&plan, address);
        assert_eq!(
            (
                change["action"].as_str(),
                change["create_before_destroy"] == true
            ),
            (Some(action), create_before_destroy),
            "{address}"
        );
    }
    assert_eq!(
        json_change(&plan, "dynamodb_table.playground")["action"],
        "update"
    );

    // The apply, checked after every AWS write.
    let lost_along_the_way: Arc<Mutex<Vec<String>>> = Arc::default();
    let writes = Arc::new(Mutex::new(0usize));
    let runtime = tokio::runtime::Handle::current();
    let proxy = {
        let (lost, writes, aws) = (
            Arc::clone(&lost_along_the_way),
            Arc::clone(&writes),
            aws.clone(),
        );
        let (function, table_arn) = (function.clone(), table_arn.clone());
        ObservingProxy::start(move |request| {
            *writes.lock().unwrap() += 1;
            let now = runtime.block_on(what_the_function_lost(&aws, &function, &table_arn));
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
        terraform::item_count(&aws.dynamodb, &table).await,
        ITEMS,
        "every item survives"
    );
    assert_eq!(
        what_the_function_lost(&aws, &function, &table_arn).await,
        Vec::<String>::new()
    );
    let iam = &aws.iam;
    assert!(
        !aws.role_exists(&old_role).await,
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
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}
