//! Sandboxes: the function's `bootstrap`, from the deployed zip, run as Lambda runs it, and a
//! pool of warm ones.
//!
//! A sandbox is one process with its own Runtime API ([`super::runtime_api`]) and handles one
//! request at a time, as a Lambda execution environment does. The pool keeps finished sandboxes
//! warm and starts a new one (a cold start, logged) only when every warm one is busy, up to a
//! limit beyond which requests wait. A sandbox whose invocation timed out, crashed, reported an
//! error or outgrew the function's memory is discarded (its process killed), as Lambda
//! discards an environment after such a failure.
//!
//! The process gets the environment Lambda gives a custom runtime: the function's own
//! variables, then the reserved ones (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`,
//! `_HANDLER`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `AWS_REGION`, `LAMBDA_TASK_ROOT`, ...), which
//! the function's cannot override, and the caller's credentials as the execution role's would
//! be; `AWS_ENDPOINT_URL*` pass through, so a function served from the emulator talks to it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, oneshot};

use super::ServeError;
use super::deployed::Function;
use super::runtime_api::{Invocation, Outcome, RuntimeApi};

/// Largest zip downloaded (Lambda's limit for a deployment package is 250 MB unzipped).
const MAX_ZIP_BYTES: usize = 256 * 1024 * 1024;
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an invocation gave no answer: API Gateway answers 503 for a timeout, 500 for the rest.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("the function timed out after {0:?}")]
    Timeout(Duration),
    #[error("the function's process exited ({0})")]
    Crashed(String),
    #[error("the function reported an error")]
    FunctionError,
    #[error("the function used {used} MB, over its {limit} MB")]
    OutOfMemory { used: u64, limit: u32 },
    #[error("the sandbox could not start: {0}")]
    Start(String),
}

/// The function's code on disk and what every sandbox of it is started with.
#[derive(Debug)]
pub struct Code {
    pub function: Function,
    /// The zip's contents (Lambda's `/var/task`), removed when the pool is dropped.
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Code {
    /// Downloads `function`'s zip and unpacks it; `credentials` are the variables the
    /// execution role's credentials would be.
    pub async fn fetch(
        function: Function,
        credentials: BTreeMap<String, String>,
    ) -> Result<Self, ServeError> {
        let zip = jwtcheck::fetch::get(&function.code_url, MAX_ZIP_BYTES, DOWNLOAD_TIMEOUT)
            .await
            .map_err(|e| ServeError::Download(function.name.clone(), e.to_string()))?;
        let dir = tempfile::Builder::new()
            .prefix("provisioner-serve-")
            .tempdir()
            .map_err(|e| ServeError::Sandbox(format!("creating a directory for the zip: {e}")))?;
        let unzip =
            |e: String| ServeError::Sandbox(format!("unpacking the zip of {}: {e}", function.name));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec()))
            .map_err(|e| unzip(e.to_string()))?;
        archive
            .extract(dir.path())
            .map_err(|e| unzip(e.to_string()))?;
        let bootstrap = dir.path().join("bootstrap");
        if !bootstrap.is_file() {
            return Err(unzip("it holds no `bootstrap` at its root".into()));
        }
        make_executable(&bootstrap).map_err(|e| unzip(e.to_string()))?;
        let host = match std::env::consts::ARCH {
            "aarch64" => crate::stack::Architecture::Arm64,
            _ => crate::stack::Architecture::X86_64,
        };
        crate::package::check_architecture(&bootstrap, host).map_err(|e| {
            ServeError::Sandbox(format!(
                "the {} function's bootstrap cannot run on this machine: {e}; apply a build for \
                 this machine's architecture (scripts/dev applies the local x86_64 build)",
                function.name
            ))
        })?;
        let env = environment(&function, dir.path(), credentials);
        Ok(Self { function, dir, env })
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_mode(permissions.mode() | 0o555);
    std::fs::set_permissions(path, permissions)
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The variables of a sandbox, but `AWS_LAMBDA_RUNTIME_API` (each sandbox's own).
fn environment(
    function: &Function,
    task_root: &Path,
    credentials: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = function.variables.clone();
    for (name, value) in std::env::vars() {
        if name.starts_with("AWS_ENDPOINT_URL") || name == "PATH" {
            env.insert(name, value);
        }
    }
    env.extend(credentials);
    let root = task_root.display().to_string();
    let reserved = [
        ("_HANDLER", function.handler.clone()),
        ("AWS_REGION", region_of(&function.arn)),
        ("AWS_DEFAULT_REGION", region_of(&function.arn)),
        (
            "AWS_EXECUTION_ENV",
            format!("AWS_Lambda_{}", function.runtime),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME", function.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            function.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", function.name),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        ("LAMBDA_TASK_ROOT", root.clone()),
        ("LAMBDA_RUNTIME_DIR", root),
        ("LANG", "en_US.UTF-8".to_string()),
        ("TZ", ":UTC".to_string()),
    ];
    env.extend(reserved.into_iter().map(|(k, v)| (k.to_string(), v)));
    env
}

fn region_of(arn: &str) -> String {
    arn.split(':').nth(3).unwrap_or("us-east-1").to_string()
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// One execution environment: the process and its Runtime API.
struct Sandbox {
    label: String,
    child: Child,
    api: RuntimeApi,
}

impl Sandbox {
    async fn start(code: &Code, number: usize) -> Result<Self, InvokeError> {
        let label = format!("{}#{number}", code.function.name);
        let api = RuntimeApi::start(&code.function.arn, label.clone())
            .await
            .map_err(|e| InvokeError::Start(e.to_string()))?;
        let stream = format!(
            "{}/[$LATEST]{}",
            time::OffsetDateTime::now_utc().date(),
            uuid::Uuid::new_v4().simple()
        );
        let child = Command::new(code.dir.path().join("bootstrap"))
            .current_dir(code.dir.path())
            .env_clear()
            .envs(&code.env)
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_LOG_STREAM_NAME", stream)
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| InvokeError::Start(e.to_string()))?;
        tracing::info!(sandbox = %label, "cold start: started the function's bootstrap");
        Ok(Self { label, child, api })
    }

    /// Runs one event; the sandbox stays usable only when this returns `Ok`.
    async fn invoke(
        &mut self,
        event: Vec<u8>,
        request_id: &str,
        timeout: Duration,
        memory_mb: u32,
    ) -> Result<Vec<u8>, InvokeError> {
        let (reply, answer) = oneshot::channel();
        let invocation = Invocation {
            request_id: request_id.to_string(),
            event,
            deadline_ms: epoch_ms() + timeout.as_millis(),
            reply,
        };
        let sent = self.api.invocations.send(invocation);
        let run = async {
            sent.await
                .map_err(|_| InvokeError::Start("the Runtime API is gone".into()))?;
            answer
                .await
                .map_err(|_| InvokeError::Crashed("no answer".into()))
        };
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(timeout, run) => {
                outcome.map_err(|_| InvokeError::Timeout(timeout))??
            }
            status = self.child.wait() => {
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                return Err(InvokeError::Crashed(status));
            }
        };
        if let Some(used) = peak_memory_mb(&self.child)
            && used > u64::from(memory_mb)
        {
            return Err(InvokeError::OutOfMemory {
                used,
                limit: memory_mb,
            });
        }
        match outcome {
            Outcome::Response(body) => Ok(body.to_vec()),
            Outcome::Error(_) => Err(InvokeError::FunctionError),
        }
    }
}

/// The process's peak resident memory (Linux `VmHWM`), in MB.
fn peak_memory_mb(child: &Child) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Warm sandboxes of one function.
pub struct Pool {
    code: Code,
    idle: Mutex<Vec<Sandbox>>,
    limit: Semaphore,
    started: std::sync::atomic::AtomicUsize,
}

impl Pool {
    /// A pool of at most `size` sandboxes running `code`.
    pub fn new(code: Code, size: usize) -> Self {
        Self {
            code,
            idle: Mutex::default(),
            limit: Semaphore::new(size.max(1)),
            started: Default::default(),
        }
    }

    /// The function's code directory (for logs).
    pub fn task_root(&self) -> PathBuf {
        self.code.dir.path().to_path_buf()
    }

    /// Invokes the function with `event` in a warm sandbox, or a new one if none is free.
    pub async fn invoke(&self, event: Vec<u8>, request_id: &str) -> Result<Vec<u8>, InvokeError> {
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|_| InvokeError::Start("the pool is closed".into()))?;
        let warm = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut sandbox = match warm {
            Some(sandbox) => sandbox,
            None => {
                let number = self
                    .started
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                Sandbox::start(&self.code, number).await?
            }
        };
        let function = &self.code.function;
        let clock = Instant::now();
        let result = sandbox
            .invoke(event, request_id, function.timeout, function.memory_mb)
            .await;
        match &result {
            Ok(_) => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push(sandbox);
                }
            }
            Err(error) => tracing::warn!(
                sandbox = %sandbox.label,
                request = %request_id,
                "{error} after {:.1} ms; the sandbox is discarded",
                clock.elapsed().as_secs_f64() * 1000.0
            ),
        }
        result
    }
}
