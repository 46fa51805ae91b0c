//! A table as the original Terraform made it (keys and the `byUser` index, without the
//! ordering indexes this crate adds): every listing still answers 200, sorted within the page,
//! and the first refusal of the missing index does not become a 500.

use crate::api_common;

use api_common::{Api, column};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

async fn create_original_table(name: &str) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    testkit::dynamodb_client()
        .await
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("tableId"))
        .attribute_definitions(attribute("username"))
        .key_schema(key("tableId", KeyType::Hash))
        .key_schema(key("username", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("byUser")
                .key_schema(key("username", KeyType::Hash))
                .key_schema(key("tableId", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create the original table");
}

#[tokio::test]
async fn listings_work_on_a_table_without_the_ordering_indexes() {
    let table = testkit::unique_name("orig");
    create_original_table(&table).await;
    let api = Api::start_on(&table);

    api.create_all(&["first", "second", "third"]).await;
    for (user, submissions) in [("ann", 5), ("bob", 9), ("cy", 1)] {
        api.put_user("second", user, submissions).await;
    }

    // Twice each: the first call meets the missing index, the second goes straight to the
    // fallback; both must answer the same.
    let listings = [
        ("/tables", "tables", "tableId", ["third", "second", "first"]),
        (
            "/tables/second/users",
            "users",
            "username",
            ["bob", "ann", "cy"],
        ),
    ];
    for _ in 0..2 {
        // Playgrounds newest first, users highest submission count first.
        for (path, list, name, order) in listings {
            let (status, page) = api.get(path).await;
            assert_eq!(status, 200, "{page}");
            assert_eq!(column(&page, list, name), order, "{path}");
        }
    }
    let (status, one) = api.get("/tables/second").await;
    assert_eq!(status, 200);
    assert_eq!(one["userCount"], 3);
}
