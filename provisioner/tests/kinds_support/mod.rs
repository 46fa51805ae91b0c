//! Shared steps of the resource-kind tests: every kind goes through the same life cycle
//! against the emulator (create, read back with an empty diff, update one field, delete,
//! delete again), so each test file only declares the resource and the change.

#![allow(dead_code)]

use std::collections::BTreeMap;

use provisioner::aws::AwsClients;
use provisioner::resource::{Desired, Fields, Observed, ResourceKind, TAG_ENVIRONMENT, TAG_STACK};
use serde_json::Value;

/// The registered kind named `name`, as the engine sees it.
pub fn kind(name: &str) -> &'static dyn ResourceKind {
    provisioner::kinds::lookup(name).unwrap_or_else(|| panic!("no kind {name}"))
}

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

/// The whole life cycle of `declared` (of the kind it names): create → read (no diff) →
/// `change` the declaration → diff shows exactly `changed_fields` → update → read (no diff) →
/// delete → read is None → delete again is Ok. Returns the observation after the update.
pub async fn life_cycle(
    aws: &AwsClients,
    mut declared: Desired,
    change: impl FnOnce(&mut Desired),
    changed_fields: &[&str],
) -> Observed {
    let kind = self::kind(&declared.kind);
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

    delete_twice(kind, aws, &id, &declared.fields).await;
    after
}

/// Deletes `id`, asserts a read then finds nothing (`Ok(None)`), and deletes it again, which
/// must be Ok too.
pub async fn delete_twice(kind: &dyn ResourceKind, aws: &AwsClients, id: &str, recorded: &Fields) {
    kind.delete(aws, id, recorded)
        .await
        .expect("delete succeeds");
    assert_absent(kind, aws, id, recorded).await;
    kind.delete(aws, id, recorded)
        .await
        .expect("deleting twice is Ok");
}

/// Creates `declared`, asserts `find_existing` finds that same object again by its
/// declaration, then deletes it.
pub async fn assert_found_again(kind: &dyn ResourceKind, aws: &AwsClients, declared: &Desired) {
    let created = kind.create(aws, declared).await.expect("create succeeds");
    let found = kind
        .find_existing(aws, declared)
        .await
        .expect("find_existing succeeds");
    assert_eq!(
        found.map(|f| f.id),
        Some(created.id.clone()),
        "{} is found again by its declaration",
        kind.kind()
    );
    kind.delete(aws, &created.id, &declared.fields)
        .await
        .expect("delete succeeds");
}

/// Reads a missing resource: must be `Ok(None)`, never an error.
pub async fn assert_absent(kind: &dyn ResourceKind, aws: &AwsClients, id: &str, recorded: &Fields) {
    assert!(
        read(kind, aws, id, recorded).await.is_none(),
        "{} {id} still exists",
        kind.kind()
    );
}

/// Reads `id` (recorded with no fields): it must be there.
pub async fn assert_present(kind: &dyn ResourceKind, aws: &AwsClients, id: &str) {
    assert!(
        read(kind, aws, id, &Fields::new()).await.is_some(),
        "{} {id} is missing",
        kind.kind()
    );
}

/// Reads `id`, which must be Ok (a missing resource is `None`, never an error).
async fn read(
    kind: &dyn ResourceKind,
    aws: &AwsClients,
    id: &str,
    recorded: &Fields,
) -> Option<Observed> {
    kind.read(aws, id, recorded)
        .await
        .unwrap_or_else(|e| panic!("reading {} {id}: {e}", kind.kind()))
}

/// Writes a tiny Lambda zip (one `bootstrap` entry holding `content`; the emulator never runs
/// it) under the system temp directory and returns its path and its `CodeSha256`.
pub fn lambda_zip(content: &str) -> (String, String) {
    use std::io::Write as _;
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        zip.start_file("bootstrap", options).expect("zip entry");
        zip.write_all(content.as_bytes()).expect("zip write");
        zip.finish().expect("zip finish");
    }
    let bytes = buffer.into_inner();
    let path = std::env::temp_dir().join(format!("{}.zip", testkit::unique_name("kinds-code")));
    std::fs::write(&path, &bytes).expect("write zip");
    (
        path.display().to_string(),
        provisioner::kinds::fields::code_sha256(&bytes),
    )
}

/// A Lambda execution role for tests that need one; returns its ARN.
pub async fn lambda_role(aws: &AwsClients) -> String {
    let name = testkit::unique_name("kinds-fn-role");
    let declared = desired(
        "iam_role",
        &name,
        serde_json::json!({
            "assume_role_policy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
            },
            "description": ""
        }),
        tags(&[]),
    );
    kind("iam_role")
        .create(aws, &declared)
        .await
        .expect("create role")
        .arn
        .expect("role has an ARN")
}

/// A declared `lambda_function` running `zip` under `role_arn`.
pub fn lambda_function(name: &str, role_arn: &str, zip: &(String, String)) -> Desired {
    desired(
        "lambda_function",
        name,
        serde_json::json!({
            "role_arn": role_arn,
            "runtime": "provided.al2023",
            "handler": "bootstrap",
            "architecture": "arm64",
            "memory_size": 128,
            "timeout": 10,
            "environment": {"TABLE_NAME": "t", "RUST_LOG": "info"},
            "layers": [],
            "code_sha256": zip.1,
            "zip_path": zip.0,
        }),
        tags(&[]),
    )
}

/// The output `key` of an observation, when it is a string.
pub fn output<'a>(observed: &'a Observed, key: &str) -> Option<&'a str> {
    observed.outputs.get(key).and_then(|v| v.as_str())
}

/// Asserts that `find_existing` finds no object for `declared`.
pub async fn assert_not_found(kind: &dyn ResourceKind, aws: &AwsClients, declared: &Desired) {
    let found = kind
        .find_existing(aws, declared)
        .await
        .expect("find_existing succeeds");
    assert!(
        found.is_none(),
        "{} found for {declared:#?}: {found:#?}",
        kind.kind()
    );
}

/// Creates `declared`, asserts the result already matches it (an empty diff) and that a read
/// of `id` sees just that; returns the creation's observation.
pub async fn create_and_read(
    kind: &dyn ResourceKind,
    aws: &AwsClients,
    declared: &Desired,
    id: impl FnOnce(&Observed) -> String,
) -> Observed {
    let created = kind.create(aws, declared).await.expect("create succeeds");
    assert!(
        kind.diff(declared, &created).is_empty(),
        "{} differs from its declaration right after create: {created:#?}",
        kind.kind()
    );
    let read = kind
        .read(aws, &id(&created), &declared.fields)
        .await
        .expect("read succeeds");
    assert_eq!(
        read.as_ref(),
        Some(&created),
        "a read sees what create made"
    );
    created
}

/// Asserts that `declared` with `field` set to `value` differs from `observed` in exactly one
/// change, which forces replacement; returns the changed declaration.
pub fn assert_replaced_by(
    kind: &dyn ResourceKind,
    declared: &Desired,
    observed: &Observed,
    field: &str,
    value: Value,
) -> Desired {
    let mut changed = declared.clone();
    changed.fields.insert(field.into(), value);
    let diff = kind.diff(&changed, observed);
    assert!(
        diff.len() == 1 && diff[0].field == field && diff[0].forces_replacement,
        "a new {field} of {} must force replacement: {diff:#?}",
        kind.kind()
    );
    changed
}

/// Deletes the `kind_name` object `id` a test made for its resource to live in (its API,
/// role or function).
pub async fn delete_parent(kind_name: &str, aws: &AwsClients, id: &str) {
    kind(kind_name)
        .delete(aws, id, &Fields::new())
        .await
        .unwrap_or_else(|e| panic!("delete {kind_name} {id}: {e}"));
}

/// `assert_found_again`, then the life cycle of `declared` with one `field` changed to
/// `value` in place.
pub async fn found_again_then_life_cycle(
    kind: &dyn ResourceKind,
    aws: &AwsClients,
    declared: Desired,
    field: &str,
    value: Value,
) -> Observed {
    assert_found_again(kind, aws, &declared).await;
    one_field_life_cycle(aws, declared, field, value).await
}

/// The life cycle of `declared` with one `field` changed to `value` in place.
pub async fn one_field_life_cycle(
    aws: &AwsClients,
    declared: Desired,
    field: &str,
    value: Value,
) -> Observed {
    let change = |d: &mut Desired| {
        d.fields.insert(field.into(), value);
    };
    life_cycle(aws, declared, change, &[field]).await
}
