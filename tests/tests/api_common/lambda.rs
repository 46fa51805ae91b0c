//! The Lambda path as Lambda runs it: the built `function` binary with no subcommand, driven
//! through the Lambda Runtime API protocol by a small runtime-API server of the test, fed API
//! Gateway HTTP API (payload 2.0) events built from the fixtures in `tests/fixtures`.
//!
//! The runtime-API server hands out queued events on `GET .../invocation/next` (with the
//! request id, deadline and function ARN headers) and collects `POST .../response` and
//! `.../error` bodies per request id. Shared by `lambda_runtime_api.rs` and `lambda_auth.rs`.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

use super::Api;

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:playground-test";

/// What the fake runtime API shares between its handlers and the test.
#[derive(Default)]
pub struct Runtime {
    queue: Mutex<VecDeque<(String, String)>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<(&'static str, Value)>>>,
    init_errors: Mutex<Vec<String>>,
}

async fn next_invocation(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    loop {
        let notified = rt.queued.notified();
        if let Some((id, event)) = rt.queue.lock().unwrap().pop_front() {
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 30_000;
            let mut headers = HeaderMap::new();
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).unwrap(),
            );
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline.to_string()).unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static(FUNCTION_ARN),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-65f0c0de-0123456789abcdef01234567;Sampled=0"),
            );
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            return (StatusCode::OK, headers, event);
        }
        notified.await;
    }
}

fn finish(rt: &Runtime, id: &str, kind: &'static str, body: &Bytes) -> StatusCode {
    let value = serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    if let Some(waiter) = rt.waiting.lock().unwrap().remove(id) {
        let _ = waiter.send((kind, value));
    }
    StatusCode::ACCEPTED
}

/// `POST /invocation/{id}/response` and `/invocation/{id}/error`: how the invocation ended.
async fn invocation_end(
    State(rt): State<Arc<Runtime>>,
    Path((id, end)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    match end.as_str() {
        "response" => finish(&rt, &id, "response", &body),
        "error" => finish(&rt, &id, "error", &body),
        _ => StatusCode::NOT_FOUND,
    }
}

async fn init_error(State(rt): State<Arc<Runtime>>, body: Bytes) -> StatusCode {
    rt.init_errors
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// The `function` binary running as a Lambda function against the fake runtime API.
pub struct Lambda {
    runtime: Arc<Runtime>,
    child: Child,
    /// The function's stdout (its JSON log lines).
    pub logs: Arc<Mutex<Vec<String>>>,
    /// Keeps the playground table (created by a local server) and gives a second view on it.
    pub api: Api,
}

impl Lambda {
    pub async fn start() -> Self {
        Self::start_with(None, &[]).await
    }

    /// Starts on `table`, or on the (existing) table of a fresh local server.
    pub async fn start_on(table: Option<&str>) -> Self {
        Self::start_with(table, &[]).await
    }

    /// Starts on `table` (or a fresh local server's) with extra environment variables.
    pub async fn start_with(table: Option<&str>, env: &[(&str, &str)]) -> Self {
        let api = Api::start_function(&[]);
        let table = table.unwrap_or(&api.table).to_string();
        let runtime = Arc::new(Runtime::default());
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .route(
                "/2018-06-01/runtime/invocation/{id}/{end}",
                post(invocation_end),
            )
            .with_state(runtime.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let mut child = Command::new(testkit::binary("function"))
            .envs(testkit::aws_env())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "playground-test")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/25/[$LATEST]test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/playground-test")
            .env("TABLE_NAME", &table)
            .env("AWS_LAMBDA_LOG_LEVEL", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the function binary starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            runtime,
            child,
            logs,
            api,
        }
    }

    /// Sends one event and returns its request id and the function's response (or fails on an
    /// invocation error).
    pub async fn invoke_with_id(&self, event: Value) -> (String, Value) {
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.runtime.waiting.lock().unwrap().insert(id.clone(), tx);
        self.runtime
            .queue
            .lock()
            .unwrap()
            .push_back((id.clone(), event.to_string()));
        self.runtime.queued.notify_waiters();
        let (kind, value) = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no answer to invocation {id} in 30 s; init errors: {:?}",
                    self.runtime.init_errors.lock().unwrap()
                )
            })
            .expect("the runtime API keeps the waiter");
        assert_eq!(kind, "response", "invocation failed: {value}");
        (id, value)
    }

    /// Invokes and returns (statusCode, headers, parsed JSON body).
    pub async fn request(&self, event: Value) -> (u16, Value, Value) {
        self.request_with_id(event).await.1
    }

    /// Like [`Self::request`], also returning the Lambda request id of the invocation.
    pub async fn request_with_id(&self, event: Value) -> (String, (u16, Value, Value)) {
        let (id, response) = self.invoke_with_id(event).await;
        (id, Self::decode(response))
    }

    pub fn decode(response: Value) -> (u16, Value, Value) {
        let status = response["statusCode"].as_u64().expect("statusCode") as u16;
        let raw = response["body"].as_str().unwrap_or_default();
        let text = if response["isBase64Encoded"] == true {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .unwrap();
            String::from_utf8(bytes).unwrap()
        } else {
            raw.to_string()
        };
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("body of {status} is not JSON ({e}): {text:?}"));
        (status, response["headers"].clone(), body)
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A full event with a named stage: `rawPath` carries the stage, as API Gateway sends it.
pub fn staged(method: &str, route: &str, path: &str, query: &str, body: Option<&Value>) -> Value {
    let mut event = fixture("apigw_v2_request_with_stage.json");
    let raw_path = format!("/dev{path}");
    event["routeKey"] = json!(format!("{method} {route}"));
    event["requestContext"]["routeKey"] = event["routeKey"].clone();
    event["rawPath"] = json!(raw_path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(raw_path);
    event["requestContext"]["requestId"] = json!(uuid::Uuid::new_v4().to_string());
    event["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    event
}

/// A minimal event: no `routeKey`, no stage, no body unless given.
pub fn minimal(method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut event = fixture("apigw_v2_request_minimal.json");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    if let Some(b) = body {
        event["body"] = json!(b.to_string());
    }
    event
}
