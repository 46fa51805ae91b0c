//! The HTTP surface around the routes: CORS on preflights and on normal responses, stage
//! prefixes, unknown routes, JSON content type everywhere, and the shipped OpenAPI file.

use crate::api_common;

use api_common::Api;
use serde_json::json;

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
}

fn assert_cors(headers: &reqwest::header::HeaderMap, origin: &str) {
    assert_eq!(header(headers, "access-control-allow-origin"), origin);
    assert_eq!(
        header(headers, "access-control-allow-methods"),
        "GET,PUT,PATCH,POST,DELETE,OPTIONS"
    );
    assert_eq!(
        header(headers, "access-control-allow-headers"),
        "Content-Type,Authorization"
    );
}

#[tokio::test]
async fn preflight_on_any_path_answers_with_cors_headers() {
    let api = Api::start();
    for path in [
        "/tables",
        "/tables/x/users/y",
        "/dev/tables/x",
        "/anything/else",
    ] {
        let response = api
            .http
            .request(reqwest::Method::OPTIONS, api.url(path))
            .header("Origin", "https://app.example")
            .header("Access-Control-Request-Method", "PUT")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_cors(response.headers(), "*");
    }
    // No storage access: the preflight for a missing playground did not create it.
    assert_eq!(api.get("/tables/x").await.0, 404);
}

#[tokio::test]
async fn every_response_carries_cors_and_json() {
    let api = Api::start();
    let (status, headers, _) = api
        .call("POST", "/tables", Some(br#"{"tableId":"c"}"#))
        .await;
    assert_eq!(status, 201);
    assert_cors(&headers, "*");
    for (method, path, body) in [
        ("GET", "/tables", None),
        ("GET", "/tables/c", None),
        ("GET", "/tables/missing", None),
        ("GET", "/tables/bad%20id", None),
        ("POST", "/tables", Some(&b"[]"[..])),
        ("GET", "/nowhere", None),
    ] {
        let (_, headers, _) = api.call(method, path, body).await;
        assert_cors(&headers, "*");
        assert_eq!(
            header(&headers, "content-type"),
            "application/json",
            "{path}"
        );
    }
}

#[tokio::test]
async fn configured_origins_are_used() {
    let api = Api::start_with(&[("CORS_ALLOW_ORIGINS", "https://a.example,https://b.example")]);
    let response = api
        .http
        .get(api.url("/tables"))
        .header("Origin", "https://b.example")
        .send()
        .await
        .unwrap();
    assert_cors(response.headers(), "https://b.example");
    let response = api
        .http
        .request(reqwest::Method::OPTIONS, api.url("/tables"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_cors(response.headers(), "https://a.example");
}

#[tokio::test]
async fn stage_prefix_routes_like_the_bare_path() {
    let api = Api::start();
    let (status, body) = api
        .send("POST", "/dev/tables", &json!({"tableId": "staged"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let counts = json!({"submissionCount": 2, "totalCount": 3});
    let (status, body) = api
        .send("PUT", "/prod/tables/staged/users/ann", &counts)
        .await;
    assert_eq!(status, 200, "{body}");
    for path in [
        "/tables/staged",
        "/dev/tables/staged",
        "/stage/tables/staged",
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["userCount"], 1, "{path}");
    }
    let (status, body) = api.get("/dev/tables/staged/users/ann?x=1").await;
    assert_eq!(status, 200);
    assert_eq!(body["submissionCount"], 2);
    let (status, body) = api.get("/dev/tables?limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(body["tables"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let api = Api::start();
    api.refused(
        "DELETE",
        "/tables/a/users/b",
        None,
        405,
        "Method not allowed",
    )
    .await;
    for path in [
        "/",
        "/nope",
        "/tables/a/b",
        "/tables/a/users/b/c",
        "/dev/nope",
        "/tables/",
    ] {
        api.refused("GET", path, None, 404, "Route not found").await;
    }
}

#[tokio::test]
async fn openapi_description_is_served() {
    let api = Api::start();
    let (status, body) = api.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = body["paths"].as_object().unwrap();
    for path in [
        "/tables",
        "/tables/{tableId}",
        "/tables/{tableId}/users",
        "/tables/{tableId}/users/{username}",
        "/health",
    ] {
        assert!(paths.contains_key(path), "{path} is described");
    }
}
