//! The Lambda kinds against the emulator: function, permission, layer version.

use crate::kinds_support;

use kinds_support::{
    assert_absent, assert_not_found, assert_replaced_by, clients, create_and_read, delete_parent,
    delete_twice, desired, kind, lambda_function, lambda_role, lambda_zip, life_cycle, output,
    tags,
};
use provisioner::aws::AwsClients;
use provisioner::resource::{Desired, Fields, Observed};
use serde_json::json;

#[tokio::test]
async fn lambda_function_life_cycle_updates_configuration_and_code() {
    let aws = clients().await;
    let role = lambda_role(&aws).await;
    let name = testkit::unique_name("kinds-fn");
    let first = lambda_zip("v1");
    let second = lambda_zip("v2");
    let after = life_cycle(
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
    let arn = output(&after, "arn").unwrap_or_default().to_string();
    assert!(arn.ends_with(&format!(":function:{name}")), "{arn}");
    let invoke_arn = output(&after, "invoke_arn").unwrap_or_default();
    assert!(
        invoke_arn.contains(&arn) && invoke_arn.ends_with("/invocations"),
        "{invoke_arn}"
    );
}

/// A function (with a role of its own) running a zip of `code`; returns its name, its
/// declaration and what create made.
async fn a_function(aws: &AwsClients, code: &str) -> (String, Desired, Observed) {
    let role = lambda_role(aws).await;
    let name = testkit::unique_name("kinds-fn");
    let declared = lambda_function(&name, &role, &lambda_zip(code));
    let created = kind("lambda_function")
        .create(aws, &declared)
        .await
        .expect("create function");
    (name, declared, created)
}

#[tokio::test]
async fn lambda_function_zip_path_is_not_compared() {
    let aws = clients().await;
    let (name, declared, created) = a_function(&aws, "same").await;
    let mut moved = declared.clone();
    moved
        .fields
        .insert("zip_path".into(), json!("/elsewhere/code.zip"));
    assert!(kind("lambda_function").diff(&moved, &created).is_empty());
    kind("lambda_function")
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
    let error = kind("lambda_function")
        .create(&aws, &declared)
        .await
        .expect_err("no zip");
    assert!(
        error.to_string().contains("/nonexistent/kinds.zip"),
        "{error}"
    );
}

#[tokio::test]
async fn lambda_permission_create_read_delete() {
    let aws = clients().await;
    let (function, _, _) = a_function(&aws, "perm").await;

    let permission = kind("lambda_permission");
    let statement = "AllowApiGatewayInvoke";
    let declared = desired(
        "lambda_permission",
        statement,
        json!({
            "function_name": function,
            "action": "lambda:InvokeFunction",
            "principal": "apigateway.amazonaws.com",
            "source_arn": "arn:aws:execute-api:us-east-1:123456789012:abc123/*/*"
        }),
        Default::default(),
    );
    assert_absent(permission, &aws, statement, &declared.fields).await;
    let created = create_and_read(permission, &aws, &declared, |_| statement.into()).await;
    assert_replaced_by(
        permission,
        &declared,
        &created,
        "source_arn",
        json!("arn:aws:execute-api:us-east-1:123456789012:zzz/*/*"),
    );

    delete_twice(permission, &aws, statement, &declared.fields).await;
    delete_parent("lambda_function", &aws, &function).await;
    // With the function gone the permission is absent, and deleting it is still Ok.
    assert_absent(permission, &aws, statement, &declared.fields).await;
    permission
        .delete(&aws, statement, &declared.fields)
        .await
        .expect("remove after function");
}

#[tokio::test]
async fn lambda_layer_version_publish_read_delete() {
    let aws = clients().await;
    let layer = testkit::unique_name("kinds-layer");
    let zip = lambda_zip("layer v1");
    let layers = kind("lambda_layer_version");
    let declared = desired(
        "lambda_layer_version",
        &layer,
        json!({
            "layer_name": layer,
            "code_sha256": zip.1,
            "zip_path": zip.0,
            "compatible_runtimes": ["provided.al2023"],
            "compatible_architectures": ["x86_64", "arm64"]
        }),
        tags(&[]),
    );
    assert_not_found(layers, &aws, &declared).await;
    let created = create_and_read(layers, &aws, &declared, |created| created.id.clone()).await;
    assert!(
        created.id.contains(&format!(":layer:{layer}:")),
        "{}",
        created.id
    );
    let found = layers.find_existing(&aws, &declared).await.expect("find");
    assert_eq!(found.map(|f| f.id), Some(created.id.clone()));

    let new_zip = lambda_zip("layer v2");
    let mut changed = declared.clone();
    changed
        .fields
        .insert("code_sha256".into(), json!(new_zip.1));
    changed.fields.insert("zip_path".into(), json!(new_zip.0));
    let diff = layers.diff(&changed, &created);
    assert!(
        diff.len() == 1 && diff[0].field == "code_sha256" && diff[0].forces_replacement,
        "{diff:#?}"
    );
    assert_not_found(layers, &aws, &changed).await;

    delete_twice(layers, &aws, &created.id, &Fields::new()).await;
}
