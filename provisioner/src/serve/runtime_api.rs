//! The Lambda Runtime API one sandbox's `bootstrap` talks to, on 127.0.0.1.
//!
//! "Using the Lambda runtime API for custom runtimes" (Lambda developer guide): the runtime asks
//! for work with `GET /2018-06-01/runtime/invocation/next` (held open until there is an event;
//! the answer carries `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn`
//! and `-Trace-Id`), answers with `POST .../invocation/{id}/response` or `.../{id}/error`, and
//! reports a failed start with `POST .../init/error`. Each sandbox has its own server (its own
//! port in `AWS_LAMBDA_RUNTIME_API`), so no routing between sandboxes is needed and one
//! sandbox's runtime cannot answer another's invocation.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// How an invocation ended, as the runtime reported it.
#[derive(Debug)]
pub enum Outcome {
    /// `POST .../response`: the function's answer.
    Response(Bytes),
    /// `POST .../error`: the function failed (Lambda's "Unhandled" function error).
    Error(Bytes),
}

/// One event for the runtime.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub event: Vec<u8>,
    /// Milliseconds since the epoch by which it must be answered.
    pub deadline_ms: u128,
    pub reply: oneshot::Sender<Outcome>,
}

/// What the handlers share.
struct Shared {
    function_arn: String,
    queue: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// When the sandbox's process was started, until its first `next` (the end of its init).
    started: Mutex<Option<Instant>>,
    label: String,
}

/// A running Runtime API: where it listens and the queue that feeds it.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    pub invocations: mpsc::Sender<Invocation>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Starts a server on a free port of 127.0.0.1 for the function `function_arn`; `label`
    /// names the sandbox in logs.
    pub async fn start(function_arn: &str, label: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (invocations, queue) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            function_arn: function_arn.to_string(),
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::default(),
            started: Mutex::new(Some(Instant::now())),
            label,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "the Runtime API server stopped");
            }
        });
        Ok(Self {
            addr,
            invocations,
            server,
        })
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    if let Some(started) = shared.started.lock().ok().and_then(|mut s| s.take()) {
        tracing::info!(
            sandbox = %shared.label,
            "cold start: the sandbox's runtime asked for its first event after {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    let Some(invocation) = shared.queue.lock().await.recv().await else {
        // The pool dropped the sandbox: nothing more will come.
        return (StatusCode::GONE, HeaderMap::new(), Vec::new());
    };
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    put("lambda-runtime-aws-request-id", &invocation.request_id);
    put(
        "lambda-runtime-deadline-ms",
        &invocation.deadline_ms.to_string(),
    );
    put("lambda-runtime-invoked-function-arn", &shared.function_arn);
    let trace = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        invocation.deadline_ms / 1000,
        &uuid::Uuid::new_v4().simple().to_string()[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    put("lambda-runtime-trace-id", &trace);
    put("content-type", "application/json");
    if let Ok(mut waiting) = shared.waiting.lock() {
        waiting.insert(invocation.request_id, invocation.reply);
    }
    (StatusCode::OK, headers, invocation.event)
}

fn finish(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    let waiter = shared.waiting.lock().ok().and_then(|mut w| w.remove(id));
    match waiter {
        Some(waiter) => {
            // The invoker may have given up (timeout); the answer is then dropped.
            let _ = waiter.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, Outcome::Response(body))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    tracing::warn!(sandbox = %shared.label, request = %id, error = %String::from_utf8_lossy(&body), "the function reported an error");
    finish(&shared, &id, Outcome::Error(body))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    tracing::warn!(sandbox = %shared.label, error = %String::from_utf8_lossy(&body), "the function failed to start (init error)");
    StatusCode::ACCEPTED
}
