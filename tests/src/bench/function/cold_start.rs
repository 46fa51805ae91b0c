//! Cold start through a Runtime API of our own. It answers the first `GET /invocation/next`
//! with one API Gateway v2 event (`GET /dev/tables/pg0`: one GetItem against the emulator for
//! the function, nothing for the floor) and holds the second poll open until the process is
//! killed, exactly as Lambda freezes a finished invocation. Two instants are taken from exec:
//! the first poll (the binary is ready) and the first response posted back.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::oneshot;

#[derive(Default)]
struct Invocation {
    started: Option<Instant>,
    polled: Option<Instant>,
    answered: Option<Instant>,
    answer: Option<Result<serde_json::Value, String>>,
    done: Option<oneshot::Sender<()>>,
}

/// The Runtime API server and the invocation in flight.
#[derive(Clone)]
pub(super) struct RuntimeApi {
    address: std::net::SocketAddr,
    invocation: Arc<Mutex<Invocation>>,
}

/// Milliseconds from exec to the first poll and to the first response, one per run.
pub(super) struct ColdStarts {
    pub(super) ready_ms: Vec<f64>,
    pub(super) answered_ms: Vec<f64>,
}

const REQUEST_ID: &str = "bench-request-1";

fn event() -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "GET /tables/{tableId}",
        "rawPath": "/dev/tables/pg0",
        "rawQueryString": "",
        "headers": { "host": "bench.example", "accept": "application/json" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.example",
            "http": { "method": "GET", "path": "/dev/tables/pg0", "protocol": "HTTP/1.1",
                      "sourceIp": "127.0.0.1", "userAgent": "bench" },
            "requestId": REQUEST_ID, "routeKey": "GET /tables/{tableId}", "stage": "dev",
            "time": "25/Nov/2026:18:00:00 +0000", "timeEpoch": 0
        },
        "pathParameters": { "tableId": "pg0" },
        "isBase64Encoded": false
    })
    .to_string()
}

impl RuntimeApi {
    pub(super) async fn start() -> Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the Runtime API")?;
        let api = RuntimeApi {
            address: listener.local_addr()?,
            invocation: Arc::default(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(answered),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(failed))
            .route("/2018-06-01/runtime/init/error", post(failed))
            .with_state(api.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the Runtime API stopped");
            }
        });
        Ok(api)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Invocation> {
        self.invocation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

async fn next(State(api): State<RuntimeApi>) -> Response {
    let first = {
        let mut invocation = api.lock();
        let first = invocation.polled.is_none() && invocation.started.is_some();
        if first {
            invocation.polled = Some(Instant::now());
        }
        first
    };
    if !first {
        // Lambda freezes the process here; the bench kills it.
        return std::future::pending::<Response>().await;
    }
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_static(REQUEST_ID),
    );
    if let Ok(value) = HeaderValue::from_str(&deadline.to_string()) {
        headers.insert("lambda-runtime-deadline-ms", value);
    }
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bench"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-00000000-000000000000000000000000;Sampled=0"),
    );
    (StatusCode::OK, headers, event()).into_response()
}

fn finish(api: &RuntimeApi, answer: Result<serde_json::Value, String>) -> StatusCode {
    let mut invocation = api.lock();
    invocation.answered.get_or_insert_with(Instant::now);
    invocation.answer.get_or_insert(answer);
    if let Some(done) = invocation.done.take() {
        let _ = done.send(());
    }
    StatusCode::ACCEPTED
}

async fn answered(State(api): State<RuntimeApi>, body: Bytes) -> StatusCode {
    let answer = serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"));
    finish(&api, answer)
}

async fn failed(State(api): State<RuntimeApi>, body: Bytes) -> StatusCode {
    finish(&api, Err(String::from_utf8_lossy(&body).into_owned()))
}

/// Starts `binary` `runs` times, each answering one invocation, and times each start.
pub(super) async fn cold_starts(
    api: &RuntimeApi,
    binary: &Path,
    env: &[(&'static str, String)],
    runs: usize,
) -> Result<ColdStarts> {
    let mut result = ColdStarts {
        ready_ms: Vec::new(),
        answered_ms: Vec::new(),
    };
    for _ in 0..runs {
        let (done, finished) = oneshot::channel();
        let mut command = tokio::process::Command::new(binary);
        command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        *api.lock() = Invocation {
            done: Some(done),
            started: Some(Instant::now()),
            ..Invocation::default()
        };
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let waited = tokio::time::timeout(Duration::from_secs(10), finished).await;
        child.start_kill().ok();
        child.wait().await.ok();
        let invocation = std::mem::take(&mut *api.lock());
        if waited.is_err() {
            bail!(
                "{} did not answer its first invocation within 10 s",
                binary.display()
            );
        }
        let (Some(started), Some(polled), Some(answered)) =
            (invocation.started, invocation.polled, invocation.answered)
        else {
            bail!("{} answered without polling", binary.display());
        };
        match invocation.answer {
            Some(Ok(answer)) if answer["statusCode"] == 200 => {}
            other => bail!(
                "{} answered its first invocation with {other:?}, not a 200",
                binary.display()
            ),
        }
        result
            .ready_ms
            .push(polled.duration_since(started).as_secs_f64() * 1000.0);
        result
            .answered_ms
            .push(answered.duration_since(started).as_secs_f64() * 1000.0);
    }
    Ok(result)
}
