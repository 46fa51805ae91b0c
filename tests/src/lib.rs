//! The test harness: how every test in the workspace reaches the local AWS emulator and the
//! project's binaries.
//!
//! Tests never mock the SDK. They talk to moto in server mode on 127.0.0.1, which the README's
//! test command (`scripts/test`) installs and starts before running `cargo test`. The endpoint
//! comes from `AWS_ENDPOINT_URL`; when it is unset or nothing answers there, the harness panics
//! with the command to run, so a missing emulator is a loud failure and never a silent skip.

pub mod tokens;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// Region every test uses; moto accepts any, the SDK needs one.
pub const REGION: &str = "us-east-1";

/// The emulator's base URL (`http://127.0.0.1:PORT`), checked once to be answering.
///
/// # Panics
/// When `AWS_ENDPOINT_URL` is unset or the emulator does not answer: the message says how to
/// start it. Tests that need AWS must fail, never skip.
pub fn endpoint() -> String {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| {
            let url = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
                panic!(
                    "AWS_ENDPOINT_URL is not set: these tests need the local AWS emulator. \
                     Run them with `scripts/test`, which installs and starts it."
                )
            });
            let probe = format!("{}/moto-api/", url.trim_end_matches('/'));
            let answered = std::thread::spawn(move || {
                std::process::Command::new("curl")
                    .args(["-sf", "-o", "/dev/null", "--max-time", "5", &probe])
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false)
            })
            .join()
            .unwrap_or(false);
            assert!(
                answered,
                "the AWS emulator does not answer at {url}: start it with \
                 `scripts/emulator.sh start` or run the tests with `scripts/test`"
            );
            url.trim_end_matches('/').to_string()
        })
        .clone()
}

/// Environment variables a child process (one of our binaries) needs to reach the emulator.
pub fn aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint()),
        ("AWS_REGION", REGION.to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
}

/// One SDK configuration pointed at the emulator, with static test credentials.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let endpoint = endpoint();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "testkit",
        ))
        .load()
        .await
}

/// An S3 client for the emulator (path-style addressing, which moto needs).
pub async fn s3_client() -> aws_sdk_s3::Client {
    let config = sdk_config().await;
    let s3_config = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

/// Suspends versioning on `bucket`, as an operator might by hand: the drift the provisioner's
/// and the state crate's backend checks must both refuse (shared so they test the same drift).
pub async fn suspend_versioning(s3: &aws_sdk_s3::Client, bucket: &str) {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let suspended = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::Suspended)
        .build();
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(suspended)
        .send()
        .await
        .expect("suspend the bucket's versioning");
}

/// A DynamoDB client for the emulator.
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// An IAM client for the emulator.
pub async fn iam_client() -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config().await)
}

/// Asserts that `text` contains `needle`, showing both when it does not.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "no {needle:?} in:\n{text}");
}

/// A name no other test uses, so tests can share one emulator without resetting it.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// Path of one of the workspace's binaries, built by `cargo build --workspace` beforehand
/// (the test command does that).
///
/// # Panics
/// When the binary has not been built, with the command that builds it.
pub fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (scripts/test does)",
        path.display()
    );
    path
}

/// The first line a server a test started prints on stdout (its URL), trimmed; the server's
/// stdout must be piped.
///
/// # Panics
/// When nothing comes within `timeout`, naming `what` was expected to start.
pub fn first_stdout_line(child: &mut std::process::Child, what: &str, timeout: Duration) -> String {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("the server's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(timeout)
        .unwrap_or_else(|_| panic!("{what} prints its URL within {timeout:?}"))
        .trim()
        .to_string()
}

/// A free TCP port on 127.0.0.1 for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the OS hands out a free loopback port")
}

/// Waits until something accepts TCP connections on `127.0.0.1:port`.
///
/// # Panics
/// After `timeout` with nothing listening.
pub fn wait_for_port(port: u16, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens on 127.0.0.1:{port} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An API request as the API tests send it: `method` on `url`, a bearer `token` when given,
/// and `body` as JSON when given (the direct and the gateway tests build theirs alike).
pub fn api_request(
    http: &reqwest::Client,
    method: &str,
    url: String,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid HTTP method");
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(body),
        None => request,
    }
}

/// Runs `command` to its end and returns its output, failing the test with both streams when
/// it does not succeed (`what` names it in the message).
pub fn run_ok(command: &mut std::process::Command, what: &str) -> std::process::Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what} could not start: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
