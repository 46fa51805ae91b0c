//! One contract: the router serves exactly the routes of `function::contract::ROUTES`, and
//! `openapi.json` documents exactly those routes.
//!
//! The provisioner deploys one API Gateway route per entry of that same table (checked by
//! `provisioner/src/desired/tests.rs`), so a route served here but missing from the contract
//! would work locally and answer 404 on AWS. This test fails for such a route: every method on
//! every path the contract, `openapi.json` or [`PROBES`] names is sent to the router, and only
//! the contract's (method, path) pairs may be served; anything else must answer 404 `Route not
//! found` (unknown path) or 405 (known path, other method).
//!
//! The store's client points at a closed port with retries off, so a request that reaches
//! storage fails at once with a 500: proof enough that a handler served it.

use std::collections::BTreeSet;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use function::app::{AppState, app};
use function::config::Config;
use function::contract::ROUTES;
use function::handlers::OPENAPI_JSON;
use function::store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Methods probed on every path. `HEAD` is left out (axum answers it wherever `GET` is served),
/// and so is `OPTIONS` (the CORS layer answers it on any path, before routing).
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Paths probed besides those of the contract and of `openapi.json`: the ones a router route is
/// likely to be added at (`/health` is one a later issue asks for) and a few neighbours.
const PROBES: &[&str] = &[
    "/",
    "/health",
    "/version",
    "/docs",
    "/users",
    "/tables/{tableId}/users/{username}/scores",
    "/openapi.yaml",
];

fn router() -> axum::Router {
    let sdk = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "unused",
            "unused",
            None,
            None,
            "contract-test",
        ))
        .build();
    let store = Store::new(aws_sdk_dynamodb::Client::from_conf(sdk), "unused");
    app(AppState::new(store, Config::for_table("unused")))
}

/// A concrete path for a template: every `{param}` becomes a valid id.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "p1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn send(method: &str, path: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let response = router().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Whether the router served `method path` with a handler (any answer but "no such route").
async fn served(method: &str, path: &str) -> bool {
    let (status, body) = send(method, path).await;
    let unrouted = (status == StatusCode::NOT_FOUND && body == json!({"error": "Route not found"}))
        || status == StatusCode::METHOD_NOT_ALLOWED;
    !unrouted
}

/// The contract's routes as `METHOD /path`.
fn contract_routes() -> BTreeSet<String> {
    ROUTES.iter().map(|r| r.key()).collect()
}

/// The operations `openapi.json` documents, as `METHOD /path`.
fn documented_routes() -> BTreeSet<String> {
    let document: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    let operations = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if operations.contains(&method.as_str()) {
                routes.insert(format!("{} {path}", method.to_ascii_uppercase()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_router_serves_exactly_the_contracts_routes() {
    let documented = documented_routes();
    let mut templates: BTreeSet<&str> = ROUTES.iter().map(|r| r.path).collect();
    templates.extend(
        documented
            .iter()
            .filter_map(|r| r.split_once(' ').map(|(_, p)| p)),
    );
    templates.extend(PROBES);
    let contract = contract_routes();

    let mut outside_the_contract = Vec::new();
    let mut not_served = Vec::new();
    for template in templates {
        let path = concrete(template);
        for method in METHODS {
            let route = format!("{method} {template}");
            match (contract.contains(&route), served(method, &path).await) {
                (true, false) => not_served.push(route),
                (false, true) => outside_the_contract.push(route),
                _ => {}
            }
        }
    }
    assert!(
        not_served.is_empty(),
        "routes of the contract the router does not serve: {not_served:?}"
    );
    assert!(
        outside_the_contract.is_empty(),
        "the router serves routes outside function/src/contract.rs: {outside_the_contract:?}; \
         API Gateway would answer 404 for them. Add them to the contract (the provisioner \
         deploys its routes) and to openapi.json"
    );
}

#[tokio::test]
async fn every_route_works_behind_a_stage_prefix_too() {
    for route in ROUTES {
        let path = format!("/dev{}", concrete(route.path));
        assert!(
            served(route.method.as_str(), &path).await,
            "{} {path}",
            route.method.as_str()
        );
    }
}

#[test]
fn openapi_documents_exactly_the_contracts_routes() {
    assert_eq!(documented_routes(), contract_routes());
}
