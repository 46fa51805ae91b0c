//! The router driven with `oneshot`, no socket and no storage: every answer here is decided
//! before DynamoDB would be called (routing, CORS, stage rewrite, validation, body cap). The
//! store's client points at a closed port, so a request that reached storage would fail as a
//! 500 and the test with it.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use function::app::{AppState, app};
use function::config::Config;
use function::store::Store;
use lambda_http::request::RequestContext;
use serde_json::{Value, json};
use tower::ServiceExt;

fn router(config: Config) -> axum::Router {
    let sdk = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "unused",
            "unused",
            None,
            None,
            "router-test",
        ))
        .build();
    let store = Store::new(aws_sdk_dynamodb::Client::from_conf(sdk), "unused");
    app(AppState::new(store, config))
}

async fn send(
    config: Config,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    send_as(config, None, method, uri, body).await
}

/// API Gateway's request context with the claims its JWT authorizer verified, as
/// `lambda_http` hands it to the router.
fn verified(claims: Value) -> RequestContext {
    let context = json!({
        "accountId": "123456789012", "apiId": "abc", "domainName": "abc.example",
        "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "t",
        "timeEpoch": 0,
        "http": {"method": "PUT", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
        "authorizer": {"jwt": {"claims": claims, "scopes": null}}
    });
    RequestContext::ApiGatewayV2(serde_json::from_value(context).unwrap())
}

/// Sends a request, with API Gateway's verified claims when `context` is given.
async fn send_as(
    config: Config,
    context: Option<RequestContext>,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    if let Some(context) = context {
        request.extensions_mut().insert(context);
    }
    let response = router(config).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

fn default() -> Config {
    Config::for_table("unused")
}

#[tokio::test]
async fn options_answers_on_any_path_with_cors() {
    for uri in ["/tables", "/dev/tables/x/users/y", "/whatever"] {
        let (status, headers, _) = send(default(), "OPTIONS", uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(
            headers["access-control-allow-methods"],
            "GET,PUT,PATCH,POST,DELETE,OPTIONS"
        );
        assert_eq!(
            headers["access-control-allow-headers"],
            "Content-Type,Authorization"
        );
    }
}

#[tokio::test]
async fn unknown_routes_are_json_404s_with_cors() {
    let (status, headers, body) = send(default(), "GET", "/dev/nothing/here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Route not found"}));
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn wrong_method_is_a_json_405() {
    let (status, _, body) = send(default(), "DELETE", "/tables", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn validation_happens_before_storage() {
    let cases = [
        ("GET", "/tables/bad%20id", None),
        ("GET", "/dev/tables/x/users/_metadata", None),
        ("POST", "/tables", Some("[]")),
        ("POST", "/tables", Some(r#"{"tableId": "a b"}"#)),
        ("PATCH", "/tables/x", Some("{}")),
        (
            "PUT",
            "/tables/x/users/y",
            Some(r#"{"submissionCount": -1, "totalCount": 0}"#),
        ),
        (
            "PUT",
            "/prod/tables/x/users/_metadata",
            Some(r#"{"submissionCount": 1, "totalCount": 0}"#),
        ),
    ];
    for (method, uri, body) in cases {
        let (status, _, response) = send(default(), method, uri, body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {uri}: {response}"
        );
        assert!(response["error"].is_string());
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_before_parsing() {
    let big = format!(
        r#"{{"tableId": "t", "displayName": "{}"}}"#,
        "x".repeat(65 * 1024)
    );
    let (status, _, body) = send(default(), "POST", "/tables", Some(&big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().contains("65536"));
}

#[tokio::test]
async fn openapi_is_served() {
    let (status, _, body) = send(default(), "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["openapi"], "3.0.3");
}

#[tokio::test]
async fn configured_origins_reach_the_headers() {
    let mut config = default();
    config.cors_allow_origins = vec!["https://only.example".to_string()];
    let (_, headers, _) = send(config, "OPTIONS", "/tables", None).await;
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://only.example"
    );
    assert_eq!(headers["vary"], "Origin");
}

#[tokio::test]
async fn health_answers_without_storage() {
    let (status, _, body) = send(default(), "GET", "/dev/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
}

#[tokio::test]
async fn display_names_are_bounded_before_storage() {
    let long = format!(
        r#"{{"tableId": "t", "displayName": "{}"}}"#,
        "é".repeat(129)
    );
    let (status, _, body) = send(default(), "POST", "/tables", Some(&long)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("128"));
    let control = r#"{"displayName": "two\nlines"}"#;
    let (status, _, body) = send(default(), "PATCH", "/tables/t", Some(control)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("control"));
}

fn auth_on() -> Config {
    let mut config = default();
    config.auth_enabled = true;
    config.claims.admin_group = Some("admin".into());
    config
}

#[tokio::test]
async fn with_auth_on_writes_without_verified_claims_are_401_before_storage() {
    let writes = [
        ("POST", "/tables", Some(r#"{"tableId": "t"}"#)),
        ("PATCH", "/tables/t", Some(r#"{"isArchived": true}"#)),
        ("DELETE", "/tables/t", None),
        (
            "PUT",
            "/tables/t/users/alice",
            Some(r#"{"submissionCount": 1, "totalCount": 1}"#),
        ),
    ];
    for (method, uri, body) in writes {
        let (status, headers, response) = send(auth_on(), method, uri, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(headers["www-authenticate"], "Bearer");
        assert!(response["error"].is_string());
        // Claims without a subject are no identity either.
        let context = verified(json!({"iss": "https://issuer.example"}));
        let (status, _, _) = send_as(auth_on(), Some(context), method, uri, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
}

#[tokio::test]
async fn with_auth_on_a_user_row_is_written_only_by_that_user_or_an_admin() {
    let scores = Some(r#"{"submissionCount": 1, "totalCount": 1}"#);
    let bob = verified(json!({"iss": "i", "sub": "bob", "cognito:groups": "[editors]"}));
    let (status, _, body) =
        send_as(auth_on(), Some(bob), "PUT", "/tables/t/users/alice", scores).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].is_string());
    // Alice herself, and an admin (groups flattened as API Gateway sends them), get past the
    // rule to storage: a 500 from the closed port, not a 401 or 403.
    for claims in [
        json!({"iss": "i", "sub": "alice"}),
        json!({"iss": "i", "sub": "root", "cognito:groups": "[editors admin]"}),
    ] {
        let context = verified(claims.clone());
        let (status, _, _) = send_as(
            auth_on(),
            Some(context),
            "PUT",
            "/tables/t/users/alice",
            scores,
        )
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{claims}");
    }
}

#[tokio::test]
async fn with_auth_on_reads_stay_public() {
    for uri in ["/health", "/openapi.json"] {
        let (status, _, _) = send(auth_on(), "GET", uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
}
