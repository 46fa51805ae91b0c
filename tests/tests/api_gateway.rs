//! The API through `provisioner serve`: a stack applied to the emulator with a stage name, its
//! deployed zip (the workspace's `function` binary as `bootstrap`) run under the local Runtime
//! API, requests sent to `http://127.0.0.1:PORT/<stage>/...` as to API Gateway.
//!
//! The same API checks as against `function serve` (create, list, get, patch, put and get a
//! user, a query string, the function's own 404), then what only the gateway shows: a route the
//! function has but the API does not deploy is API Gateway's 404, a path outside the stage too;
//! CORS preflights answered by the gateway; the JWT authorizer's 401 and the claims it passes
//! (the function then decides 403); the stage's throttle (429); a function that crashes (500)
//! or does not answer in its timeout (503). The API suites (`api_tables.rs`, ...) also run whole
//! through the gateway, on stacks made by the same code (`api_common::gateway`), with
//! `API_VIA=gateway` (`scripts/test`).

use crate::api_common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use api_common::gateway::{Backend, Gateway, Stack};
use serde_json::{Value, json};
use testkit::tokens::{AUDIENCE, ISSUER, Issuer};

/// One answer: status, headers and the body as JSON (`Null` when it is not JSON).
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

impl Gateway {
    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_as(None, method, path, body).await
    }

    async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = format!("{}{path}", self.base);
        let body = body.map(|b| b.to_string().into_bytes());
        let request = testkit::api_request(&self.http, method, url, token, body);
        self.send(request).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_works_through_the_deployed_gateway() {
    let stack = Stack::apply(&testkit::binary("function"), Backend::S3, "");
    let gw = stack.serve(&[]);

    let health = gw.call("GET", "/health", None).await;
    assert_eq!(health.status, 200, "{}", health.json);
    assert_eq!(health.json["status"], "ok");
    assert!(health.headers.contains_key("apigw-requestid"));

    let created = gw
        .call(
            "POST",
            "/tables",
            Some(json!({"tableId": "gw-1", "displayName": "One"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let second = json!({"tableId": "gw-2"});
    assert_eq!(gw.call("POST", "/tables", Some(second)).await.status, 201);
    let duplicate = json!({"tableId": "gw-1"});
    assert_eq!(
        gw.call("POST", "/tables", Some(duplicate)).await.status,
        409
    );

    let listed = gw.call("GET", "/tables", None).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json["tables"].as_array().map(Vec::len), Some(2));
    let page = gw.call("GET", "/tables?limit=1", None).await;
    assert_eq!(page.json["tables"].as_array().map(Vec::len), Some(1));
    assert!(page.json["lastKey"].is_object(), "{}", page.json);

    let patched = gw
        .call(
            "PATCH",
            "/tables/gw-1",
            Some(json!({"displayName": "Renamed"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.json);
    let one = gw.call("GET", "/tables/gw-1", None).await;
    assert_eq!(one.json["displayName"], "Renamed");

    let put = gw
        .call(
            "PUT",
            "/tables/gw-1/users/alice",
            Some(json!({"submissionCount": 3, "totalCount": 10})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.json);
    let user = gw.call("GET", "/tables/gw-1/users/alice", None).await;
    assert_eq!(user.json["submissionCount"], 3);
    let users = gw.call("GET", "/tables/gw-1/users", None).await;
    assert_eq!(users.json["users"][0]["username"], "alice");
    assert_eq!(
        gw.call("GET", "/tables/gw-1", None).await.json["userCount"],
        1
    );

    // The function's own answers pass through unchanged.
    let missing = gw.call("GET", "/tables/nope", None).await;
    assert_eq!(missing.status, 404);
    assert!(missing.json["error"].is_string(), "{}", missing.json);
    let bad = gw
        .call("POST", "/tables", Some(json!({"tableId": ""})))
        .await;
    assert_eq!(bad.status, 400);

    // Only the gateway: DELETE is in the function but not deployed (allow_table_delete is off).
    let undeployed = gw.call("DELETE", "/tables/gw-2", None).await;
    assert_eq!(undeployed.status, 404);
    assert_eq!(undeployed.json, json!({"message": "Not Found"}));
    assert_eq!(gw.call("GET", "/tables/gw-2", None).await.status, 200);
    let unknown = gw.call("GET", "/nothing/here", None).await;
    assert_eq!(unknown.json, json!({"message": "Not Found"}));
    let outside = gw.send(gw.http.get(format!("{}/health", gw.root()))).await;
    assert_eq!(outside.status, 404, "a path outside the stage");

    // A CORS preflight, answered by the gateway from the API's CORS configuration.
    let preflight = gw
        .send(
            gw.http
                .request(reqwest::Method::OPTIONS, format!("{}/tables", gw.base))
                .header("origin", "https://app.example")
                .header("access-control-request-method", "POST"),
        )
        .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.headers["access-control-allow-origin"], "*");
    let methods = preflight.headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("POST"), "{methods}");
    let cors = gw
        .send(
            gw.http
                .get(format!("{}/health", gw.base))
                .header("origin", "https://app.example"),
        )
        .await;
    assert_eq!(cors.headers["access-control-allow-origin"], "*");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_authorizer_and_the_throttle_act_before_the_function() {
    let issuer = Issuer::new();
    let extra = format!(
        "[env.dev.auth]\nenabled = true\nissuer = \"{ISSUER}\"\naudience = [\"{AUDIENCE}\"]\n\
         admin_group = \"admin\"\n\n[env.dev.api]\nthrottle_rate_limit = 1.0\n\
         throttle_burst_limit = 5\nwrite_throttle_rate_limit = 1.0\nwrite_throttle_burst_limit = 5\n"
    );
    let stack = Stack::apply(&testkit::binary("function"), Backend::S3, &extra);
    let jwks = issuer.jwks_path().display().to_string();
    let gw = stack.serve(&["--jwks", &jwks]);

    let body = || Some(json!({"tableId": "owned"}));
    let anonymous = gw.call("POST", "/tables", body()).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json, json!({"message": "Unauthorized"}));
    let mut expired = Issuer::claims("alice");
    expired["exp"] = json!(testkit::tokens::now() - 3600);
    let stale = gw
        .call_as(Some(&issuer.token(&expired)), "POST", "/tables", body())
        .await;
    assert_eq!(stale.status, 401);

    let alice = issuer.token(&Issuer::claims("alice"));
    let created = gw.call_as(Some(&alice), "POST", "/tables", body()).await;
    assert_eq!(created.status, 201, "{}", created.json);
    // The claims reached the function: it recorded alice as the owner, so bob may not rename.
    let bob = issuer.token(&Issuer::claims("bob"));
    let rename = Some(json!({"displayName": "Bob's"}));
    let refused = gw
        .call_as(Some(&bob), "PATCH", "/tables/owned", rename)
        .await;
    assert_eq!(refused.status, 403, "{}", refused.json);
    // Reads are not behind the authorizer.
    assert_eq!(gw.call("GET", "/tables/owned", None).await.status, 200);

    // The stage allows a burst of 5 per route at 1 request per second.
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let answer = gw.call("GET", "/health", None).await;
        if answer.status == 429 {
            assert_eq!(answer.json, json!({"message": "Too Many Requests"}));
        }
        statuses.push(answer.status);
    }
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!((3..=5).contains(&throttled), "{statuses:?}");
    assert_eq!(&statuses[..5], [200; 5]);
}

/// A `bootstrap` script in `dir`.
fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the script");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_is_500_and_a_timeout_503() {
    let scripts = tempfile::tempdir().expect("a temp dir");
    let crashing = script(scripts.path(), "crash", "#!/bin/sh\nexit 3\n");
    let stack = Stack::apply(&crashing, Backend::S3, "");
    let gw = stack.serve(&[]);
    let crashed = gw.call("GET", "/health", None).await;
    assert_eq!(crashed.status, 500);
    assert_eq!(crashed.json, json!({"message": "Internal Server Error"}));

    let silent = script(scripts.path(), "silent", "#!/bin/sh\nexec sleep 60\n");
    let stack = Stack::apply(
        &silent,
        Backend::S3,
        "[env.dev.lambda]\ntimeout_seconds = 1\n",
    );
    let gw = stack.serve(&[]);
    let clock = std::time::Instant::now();
    let timed_out = gw.call("GET", "/health", None).await;
    assert_eq!(timed_out.status, 503);
    assert_eq!(timed_out.json, json!({"message": "Service Unavailable"}));
    assert!(clock.elapsed() < Duration::from_secs(10));
}

#[test]
fn without_a_deployed_environment_serve_says_to_apply_first() {
    testkit::endpoint();
    let dir = tempfile::tempdir().expect("a temp dir");
    let stack = format!(
        "[stack]\nname_prefix = \"{}\"\n\n[backend]\ntype = \"local\"\n\n[env.dev]\n",
        testkit::unique_name("gw")
    );
    std::fs::write(dir.path().join("stack.toml"), stack).expect("the stack file");
    let output = api_common::gateway::command(dir.path())
        .args(["serve", "--env", "dev", "--port", "0"])
        .stdin(Stdio::null())
        .output()
        .expect("the provisioner runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    testkit::assert_contains(&stderr, "has no state");
    testkit::assert_contains(&stderr, "provisioner apply --env dev");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
