//! Verified identity on `function serve`: real HTTP, tokens minted at test time, the JWKS in a
//! temporary file. Every bad token gets 401 (never 200, never 500), a good token of the wrong
//! person 403, and the owner, the user and the admin get through.

use crate::api_common;

use api_common::Api;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use testkit::tokens::{ES_KID, Issuer, RS_KID, now, with_payload};

/// A fresh issuer, and a server that trusts it (admin group `admin`).
fn start() -> (Issuer, Api) {
    let issuer = Issuer::new();
    let env = issuer.serve_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let api = Api::start_with(&env);
    (issuer, api)
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
    let (issuer, api) = start();
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
            api.assert_unauthorized(&response, case);
        }
    }
    // Nothing changed: the playground is alice's, unarchived, without users.
    let (status, table) = api.get("/tables/a1").await;
    assert_eq!((status, &table["isArchived"]), (200, &json!(false)));
    assert_eq!(api.get("/tables/fresh").await.0, 404);
}

#[tokio::test]
async fn a_valid_token_for_someone_else_is_403() {
    let (issuer, api) = start();
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
    let (issuer, api) = start();
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
    let (archive, unarchive) = (json!({"isArchived": true}), json!({"isArchived": false}));
    let scores = json!({"submissionCount": 3, "totalCount": 4});
    for (token, method, path, body, who) in [
        (&alice, "PATCH", "/tables/a3", &rename, "the owner"),
        (
            &rs_alice,
            "PATCH",
            "/tables/a3",
            &archive,
            "the owner with an RS256 token",
        ),
        (&admin, "PATCH", "/tables/a3", &unarchive, "an admin"),
        (
            &alice,
            "PUT",
            "/tables/a3/users/alice",
            &scores,
            "a user on her own row",
        ),
        (
            &admin,
            "PUT",
            "/tables/a3/users/bob",
            &scores,
            "an admin on anyone's row",
        ),
    ] {
        let (status, body) = api.send_as(Some(token), method, path, Some(body)).await;
        assert_eq!(status, 200, "{who}: {method} {path}: {body}");
    }

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
    let (issuer, api) = start();
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
    // Nobody owns it, so no non-admin may change it; an admin may.
    for (token, status) in [(&alice, 403), (&admin, 200)] {
        for (method, body) in [("PATCH", Some(&archive)), ("DELETE", None)] {
            let (answered, body) = api
                .send_as(Some(token), method, "/tables/legacy", body)
                .await;
            assert_eq!(answered, status, "{method}: {body}");
        }
    }
    assert_eq!(api.get("/tables/legacy").await.0, 404);
}
