//! The API as API Gateway serves it: a stack applied to the emulator with the stage [`STAGE`],
//! its deployed zip run by `provisioner serve`, requests sent to
//! `http://127.0.0.1:PORT/<stage>/...`.
//!
//! Shared by `api_gateway.rs` (what only the gateway shows) and by [`super::Api`], which runs
//! the other API suites through it when `API_VIA=gateway`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use super::Running;

/// The stage every test stack deploys.
pub const STAGE: &str = "v1";

/// Where a stack keeps its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A file in the stack's directory: no bucket or lock table to make first, so the quickest
    /// (the suites run through the gateway apply one stack per test).
    Local,
    /// A versioned S3 bucket under a DynamoDB lock, made by `provisioner bootstrap`: the backend
    /// deploys use, so serve's state read is tested there.
    S3,
}

/// A stack applied to the emulator, in its own directory.
pub struct Stack {
    dir: tempfile::TempDir,
}

/// Runs the provisioner in `dir` and fails the test with its output unless it succeeds.
pub fn provisioner(dir: &Path, args: &[&str]) -> Output {
    let what = format!("provisioner {args:?}");
    testkit::run_ok(command(dir).args(args).stdin(Stdio::null()), &what)
}

/// The provisioner in `dir`, against the emulator, without colours.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(testkit::binary("provisioner"));
    command
        .current_dir(dir)
        .envs(testkit::aws_env())
        .env("NO_COLOR", "1");
    command
}

/// `text` as a TOML string, quoted and escaped.
pub fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

impl Stack {
    /// Applies a stack whose function is `bootstrap` (a binary or a script), with `extra` TOML
    /// after `[env.dev]` (overrides go in `[env.dev.<section>]` tables: the top-level `[lambda]`,
    /// `[api]` and `[backend]` are this function's).
    pub fn apply(bootstrap: &Path, backend: Backend, extra: &str) -> Self {
        testkit::endpoint();
        let dir = tempfile::tempdir().expect("a temp dir");
        let zip = toml_string(&package(bootstrap, dir.path()).display().to_string());
        let name = testkit::unique_name("gw");
        let backend_toml = match backend {
            Backend::Local => "[backend]\ntype = \"local\"\n".to_string(),
            Backend::S3 => format!(
                "[backend]\ntype = \"s3\"\nbucket = \"{name}-state\"\nlock_table = \"{name}-locks\"\n"
            ),
        };
        let stack = format!(
            "[stack]\nname_prefix = \"{name}\"\n\n[lambda]\npackage = {zip}\n\
             architecture = \"x86_64\"\n\n[api]\nstage_name = \"{STAGE}\"\n\n{backend_toml}\n\
             [env.dev]\n\n{extra}\n"
        );
        std::fs::write(dir.path().join("stack.toml"), stack).expect("the stack file");
        if backend == Backend::S3 {
            provisioner(dir.path(), &["bootstrap", "--repo", "example/playground"]);
        }
        provisioner(dir.path(), &["apply", "--env", "dev", "--auto-approve"]);
        Self { dir }
    }

    /// The name of the DynamoDB table the stack made, from its outputs.
    pub fn table(&self) -> String {
        let args = ["output", "--env", "dev", "dynamodb_table_name", "--raw"];
        let output = provisioner(self.dir.path(), &args);
        String::from_utf8(output.stdout)
            .expect("a UTF-8 table name")
            .trim()
            .to_string()
    }

    /// `provisioner serve` on a free port, with `args`.
    pub fn serve(&self, args: &[&str]) -> Gateway {
        let mut child = command(self.dir.path())
            .args(["serve", "--env", "dev", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("provisioner serve starts");
        let wait = Duration::from_secs(60);
        let base = testkit::first_stdout_line(&mut child, "provisioner serve", wait);
        assert!(
            base.starts_with("http://127.0.0.1:") && base.ends_with(&format!("/{STAGE}")),
            "provisioner serve did not start: {base:?}"
        );
        Gateway {
            base,
            http: reqwest::Client::new(),
            server: Running(child),
        }
    }
}

/// A running `provisioner serve`, stopped when dropped.
pub struct Gateway {
    /// `http://127.0.0.1:PORT/v1`.
    pub base: String,
    pub http: reqwest::Client,
    pub server: Running,
}

impl Gateway {
    /// The server's root, without the stage.
    pub fn root(&self) -> String {
        self.base.trim_end_matches(&format!("/{STAGE}")).to_string()
    }
}

/// The zip of `bootstrap` as `provisioner package` makes it, in `dir` (the workspace's
/// `function` binary: the zip every stack shares, see [`function_zip`]).
fn package(bootstrap: &Path, dir: &Path) -> PathBuf {
    if bootstrap == testkit::binary("function") {
        return function_zip();
    }
    package_into(bootstrap, dir)
}

fn package_into(binary: &Path, dir: &Path) -> PathBuf {
    let (binary, out) = (binary.display().to_string(), dir.display().to_string());
    let args = [
        "package", "--arch", "x86_64", "--binary", &binary, "--out", &out,
    ];
    provisioner(dir, &args);
    dir.join("function-x86_64.zip")
}

/// The workspace's `function` binary, stripped as a release build is (`strip`, as
/// `scripts/deploy-rehearsal` does), packaged once per build of it. Its symbols are half of the
/// debug binary, and every apply uploads the zip and every serve unpacks it: stripped, an apply
/// takes about a third less. Zipping it still takes the debug provisioner 10-20 s, more than an
/// apply, so every stack of every test binary shares one zip: it is kept under
/// `target/debug/testkit-packages/`, keyed by the binary's size and modification time (a
/// rebuild makes a new key; older zips are removed). Packaging is deterministic, so two test
/// binaries racing to make it make the same bytes, and the first rename wins.
fn function_zip() -> PathBuf {
    static ZIP: OnceLock<PathBuf> = OnceLock::new();
    ZIP.get_or_init(|| {
        let binary = testkit::binary("function");
        let meta = std::fs::metadata(&binary).expect("the function binary's metadata");
        let built = meta
            .modified()
            .expect("a modification time")
            .duration_since(UNIX_EPOCH)
            .expect("a time after 1970")
            .as_nanos();
        let cache = binary
            .parent()
            .expect("target/debug")
            .join("testkit-packages");
        let key = format!("stripped-{}-{built}", meta.len());
        let zip = cache.join(&key).join("function-x86_64.zip");
        if zip.exists() {
            return zip;
        }
        std::fs::create_dir_all(&cache).expect("the package cache");
        let fresh = tempfile::tempdir_in(&cache).expect("a temp dir in the package cache");
        let stripped = fresh.path().join("bootstrap");
        let mut strip = Command::new("strip");
        strip.arg("-o").arg(&stripped).arg(&binary);
        testkit::run_ok(&mut strip, "strip (binutils)");
        package_into(&stripped, fresh.path());
        std::fs::remove_file(&stripped).expect("the stripped binary is zipped");
        // Fails only when another test binary has just put the same zip there.
        let _ = std::fs::rename(fresh.path(), cache.join(&key));
        let entries = std::fs::read_dir(&cache).expect("the package cache lists");
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name != key.as_str() && !name.to_string_lossy().starts_with(".tmp") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        assert!(zip.exists(), "{} was packaged", zip.display());
        zip
    })
    .clone()
}
