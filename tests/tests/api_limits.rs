//! The limits on `function serve`: `displayName` at most 128 characters without control
//! characters, and listing pages whose body stays under 1 MB whatever `limit` asks, even over
//! legacy rows with 32 KiB names (such rows once pushed a page past Lambda's 6 MB).

use crate::api_common;

use std::collections::BTreeSet;

use api_common::{Api, assert_error};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

#[tokio::test]
async fn display_names_are_at_most_128_characters_without_control_characters() {
    let api = Api::start();
    let longest = "é".repeat(128);
    let create = json!({"tableId": "n1", "displayName": longest});
    let (status, body) = api.send("POST", "/tables", &create).await;
    assert_eq!(status, 201, "{body}");
    for bad in [
        "x".repeat(129),
        "line\nbreak".into(),
        "esc\u{1b}[31m".into(),
    ] {
        // Refused in a create and in a rename alike.
        for (method, path, body) in [
            (
                "POST",
                "/tables",
                json!({"tableId": "n2", "displayName": bad}),
            ),
            ("PATCH", "/tables/n1", json!({"displayName": bad})),
        ] {
            let (status, body) = api.send(method, path, &body).await;
            assert_eq!(status, 400, "{method} {bad:?}");
            assert_error(&body, "displayName");
        }
    }
    assert_eq!(api.get("/tables/n2").await.0, 404);
}

#[tokio::test]
async fn pages_stay_under_a_megabyte_over_legacy_rows_with_huge_names() {
    let api = Api::start();
    let client = testkit::dynamodb_client().await;
    let huge = "N".repeat(32 * 1024);
    for i in 0..48 {
        client
            .put_item()
            .table_name(&api.table)
            .item("tableId", AttributeValue::S(format!("big{i:02}")))
            .item("username", AttributeValue::S("_metadata".into()))
            .item("displayName", AttributeValue::S(huge.clone()))
            .item(
                "createdAt",
                AttributeValue::S(format!("2024-01-01T00:00:{i:02}.000000Z")),
            )
            .item("isArchived", AttributeValue::Bool(false))
            .item("userCount", AttributeValue::N("0".into()))
            .send()
            .await
            .expect("a legacy row is written");
    }
    let (status, _, _) = api.call("GET", "/tables?limit=500", None).await;
    assert_eq!(status, 200);
    let raw = api
        .http
        .get(api.url("/tables?limit=500"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(raw.len() < 1_000_000, "first page is {} bytes", raw.len());
    let page: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert!(
        page["lastKey"].is_object(),
        "a cut page says where to go on"
    );

    let (items, pages) = api.all_pages("/tables?limit=500", "tables").await;
    assert!(pages >= 2, "{pages} pages");
    let ids: BTreeSet<&str> = items
        .iter()
        .map(|t| t["tableId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 48, "every playground once across the pages");
    assert_eq!(items.len(), 48);
}
