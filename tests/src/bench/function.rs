//! The function side: cold start of the Lambda binary through a Runtime API of our own (the
//! one Lambda gives a `provided.al2023` process; `cold_start`), the same for an empty
//! `lambda_http` binary as the floor; CPU of `function serve` under four workloads and its peak
//! memory; the zip size.

mod cold_start;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::bench::stats::Summary;
use cold_start::{RuntimeApi, cold_starts};

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

/// Every figure of the function side. A figure added after the first reports is an `Option`:
/// serde reads it as `None` from a report made before it was measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionFigures {
    pub cold_start_ready_ms: Summary,
    pub cold_start_answered_ms: Summary,
    pub floor_ready_ms: Summary,
    pub floor_answered_ms: Summary,
    pub requests: usize,
    pub clients: usize,
    pub requests_per_s: f64,
    /// The mixed workload on new playgrounds (many PUTs create their user).
    pub cpu_s_per_1000_requests: f64,
    /// The same mix once every user exists.
    pub steady_cpu_s_per_1000_requests: Option<f64>,
    /// Requests that each make exactly one DynamoDB call (GET of a playground).
    pub one_call_cpu_s_per_1000_requests: Option<f64>,
    /// Requests that make no DynamoDB call (CORS preflights): the router and server alone.
    pub no_call_cpu_s_per_1000_requests: Option<f64>,
    pub serve_peak_rss_mb: f64,
    pub zip_bytes: u64,
    pub binary_bytes: u64,
    pub floor_binary_bytes: u64,
}

/// Measures everything; `table` must not exist yet (`function serve` creates it).
pub async fn measure(setup: &FunctionSetup, table: &str) -> Result<FunctionFigures> {
    let loads = workloads(setup, table).await?;
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
        requests: loads.fresh.requests,
        clients: setup.clients,
        requests_per_s: loads.fresh.requests as f64 / loads.fresh.elapsed_s,
        cpu_s_per_1000_requests: loads.fresh.cpu_s_per_1000(),
        steady_cpu_s_per_1000_requests: Some(loads.steady.cpu_s_per_1000()),
        one_call_cpu_s_per_1000_requests: Some(loads.one_call.cpu_s_per_1000()),
        no_call_cpu_s_per_1000_requests: Some(loads.no_call.cpu_s_per_1000()),
        serve_peak_rss_mb: loads.peak_rss_mb,
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

// --- workloads against `function serve` --------------------------------------------------

/// One measured workload: how many requests, in how long, for how much CPU of the server.
struct Load {
    requests: usize,
    elapsed_s: f64,
    cpu_s: f64,
}

impl Load {
    fn cpu_s_per_1000(&self) -> f64 {
        self.cpu_s / self.requests.max(1) as f64 * 1000.0
    }
}

/// The four measured workloads and the server's peak memory over all of them.
struct Loads {
    fresh: Load,
    steady: Load,
    one_call: Load,
    no_call: Load,
    peak_rss_mb: f64,
}

const PLAYGROUNDS: usize = 5;
const USERS: usize = 200;

/// What the clients of one workload send.
#[derive(Debug, Clone, Copy)]
enum Workload {
    /// Half PUTs of a user's counts, a quarter single-user GETs, the rest leaderboard pages and
    /// playground GETs, over random users of the five playgrounds.
    Mixed,
    /// A PUT of every user of every playground, so that each one exists afterwards.
    PutEveryUser,
    /// `GET /tables/pg0`: exactly one DynamoDB call (a GetItem) per request.
    GetPlayground,
    /// A CORS preflight: the router and the HTTP server, no DynamoDB call.
    Preflight,
}

/// Runs the workloads against one `function serve` on a new table:
/// - `fresh`: the mixed workload on new playgrounds, where many PUTs create their user (two
///   calls, one a transaction) and many GETs miss (two calls);
/// - `steady`: the same mix once every user exists, as in a playground in use, where every
///   request makes one call;
/// - `one_call` and `no_call`: what one DynamoDB call costs, and what the server costs alone.
async fn workloads(setup: &FunctionSetup, table: &str) -> Result<Loads> {
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
    let clients = setup.clients.max(1);
    let per_client = setup.requests / clients;
    let run = |workload: Workload, per_client: usize, clients: usize, seed: u64| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let cpu_before = cpu_seconds(pid)?;
            let started = Instant::now();
            let requests = run_clients(&client, &base, workload, per_client, clients, seed).await?;
            Ok::<_, anyhow::Error>(Load {
                requests,
                elapsed_s: started.elapsed().as_secs_f64(),
                cpu_s: cpu_seconds(pid)? - cpu_before,
            })
        }
    };
    run(Workload::Mixed, 200, 1, 0).await?; // warm-up: connections, first rows
    let fresh = run(Workload::Mixed, per_client, clients, 1).await?;
    run(Workload::PutEveryUser, 1, clients, 0).await?;
    let steady = run(Workload::Mixed, per_client, clients, 2).await?;
    let one_call = run(Workload::GetPlayground, per_client, clients, 0).await?;
    let no_call = run(Workload::Preflight, per_client, clients, 0).await?;
    let peak_rss_mb = peak_rss_mb(pid)?;
    child.start_kill().ok();
    child.wait().await.ok();
    Ok(Loads {
        fresh,
        steady,
        one_call,
        no_call,
        peak_rss_mb,
    })
}

/// The requests client `index` of `clients` sends (`per_client` of them, or for
/// `PutEveryUser` its share of every user), from a generator seeded by `seed` and `index`.
fn requests_of(
    client: &reqwest::Client,
    base: &str,
    workload: Workload,
    per_client: usize,
    (index, clients): (usize, usize),
    seed: u64,
) -> Vec<reqwest::RequestBuilder> {
    let mut rng = fastrand::Rng::with_seed(seed * 1000 + index as u64);
    let put = |rng: &mut fastrand::Rng, pg: usize, user: usize| {
        client
            .put(format!("{base}/tables/pg{pg}/users/user{user:03}"))
            .json(&serde_json::json!({ "submissionCount": rng.u32(..500), "totalCount": 500 }))
    };
    match workload {
        Workload::Mixed => (0..per_client)
            .map(|_| {
                let (pg, user, roll) = (rng.usize(..PLAYGROUNDS), rng.usize(..USERS), rng.f64());
                if roll < 0.5 {
                    put(&mut rng, pg, user)
                } else if roll < 0.75 {
                    client.get(format!("{base}/tables/pg{pg}/users/user{user:03}"))
                } else if roll < 0.9 {
                    client.get(format!("{base}/tables/pg{pg}/users?limit=20"))
                } else {
                    client.get(format!("{base}/tables/pg{pg}"))
                }
            })
            .collect(),
        Workload::PutEveryUser => (0..PLAYGROUNDS * USERS)
            .skip(index)
            .step_by(clients)
            .map(|n| put(&mut rng, n / USERS, n % USERS))
            .collect(),
        Workload::GetPlayground => (0..per_client)
            .map(|_| client.get(format!("{base}/tables/pg0")))
            .collect(),
        Workload::Preflight => (0..per_client)
            .map(|_| {
                client
                    .request(reqwest::Method::OPTIONS, format!("{base}/tables/pg0"))
                    .header("origin", "https://bench.example")
                    .header("access-control-request-method", "GET")
            })
            .collect(),
    }
}

/// `clients` concurrent clients sending their requests of `workload` one after the other;
/// returns how many were sent. Any answer but 200, 204 or 404 fails the bench.
async fn run_clients(
    client: &reqwest::Client,
    base: &str,
    workload: Workload,
    per_client: usize,
    clients: usize,
    seed: u64,
) -> Result<usize> {
    let tasks = (0..clients).map(|index| {
        let requests = requests_of(client, base, workload, per_client, (index, clients), seed);
        async move {
            let sent = requests.len();
            for request in requests {
                let status = request.send().await?.status();
                if !matches!(status.as_u16(), 200 | 204 | 404) {
                    bail!("the {workload:?} workload got {status} from function serve");
                }
            }
            Ok(sent)
        }
    });
    let mut sent = 0;
    for result in futures::future::join_all(tasks).await {
        sent += result?;
    }
    Ok(sent)
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
