//! The `log_group` kind against the emulator.

use crate::kinds_support;

use kinds_support::{
    assert_converged, clients, delete_twice, desired, kind, life_cycle, output, tags,
};
use provisioner::resource::Fields;
use serde_json::json;

#[tokio::test]
async fn log_group_life_cycle() {
    let aws = clients().await;
    let name = format!("/aws/lambda/{}", testkit::unique_name("kinds-fn"));
    let after = life_cycle(
        &aws,
        desired(
            "log_group",
            &name,
            json!({"retention_in_days": 14}),
            tags(&[]),
        ),
        |d| {
            d.fields.insert("retention_in_days".into(), json!(30));
            d.tags.insert("owner".into(), "kinds".into());
        },
        &["retention_in_days", "tags"],
    )
    .await;
    assert!(
        output(&after, "arn").is_some_and(|a| a.ends_with(&name)),
        "{after:#?}"
    );
}

#[tokio::test]
async fn log_group_create_adopts_a_group_lambda_made_first() {
    let aws = clients().await;
    let name = format!("/aws/lambda/{}", testkit::unique_name("kinds-fn"));
    // What Lambda does on first invocation: a group with no retention and no tags.
    aws.logs
        .create_log_group()
        .log_group_name(&name)
        .send()
        .await
        .expect("pre-create");
    let declared = desired(
        "log_group",
        &name,
        json!({"retention_in_days": 7}),
        tags(&[]),
    );
    let adopted = kind("log_group")
        .create(&aws, &declared)
        .await
        .expect("create adopts");
    assert_eq!(adopted.fields.get("retention_in_days"), Some(&json!(7)));
    assert_converged(kind("log_group"), &aws, &declared, &name).await;
    delete_twice(kind("log_group"), &aws, &name, &Fields::new()).await;
}
