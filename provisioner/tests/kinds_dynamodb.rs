//! The `dynamodb_table` kind against the emulator.

use crate::kinds_support;

use kinds_support::{assert_present, clients, delete_twice, desired, kind, life_cycle, tags};
use provisioner::resource::{Desired, Fields, Observed};
use serde_json::json;

fn playground_table(name: &str) -> Desired {
    desired(
        "dynamodb_table",
        name,
        json!({
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": "tableId",
            "range_key": "username",
            // Deliberately unsorted: the kind sorts before comparing.
            "attribute_definitions": [
                {"name": "username", "type": "S"},
                {"name": "tableId", "type": "S"}
            ],
            "global_secondary_indexes": [
                {"name": "byUser", "hash_key": "username", "range_key": "tableId", "projection_type": "ALL"}
            ],
            "point_in_time_recovery": true,
            "deletion_protection": false
        }),
        tags(&[]),
    )
}

/// The life cycle of a fresh playground table, changed by `change`; returns the table's name
/// and what was read after the update.
async fn table_life_cycle(
    change: impl FnOnce(&mut Desired),
    changed_fields: &[&str],
) -> (String, Observed) {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-table");
    let after = life_cycle(&aws, playground_table(&name), change, changed_fields).await;
    (name, after)
}

#[tokio::test]
async fn dynamodb_table_life_cycle() {
    let (name, after) = table_life_cycle(
        |d| {
            d.fields
                .insert("point_in_time_recovery".into(), json!(false));
            d.tags.insert("owner".into(), "kinds".into());
        },
        &["point_in_time_recovery", "tags"],
    )
    .await;
    assert_eq!(after.outputs.get("name"), Some(&json!(name)));
    assert_eq!(
        after.fields.get("point_in_time_recovery"),
        Some(&json!(false))
    );
}

#[tokio::test]
async fn dynamodb_table_adds_a_gsi_in_place() {
    let (_, after) = table_life_cycle(
        |d| {
            d.fields.insert(
                "attribute_definitions".into(),
                json!([
                    {"name": "tableId", "type": "S"},
                    {"name": "username", "type": "S"},
                    {"name": "score", "type": "N"}
                ]),
            );
            d.fields.insert(
                "global_secondary_indexes".into(),
                json!([
                    {"name": "byUser", "hash_key": "username", "range_key": "tableId", "projection_type": "ALL"},
                    {"name": "byScore", "hash_key": "tableId", "range_key": "score", "projection_type": "ALL"}
                ]),
            );
        },
        &["attribute_definitions", "global_secondary_indexes"],
    )
    .await;
    let indexes = after
        .fields
        .get("global_secondary_indexes")
        .and_then(|v| v.as_array());
    assert_eq!(indexes.map(Vec::len), Some(2));
}

#[tokio::test]
async fn dynamodb_table_deletion_protection_blocks_delete_until_lifted() {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-table");
    let table = kind("dynamodb_table");
    let mut declared = playground_table(&name);
    declared
        .fields
        .insert("deletion_protection".into(), json!(true));
    let created = table.create(&aws, &declared).await.expect("create");
    assert_eq!(
        created.fields.get("deletion_protection"),
        Some(&json!(true))
    );

    let refused = table.delete(&aws, &name, &Fields::new()).await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("DeletionProtection")),
        "{refused:?}"
    );
    assert_present(table, &aws, &name).await;

    declared
        .fields
        .insert("deletion_protection".into(), json!(false));
    let changes = table.diff(&declared, &created);
    table
        .update(&aws, &declared, &created, &changes)
        .await
        .expect("lift protection");
    delete_twice(table, &aws, &name, &Fields::new()).await;
}

#[tokio::test]
async fn dynamodb_table_key_change_forces_replacement() {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-table");
    let table = kind("dynamodb_table");
    let declared = playground_table(&name);
    let created = table.create(&aws, &declared).await.expect("create");
    let mut changed = declared.clone();
    changed.fields.insert("range_key".into(), json!("other"));
    let diff = table.diff(&changed, &created);
    assert!(
        diff.iter()
            .any(|c| c.field == "range_key" && c.forces_replacement),
        "{diff:#?}"
    );
    delete_twice(table, &aws, &name, &Fields::new()).await;
}
