//! Apply from nothing creates exactly the declared resources, a second plan is empty, outputs
//! name them, and destroy leaves nothing of the stack in any service.

use crate::common;

use common::counts::contract_route_keys;
use common::{Aws, Fixture};

#[tokio::test(flavor = "multi_thread")]
async fn apply_from_nothing_then_empty_plan_then_destroy_to_zero() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    assert!(aws.leftovers(&f).await.is_empty(), "the prefix is fresh");

    let out = f.apply();
    let resources = f.resource_count();
    assert!(
        out.contains(&format!(
            "Apply complete! Resources: {resources} added, 0 changed, 0 destroyed."
        )),
        "{out}"
    );

    // IAM: the role, the managed policy attached, exactly one inline policy.
    let role = aws.role(&f.role_name()).await;
    let trust = role.assume_role_policy_document().unwrap_or_default();
    assert!(trust.contains("lambda.amazonaws.com"), "{trust}");
    assert_eq!(
        aws.attached_policy_names(&f.role_name()).await,
        ["AWSLambdaBasicExecutionRole"]
    );
    assert_eq!(
        aws.inline_policy_names(&f.role_name()).await,
        [format!("{}-dev-dynamodb", f.prefix)]
    );

    // DynamoDB: keys, the byUser index, PITR, tags.
    let table = aws.table(&f.table_name()).await;
    let mut gsis: Vec<&str> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|g| g.index_name())
        .collect();
    gsis.sort();
    assert_eq!(gsis, vec!["byCreatedAt", "bySubmissionCount", "byUser"]);
    let pitr = aws.pitr_status(&f.table_name()).await;
    assert_eq!(pitr.as_deref(), Some("ENABLED"));

    // Logs: one group with the declared retention.
    let group = format!("/aws/lambda/{}", f.function_name());
    assert_eq!(aws.log_group_retentions(&group).await, [Some(14)]);

    // Lambda: one function with the declared settings and the invoke permission.
    assert_eq!(aws.function_count(&f.prefix).await, 1);
    let config = aws.function_configuration(&f.function_name()).await;
    assert_eq!(config.memory_size(), Some(256));
    assert_eq!(config.timeout(), Some(10));
    assert_eq!(config.handler(), Some("bootstrap"));
    let env = config
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(env.get("TABLE_NAME"), Some(&f.table_name()));
    assert_eq!(env.get("CORS_ALLOW_ORIGINS").map(String::as_str), Some("*"));
    let policy = aws.function_policy(&f.function_name()).await;
    assert!(policy.contains("AllowApiGatewayInvoke"), "{policy}");

    // API Gateway: one API, one integration, the contract's routes, the stage.
    let apis = aws.api_ids(&f.api_name()).await;
    assert_eq!(apis.len(), 1, "exactly one API");
    assert_eq!(aws.route_keys(&apis[0]).await, contract_route_keys());
    assert!(
        contract_route_keys().contains(&"GET /openapi.json".to_string()),
        "the API serves its own description on AWS too"
    );
    assert_eq!(aws.integration_count(&apis[0]).await, 1);
    assert_eq!(aws.stage_names(&apis[0]).await, ["dev"]);

    // No surprise changes.
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "a plan right after apply is empty:\n{plan}");
    assert!(
        plan.contains("Plan: 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );

    // Outputs.
    let outputs: serde_json::Value =
        serde_json::from_str(&f.ok(&["output", "--env", "dev", "--json"])).unwrap();
    assert_eq!(outputs["dynamodb_table_name"], f.table_name());
    assert_eq!(outputs["lambda_name"], f.function_name());
    let base = outputs["api_base_url"].as_str().unwrap();
    assert!(base.ends_with("/dev") && base.contains(&apis[0]), "{base}");
    // One output: JSON by default, bare with --raw, for scripts.
    let quoted = f.ok(&["output", "--env", "dev", "lambda_name"]);
    assert_eq!(quoted.trim(), format!("\"{}\"", f.function_name()));
    let raw = f.ok(&["output", "--env", "dev", "api_base_url", "--raw"]);
    assert_eq!(raw.trim_end_matches('\n'), base);
    let unknown = f.run(&["output", "--env", "dev", "api_url"]);
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no output 'api_url'") && stderr.contains("api_base_url"),
        "{stderr}"
    );

    // Destroy: nothing of the stack is left anywhere.
    let out = f.destroy();
    assert!(
        out.contains(&format!(
            "Resources: 0 added, 0 changed, {resources} destroyed."
        )),
        "{out}"
    );
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.state_file()).unwrap()).unwrap();
    assert_eq!(state["resources"], serde_json::json!({}), "{state}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_optional_layer_is_published_attached_and_destroyed() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    let layer_source = f.dir.path().join("layer-content");
    std::fs::write(&layer_source, b"extra libraries").unwrap();
    provisioner::package::zip_bootstrap(&layer_source, &f.dir.path().join("layer.zip")).unwrap();
    f.write_stack("[env.dev.lambda]\nlayer_zip = \"layer.zip\"\n");

    let out = f.apply();
    let resources = f.resource_count();
    assert!(
        out.contains(&format!("Resources: {resources} added")),
        "{out}"
    );
    let layer_name = format!("{}-dev-extra", f.prefix);
    let versions = aws
        .lambda
        .list_layer_versions()
        .layer_name(&layer_name)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.layer_versions().len(), 1);
    let version_arn = versions.layer_versions()[0]
        .layer_version_arn()
        .unwrap()
        .to_string();
    let config = aws.function_configuration(&f.function_name()).await;
    let attached: Vec<&str> = config.layers().iter().filter_map(|l| l.arn()).collect();
    assert_eq!(attached, vec![version_arn.as_str()]);
    assert_eq!(f.plan().0, 0, "no surprise changes with a layer");

    aws.destroy_to_nothing(&f).await;
}

/// Replacing the layer keeps its old versions up to `keep_versions`, like the function's, and
/// destroy removes every one of them.
#[tokio::test(flavor = "multi_thread")]
async fn replaced_layer_versions_are_kept_up_to_keep_versions_and_destroyed() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    let layer_name = format!("{}-dev-extra", f.prefix);
    let layer_versions = || async {
        let call = aws.lambda.list_layer_versions().layer_name(&layer_name);
        let listed = call.send().await.expect("list_layer_versions");
        let mut numbers: Vec<i64> = listed
            .layer_versions()
            .iter()
            .map(|v| v.version())
            .collect();
        numbers.sort_unstable();
        numbers
    };
    for content in ["libraries 1", "libraries 2", "libraries 3", "libraries 4"] {
        let source = f.dir.path().join("layer-content");
        std::fs::write(&source, content).unwrap();
        provisioner::package::zip_bootstrap(&source, &f.dir.path().join("layer.zip")).unwrap();
        f.write_stack(
            "[release]\nkeep_versions = 2\n\n[env.dev.lambda]\nlayer_zip = \"layer.zip\"\n",
        );
        f.apply();
    }
    let kept = layer_versions().await;
    assert_eq!(kept.len(), 2, "the newest two kept: {kept:?}");
    let newest = *kept.last().unwrap();
    let config = aws.function_configuration(&f.function_name()).await;
    let attached: Vec<&str> = config.layers().iter().filter_map(|l| l.arn()).collect();
    assert_eq!(attached.len(), 1);
    assert!(
        attached[0].ends_with(&format!(":{newest}")),
        "{attached:?} is not version {newest}"
    );
    assert_eq!(f.plan().0, 0, "kept layer versions are no surprise change");

    aws.destroy_to_nothing(&f).await;
    assert_eq!(layer_versions().await, Vec::<i64>::new());
}
