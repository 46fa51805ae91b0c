//! An object with a declared name but without this stack's and environment's tags (an
//! untagged hand-made role, a table tagged for another environment) is never adopted: apply
//! fails naming it and `import`, and destroy leaves it. The log group Lambda makes untagged is
//! adopted.

use crate::common;

use common::identity::*;
use common::{Aws, Fixture, trust_policy};
use std::collections::BTreeMap;

use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn an_untagged_role_with_the_declared_name_is_not_taken_over() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let role = f.role_name();
    let trust = trust_policy(json!({"Service": "lambda.amazonaws.com"}));
    aws.iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust.to_string())
        .description("made by hand")
        .send()
        .await
        .expect("create the hand-made role");

    let error = apply_refused_over(&f, "iam_role.lambda", &role);
    assert!(!error.contains("iam_role.lambda: created"), "{error}");
    // The role is as it was: untagged, not in the state, not used by a function.
    let got = aws.role(&role).await;
    assert!(got.tags().is_empty(), "tagged: {:?}", got.tags());
    assert_eq!(got.description(), Some("made by hand"));
    assert_eq!(got.path(), "/");
    let listed = f.ok(&["state", "list", "--env", "dev"]);
    assert!(
        !listed.lines().any(|l| l.starts_with("iam_role.lambda ")),
        "the state records the role: {listed}"
    );
    assert!(!aws.function_exists(&f.function_name()).await);
    assert!(
        aws.inline_policy_names(&role).await.is_empty(),
        "a policy was put on it"
    );

    // Destroy deletes what the failed apply made and leaves the role alone.
    f.destroy();
    assert!(aws.role_tags(&role).await.is_empty());
    assert_eq!(
        aws.leftovers(&f).await,
        vec![format!("IAM role {role}")],
        "destroy deleted the hand-made role, or left something of its own"
    );
    aws.delete_role(&role).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_tagged_for_another_environment_is_not_taken_over() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let table = f.table_name();
    let stage_tags = [
        ("provisioner:stack", f.prefix.as_str()),
        ("provisioner:environment", "stage"),
    ];
    let mut create = aws
        .dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest);
    for (name, key) in [("tableId", "HASH"), ("username", "RANGE")] {
        create = create
            .attribute_definitions(
                aws_sdk_dynamodb::types::AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
            )
            .key_schema(
                aws_sdk_dynamodb::types::KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(key.into())
                    .build()
                    .expect("key"),
            );
    }
    for (key, value) in stage_tags {
        create = create.tags(
            aws_sdk_dynamodb::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .expect("tag"),
        );
    }
    create
        .send()
        .await
        .expect("create the other environment's table");
    put_marker(&aws, &table).await;

    apply_refused_over(&f, "dynamodb_table.playground", &table);
    assert!(!aws.function_exists(&f.function_name()).await);

    f.destroy();
    assert!(has_marker(&aws, &table).await, "destroy deleted its data");
    let still_there = aws.table(&table).await;
    let arn = still_there.table_arn().expect("an ARN").to_string();
    let tags = aws
        .dynamodb
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("list_tags_of_resource");
    let tags: BTreeMap<&str, &str> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, BTreeMap::from(stage_tags), "its tags were changed");
    assert_eq!(aws.leftovers(&f).await, vec![format!("table {table}")]);
    aws.delete_table(&table).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_group_lambda_makes_untagged_is_adopted() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let group = format!("/aws/lambda/{}", f.function_name());
    aws.create_log_group(&group, None).await;

    let output = f.run(&["apply", "--env", "dev", "--auto-approve"]);
    let progress = stderr(&output);
    assert!(output.status.success(), "{progress}");
    assert!(progress.contains("log_group.lambda: adopted"), "{progress}");
    assert!(
        !progress.contains("log_group.lambda: created"),
        "{progress}"
    );
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    assert_eq!(aws.log_group_retentions(&group).await[0], Some(14));
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "{plan}");
    aws.destroy_to_nothing(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_group_tagged_by_someone_else_is_not_taken_over() {
    foreign_log_group_is_never_touched(&Fixture::on_s3("")).await;
}
