//! The ownership rules on the Lambda path: the built binary with `AUTH_ENABLED=true`, fed API
//! Gateway v2 events whose `requestContext.authorizer.jwt.claims` hold what API Gateway's JWT
//! authorizer verified (every claim a string, `cognito:groups` flattened as `[editors admin]`,
//! as in `tests/fixtures/apigw_v2_request_with_jwt_claims.json`). The function trusts those
//! claims and decodes no token (the fixture's bearer token is not even a valid one).

mod api_common;

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
    let call = |method: &'static str,
                path: String,
                body: Option<Value>,
                sub: Option<&'static str>,
                groups: &'static str| {
        let event = event(method, &path, body.as_ref(), sub, groups);
        let lambda = &lambda;
        async move { lambda.request(event).await }
    };
    let create = json!({"tableId": "owned"});
    let (status, _, body) = call("POST", "/tables".into(), Some(create.clone()), None, "").await;
    assert_eq!(status, 401, "no claims, no identity: {body}");
    let (status, _, body) = call(
        "POST",
        "/tables".into(),
        Some(create),
        Some("alice"),
        "[editors]",
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let archive = json!({"isArchived": true});
    let (status, _, body) = call(
        "PATCH",
        "/tables/owned".into(),
        Some(archive.clone()),
        Some("bob"),
        "[editors]",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].is_string());
    let (status, _, _) = call("DELETE", "/tables/owned".into(), None, Some("bob"), "[]").await;
    assert_eq!(status, 403);
    let (status, _, body) = call(
        "PATCH",
        "/tables/owned".into(),
        Some(archive.clone()),
        Some("alice"),
        "",
    )
    .await;
    assert_eq!(status, 200, "the owner: {body}");
    let (status, _, body) = call(
        "PATCH",
        "/tables/owned".into(),
        Some(json!({"displayName": "By admin"})),
        Some("root"),
        "[editors admin]",
    )
    .await;
    assert_eq!(
        status, 200,
        "an admin (groups as API Gateway flattens them): {body}"
    );

    // A user row: that user (cognito:username) or an admin.
    let scores = json!({"submissionCount": 2, "totalCount": 3});
    let path = "/tables/owned/users/alice".to_string();
    let (status, _, _) = call("PUT", path.clone(), Some(scores.clone()), Some("bob"), "").await;
    assert_eq!(status, 403);
    let (status, _, body) =
        call("PUT", path.clone(), Some(scores.clone()), Some("alice"), "").await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = call("PUT", path, Some(scores), Some("root"), r#"["admin"]"#).await;
    assert_eq!(status, 200, "groups as a JSON array too: {body}");

    let (status, _, _) = call("DELETE", "/tables/owned".into(), None, Some("alice"), "").await;
    assert_eq!(status, 200);
    let (status, _, _) = call("DELETE", "/tables/owned".into(), None, Some("alice"), "").await;
    assert_eq!(status, 404);
    // Reads need no claims.
    let (status, _, _) = call("GET", "/health".into(), None, None, "").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn playgrounds_without_an_owner_are_for_admins_only() {
    let lambda = start().await;
    // The local server beside it runs with auth off, as the API did before: no owner.
    lambda.api.create("legacy").await;
    let archive = json!({"isArchived": true});
    let (status, _, body) = lambda
        .request(event(
            "PATCH",
            "/tables/legacy",
            Some(&archive),
            Some("alice"),
            "[editors]",
        ))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _, body) = lambda
        .request(event(
            "PATCH",
            "/tables/legacy",
            Some(&archive),
            Some("root"),
            "[admin]",
        ))
        .await;
    assert_eq!(status, 200, "{body}");
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
