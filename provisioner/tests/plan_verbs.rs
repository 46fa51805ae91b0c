//! The plan verbs a Terraform user reaches for, through the real binary: `plan --destroy`
//! saved and applied like any saved plan, `show PLANFILE`, `--replace ADDR`.

mod common;

use common::identity::refused;
use common::{Aws, Fixture};

#[tokio::test(flavor = "multi_thread")]
async fn a_destroy_plan_is_saved_reviewed_and_applied_like_any_plan() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    f.apply();
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
