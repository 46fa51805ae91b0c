//! The function side: cold start of the Lambda binary through a Runtime API of our own (the
//! one Lambda gives a `provided.al2023` process), the same for an empty `lambda_http` binary as
//! the floor; CPU and peak memory of `function serve` under a mixed workload; the zip size.
//!
//! The Runtime API here answers the first `GET /invocation/next` with one API Gateway v2 event
//! (`GET /dev/tables/pg0`: one GetItem against the emulator for the function, nothing for the
//! floor) and holds the second poll open until the process is killed, exactly as Lambda freezes
//! a finished invocation. Two instants are taken from exec: the first poll (the binary is ready)
//! and the first response posted back.

use std::io::Write as _;
use std::path::{Path, PathBuf};
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
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::oneshot;

use crate::bench::stats::Summary;

/// What to measure and with what.
pub struct FunctionSetup {
    /// The release build of the `function` crate (the `bootstrap` Lambda runs).
    pub function: PathBuf,
    /// The release build of `tests/bench/floor` (empty `lambda_http`).
    pub floor: PathBuf,
    pub aws_env: Vec<(&'static str, String)>,
    pub cold_runs: usize,
    pub requests: usize,
    pub clients: usize,
}

/// Every figure of the function side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionFigures {
    pub cold_start_ready_ms: Summary,
    pub cold_start_answered_ms: Summary,
    pub floor_ready_ms: Summary,
    pub floor_answered_ms: Summary,
    pub requests: usize,
    pub clients: usize,
    pub requests_per_s: f64,
    pub cpu_s_per_1000_requests: f64,
    pub serve_peak_rss_mb: f64,
    pub zip_bytes: u64,
    pub binary_bytes: u64,
    pub floor_binary_bytes: u64,
}

/// Measures everything; `table` must not exist yet (`function serve` creates it).
pub async fn measure(setup: &FunctionSetup, table: &str) -> Result<FunctionFigures> {
    let load = mixed_workload(setup, table).await?;
    let api = RuntimeApi::start().await?;
    let mut env = setup.aws_env.clone();
    env.push(("TABLE_NAME", table.to_string()));
    let function = cold_starts(&api, &setup.function, &env, setup.cold_runs).await?;
    let floor = cold_starts(&api, &setup.floor, &env, setup.cold_runs).await?;
    let summary = |v: &[f64]| Summary::of(v).context("no cold start was measured");
    Ok(FunctionFigures {
        cold_start_ready_ms: summary(&function.ready_ms)?,
        cold_start_answered_ms: summary(&function.answered_ms)?,
        floor_ready_ms: summary(&floor.ready_ms)?,
        floor_answered_ms: summary(&floor.answered_ms)?,
        requests: load.requests,
        clients: setup.clients,
        requests_per_s: load.requests as f64 / load.elapsed_s,
        cpu_s_per_1000_requests: load.cpu_s / load.requests as f64 * 1000.0,
        serve_peak_rss_mb: load.peak_rss_mb,
        zip_bytes: zipped_size(&setup.function)?,
        binary_bytes: file_size(&setup.function)?,
        floor_binary_bytes: file_size(&setup.floor)?,
    })
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len())
}

/// The binary deflated as `bootstrap` (what `provisioner package` uploads), in bytes.
pub fn zipped_size(binary: &Path) -> Result<u64> {
    Ok(zip_binary(binary)?.len() as u64)
}

/// The binary as a Lambda zip: one entry `bootstrap`, executable, deflated.
pub fn zip_binary(binary: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .unix_permissions(0o755);
    writer.start_file("bootstrap", options)?;
    writer.write_all(&bytes)?;
    Ok(writer.finish()?.into_inner())
}

// --- cold start --------------------------------------------------------------------------

#[derive(Default)]
struct Invocation {
    started: Option<Instant>,
    polled: Option<Instant>,
    answered: Option<Instant>,
    answer: Option<Result<serde_json::Value, String>>,
    done: Option<oneshot::Sender<()>>,
}

#[derive(Clone)]
struct RuntimeApi {
    address: std::net::SocketAddr,
    invocation: Arc<Mutex<Invocation>>,
}

struct ColdStarts {
    ready_ms: Vec<f64>,
    answered_ms: Vec<f64>,
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
    async fn start() -> Result<RuntimeApi> {
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

async fn cold_starts(
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

// --- mixed workload against `function serve` ----------------------------------------------

struct Load {
    requests: usize,
    elapsed_s: f64,
    cpu_s: f64,
    peak_rss_mb: f64,
}

const PLAYGROUNDS: usize = 5;
const USERS: usize = 200;

async fn mixed_workload(setup: &FunctionSetup, table: &str) -> Result<Load> {
    let mut child = tokio::process::Command::new(&setup.function)
        .args(["serve", "--port", "0", "--table", table, "--create-table"])
        .envs(setup.aws_env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {} serve", setup.function.display()))?;
    let pid = child.id().context("function serve exited at once")?;
    let stdout = child
        .stdout
        .take()
        .context("function serve has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("function serve printed no URL within 30 s")??
        .context("function serve exited before printing its URL")?;
    let client = reqwest::Client::new();
    for pg in 0..PLAYGROUNDS {
        let status = client
            .post(format!("{base}/tables"))
            .json(&serde_json::json!({ "tableId": format!("pg{pg}") }))
            .send()
            .await?
            .status();
        if status != reqwest::StatusCode::CREATED {
            bail!("creating playground pg{pg} answered {status}");
        }
    }
    run_clients(&client, &base, 200, 1, 0).await?; // warm-up: connections, first rows
    let cpu_before = cpu_seconds(pid)?;
    let started = Instant::now();
    let per_client = setup.requests / setup.clients.max(1);
    run_clients(&client, &base, per_client, setup.clients, 1).await?;
    let elapsed_s = started.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds(pid)? - cpu_before;
    let peak_rss_mb = peak_rss_mb(pid)?;
    child.start_kill().ok();
    child.wait().await.ok();
    Ok(Load {
        requests: per_client * setup.clients.max(1),
        elapsed_s,
        cpu_s,
        peak_rss_mb,
    })
}

/// `clients` concurrent clients of `per_client` requests each: half PUTs of a user's counts,
/// a quarter single-user GETs, the rest leaderboard pages and playground GETs.
async fn run_clients(
    client: &reqwest::Client,
    base: &str,
    per_client: usize,
    clients: usize,
    seed: u64,
) -> Result<()> {
    let tasks = (0..clients).map(|i| {
        let client = client.clone();
        let base = base.to_string();
        async move {
            let mut rng = fastrand::Rng::with_seed(seed * 1000 + i as u64);
            for _ in 0..per_client {
                let pg = format!("pg{}", rng.usize(..PLAYGROUNDS));
                let user = format!("user{:03}", rng.usize(..USERS));
                let roll = rng.f64();
                let request = if roll < 0.5 {
                    client.put(format!("{base}/tables/{pg}/users/{user}")).json(
                        &serde_json::json!({
                            "submissionCount": rng.u32(..500), "totalCount": 500
                        }),
                    )
                } else if roll < 0.75 {
                    client.get(format!("{base}/tables/{pg}/users/{user}"))
                } else if roll < 0.9 {
                    client.get(format!("{base}/tables/{pg}/users?limit=20"))
                } else {
                    client.get(format!("{base}/tables/{pg}"))
                };
                let status = request.send().await?.status();
                if status != reqwest::StatusCode::OK && status != reqwest::StatusCode::NOT_FOUND {
                    bail!("the workload got {status} from function serve");
                }
            }
            Ok(())
        }
    });
    for result in futures::future::join_all(tasks).await {
        result?;
    }
    Ok(())
}

fn clock_ticks_per_second() -> Result<f64> {
    let output = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .context("running getconf CLK_TCK")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

/// User + system CPU seconds of a live process, from `/proc/PID/stat`.
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_proc_stat_cpu(&stat, clock_ticks_per_second()?)
}

/// utime + stime (fields 14 and 15, counted after the `)` that ends the command name).
pub fn parse_proc_stat_cpu(stat: &str, ticks: f64) -> Result<f64> {
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc stat format")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| -> Result<f64> {
        Ok(fields
            .get(i)
            .context("unexpected /proc stat format")?
            .parse::<f64>()?)
    };
    Ok((field(11)? + field(12)?) / ticks)
}

/// Peak RSS of a live process (`VmHWM` in `/proc/PID/status`), in MB.
fn peak_rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .context("no VmHWM in /proc status")?
        .parse::<f64>()?;
    Ok(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_cpu_skips_a_command_name_with_spaces() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        let stat = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0";
        assert_eq!(parse_proc_stat_cpu(stat, 100.0).unwrap(), 3.0);
        assert!(parse_proc_stat_cpu("garbage", 100.0).is_err());
    }

    #[test]
    fn zipped_size_is_smaller_than_a_compressible_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bin");
        std::fs::write(&path, vec![b'a'; 100_000]).unwrap();
        let size = zipped_size(&path).unwrap();
        assert!(size > 0 && size < 10_000, "{size}");
    }
}
