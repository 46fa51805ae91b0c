//! Verified identity on `function serve`: real HTTP, tokens minted at test time, the JWKS in a
//! temporary file. Every bad token gets 401 (never 200, never 500), a good token of the wrong
//! person 403, and the owner, the user and the admin get through.

mod api_common;

use api_common::Api;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use testkit::tokens::{ES_KID, Issuer, RS_KID, now, with_payload};

/// A server that trusts `issuer` (admin group `admin`).
fn start(issuer: &Issuer) -> Api {
    let env = issuer.serve_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Api::start_with(&env)
}

/// Every write of the API on playground `table` and its user `alice`.
fn writes(table: &str) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("POST", "/tables".into(), Some(json!({"tableId": "fresh"}))),
        (
            "PATCH",
            format!("/tables/{table}"),
            Some(json!({"isArchived": true})),
        ),
        (
            "PUT",
            format!("/tables/{table}/users/alice"),
            Some(json!({"submissionCount": 1, "totalCount": 2})),
        ),
        ("DELETE", format!("/tables/{table}"), None),
    ]
}

#[tokio::test]
async fn bad_tokens_are_401_never_200_nor_500() {
    let issuer = Issuer::new();
    let api = start(&issuer);
    let alice = Issuer::claims("alice");
    let owner = issuer.token(&alice);
    let (status, body) = api
        .send_as(
            Some(&owner),
            "POST",
            "/tables",
            Some(&json!({"tableId": "a1"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let with = |changes: Value| {
        let mut claims = alice.clone();
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    let es = |kid: &str| json!({"alg": "ES256", "typ": "JWT", "kid": kid});
    let bad: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("not a JWT", Some("not.a.token".into())),
        (
            "alg none",
            Some(issuer.sign(&json!({"alg": "none", "kid": ES_KID}), &alice)),
        ),
        (
            "HS256 keyed with the public key",
            Some(issuer.sign(&json!({"alg": "HS256", "kid": ES_KID}), &alice)),
        ),
        (
            "RS256 claimed for the ES256 key",
            Some(issuer.sign(&json!({"alg": "RS256", "kid": ES_KID}), &alice)),
        ),
        (
            "expired",
            Some(issuer.token(&with(json!({"exp": now() - 3600, "nbf": now() - 7200})))),
        ),
        (
            "not yet valid",
            Some(issuer.token(&with(json!({"nbf": now() + 3600, "exp": now() + 7200})))),
        ),
        (
            "wrong issuer",
            Some(issuer.token(&with(json!({"iss": "https://evil.example"})))),
        ),
        (
            "wrong audience",
            Some(issuer.token(&with(json!({"aud": "someone-else"})))),
        ),
        ("unknown kid", Some(issuer.sign(&es("nope"), &alice))),
        (
            "no kid",
            Some(issuer.sign(&json!({"alg": "ES256"}), &alice)),
        ),
        (
            "payload changed after signing",
            Some(with_payload(&owner, &Issuer::admin_claims("alice"))),
        ),
        (
            "no exp",
            Some(issuer.token(&{
                let mut c = alice.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            })),
        ),
    ];
    for (case, token) in &bad {
        for (method, path, body) in writes("a1") {
            let (status, response) = api
                .send_as(token.as_deref(), method, &path, body.as_ref())
                .await;
            assert_eq!(status, 401, "{case}: {method} {path}: {response}");
            assert!(response["error"].is_string(), "{case}: {response}");
        }
    }
    // Nothing changed: the playground is alice's, unarchived, without users.
    let (status, table) = api.get("/tables/a1").await;
    assert_eq!((status, &table["isArchived"]), (200, &json!(false)));
    assert_eq!(api.get("/tables/fresh").await.0, 404);
}

#[tokio::test]
async fn a_valid_token_for_someone_else_is_403() {
    let issuer = Issuer::new();
    let api = start(&issuer);
    let alice = issuer.token(&Issuer::claims("alice"));
    let bob = issuer.token(&Issuer::claims("bob"));
    let create = json!({"tableId": "a2"});
    assert_eq!(
        api.send_as(Some(&alice), "POST", "/tables", Some(&create))
            .await
            .0,
        201
    );
    for (method, path, body) in writes("a2").into_iter().skip(1) {
        let (status, response) = api.send_as(Some(&bob), method, &path, body.as_ref()).await;
        assert_eq!(status, 403, "{method} {path}: {response}");
        assert!(response["error"].is_string());
    }
    // Bob cannot change a playground that does not exist either: 404, not 403.
    let (status, _) = api
        .send_as(
            Some(&bob),
            "PATCH",
            "/tables/none",
            Some(&json!({"isArchived": true})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn owners_users_and_admins_get_through() {
    let issuer = Issuer::new();
    let api = start(&issuer);
    let alice = issuer.token(&Issuer::claims("alice"));
    let admin = issuer.token(&Issuer::admin_claims("root"));
    let rs_alice = issuer.sign(
        &json!({"alg": "RS256", "typ": "JWT", "kid": RS_KID}),
        &Issuer::claims("alice"),
    );
    let create = json!({"tableId": "a3", "displayName": "Alice's"});
    assert_eq!(
        api.send_as(Some(&alice), "POST", "/tables", Some(&create))
            .await
            .0,
        201
    );
    let rename = json!({"displayName": "Renamed"});
    let (status, body) = api
        .send_as(Some(&alice), "PATCH", "/tables/a3", Some(&rename))
        .await;
    assert_eq!(status, 200, "owner patches: {body}");
    let (status, body) = api
        .send_as(
            Some(&rs_alice),
            "PATCH",
            "/tables/a3",
            Some(&json!({"isArchived": true})),
        )
        .await;
    assert_eq!(status, 200, "an RS256 token works too: {body}");
    let (status, body) = api
        .send_as(
            Some(&admin),
            "PATCH",
            "/tables/a3",
            Some(&json!({"isArchived": false})),
        )
        .await;
    assert_eq!(status, 200, "admin patches: {body}");

    let scores = json!({"submissionCount": 3, "totalCount": 4});
    let (status, body) = api
        .send_as(Some(&alice), "PUT", "/tables/a3/users/alice", Some(&scores))
        .await;
    assert_eq!(status, 200, "a user writes her own row: {body}");
    let (status, body) = api
        .send_as(Some(&admin), "PUT", "/tables/a3/users/bob", Some(&scores))
        .await;
    assert_eq!(status, 200, "an admin writes anyone's row: {body}");

    // Reads stay public, whatever token comes along.
    let (status, table) = api.get("/tables/a3").await;
    assert_eq!(status, 200);
    assert_eq!(table["displayName"], "Renamed");
    assert_eq!(table["userCount"], 2);
    let (status, _, _) = api
        .call_as(Some("garbage"), "GET", "/tables/a3/users", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(api.get("/health").await.0, 200);

    let (status, _) = api
        .send_as(Some(&alice), "DELETE", "/tables/a3", None)
        .await;
    assert_eq!(status, 200, "owner deletes");
    let (status, _) = api
        .send_as(Some(&alice), "DELETE", "/tables/a3", None)
        .await;
    assert_eq!(status, 404, "deleted is gone");
}

#[tokio::test]
async fn playgrounds_from_before_auth_are_for_admins_only() {
    let issuer = Issuer::new();
    let api = start(&issuer);
    // A row as the open API (or the original handler) wrote it: no owner.
    testkit::dynamodb_client()
        .await
        .put_item()
        .table_name(&api.table)
        .item("tableId", AttributeValue::S("legacy".into()))
        .item("username", AttributeValue::S("_metadata".into()))
        .item("displayName", AttributeValue::S("Legacy".into()))
        .item(
            "createdAt",
            AttributeValue::S("2024-01-01T00:00:00.000000Z".into()),
        )
        .item("isArchived", AttributeValue::Bool(false))
        .item("userCount", AttributeValue::N("0".into()))
        .send()
        .await
        .expect("the legacy row is written");
    let alice = issuer.token(&Issuer::claims("alice"));
    let admin = issuer.token(&Issuer::admin_claims("root"));
    let archive = json!({"isArchived": true});
    let (status, _) = api
        .send_as(Some(&alice), "PATCH", "/tables/legacy", Some(&archive))
        .await;
    assert_eq!(status, 403, "nobody owns it, so no non-admin may change it");
    let (status, _) = api
        .send_as(Some(&alice), "DELETE", "/tables/legacy", None)
        .await;
    assert_eq!(status, 403);
    let (status, body) = api
        .send_as(Some(&admin), "PATCH", "/tables/legacy", Some(&archive))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = api
        .send_as(Some(&admin), "DELETE", "/tables/legacy", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(api.get("/tables/legacy").await.0, 404);
}
