//! The Lambda kinds against the emulator: function, permission, layer version.

mod kinds_support;

use kinds_support::{clients, lambda_function, lambda_role, lambda_zip, life_cycle};
use provisioner::resource::ResourceKind;
use provisioner::resources::lambda_function::LambdaFunction;
use serde_json::json;

#[tokio::test]
async fn lambda_function_life_cycle_updates_configuration_and_code() {
    let aws = clients().await;
    let role = lambda_role(&aws).await;
    let name = testkit::unique_name("kinds-fn");
    let first = lambda_zip("v1");
    let second = lambda_zip("v2");
    let after = life_cycle(
        &LambdaFunction,
        &aws,
        lambda_function(&name, &role, &first),
        |d| {
            d.fields.insert("memory_size".into(), json!(256));
            d.fields
                .insert("environment".into(), json!({"TABLE_NAME": "other"}));
            d.fields.insert("code_sha256".into(), json!(second.1));
            d.fields.insert("zip_path".into(), json!(second.0));
            d.tags.insert("owner".into(), "kinds".into());
        },
        &["code_sha256", "environment", "memory_size", "tags"],
    )
    .await;
    assert_eq!(after.fields.get("code_sha256"), Some(&json!(second.1)));
    let arn = after
        .outputs
        .get("arn")
        .and_then(|a| a.as_str())
        .unwrap_or_default()
        .to_string();
    assert!(arn.ends_with(&format!(":function:{name}")), "{arn}");
    let invoke_arn = after
        .outputs
        .get("invoke_arn")
        .and_then(|a| a.as_str())
        .unwrap_or_default();
    assert!(
        invoke_arn.contains(&arn) && invoke_arn.ends_with("/invocations"),
        "{invoke_arn}"
    );
}

#[tokio::test]
async fn lambda_function_zip_path_is_not_compared() {
    let aws = clients().await;
    let role = lambda_role(&aws).await;
    let name = testkit::unique_name("kinds-fn");
    let zip = lambda_zip("same");
    let declared = lambda_function(&name, &role, &zip);
    let created = LambdaFunction
        .create(&aws, &declared)
        .await
        .expect("create");
    let mut moved = declared.clone();
    moved
        .fields
        .insert("zip_path".into(), json!("/elsewhere/code.zip"));
    assert!(LambdaFunction.diff(&moved, &created).is_empty());
    LambdaFunction
        .delete(&aws, &name, &declared.fields)
        .await
        .expect("delete");
}

#[tokio::test]
async fn lambda_function_create_reports_a_missing_zip_with_its_path() {
    let aws = clients().await;
    let role = lambda_role(&aws).await;
    let zip = ("/nonexistent/kinds.zip".to_string(), "x".to_string());
    let declared = lambda_function(&testkit::unique_name("kinds-fn"), &role, &zip);
    let error = LambdaFunction
        .create(&aws, &declared)
        .await
        .expect_err("no zip");
    assert!(
        error.to_string().contains("/nonexistent/kinds.zip"),
        "{error}"
    );
}
