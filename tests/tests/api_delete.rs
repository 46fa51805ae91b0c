//! `DELETE /tables/{tableId}` and `GET /health` on `function serve` with auth off (the open
//! API): every row goes, in batches, the playground's own row last; a repeat finishes what a
//! cut-short call left; afterwards (and for a playground that never existed) 404.

use crate::api_common;

use api_common::Api;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

/// Every row of playground `table_id` still in the table, the playground's own included.
async fn rows(api: &Api, table_id: &str) -> usize {
    testkit::dynamodb_client()
        .await
        .query()
        .table_name(&api.table)
        .key_condition_expression("tableId = :t")
        .expression_attribute_values(":t", AttributeValue::S(table_id.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("the query answers")
        .count() as usize
}

#[tokio::test]
async fn delete_removes_every_row_then_answers_404() {
    let api = Api::start();
    api.create_with_users("gone", 60).await;
    assert_eq!(rows(&api, "gone").await, 61);
    let (status, body) = api.send_as(None, "DELETE", "/tables/gone", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["message"].is_string());
    assert_eq!(rows(&api, "gone").await, 0, "users and playground are gone");
    assert_eq!(api.get("/tables/gone").await.0, 404);
    assert_eq!(api.get("/tables/gone/users").await.0, 404);
    assert_eq!(api.get("/tables/gone/users/u1").await.0, 404);
    let (status, body) = api.send_as(None, "DELETE", "/tables/gone", None).await;
    assert_eq!((status, body), (404, json!({"error": "Table not found"})));

    // The id can be used again, and starts empty: nothing of the old one is left.
    api.create("gone").await;
    let (_, table) = api.get("/tables/gone").await;
    assert_eq!(table["userCount"], 0);
    let (_, users) = api.get("/tables/gone/users").await;
    assert_eq!(users["users"], json!([]));
}

#[tokio::test]
async fn a_repeat_finishes_what_a_cut_short_delete_left() {
    let api = Api::start();
    api.create_with_users("half", 30).await;
    // A first call that timed out after deleting some users (never the playground row: it
    // goes last) left this behind.
    let client = testkit::dynamodb_client().await;
    for i in 0..12 {
        client
            .delete_item()
            .table_name(&api.table)
            .key("tableId", AttributeValue::S("half".into()))
            .key("username", AttributeValue::S(format!("u{i}")))
            .send()
            .await
            .expect("a user row is deleted");
    }
    assert_eq!(
        api.get("/tables/half").await.0,
        200,
        "still there, still deletable"
    );
    let (status, body) = api.send_as(None, "DELETE", "/tables/half", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rows(&api, "half").await, 0);
}

#[tokio::test]
async fn deleting_what_never_existed_is_404_and_bad_ids_400() {
    let api = Api::start();
    let (status, body) = api.send_as(None, "DELETE", "/tables/never", None).await;
    assert_eq!((status, body), (404, json!({"error": "Table not found"})));
    let (status, _) = api.send_as(None, "DELETE", "/tables/bad%20id", None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn health_says_ok_and_the_version() {
    let api = Api::start();
    let (status, body) = api.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(api.get("/dev/health").await.0, 200, "behind a stage too");
}
