//! Shared by the `api_*` and `lambda_*` tests: a server of the API on its own table in the
//! local emulator, and small request helpers.
//!
//! Each test starts its own server (port 0, the URL read from its stdout) on a unique table,
//! so tests run in parallel without sharing state, and the process dies with its guard. The
//! server is `function serve`, or with `API_VIA=gateway` a stack applied to the emulator and
//! served by `provisioner serve` (see [`Via`]): the same test bodies then run through API
//! Gateway's routing, authorizer and CORS, and the deployed zip under a Lambda Runtime API.
#![allow(dead_code)]

pub mod gateway;
pub mod lambda;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A server process a test started, killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What [`Api::start`] and friends serve the API with, chosen by `API_VIA`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `API_VIA` unset or `function`: `function serve`, the router over HTTP.
    Function,
    /// `API_VIA=gateway`: one stack per test applied to the emulator (local state, stage
    /// [`gateway::STAGE`], `DELETE` deployed), served by `provisioner serve`. `scripts/test`
    /// runs the API suites this way too, leaving out by name the tests that check what only
    /// `function serve` does.
    Gateway,
}

impl Via {
    /// `API_VIA`'s choice; any other value fails the test rather than fall back.
    pub fn current() -> Self {
        match std::env::var("API_VIA").as_deref() {
            Err(std::env::VarError::NotPresent) | Ok("" | "function") => Self::Function,
            Ok("gateway") => Self::Gateway,
            other => panic!("API_VIA={other:?}: expected `function` or `gateway`"),
        }
    }
}

/// A running server of the API on a fresh table.
pub struct Api {
    /// The URL the paths go after: `http://127.0.0.1:PORT`, or `.../v1` through the gateway.
    pub base: String,
    pub table: String,
    pub http: reqwest::Client,
    pub via: Via,
    _server: Running,
    /// The applied stack, through the gateway (its directory holds the local state).
    _stack: Option<gateway::Stack>,
}

impl Api {
    /// Starts a server on a new table with default settings.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server on a new table with extra environment variables of `function serve`;
    /// through the gateway, the stack settings that deploy the same configuration (see
    /// [`Self::through_gateway`]).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        match Via::current() {
            Via::Function => Self::start_function(env),
            Via::Gateway => Self::through_gateway(env),
        }
    }

    /// Starts `function serve` on a new table whatever `API_VIA` says (the Lambda tests need
    /// only its table).
    pub fn start_function(env: &[(&str, &str)]) -> Self {
        Self::spawn(&testkit::unique_name("api"), true, env)
    }

    /// Starts a server on a table the test created itself (e.g. with another schema). Only
    /// `function serve` can: a stack serves the table it made.
    pub fn start_on(table: &str) -> Self {
        assert_eq!(
            Via::current(),
            Via::Function,
            "a stack serves its own table, not {table}: leave this test out of the gateway run \
             (scripts/test)"
        );
        Self::spawn(table, false, &[])
    }

    fn spawn(table: &str, create_table: bool, env: &[(&str, &str)]) -> Self {
        let table = table.to_string();
        let mut command = Command::new(testkit::binary("function"));
        command
            .args(["serve", "--port", "0", "--table", &table])
            .args(create_table.then_some("--create-table"))
            .envs(testkit::aws_env())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the function binary starts");
        let base =
            testkit::first_stdout_line(&mut child, "function serve", Duration::from_secs(30));
        assert!(
            base.starts_with("http://127.0.0.1:"),
            "function serve did not start: {base:?}"
        );
        Self {
            base,
            table,
            http: reqwest::Client::new(),
            via: Via::Function,
            _server: Running(child),
            _stack: None,
        }
    }

    /// Applies a stack that deploys what `function serve` would do with `env`, and serves it.
    /// Each variable maps to its stack setting (`CORS_ALLOW_ORIGINS` to `[api]
    /// cors_allow_origins`, `AUTH_*` to `[auth]`, the local issuer's `AUTH_JWKS` to `serve
    /// --jwks`); one without a setting fails the test, so a test can only be left out of the
    /// gateway run by name. `DELETE` is deployed (`allow_table_delete`): the suites test it, and
    /// its undeployed 404 is `api_gateway.rs`'s.
    fn through_gateway(env: &[(&str, &str)]) -> Self {
        let list = |value: &str| {
            let items = value
                .split(',')
                .map(|v| toml::Value::String(v.trim().into()));
            toml::Value::Array(items.collect()).to_string()
        };
        let mut api = String::from("[env.dev.api]\nallow_table_delete = true\n");
        let mut auth = String::new();
        let mut serve_args = Vec::new();
        for (key, value) in env {
            let setting = match *key {
                "CORS_ALLOW_ORIGINS" => {
                    api += &format!("cors_allow_origins = {}\n", list(value));
                    continue;
                }
                "AUTH_JWKS" => {
                    serve_args.extend(["--jwks", value]);
                    continue;
                }
                "AUTH_ISSUER" => {
                    format!("enabled = true\nissuer = {}", gateway::toml_string(value))
                }
                "AUTH_AUDIENCE" => format!("audience = {}", list(value)),
                "AUTH_ADMIN_GROUP" => format!("admin_group = {}", gateway::toml_string(value)),
                "AUTH_USERNAME_CLAIM" => {
                    format!("username_claim = {}", gateway::toml_string(value))
                }
                "AUTH_GROUPS_CLAIM" => format!("groups_claim = {}", gateway::toml_string(value)),
                other => panic!(
                    "{other} has no stack setting: leave this test out of the gateway run \
                     (scripts/test)"
                ),
            };
            auth += &setting;
            auth.push('\n');
        }
        if !auth.is_empty() {
            auth.insert_str(0, "[env.dev.auth]\n");
        }
        let extra = format!("{api}\n{auth}");
        let function = testkit::binary("function");
        let stack = gateway::Stack::apply(&function, gateway::Backend::Local, &extra);
        let served = stack.serve(&serve_args);
        Self {
            base: served.base,
            table: stack.table(),
            http: served.http,
            via: Via::Gateway,
            _server: served.server,
            _stack: Some(stack),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with an optional raw body; returns status, headers and parsed JSON.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        self.call_as(None, method, path, body).await
    }

    /// Like [`Self::call`], with `Authorization: Bearer <token>` when a token is given.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let request = testkit::api_request(
            &self.http,
            method,
            self.url(path),
            token,
            body.map(<[u8]>::to_vec),
        );
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status} body is not JSON ({e}): {text:?}"));
        (status, headers, json)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.call("GET", path, None).await;
        (status, body)
    }

    /// Sends a JSON body (or none) with a bearer token (or none); returns status and JSON.
    pub async fn send_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let raw = body.map(|b| serde_json::to_vec(b).expect("serialisable"));
        let (status, _, body) = self.call_as(token, method, path, raw.as_deref()).await;
        (status, body)
    }

    pub async fn send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let raw = serde_json::to_vec(body).expect("serialisable");
        let (status, _, body) = self.call(method, path, Some(&raw)).await;
        (status, body)
    }

    /// Sends `method path` with a JSON body (or none) and asserts a refusal: `status`, and an
    /// error body (see [`assert_error`]) that mentions `contains`. Most tests check a refusal
    /// this way, status and message together.
    pub async fn refused(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        status: u16,
        contains: &str,
    ) {
        let (answered, body) = self.send_as(None, method, path, body).await;
        assert_eq!(answered, status, "{method} {path}: {body}");
        assert_error(&body, contains);
    }

    /// Asserts the body of a 401 for a missing or bad token (`context` says which): `function
    /// serve` verifies tokens itself and answers with its own error body; through the gateway the
    /// JWT authorizer refuses before the function runs, with API Gateway's fixed body.
    pub fn assert_unauthorized(&self, body: &Value, context: &str) {
        match self.via {
            Via::Function => assert!(body["error"].is_string(), "{context}: {body}"),
            Via::Gateway => {
                let gateway = serde_json::json!({"message": "Unauthorized"});
                assert_eq!(body, &gateway, "{context}");
            }
        }
    }

    /// Creates a playground and asserts the 201.
    pub async fn create(&self, id: &str) {
        let (status, body) = self
            .send("POST", "/tables", &serde_json::json!({ "tableId": id }))
            .await;
        assert_eq!(status, 201, "creating {id}: {body}");
    }

    /// Creates each playground of `ids`, in this order (the listings order them by creation).
    pub async fn create_all(&self, ids: &[&str]) {
        for id in ids {
            self.create(id).await;
        }
    }

    /// Creates playground `id` with `count` users, `u0` to `u<count - 1>`, user `u<i>` with `i`
    /// submissions: a playground with many rows to delete or page through.
    pub async fn create_with_users(&self, id: &str, count: u64) {
        self.create(id).await;
        for i in 0..count {
            self.put_user(id, &format!("u{i}"), i).await;
        }
    }

    /// Follows `lastKey` from the page at `first` to the last page (each a 200); returns the
    /// items of the list `field` of every page, in order, and the number of pages.
    pub async fn all_pages(&self, first: &str, field: &str) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut path = first.to_string();
        loop {
            let (status, body) = self.get(&path).await;
            assert_eq!(status, 200, "{path}: {body}");
            pages += 1;
            items.extend(body[field].as_array().unwrap().iter().cloned());
            match last_key_param(&body) {
                Some(key) => {
                    let sep = if first.contains('?') { '&' } else { '?' };
                    path = format!("{first}{sep}lastKey={key}");
                }
                None => break,
            }
            assert!(pages < 100, "pagination does not end");
        }
        (items, pages)
    }

    /// Writes a user's counts and asserts the 200.
    pub async fn put_user(&self, table: &str, user: &str, submissions: u64) {
        let (status, body) = self
            .send(
                "PUT",
                &format!("/tables/{table}/users/{user}"),
                &serde_json::json!({ "submissionCount": submissions, "totalCount": submissions * 2 }),
            )
            .await;
        assert_eq!(status, 200, "writing {table}/{user}: {body}");
    }
}

/// `lastKey` of a page, JSON-encoded and percent-encoded for the query string.
pub fn last_key_param(page: &Value) -> Option<String> {
    let key = page.get("lastKey")?;
    let text = serde_json::to_string(key).ok()?;
    Some(percent_encode(&text))
}

/// Percent-encodes every byte outside the unreserved set.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `name` of each item of the listing `list` of a page (`tables`, `users`), in the page's
/// order.
pub fn column<'a>(page: &'a Value, list: &str, name: &str) -> Vec<&'a Value> {
    items(page, list).iter().map(|item| &item[name]).collect()
}

/// The items of the listing `list` of a page, each asserted to carry every one of `fields`.
pub fn items_with<'a>(page: &'a Value, list: &str, fields: &[&str]) -> &'a [Value] {
    let items = items(page, list);
    for item in items {
        for field in fields {
            assert!(item.get(field).is_some(), "{field} missing in {item}");
        }
    }
    items
}

fn items<'a>(page: &'a Value, list: &str) -> &'a [Value] {
    page[list]
        .as_array()
        .unwrap_or_else(|| panic!("{list} is an array: {page}"))
}

/// An error body: `{"error": "<non-empty message>"}` and nothing else.
pub fn assert_error(body: &Value, contains: &str) {
    let object = body.as_object().expect("error body is an object");
    assert_eq!(object.len(), 1, "error body has only `error`: {body}");
    let message = object["error"].as_str().expect("error is a string");
    assert!(
        message.contains(contains),
        "error {message:?} should mention {contains:?}"
    );
}
