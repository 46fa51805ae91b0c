//! The ownership rules on the Lambda path: the built binary with `AUTH_ENABLED=true`, fed API
//! Gateway v2 events whose `requestContext.authorizer.jwt.claims` hold what API Gateway's JWT
//! authorizer verified (every claim a string, `cognito:groups` flattened as `[editors admin]`,
//! as in `tests/fixtures/apigw_v2_request_with_jwt_claims.json`). The function trusts those
//! claims and decodes no token (the fixture's bearer token is not even a valid one).

use crate::api_common;

use api_common::lambda::{Lambda, fixture};
use serde_json::{Value, json};

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";

/// The fixture's event for `method path` with `body`, and the claims of `sub` (an admin
/// when `groups` names `admin`), or no authorizer at all when `sub` is `None`.
fn event(method: &str, path: &str, body: Option<&Value>, sub: Option<&str>, groups: &str) -> Value {
    let mut event = fixture("apigw_v2_request_with_jwt_claims.json");
    let raw_path = format!("/dev{path}");
    event["rawPath"] = json!(raw_path);
    event["routeKey"] = Value::Null;
    event["requestContext"]["routeKey"] = Value::Null;
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(raw_path);
    event["requestContext"]["requestId"] = json!(uuid::Uuid::new_v4().to_string());
    event["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    match sub {
        Some(sub) => {
            let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
            claims["sub"] = json!(sub);
            claims["cognito:username"] = json!(sub);
            claims["iss"] = json!(ISSUER);
            claims["cognito:groups"] = json!(groups);
        }
        None => {
            event["requestContext"]
                .as_object_mut()
                .unwrap()
                .remove("authorizer");
        }
    }
    event
}

async fn start() -> Lambda {
    Lambda::start_with(
        None,
        &[
            ("AUTH_ENABLED", "true"),
            ("AUTH_ADMIN_GROUP", "admin"),
            ("AUTH_USERNAME_CLAIM", "cognito:username"),
        ],
    )
    .await
}

#[tokio::test]
async fn owners_and_admins_change_playgrounds_others_get_403() {
    let lambda = start().await;
    let create = json!({"tableId": "owned"});
    let archive = json!({"isArchived": true});
    let rename = json!({"displayName": "By admin"});
    let scores = json!({"submissionCount": 2, "totalCount": 3});
    let (owned, row) = ("/tables/owned", "/tables/owned/users/alice");
    // In order: (sub, cognito:groups, method, path, body, status, who). Groups come flattened
    // as API Gateway passes them (`[editors admin]`), or as a JSON array.
    #[rustfmt::skip]
    let steps = [
        (None, "", "POST", "/tables", Some(&create), 401, "no claims, no identity"),
        (Some("alice"), "[editors]", "POST", "/tables", Some(&create), 201, "a user"),
        (Some("bob"), "[editors]", "PATCH", owned, Some(&archive), 403, "another user"),
        (Some("bob"), "[]", "DELETE", owned, None, 403, "another user"),
        (Some("alice"), "", "PATCH", owned, Some(&archive), 200, "the owner"),
        (Some("root"), "[editors admin]", "PATCH", owned, Some(&rename), 200, "an admin"),
        // A user row: that user (cognito:username) or an admin.
        (Some("bob"), "", "PUT", row, Some(&scores), 403, "another user"),
        (Some("alice"), "", "PUT", row, Some(&scores), 200, "that user"),
        (Some("root"), r#"["admin"]"#, "PUT", row, Some(&scores), 200, "an admin"),
        (Some("alice"), "", "DELETE", owned, None, 200, "the owner"),
        (Some("alice"), "", "DELETE", owned, None, 404, "the owner, once it is gone"),
        // Reads need no claims.
        (None, "", "GET", "/health", None, 200, "no claims"),
    ];
    for (sub, groups, method, path, body, status, who) in steps {
        let (answered, _, body) = lambda.request(event(method, path, body, sub, groups)).await;
        assert_eq!(
            answered, status,
            "{who}: {method} {path} as {sub:?} {groups}: {body}"
        );
        if status == 403 {
            assert!(body["error"].is_string(), "{body}");
        }
    }
}

#[tokio::test]
async fn playgrounds_without_an_owner_are_for_admins_only() {
    let lambda = start().await;
    // The local server beside it runs with auth off, as the API did before: no owner.
    lambda.api.create("legacy").await;
    let archive = json!({"isArchived": true});
    // Nobody owns it: no user may change it, an admin may.
    for (sub, groups, status) in [("alice", "[editors]", 403), ("root", "[admin]", 200)] {
        let archived = event("PATCH", "/tables/legacy", Some(&archive), Some(sub), groups);
        let (answered, _, body) = lambda.request(archived).await;
        assert_eq!(answered, status, "{sub}: {body}");
    }
    let (status, _, body) = lambda.request(fixture_as_is()).await;
    assert_eq!(
        status, 404,
        "the fixture's own playground does not exist: {body}"
    );
}

/// The fixture exactly as committed (an admin's claims, PATCH of `placeholder`).
fn fixture_as_is() -> Value {
    fixture("apigw_v2_request_with_jwt_claims.json")
}
