//! Shared steps of the resource-kind tests: every kind goes through the same life cycle
//! against the emulator (create, read back with an empty diff, update one field, delete,
//! delete again), so each test file only declares the resource and the change.

#![allow(dead_code)]

use std::collections::BTreeMap;

use provisioner::aws::AwsClients;
use provisioner::resource::{Desired, Fields, Observed, ResourceKind, TAG_ENVIRONMENT, TAG_STACK};
use serde_json::Value;

/// Clients pointed at the emulator (panics with instructions when it is not running).
pub async fn clients() -> AwsClients {
    AwsClients::new(testkit::sdk_config().await)
}

/// The standard tags plus `extra`.
pub fn tags(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([
        (TAG_STACK.to_string(), "kinds-test".to_string()),
        (TAG_ENVIRONMENT.to_string(), "test".to_string()),
    ]);
    tags.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    tags
}

/// A declaration of `kind` named `name` with `fields` (a JSON object).
pub fn desired(kind: &str, name: &str, fields: Value, tags: BTreeMap<String, String>) -> Desired {
    let Value::Object(fields) = fields else {
        panic!("fields must be a JSON object");
    };
    Desired {
        address: format!("{kind}.test"),
        kind: kind.to_string(),
        name: name.to_string(),
        fields,
        tags,
        depends_on: Vec::new(),
    }
}

/// Reads the resource and asserts AWS now matches the declaration exactly.
pub async fn assert_converged(
    kind: &dyn ResourceKind,
    aws: &AwsClients,
    desired: &Desired,
    id: &str,
) -> Observed {
    let observed = kind
        .read(aws, id, &desired.fields)
        .await
        .expect("read succeeds")
        .unwrap_or_else(|| panic!("{} {id} exists", kind.kind()));
    let diff = kind.diff(desired, &observed);
    assert!(
        diff.is_empty(),
        "{} {id} differs from its declaration: {diff:#?}\nobserved: {observed:#?}",
        kind.kind()
    );
    observed
}

/// The whole life cycle: create → read (no diff) → `change` the declaration → diff shows
/// exactly `changed_fields` → update → read (no diff) → delete → read is None → delete again
/// is Ok. Returns the observation after the update.
pub async fn life_cycle(
    kind: &dyn ResourceKind,
    aws: &AwsClients,
    mut declared: Desired,
    change: impl FnOnce(&mut Desired),
    changed_fields: &[&str],
) -> Observed {
    let created = kind.create(aws, &declared).await.expect("create succeeds");
    let id = created.id.clone();
    let read = assert_converged(kind, aws, &declared, &id).await;
    assert_eq!(read, created, "create returns what a read sees");

    change(&mut declared);
    let changes = kind.diff(&declared, &read);
    let mut fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
    fields.sort_unstable();
    let mut expected = changed_fields.to_vec();
    expected.sort_unstable();
    assert_eq!(fields, expected, "diff after the change: {changes:#?}");
    assert!(
        changes.iter().all(|c| !c.forces_replacement),
        "in-place change expected: {changes:#?}"
    );
    let updated = kind
        .update(aws, &declared, &read, &changes)
        .await
        .expect("update succeeds");
    assert_eq!(updated.id, id);
    let after = assert_converged(kind, aws, &declared, &id).await;

    kind.delete(aws, &id, &declared.fields)
        .await
        .expect("delete succeeds");
    let gone = kind
        .read(aws, &id, &declared.fields)
        .await
        .expect("read after delete succeeds");
    assert!(
        gone.is_none(),
        "{} {id} still exists after delete: {gone:#?}",
        kind.kind()
    );
    kind.delete(aws, &id, &declared.fields)
        .await
        .expect("deleting twice is Ok");
    after
}

/// Reads a missing resource: must be `Ok(None)`, never an error.
pub async fn assert_absent(kind: &dyn ResourceKind, aws: &AwsClients, id: &str, recorded: &Fields) {
    let read = kind
        .read(aws, id, recorded)
        .await
        .expect("reading a missing resource is Ok");
    assert!(read.is_none(), "{read:#?}");
}
