//! `PUT`/`GET /tables/{id}/users/{username}` and `GET /tables/{id}/users` over real HTTP
//! against `function serve` and the local emulator.

use crate::api_common;

use api_common::{Api, assert_error, column, items_with, last_key_param, percent_encode};
use serde_json::json;

#[tokio::test]
async fn put_creates_then_updates_a_user_counting_it_once() {
    let api = Api::start();
    api.create("g").await;
    let counts = json!({"submissionCount": 3, "totalCount": 10});
    let (status, body) = api.send("PUT", "/tables/g/users/alice", &counts).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["submissionCount"], 3);
    assert_eq!(body["totalCount"], 10);
    assert!(body["message"].is_string());
    assert_eq!(api.get("/tables/g").await.1["userCount"], 1);

    // Strings of digits are accepted, as the original did; an update does not count again.
    let digits = json!({"submissionCount": "4", "totalCount": "11"});
    let (status, body) = api.send("PUT", "/tables/g/users/alice", &digits).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["submissionCount"], 4);
    assert_eq!(api.get("/tables/g").await.1["userCount"], 1);

    let (status, user) = api.get("/tables/g/users/alice").await;
    assert_eq!(status, 200);
    assert_eq!(user["username"], "alice");
    assert_eq!(user["submissionCount"], 4);
    assert_eq!(user["totalCount"], 11);
    assert!(user["lastUpdated"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn put_rejects_bad_input_with_400_and_writes_nothing() {
    let api = Api::start();
    api.create("v").await;
    let bodies: Vec<(&[u8], &str)> = vec![
        (br#"{"totalCount": 1}"#, "submissionCount"),
        (br#"{"submissionCount": 1}"#, "totalCount"),
        (
            br#"{"submissionCount": -1, "totalCount": 1}"#,
            "submissionCount",
        ),
        (
            br#"{"submissionCount": 1.5, "totalCount": 1}"#,
            "submissionCount",
        ),
        (
            br#"{"submissionCount": "abc", "totalCount": 1}"#,
            "submissionCount",
        ),
        (
            br#"{"submissionCount": true, "totalCount": 1}"#,
            "submissionCount",
        ),
        (
            br#"{"submissionCount": 1, "totalCount": null}"#,
            "totalCount",
        ),
        (br#"[1, 2]"#, "JSON object"),
        (b"{", "JSON"),
    ];
    for (raw, mention) in bodies {
        let (status, _, body) = api.call("PUT", "/tables/v/users/bob", Some(raw)).await;
        assert_eq!(status, 400, "{:?}", String::from_utf8_lossy(raw));
        assert_error(&body, mention);
    }
    let good = json!({"submissionCount": 1, "totalCount": 1});
    api.refused(
        "PUT",
        "/tables/v/users/_metadata",
        Some(&good),
        400,
        "reserved",
    )
    .await;
    assert_eq!(
        api.send("PUT", "/tables/v/users/bad%20name", &good).await.0,
        400
    );
    assert_eq!(
        api.send("PUT", "/tables/bad%20id/users/bob", &good).await.0,
        400
    );
    let (_, table) = api.get("/tables/v").await;
    assert_eq!(table["userCount"], 0);
    assert_eq!(table["displayName"], "v", "the playground row is intact");
    assert_eq!(api.get("/tables/v/users").await.1["users"], json!([]));
}

#[tokio::test]
async fn put_into_a_missing_playground_is_404_and_creates_nothing() {
    let api = Api::start();
    let good = json!({"submissionCount": 1, "totalCount": 1});
    let (status, body) = api.send("PUT", "/tables/nowhere/users/bob", &good).await;
    assert_eq!(status, 404);
    assert_error(&body, "Table not found");
    assert_eq!(
        api.get("/tables/nowhere").await.0,
        404,
        "no playground row was created"
    );
    let (_, list) = api.get("/tables").await;
    assert_eq!(list["tables"], json!([]));
    // The user row was not written either: creating the playground shows no users.
    api.create("nowhere").await;
    assert_eq!(api.get("/tables/nowhere/users").await.1["users"], json!([]));
    assert_eq!(api.get("/tables/nowhere").await.1["userCount"], 0);
}

#[tokio::test]
async fn get_user_distinguishes_missing_table_and_missing_user() {
    let api = Api::start();
    api.refused(
        "GET",
        "/tables/none/users/bob",
        None,
        404,
        "Table not found",
    )
    .await;
    api.create("some").await;
    api.refused(
        "GET",
        "/tables/some/users/bob",
        None,
        404,
        "User not found in table",
    )
    .await;
    api.refused("GET", "/tables/some/users/_metadata", None, 400, "reserved")
        .await;
    assert_eq!(api.get("/tables/some/users/a%2Fb").await.0, 400);
    assert_eq!(api.get("/tables/b%21d/users/bob").await.0, 400);
}

#[tokio::test]
async fn list_users_is_highest_first_without_metadata() {
    let api = Api::start();
    api.create("lb").await;
    for (user, n) in [("low", 1), ("high", 30), ("mid", 7)] {
        api.put_user("lb", user, n).await;
    }
    let (status, body) = api.get("/tables/lb/users").await;
    assert_eq!(status, 200, "{body}");
    let fields = ["username", "submissionCount", "totalCount", "lastUpdated"];
    let users = items_with(&body, "users", &fields);
    assert_eq!(column(&body, "users", "username"), ["high", "mid", "low"]);
    assert_eq!(users[0]["totalCount"], 60);
    assert!(body.get("lastKey").is_none());
}

#[tokio::test]
async fn list_users_is_400_for_bad_ids_and_404_when_missing() {
    let api = Api::start();
    api.refused("GET", "/tables/ghost/users", None, 404, "Table not found")
        .await;
    assert_eq!(api.get("/tables/gh%20ost/users").await.0, 400);
}

#[tokio::test]
async fn list_users_paginates_in_global_order_including_ties() {
    let api = Api::start();
    api.create("pg").await;
    // 11 users; two pairs share a count, so ties must not lose or repeat anyone.
    let counts = [5, 9, 1, 9, 3, 12, 5, 0, 7, 2, 8];
    for (i, n) in counts.iter().enumerate() {
        api.put_user("pg", &format!("u{i:02}"), *n).await;
    }
    let (users, pages) = api.all_pages("/tables/pg/users?limit=4", "users").await;
    assert_eq!(pages, 3);
    let got: Vec<u64> = users
        .iter()
        .map(|u| u["submissionCount"].as_u64().unwrap())
        .collect();
    let mut want = counts.to_vec();
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(got, want, "highest first across pages");
    let mut names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 11, "every user exactly once");
}

#[tokio::test]
async fn list_users_default_limit_is_50() {
    let api = Api::start();
    api.create("many").await;
    let writes = (0..53).map(|i| {
        let api = &api;
        async move { api.put_user("many", &format!("m{i:02}"), i).await }
    });
    futures::future::join_all(writes).await;
    let (_, body) = api.get("/tables/many/users").await;
    assert_eq!(body["users"].as_array().unwrap().len(), 50);
    assert_eq!(body["users"][0]["submissionCount"], 52);
    let (users, pages) = api
        .all_pages("/tables/many/users?limit=nope", "users")
        .await;
    assert_eq!((users.len(), pages), (53, 2));
    assert_eq!(api.get("/tables/many").await.1["userCount"], 53);
}

#[tokio::test]
async fn malformed_or_foreign_users_last_key_gives_the_first_page() {
    let api = Api::start();
    api.create("mine").await;
    api.create("theirs").await;
    for (i, n) in [4, 3, 2].iter().enumerate() {
        api.put_user("mine", &format!("x{i}"), *n).await;
        api.put_user("theirs", &format!("y{i}"), *n).await;
    }
    let (_, first) = api.get("/tables/mine/users?limit=2").await;
    let (_, theirs) = api.get("/tables/theirs/users?limit=1").await;
    let foreign = last_key_param(&theirs).expect("a second page exists");
    let tables_cursor = percent_encode(r#"{"tableId":"mine","createdAt":"2026"}"#);
    let metadata_cursor =
        percent_encode(r#"{"tableId":"mine","username":"_metadata","submissionCount":"1"}"#);
    for bad in [
        foreign.as_str(),
        "garbage",
        "%7B%7D",
        "42",
        tables_cursor.as_str(),
        metadata_cursor.as_str(),
    ] {
        let (status, body) = api
            .get(&format!("/tables/mine/users?limit=2&lastKey={bad}"))
            .await;
        assert_eq!(status, 200, "lastKey={bad}: {body}");
        assert_eq!(
            body["users"], first["users"],
            "lastKey={bad} gives the first page"
        );
    }
}
