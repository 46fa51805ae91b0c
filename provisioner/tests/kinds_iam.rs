//! The IAM kinds against the emulator: role, inline policy, managed-policy attachment.

use crate::kinds_support;

use kinds_support::{
    assert_absent, assert_not_found, assert_replaced_by, clients, delete_parent, delete_twice,
    desired, kind, life_cycle, one_field_life_cycle, tags,
};
use provisioner::kinds;
use provisioner::resource::Fields;
use serde_json::{Value, json};

fn trust_policy(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
}

#[tokio::test]
async fn iam_role_life_cycle() {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-role");
    let declared = desired(
        "iam_role",
        &name,
        json!({
            "assume_role_policy": trust_policy("lambda.amazonaws.com"),
            "description": "test role",
            "path": "/kinds/test/",
            "permissions_boundary": "kinds-test-boundary",
        }),
        tags(&[("team", "a")]),
    );
    let after = life_cycle(
        &aws,
        declared,
        |d| {
            d.fields.insert("description".into(), json!("changed"));
            d.fields.insert(
                "permissions_boundary".into(),
                json!("kinds-test-boundary-2"),
            );
            d.tags.insert("team".into(), "b".into());
            d.tags.insert("extra".into(), "x".into());
        },
        &["description", "permissions_boundary", "tags"],
    )
    .await;
    assert_eq!(after.outputs.get("name"), Some(&json!(name)));
    assert!(
        after
            .arn
            .as_deref()
            .is_some_and(|a| a.ends_with(&format!(":role/kinds/test/{name}")))
    );
    assert_eq!(after.fields["path"], "/kinds/test/");
    assert_eq!(
        after.fields["permissions_boundary"],
        "kinds-test-boundary-2"
    );
}

/// A drifted trust policy or another path is never changed in place (the deploy role holds no
/// `iam:UpdateAssumeRolePolicy`, and IAM cannot move a role): the diff forces replacement.
#[tokio::test]
async fn iam_role_trust_and_path_changes_force_replacement() {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-role");
    let mut declared = desired(
        "iam_role",
        &name,
        json!({"assume_role_policy": trust_policy("lambda.amazonaws.com"), "description": "", "path": "/kinds/a/"}),
        tags(&[]),
    );
    let created = kind("iam_role")
        .create(&aws, &declared)
        .await
        .expect("create role");
    declared.fields.insert(
        "assume_role_policy".into(),
        trust_policy("edgelambda.amazonaws.com"),
    );
    declared.fields.insert("path".into(), json!("/kinds/b/"));
    let changes = kind("iam_role").diff(&declared, &created);
    let mut fields: Vec<(&str, bool)> = changes
        .iter()
        .map(|c| (c.field.as_str(), c.forces_replacement))
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, [("assume_role_policy", true), ("path", true)]);
    let refused = kind("iam_role")
        .update(&aws, &declared, &created, &changes)
        .await
        .expect_err("no in-place trust or path change");
    assert!(refused.to_string().contains("replaced"), "{refused}");
    delete_twice(kind("iam_role"), &aws, &created.id, &declared.fields).await;
}

#[tokio::test]
async fn iam_role_delete_detaches_policies_first() {
    let aws = clients().await;
    let name = a_role(&aws).await;
    aws.iam
        .attach_role_policy()
        .role_name(&name)
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        .send()
        .await
        .expect("attach");
    aws.iam
        .put_role_policy()
        .role_name(&name)
        .policy_name("inline")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        .send()
        .await
        .expect("put inline policy");
    // Deleting detaches both first; then the role is gone and a second delete is Ok.
    delete_twice(kind("iam_role"), &aws, &name, &Fields::new()).await;
}

#[test]
fn registry_knows_the_iam_role() {
    assert_eq!(
        kinds::lookup("iam_role").map(|k| k.kind()),
        Some("iam_role")
    );
}

/// A plain Lambda role made for a test; returns its name.
async fn a_role(aws: &provisioner::aws::AwsClients) -> String {
    let name = testkit::unique_name("kinds-role");
    let declared = desired(
        "iam_role",
        &name,
        json!({"assume_role_policy": trust_policy("lambda.amazonaws.com"), "description": ""}),
        tags(&[]),
    );
    kind("iam_role")
        .create(aws, &declared)
        .await
        .expect("create role");
    name
}

fn table_policy(actions: &[&str]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": actions,
            "Resource": ["arn:aws:dynamodb:us-east-1:123456789012:table/t", "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/*"]
        }]
    })
}

#[tokio::test]
async fn iam_role_policy_life_cycle() {
    let aws = clients().await;
    let role = a_role(&aws).await;
    let declared = desired(
        "iam_role_policy",
        "kinds-dynamodb",
        json!({"role": role, "policy": table_policy(&["dynamodb:GetItem", "dynamodb:Query"])}),
        Default::default(),
    );
    assert_not_found(kind("iam_role_policy"), &aws, &declared).await;
    let policy = table_policy(&["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]);
    let after = one_field_life_cycle(&aws, declared, "policy", policy).await;
    assert_eq!(after.id, format!("{role}:kinds-dynamodb"));
    delete_parent("iam_role", &aws, &role).await;
}

#[tokio::test]
async fn iam_role_policy_attachment_create_read_delete() {
    let aws = clients().await;
    let role = a_role(&aws).await;
    let arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    let declared = desired(
        "iam_role_policy_attachment",
        "basic_execution",
        json!({"role": role, "policy_arn": arn}),
        Default::default(),
    );
    let attachment = kind("iam_role_policy_attachment");
    assert_not_found(attachment, &aws, &declared).await;
    let created = attachment.create(&aws, &declared).await.expect("attach");
    assert_eq!(created.id, format!("{role}/{arn}"));
    assert!(attachment.diff(&declared, &created).is_empty());
    let found = attachment
        .find_existing(&aws, &declared)
        .await
        .expect("find");
    assert_eq!(found.as_ref(), Some(&created));
    assert_replaced_by(
        attachment,
        &declared,
        &created,
        "policy_arn",
        json!("arn:aws:iam::aws:policy/ReadOnlyAccess"),
    );

    delete_twice(attachment, &aws, &created.id, &Fields::new()).await;
    delete_parent("iam_role", &aws, &role).await;
    // The role is gone too: reading an attachment of a missing role is absent, not an error.
    assert_absent(attachment, &aws, &created.id, &Fields::new()).await;
    assert_absent(
        kind("iam_role_policy"),
        &aws,
        &format!("{role}:x"),
        &Fields::new(),
    )
    .await;
}

/// A managed policy as `migrate` adopts one: read with its default version's document, a new
/// default version for a changed document, removed with its other versions.
#[tokio::test]
async fn iam_policy_life_cycle() {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-policy");
    let fields = json!({"name": name, "policy": table_policy(&["dynamodb:GetItem"])});
    let declared = desired("iam_policy", &name, fields, Default::default());
    let policy = table_policy(&["dynamodb:GetItem", "dynamodb:PutItem"]);
    let after = one_field_life_cycle(&aws, declared, "policy", policy).await;
    assert!(
        after.id.ends_with(&format!(":policy/{name}")),
        "{}",
        after.id
    );
    assert_eq!(after.outputs.get("name"), Some(&json!(name)));
}
