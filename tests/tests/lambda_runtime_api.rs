//! The Lambda path as Lambda runs it: the built `function` binary with no subcommand, driven
//! through the Lambda Runtime API by the harness of `api_common::lambda`, fed API Gateway HTTP
//! API (payload 2.0) events built from the fixtures in `tests/fixtures`.

use crate::api_common;

use std::time::Duration;

use api_common::lambda::{Lambda, minimal, staged};
use base64::Engine;
use serde_json::{Value, json};

#[tokio::test]
async fn stage_events_with_route_keys_serve_the_api() {
    let lambda = Lambda::start().await;
    let create = json!({"tableId": "lam", "displayName": "Lambda"});
    let (status, headers, body) = lambda
        .request(staged("POST", "/tables", "/tables", "", Some(&create)))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tableId"], "lam");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(
        headers["access-control-allow-methods"],
        "GET,PUT,PATCH,POST,DELETE,OPTIONS"
    );

    let put = json!({"submissionCount": 5, "totalCount": 9});
    let (status, _, body) = lambda
        .request(staged(
            "PUT",
            "/tables/{tableId}/users/{username}",
            "/tables/lam/users/ann",
            "",
            Some(&put),
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["submissionCount"], 5);

    let (status, _, body) = lambda
        .request(staged("GET", "/tables/{tableId}", "/tables/lam", "", None))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userCount"], 1);
    assert_eq!(body["displayName"], "Lambda");

    let (status, _, body) = lambda
        .request(staged("GET", "/tables", "/tables", "limit=1", None))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["tables"][0]["tableId"], "lam");

    // The local server sees what the Lambda wrote: same table, same rows.
    let (status, user) = lambda.api.get("/tables/lam/users/ann").await;
    assert_eq!(status, 200);
    assert_eq!(user["totalCount"], 9);
}

/// `GET /openapi.json` is a deployed route: the event API Gateway sends for it (stage in
/// `rawPath`, its route key) gets the description.
#[tokio::test]
async fn the_api_description_is_served_at_its_deployed_route() {
    let lambda = Lambda::start().await;
    let (status, headers, body) = lambda
        .request(staged("GET", "/openapi.json", "/openapi.json", "", None))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert!(body["paths"]["/tables"].is_object(), "{body}");
}

#[tokio::test]
async fn events_without_route_key_or_stage_route_the_same() {
    let lambda = Lambda::start().await;
    lambda.api.create("plain").await;
    let (status, _, body) = lambda.request(minimal("GET", "/tables/plain", None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tableId"], "plain");

    // Stage named in the context but absent from rawPath: lambda_http adds it, we strip it.
    let mut event = minimal("GET", "/tables/plain", None);
    event["requestContext"]["stage"] = json!("prod");
    let (status, _, _) = lambda.request(event).await;
    assert_eq!(status, 200);

    // The `$default` stage is never a prefix.
    let mut event = minimal("GET", "/tables/plain/users", None);
    event["requestContext"]["stage"] = json!("$default");
    let (status, _, body) = lambda.request(event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["users"], json!([]));

    // Stage in rawPath, no stage in the context, no routeKey.
    let (status, _, _) = lambda
        .request(minimal("GET", "/stage/tables/plain", None))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn errors_come_back_as_json_through_lambda() {
    let lambda = Lambda::start().await;
    let (status, _, body) = lambda
        .request(minimal("GET", "/tables/missing", None))
        .await;
    assert_eq!((status, body), (404, json!({"error": "Table not found"})));

    let (status, _, body) = lambda.request(minimal("GET", "/dev/unknown", None)).await;
    assert_eq!((status, body), (404, json!({"error": "Route not found"})));

    let (status, _, body) = lambda
        .request(minimal(
            "POST",
            "/tables",
            Some(&json!(["not", "an", "object"])),
        ))
        .await;
    assert_eq!(status, 400, "{body}");

    let reserved = json!({"submissionCount": 1, "totalCount": 1});
    let (status, _, _) = lambda
        .request(minimal("PUT", "/tables/x/users/_metadata", Some(&reserved)))
        .await;
    assert_eq!(status, 400);

    let big = json!({"tableId": "big", "displayName": "x".repeat(70 * 1024)});
    let (status, _, body) = lambda.request(minimal("POST", "/tables", Some(&big))).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn base64_bodies_and_preflights_work() {
    let lambda = Lambda::start().await;
    let mut event = minimal("POST", "/tables", None);
    event["body"] =
        json!(base64::engine::general_purpose::STANDARD.encode(br#"{"tableId":"b64"}"#));
    event["isBase64Encoded"] = json!(true);
    let (status, _, body) = lambda.request(event).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(lambda.api.get("/tables/b64").await.0, 200);

    let mut preflight = staged("OPTIONS", "/tables/{tableId}", "/tables/b64", "", None);
    preflight["headers"]["access-control-request-method"] = json!("PATCH");
    let (status, headers, _) = lambda.request(preflight).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-headers"],
        "Content-Type,Authorization"
    );
}

#[tokio::test]
async fn many_invocations_in_sequence_keep_counts_exact() {
    let lambda = Lambda::start().await;
    lambda.api.create("seq").await;
    for i in 0..10 {
        let put = json!({"submissionCount": i, "totalCount": 10});
        let user = format!("/tables/seq/users/u{}", i % 4);
        let (status, _, body) = lambda.request(minimal("PUT", &user, Some(&put))).await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, _, body) = lambda.request(minimal("GET", "/tables/seq", None)).await;
    assert_eq!(body["userCount"], 4);
}

#[tokio::test]
async fn storage_failures_are_generic_500s_logged_as_json_with_the_request_id() {
    // A table that does not exist makes every DynamoDB call fail.
    let missing = testkit::unique_name("no-such-table");
    let lambda = Lambda::start_on(Some(&missing)).await;
    let (id, (status, _, body)) = lambda
        .request_with_id(minimal("GET", "/tables/anything", None))
        .await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        json!({"error": "Internal server error"}),
        "no internal detail"
    );
    // The error line is JSON and names the invocation's request id.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let logs = lambda.logs.lock().unwrap().clone();
        let found = logs.iter().any(|line| {
            serde_json::from_str::<Value>(line)
                .is_ok_and(|log| log["level"] == "ERROR" && log.to_string().contains(&id))
        });
        if found {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no JSON error line with request id {id} in {logs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
