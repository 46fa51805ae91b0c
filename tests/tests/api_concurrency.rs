//! The concurrency guarantees the original handler broke: `userCount` stays exact under
//! concurrent writers, and two concurrent creates of one id give one 201 and one 409.

use crate::api_common;

use api_common::Api;
use serde_json::json;

/// Sends `count` user PUTs at once, the i-th to `path(i)` with `submissionCount` i and
/// `totalCount` `count`, and asserts that every one is a 200.
async fn put_all_at_once(api: &Api, count: u64, path: impl Fn(u64) -> String) {
    let writes = (0..count).map(|i| {
        let path = path(i);
        async move {
            api.send(
                "PUT",
                &path,
                &json!({"submissionCount": i, "totalCount": count}),
            )
            .await
        }
    });
    let results = futures::future::join_all(writes).await;
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
    }
}

#[tokio::test]
async fn hundred_concurrent_new_users_count_exactly_100() {
    let api = Api::start();
    api.create("crowd").await;
    put_all_at_once(&api, 100, |i| format!("/tables/crowd/users/user{i:03}")).await;
    let (_, table) = api.get("/tables/crowd").await;
    assert_eq!(table["userCount"], 100);
    let (_, users) = api.get("/tables/crowd/users?limit=500").await;
    assert_eq!(users["users"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn twenty_concurrent_puts_of_one_new_user_count_once() {
    let api = Api::start();
    api.create("same").await;
    put_all_at_once(&api, 20, |_| "/tables/same/users/solo".to_string()).await;
    let (_, table) = api.get("/tables/same").await;
    assert_eq!(table["userCount"], 1);
    let (status, user) = api.get("/tables/same/users/solo").await;
    assert_eq!(status, 200);
    assert_eq!(user["totalCount"], 20);
}

#[tokio::test]
async fn concurrent_creates_of_one_id_give_one_201() {
    let api = Api::start();
    for round in 0..5 {
        let id = format!("race{round}");
        let creates = (0..8).map(|i| {
            let api = &api;
            let id = id.clone();
            async move {
                api.send(
                    "POST",
                    "/tables",
                    &json!({"tableId": id, "displayName": format!("writer {i}")}),
                )
                .await
            }
        });
        let results = futures::future::join_all(creates).await;
        let created = results.iter().filter(|(s, _)| *s == 201).count();
        let conflicts = results.iter().filter(|(s, _)| *s == 409).count();
        assert_eq!((created, conflicts), (1, 7), "round {round}: {results:?}");
    }
}
