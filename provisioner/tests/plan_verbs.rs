//! The plan verbs a Terraform user reaches for, through the real binary: `plan --destroy`
//! saved and applied like any saved plan, `show PLANFILE`, `--replace ADDR`.

use crate::common;

use common::identity::refused;
use common::{Aws, Fixture};

#[tokio::test(flavor = "multi_thread")]
async fn a_destroy_plan_is_saved_reviewed_and_applied_like_any_plan() {
    let (f, aws) = Fixture::new("").applied().await;
    let resources = f.resource_count();
    let destroys = format!("Plan: 0 to add, 0 to change, {resources} to destroy.");

    // Saved, then the state moves: the destroy plan is stale and deletes nothing.
    let stdout = f.ok(&["plan", "--env", "dev", "--destroy", "--out", "old.plan"]);
    testkit::assert_contains(&stdout, "  - lambda_function.api (");
    testkit::assert_contains(&stdout, &destroys);
    testkit::assert_contains(&stdout, "  provisioner apply --env dev old.plan");
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    f.apply();
    let stderr = refused(&f, &["apply", "--env", "dev", "old.plan"]);
    testkit::assert_contains(&stderr, "stale");
    assert!(aws.function_exists(&f.function_name()).await, "{stderr}");

    // As JSON, the plan says it destroys.
    let json = f.ok(&["plan", "--env", "dev", "--destroy", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).expect("plan --json");
    assert_eq!(json["destroy"], true, "{json:#}");

    // Without a terminal, destroy points to the reviewed way, runnable as printed.
    let stderr = refused(&f, &["destroy", "--env", "dev"]);
    testkit::assert_contains(&stderr, "`provisioner plan --destroy --env dev --out FILE`");
    testkit::assert_contains(&stderr, "`provisioner apply --env dev FILE`");

    // Fresh, it deletes exactly what it listed, and nothing is left.
    f.ok(&["plan", "--env", "dev", "--destroy", "--out", "destroy.plan"]);
    let stdout = f.ok(&["apply", "--env", "dev", "destroy.plan"]);
    testkit::assert_contains(
        &stdout,
        &format!("Destroy complete! Resources: 0 added, 0 changed, {resources} destroyed."),
    );
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
    let (code, plan) = f.plan();
    assert_eq!(code, 2, "everything is to create again: {plan}");
}

#[tokio::test(flavor = "multi_thread")]
async fn show_prints_a_saved_plan_without_aws_or_the_lock() {
    let f = Fixture::on_s3("");
    f.apply();
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    let planned = f.ok(&["plan", "--env", "dev", "--out", "memory.plan"]);
    let json = f.ok(&["plan", "--env", "dev", "--json"]);

    // With AWS out of reach (the S3 state and its lock included), show still works.
    let show = |args: &[&str]| {
        let output = f
            .command(&[&["show"], args].concat())
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
            .output()
            .expect("run provisioner");
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "show {args:?}: {stderr}");
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    let text = show(&["memory.plan"]);
    testkit::assert_contains(&text, "~ memory_size: 256 -> 512");
    assert!(
        planned.starts_with(&text),
        "plan printed:\n{planned}\nshow:\n{text}"
    );
    let shown: serde_json::Value =
        serde_json::from_str(&show(&["memory.plan", "--json"])).expect("show --json");
    let planned: serde_json::Value = serde_json::from_str(&json).expect("plan --json");
    assert_eq!(
        shown, planned,
        "show --json prints what plan --json printed"
    );

    std::fs::write(f.dir.path().join("not.plan"), "{}").expect("write");
    let stderr = refused(&f, &["show", "not.plan"]);
    testkit::assert_contains(&stderr, "not.plan is not a plan file");
    Aws::new().await.destroy_to_nothing(&f).await;
}

#[test]
fn plan_json_has_versions_counts_and_unknown_values_apart() {
    let f = Fixture::new("");
    let text = f.ok(&["plan", "--env", "dev", "--json"]);
    assert!(!text.contains("$ref"), "no internal references:\n{text}");
    let plan: serde_json::Value = serde_json::from_str(&text).expect("plan --json");
    assert_eq!(plan["format_version"], "1.0");
    assert_eq!(plan["provisioner_version"], env!("CARGO_PKG_VERSION"));
    let resources = f.resource_count();
    assert_eq!(
        plan["summary"],
        serde_json::json!({"add": resources, "change": 0, "destroy": 0, "replace": 0})
    );
    // The function runs as a role still to create: its ARN is known only after apply.
    let function = common::identity::json_change(&plan, "lambda_function.api");
    assert_eq!(function["after_unknown"]["role_arn"], true, "{function:#}");
    let role_arn = function["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["field"] == "role_arn"))
        .expect("the function's role_arn");
    assert_eq!(role_arn["new"], serde_json::Value::Null, "{role_arn:#}");
    assert_eq!(function["after_unknown"].get("memory_size"), None);
    // The saved plan keeps what apply needs: a file is not the --json document.
    f.ok(&["plan", "--env", "dev", "--out", "first.plan"]);
    let file = std::fs::read_to_string(f.dir.path().join("first.plan")).expect("read");
    testkit::assert_contains(&file, "$ref");
}

#[test]
fn replace_forces_a_replacement_of_a_declared_address() {
    let f = Fixture::new("");
    f.apply();
    let stderr = refused(
        &f,
        &["plan", "--env", "dev", "--replace", "log_group.lamda"],
    );
    testkit::assert_contains(
        &stderr,
        "--replace log_group.lamda: the stack declares no such",
    );
    testkit::assert_contains(&stderr, "the nearest are log_group.lambda");
    let table = [
        "plan",
        "--env",
        "dev",
        "--replace",
        "dynamodb_table.playground",
    ];
    testkit::assert_contains(&refused(&f, &table), "--allow-data-loss");

    let replace = ["--replace", "log_group.lambda"];
    let plan = f.ok(&[&["plan", "--env", "dev", "--out", "r.plan"], &replace[..]].concat());
    testkit::assert_contains(
        &plan,
        &format!(
            "  -/+ log_group.lambda (/aws/lambda/{}) must be replaced (replace requested)\n",
            f.function_name()
        ),
    );
    testkit::assert_contains(&plan, "Plan: 1 to add, 0 to change, 1 to destroy.");
    let json: serde_json::Value =
        serde_json::from_str(&f.ok(&["show", "r.plan", "--json"])).expect("show --json");
    let change = common::identity::json_change(&json, "log_group.lambda");
    assert_eq!(change["replace_requested"], true, "{change:#}");
    assert_eq!(json["summary"]["replace"], 1, "{json:#}");

    // The saved plan carries the request: applied, it replaces, and then nothing is left to do.
    let applied = f.run(&["apply", "--env", "dev", "r.plan"]);
    let progress = String::from_utf8_lossy(&applied.stderr);
    assert!(applied.status.success(), "{progress}");
    testkit::assert_contains(&progress, "log_group.lambda: ");
    testkit::assert_contains(
        &String::from_utf8_lossy(&applied.stdout),
        "Resources: 1 added, 0 changed, 1 destroyed.",
    );
    assert_eq!(f.plan().0, 0, "replaced once, not on every plan");
    f.destroy();
}
