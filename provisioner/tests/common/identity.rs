//! Checks shared by the identity tests (`identity_*.rs`): refused runs, plan lines and JSON
//! changes, a marker item that shows a table's data survives, the function's table and policy.
#![allow(dead_code)]

use std::process::Output;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use super::{Aws, Fixture};

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Runs `args`, asserts exit code 1 and returns stderr.
pub fn refused(f: &Fixture, args: &[&str]) -> String {
    let output = f.run(args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "`provisioner {args:?}` was not refused"
    );
    stderr(&output)
}

/// Runs apply and asserts it is refused because the object `name` that `address` declares is
/// not this stack's: the error names it, points to `import`, and does not adopt it. Returns
/// the error.
pub fn apply_refused_over(f: &Fixture, address: &str, name: &str) -> String {
    let error = refused(f, &super::kill::APPLY);
    assert!(
        error.contains(&format!("'{name}'")),
        "names {name}: {error}"
    );
    assert!(
        error.contains(&format!("provisioner import --env dev {address} {name}")),
        "points to import: {error}"
    );
    assert!(!error.contains(&format!("{address}: adopted")), "{error}");
    error
}

/// A log group under the function's name but tagged by another team: apply is refused over it
/// and leaves it as it was; destroy removes ours and leaves it. One scenario, run on local
/// state (`changes.rs`) and on S3 state (`identity_adopt.rs`).
pub async fn foreign_log_group_is_never_touched(f: &Fixture) {
    let aws = Aws::new().await;
    let group = format!("/aws/lambda/{}", f.function_name());
    aws.create_log_group(&group, Some(("owner", "another-team")))
        .await;

    let error = apply_refused_over(f, "log_group.lambda", &group);
    assert!(error.contains("belongs to something else"), "{error}");
    assert_eq!(
        aws.log_group_retentions(&group).await,
        [None],
        "one group, left as it was (no retention set)"
    );

    f.destroy();
    // Ours is gone; theirs stays.
    assert!(!aws.role_exists(&f.role_name()).await);
    assert_eq!(aws.leftovers(f).await, vec!["log group".to_string()]);
    assert_eq!(aws.log_group_count(&group).await, 1);
    aws.delete_log_group(&group).await;
}

/// Index of the first line of `text` containing `needle`; panics naming it when none does.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

/// The marker item's key: what `put_marker` writes and `has_marker` looks for.
fn marker_key() -> std::collections::HashMap<String, AttributeValue> {
    [("tableId", "keep"), ("username", "_metadata")]
        .into_iter()
        .map(|(name, value)| (name.to_string(), AttributeValue::S(value.into())))
        .collect()
}

/// One item in the table, so its data can be seen to survive (or go).
pub async fn put_marker(aws: &Aws, table: &str) {
    let marker = Some(marker_key());
    let put = aws.dynamodb.put_item().table_name(table).set_item(marker);
    put.send().await.expect("put_item");
}

/// Whether the table still holds the item [`put_marker`] wrote.
pub async fn has_marker(aws: &Aws, table: &str) -> bool {
    let marker = Some(marker_key());
    let get = aws.dynamodb.get_item().table_name(table).set_key(marker);
    get.send().await.expect("get_item").item().is_some()
}

pub async fn table_env(aws: &Aws, function: &str) -> Option<String> {
    aws.function_configuration(function)
        .await
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get("TABLE_NAME"))
        .cloned()
}

/// The function's inline policy document on the role.
pub async fn inline_policy(aws: &Aws, role: &str, policy: &str) -> Value {
    let got = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .expect("get_role_policy");
    super::bootstrap::decode(got.policy_document())
}

/// The change of `address` in `plan --json` output.
pub fn json_change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change of {address} in {plan:#}"))
}
