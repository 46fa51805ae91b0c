//! How a plan shows nested values and drift: an inline policy with one action added outside
//! the provisioner and one environment variable changed show first in "Objects have changed
//! outside of the provisioner" (recorded -> found), then among the actions, each one key or
//! element per line with the rest hidden, like Terraform.

use crate::common;

use common::Fixture;
use common::identity::inline_policy;

#[tokio::test(flavor = "multi_thread")]
async fn drift_of_a_policy_and_a_map_shows_apart_and_one_line_per_change() {
    let (f, aws) = Fixture::new("").applied().await;
    let (code, converged) = f.plan();
    assert_eq!(code, 0, "{converged}");
    assert!(
        !converged.contains("changed outside"),
        "an apply records what it made, so the next plan finds no drift:\n{converged}"
    );

    // Outside the provisioner: one action added to the function's inline policy, and one
    // environment variable changed.
    let role = f.role_name();
    let policy_name = format!("{}-dev-dynamodb", f.prefix);
    let mut policy = inline_policy(&aws, &role, &policy_name).await;
    let actions = policy["Statement"][0]["Action"]
        .as_array_mut()
        .expect("a list of actions");
    actions.push("dynamodb:DeleteTable".into());
    aws.iam
        .put_role_policy()
        .role_name(&role)
        .policy_name(&policy_name)
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let config = aws.function_configuration(&f.function_name()).await;
    let mut variables = config
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .expect("environment variables");
    assert!(variables.len() > 1, "{variables:?}");
    variables.insert("TABLE_NAME".into(), "someone-elses-table".into());
    aws.lambda
        .update_function_configuration()
        .function_name(f.function_name())
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(variables.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap();

    let table = f.table_name();
    let plan = f.plan_shows(&[
        "Note: Objects have changed outside of the provisioner",
        "  ~ iam_role_policy.dynamodb (",
        "      ~ policy: {\n          ~ Statement: [\n              ~ {\n                  ~ Action: [\n                      + \"dynamodb:DeleteTable\",\n",
        &format!("      ~ environment: {{\n          ~ TABLE_NAME: \"{table}\" -> \"someone-elses-table\"\n            # ({} unchanged attribute", variables.len() - 1),
        "The provisioner will perform these actions on the dev environment:",
        "                      - \"dynamodb:DeleteTable\",\n",
        &format!("~ TABLE_NAME: \"someone-elses-table\" -> \"{table}\""),
        // The function's repair publishes a version, which the alias follows.
        "Plan: 0 to add, 3 to change, 0 to destroy.",
    ]);
    let (drift, actions) = plan
        .split_once("The provisioner will perform")
        .expect("both sections");
    assert!(drift.contains("+ \"dynamodb:DeleteTable\""), "{plan}");
    assert!(actions.contains("- \"dynamodb:DeleteTable\""), "{plan}");
    assert!(!plan.contains("] -> ["), "no list printed whole:\n{plan}");
    println!("{plan}");

    f.apply();
    let (code, repaired) = f.plan();
    assert_eq!(code, 0, "repaired:\n{repaired}");
    assert!(
        !repaired.contains("changed outside"),
        "the repairing apply recorded what it put back:\n{repaired}"
    );
    aws.destroy_to_nothing(&f).await;
}
