//! `POST /tables`, `GET /tables`, `GET /tables/{id}`, `PATCH /tables/{id}` over real HTTP
//! against `function serve` and the local emulator: every status code and field of the contract.

use crate::api_common;

use api_common::{Api, assert_error, column, items_with};
use serde_json::json;

#[tokio::test]
async fn create_returns_201_with_fields_and_defaults_display_name() {
    let api = Api::start();
    let first = json!({"tableId": "t-1", "displayName": "First"});
    let (status, body) = api.send("POST", "/tables", &first).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tableId"], "t-1");
    assert_eq!(body["displayName"], "First");
    assert!(body["message"].is_string());

    let (status, body) = api
        .send("POST", "/tables", &json!({"tableId": "t_2"}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["displayName"], "t_2", "displayName defaults to the id");

    let (status, body) = api.get("/tables/t_2").await;
    assert_eq!(status, 200);
    assert_eq!(body["userCount"], 0);
    assert_eq!(body["isArchived"], false);
    assert_eq!(body["displayName"], "t_2");
    assert!(body["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(
        body.get("updatedAt").is_none(),
        "no updatedAt before a patch"
    );
}

#[tokio::test]
async fn create_existing_id_is_409() {
    let api = Api::start();
    api.create("dup").await;
    let again = json!({"tableId": "dup", "displayName": "again"});
    api.refused("POST", "/tables", Some(&again), 409, "exists")
        .await;
    let (_, table) = api.get("/tables/dup").await;
    assert_eq!(table["displayName"], "dup", "the first create is kept");
}

#[tokio::test]
async fn create_rejects_bad_bodies_with_400() {
    let api = Api::start();
    let cases: Vec<(&[u8], &str)> = vec![
        (br#"{}"#, "tableId"),
        (br#"{"tableId": ""}"#, "tableId"),
        (br#"{"tableId": "has space"}"#, "tableId"),
        (br#"{"tableId": 7}"#, "tableId"),
        (br#"{"tableId": "x", "displayName": 5}"#, "displayName"),
        (br#"["tableId"]"#, "JSON object"),
        (br#""text""#, "JSON object"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\xfd", "UTF-8"),
        (b"", "required"),
    ];
    for (raw, mention) in cases {
        let (status, _, body) = api.call("POST", "/tables", Some(raw)).await;
        assert_eq!(status, 400, "{:?} -> {body}", String::from_utf8_lossy(raw));
        assert_error(&body, mention);
    }
    let long = "x".repeat(65);
    let (status, _) = api.send("POST", "/tables", &json!({"tableId": long})).await;
    assert_eq!(status, 400);
    let (_, list) = api.get("/tables").await;
    assert_eq!(list["tables"], json!([]), "nothing was written");
}

#[tokio::test]
async fn bodies_over_64_kib_get_413() {
    let api = Api::start();
    let big = json!({"tableId": "big", "displayName": "x".repeat(70 * 1024)});
    api.refused("POST", "/tables", Some(&big), 413, "too large")
        .await;
    let (status, _) = api.get("/tables/big").await;
    assert_eq!(status, 404, "nothing was written");
    // Just under the cap is read (a long name is then refused for its length, not its size;
    // fields the API does not know are ignored).
    let long_name = json!({"tableId": "fits", "displayName": "x".repeat(60 * 1024)});
    api.refused("POST", "/tables", Some(&long_name), 400, "displayName")
        .await;
    let ok = json!({"tableId": "fits", "padding": "x".repeat(60 * 1024)});
    assert_eq!(api.send("POST", "/tables", &ok).await.0, 201);
}

#[tokio::test]
async fn get_one_is_400_for_bad_ids_and_404_when_missing() {
    let api = Api::start();
    api.refused("GET", "/tables/missing", None, 404, "Table not found")
        .await;
    api.refused("GET", "/tables/bad%20id", None, 400, "tableId")
        .await;
    let (status, _) = api.get(&format!("/tables/{}", "y".repeat(65))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn list_is_newest_first_with_all_fields() {
    let api = Api::start();
    api.create_all(&["old", "mid", "new"]).await;
    let (status, body) = api.get("/tables").await;
    assert_eq!(status, 200);
    let fields = [
        "tableId",
        "displayName",
        "createdAt",
        "isArchived",
        "userCount",
    ];
    items_with(&body, "tables", &fields);
    assert_eq!(column(&body, "tables", "tableId"), ["new", "mid", "old"]);
    assert!(body.get("lastKey").is_none(), "one page only");
}

#[tokio::test]
async fn list_paginates_in_global_order() {
    let api = Api::start();
    let ids: Vec<String> = (0..7).map(|i| format!("p{i}")).collect();
    for id in &ids {
        api.create(id).await;
    }
    let (items, pages) = api.all_pages("/tables?limit=3", "tables").await;
    assert_eq!(pages, 3, "7 items in pages of 3");
    let got: Vec<&str> = items
        .iter()
        .map(|t| t["tableId"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(got, want, "newest first across pages, no duplicates");
    let (_, first) = api.get("/tables?limit=3").await;
    assert_eq!(first["tables"].as_array().unwrap().len(), 3);
    assert!(first["lastKey"].is_object(), "lastKey is a JSON value");
    // An exactly full last page carries no lastKey.
    let (_, all) = api.get("/tables?limit=7").await;
    assert_eq!(all["tables"].as_array().unwrap().len(), 7);
    assert!(all.get("lastKey").is_none());
}

#[tokio::test]
async fn list_default_limit_is_50_and_limits_are_clamped() {
    let api = Api::start();
    let creates = (0..52).map(|i| {
        let api = &api;
        async move { api.create(&format!("d{i:02}")).await }
    });
    futures::future::join_all(creates).await;
    let (_, body) = api.get("/tables").await;
    assert_eq!(body["tables"].as_array().unwrap().len(), 50);
    assert!(body["lastKey"].is_object());
    let (_, body) = api.get("/tables?limit=abc").await;
    assert_eq!(
        body["tables"].as_array().unwrap().len(),
        50,
        "non-numeric means default"
    );
    let (_, body) = api.get("/tables?limit=0").await;
    assert_eq!(
        body["tables"].as_array().unwrap().len(),
        1,
        "clamped up to 1"
    );
    let (_, body) = api.get("/tables?limit=100000").await;
    assert_eq!(
        body["tables"].as_array().unwrap().len(),
        52,
        "clamped down to 500"
    );
    let (items, pages) = api.all_pages("/tables", "tables").await;
    assert_eq!((items.len(), pages), (52, 2));
}

#[tokio::test]
async fn malformed_or_foreign_last_key_gives_the_first_page() {
    let api = Api::start();
    api.create_all(&["a1", "a2", "a3"]).await;
    let (_, first) = api.get("/tables?limit=2").await;
    for bad in [
        "garbage",
        "%7B",
        "null",
        "%5B1%2C2%5D",
        "%7B%22tableId%22%3A5%7D",
        "%7B%22tableId%22%3A%22..%2F%22%2C%22createdAt%22%3A%22x%22%7D",
    ] {
        let (status, body) = api.get(&format!("/tables?limit=2&lastKey={bad}")).await;
        assert_eq!(status, 200, "lastKey={bad}: {body}");
        assert_eq!(
            body["tables"], first["tables"],
            "lastKey={bad} gives the first page"
        );
    }
    // A users cursor sent to the tables listing is foreign to it.
    let foreign =
        api_common::percent_encode(r#"{"tableId":"a1","username":"u","submissionCount":"3"}"#);
    let (status, body) = api.get(&format!("/tables?limit=2&lastKey={foreign}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["tables"], first["tables"]);
}

#[tokio::test]
async fn patch_updates_fields_and_sets_updated_at() {
    let api = Api::start();
    api.create("pt").await;
    let (status, body) = api
        .send("PATCH", "/tables/pt", &json!({"displayName": "Renamed"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["message"].is_string());
    let (_, t) = api.get("/tables/pt").await;
    assert_eq!(t["displayName"], "Renamed");
    assert_eq!(t["isArchived"], false);
    let first_update = t["updatedAt"]
        .as_str()
        .expect("updatedAt once set")
        .to_string();

    let (status, _) = api
        .send("PATCH", "/tables/pt", &json!({"isArchived": true}))
        .await;
    assert_eq!(status, 200);
    let (_, t) = api.get("/tables/pt").await;
    assert_eq!(t["isArchived"], true);
    assert_eq!(t["displayName"], "Renamed", "untouched field kept");
    assert!(t["updatedAt"].as_str().unwrap() >= first_update.as_str());
}

#[tokio::test]
async fn patch_rejects_bad_bodies_and_never_creates() {
    let api = Api::start();
    api.create("pb").await;
    for (raw, mention) in [
        (&br#"{}"#[..], "Nothing to update"),
        (br#"{"other": 1}"#, "Nothing to update"),
        (br#"{"isArchived": "yes"}"#, "isArchived"),
        (br#"{"displayName": 3}"#, "displayName"),
        (br#"[1]"#, "JSON object"),
        (b"nope", "JSON"),
    ] {
        let (status, _, body) = api.call("PATCH", "/tables/pb", Some(raw)).await;
        assert_eq!(status, 400, "{:?}", String::from_utf8_lossy(raw));
        assert_error(&body, mention);
    }
    let rename = json!({"displayName": "boo"});
    api.refused(
        "PATCH",
        "/tables/ghost",
        Some(&rename),
        404,
        "Table not found",
    )
    .await;
    assert_eq!(
        api.get("/tables/ghost").await.0,
        404,
        "PATCH did not create the row"
    );
    let (status, _) = api
        .send("PATCH", "/tables/bad%20id", &json!({"isArchived": true}))
        .await;
    assert_eq!(status, 400);
}
