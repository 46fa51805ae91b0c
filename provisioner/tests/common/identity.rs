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

/// Index of the first line of `text` containing `needle`; panics naming it when none does.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

/// One item in the table, so its data can be seen to survive (or go).
pub async fn put_marker(aws: &Aws, table: &str) {
    aws.dynamodb
        .put_item()
        .table_name(table)
        .item("tableId", AttributeValue::S("keep".into()))
        .item("username", AttributeValue::S("_metadata".into()))
        .send()
        .await
        .expect("put_item");
}

pub async fn has_marker(aws: &Aws, table: &str) -> bool {
    aws.dynamodb
        .get_item()
        .table_name(table)
        .key("tableId", AttributeValue::S("keep".into()))
        .key("username", AttributeValue::S("_metadata".into()))
        .send()
        .await
        .expect("get_item")
        .item()
        .is_some()
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
    let text = percent_encoding::percent_decode_str(got.policy_document())
        .decode_utf8_lossy()
        .to_string();
    serde_json::from_str(&text).expect("a JSON policy")
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
