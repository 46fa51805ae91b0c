//! The IAM kinds against the emulator: role, inline policy, managed-policy attachment.

mod kinds_support;

use kinds_support::{assert_absent, clients, desired, life_cycle, tags};
use provisioner::resource::{Fields, ResourceKind};
use provisioner::resources::{self, iam_role::IamRole};
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
        json!({"assume_role_policy": trust_policy("lambda.amazonaws.com"), "description": "test role"}),
        tags(&[("team", "a")]),
    );
    let after = life_cycle(
        &IamRole,
        &aws,
        declared,
        |d| {
            d.fields.insert("description".into(), json!("changed"));
            d.fields.insert(
                "assume_role_policy".into(),
                trust_policy("edgelambda.amazonaws.com"),
            );
            d.tags.insert("team".into(), "b".into());
            d.tags.insert("extra".into(), "x".into());
        },
        &["assume_role_policy", "description", "tags"],
    )
    .await;
    assert_eq!(after.outputs.get("name"), Some(&json!(name)));
    assert!(
        after
            .arn
            .as_deref()
            .is_some_and(|a| a.ends_with(&format!(":role/{name}")))
    );
}

#[tokio::test]
async fn iam_role_delete_detaches_policies_first() {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-role");
    let declared = desired(
        "iam_role",
        &name,
        json!({"assume_role_policy": trust_policy("lambda.amazonaws.com"), "description": ""}),
        tags(&[]),
    );
    IamRole.create(&aws, &declared).await.expect("create");
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
    IamRole
        .delete(&aws, &name, &Fields::new())
        .await
        .expect("delete with policies attached");
    assert_absent(&IamRole, &aws, &name, &Fields::new()).await;
}

#[test]
fn registry_knows_the_iam_role() {
    assert_eq!(
        resources::lookup("iam_role").map(|k| k.kind()),
        Some("iam_role")
    );
}
