//! Shared set-up of the provisioner's end-to-end tests: a stack file with a unique name prefix
//! in its own temp dir (local state backend, a tiny prebuilt code zip), the real `provisioner`
//! binary run against the emulator, and SDK look-ups that count what exists.
#![allow(dead_code)]

mod aws;
pub mod bootstrap;
pub mod counts;
pub mod engine;
pub mod identity;
mod inventory;
pub mod kill;
pub mod policy;
pub mod proxy;
pub mod terraform;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

pub use aws::Aws;

/// One stack of one test.
pub struct Fixture {
    pub dir: TempDir,
    pub prefix: String,
    /// Extra TOML appended to the stack file (sections, overrides).
    extra: String,
    /// The `[backend]` section.
    backend: String,
    /// The state bucket, on the S3 backend.
    bucket: Option<String>,
}

impl Fixture {
    /// A stack named with a unique prefix; `extra` is appended to the stack file. Its state is a
    /// local file.
    pub fn new(extra: &str) -> Self {
        Self::with_backend(extra, "[backend]\ntype = \"local\"\n")
    }

    /// The same on the backend deploys use: S3 state in a bucket of its own, locked in a
    /// DynamoDB table (both created on first use).
    pub fn on_s3(extra: &str) -> Self {
        let bucket = testkit::unique_name("pt-state");
        let mut fixture = Self::with_backend(
            extra,
            &format!(
                "[backend]\ntype = \"s3\"\nbucket = \"{bucket}\"\nlock_table = \"{bucket}-locks\"\n"
            ),
        );
        fixture.bucket = Some(bucket);
        fixture
    }

    fn with_backend(extra: &str, backend: &str) -> Self {
        testkit::endpoint();
        let dir = tempfile::tempdir().expect("a temp dir");
        let prefix = testkit::unique_name("pt");
        fake_function_zip(dir.path(), &dir.path().join("function.zip"));
        let fixture = Self {
            dir,
            prefix,
            extra: extra.to_string(),
            backend: backend.to_string(),
            bucket: None,
        };
        fixture.write_stack("");
        fixture
    }

    pub fn stack_path(&self) -> PathBuf {
        self.dir.path().join("stack.toml")
    }

    /// Rewrites the stack file with `more` TOML after the fixture's own.
    pub fn write_stack(&self, more: &str) {
        let text = format!(
            "[stack]\nname_prefix = \"{}\"\ntags = {{ Suite = \"provisioner-e2e\" }}\n\n\
             [lambda]\npackage = \"function.zip\"\narchitecture = \"x86_64\"\n\n\
             {}\n[env.dev]\n\n{}\n{}\n",
            self.prefix, self.backend, self.extra, more
        );
        std::fs::write(self.stack_path(), text).expect("write the stack file");
    }

    /// A `provisioner` command in the fixture's directory, pointed at the emulator.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = provisioner_command(self.dir.path(), args);
        command.env("NO_COLOR", "1");
        command
    }

    /// Runs the provisioner to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        run_logged(self.command(args), args)
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(self.run(args), args)
    }

    /// Replaces the fixture's function zip with one whose `bootstrap` prints `text`: new code,
    /// so the next apply publishes a version.
    pub fn new_code(&self, text: &str) {
        let binary = self.dir.path().join(format!("bootstrap-{text}"));
        std::fs::write(&binary, format!("#!/bin/sh\necho {text}\n")).expect("write");
        let zip = self.dir.path().join("function.zip");
        provisioner::package::zip_bootstrap(&binary, &zip).expect("zip");
    }

    pub fn apply(&self) -> String {
        self.ok(&["apply", "--env", "dev", "--auto-approve"])
    }

    /// The fixture after its first apply, with the emulator's clients to look at what the apply
    /// made: how most end-to-end tests begin.
    pub async fn applied(self) -> (Self, Aws) {
        let aws = Aws::new().await;
        self.apply();
        (self, aws)
    }

    /// [`Self::applied`] with the table's deletion protection on, for the tests of what it
    /// refuses; [`Aws::unprotect_and_destroy`] is the way out.
    pub async fn applied_protected(self) -> (Self, Aws) {
        let aws = Aws::new().await;
        self.write_stack("[env.dev.table]\ndeletion_protection = true\n");
        self.apply();
        (self, aws)
    }

    pub fn destroy(&self) -> String {
        self.ok(&["destroy", "--env", "dev", "--auto-approve"])
    }

    /// `plan --detailed-exitcode`: (exit code, stdout).
    pub fn plan(&self) -> (i32, String) {
        let output = self.run(&["plan", "--env", "dev", "--detailed-exitcode"]);
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).to_string(),
        )
    }

    /// `plan --detailed-exitcode` that must find changes (exit 2) and show each of `lines`;
    /// returns the plan.
    #[track_caller]
    pub fn plan_shows(&self, lines: &[&str]) -> String {
        let (code, plan) = self.plan();
        assert_eq!(code, 2, "the plan should show changes:\n{plan}");
        for line in lines {
            assert!(
                plan.contains(line),
                "the plan does not show {line:?}:\n{plan}"
            );
        }
        plan
    }

    /// The state bucket of a fixture made by [`Fixture::on_s3`].
    pub fn state_bucket(&self) -> &str {
        self.bucket
            .as_deref()
            .expect("a fixture made by Fixture::on_s3")
    }

    /// The key of an environment's state object in [`Fixture::state_bucket`].
    pub fn state_key(&self, environment: &str) -> String {
        format!("provisioner/{environment}/state.json")
    }

    /// After a run killed while it held the lock: runs `args` (which must be refused because of
    /// the lock), reads the lock ID from the `provisioner force-unlock --env ENV ID` its error
    /// prints, runs that force-unlock and returns the ID.
    pub fn force_unlock_after_kill(&self, args: &[&str], environment: &str) -> String {
        let refused = self.run(args);
        let stderr = String::from_utf8_lossy(&refused.stderr).to_string();
        assert_eq!(
            refused.status.code(),
            Some(1),
            "`provisioner {args:?}` ran although the killed run held the lock"
        );
        let command = format!("provisioner force-unlock --env {environment} ");
        let id = stderr
            .split(&command)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no `{command}ID` in the error: {stderr}"))
            .to_string();
        self.ok(&["force-unlock", "--env", environment, &id]);
        id
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join(".provisioner").join("dev.json")
    }

    pub fn function_name(&self) -> String {
        format!("{}-dev-api", self.prefix)
    }

    pub fn table_name(&self) -> String {
        format!("{}-dev-playground", self.prefix)
    }

    pub fn role_name(&self) -> String {
        format!("{}-dev-lambda", self.prefix)
    }

    pub fn api_name(&self) -> String {
        format!("{}-dev-http-api", self.prefix)
    }
}

/// Writes a fake function binary into `dir` and zips it to `zip`, as CI's build would.
pub fn fake_function_zip(dir: &Path, zip: &Path) {
    let binary = dir.join("bootstrap-binary");
    std::fs::write(&binary, b"#!/bin/sh\necho not really a lambda\n").expect("write");
    provisioner::package::zip_bootstrap(&binary, zip).expect("zip the fake function");
}

/// The `provisioner` binary with `args`, run in `dir` against the emulator (no profile, no
/// stdin).
pub fn provisioner_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(testkit::binary("provisioner"));
    command
        .args(args)
        .current_dir(dir)
        .envs(testkit::aws_env())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    command
}

/// Runs `command` (a `provisioner` with `args`) to the end and logs its exit and output.
pub fn run_logged(mut command: Command, args: &[&str]) -> Output {
    let output = command.output().expect("run provisioner");
    eprintln!(
        "$ provisioner {}\n--- exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Asserts that the run of `provisioner args` succeeded; returns its stdout.
pub fn succeeded(output: Output, args: &[&str]) -> String {
    assert!(output.status.success(), "provisioner {args:?} failed");
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Asserts that the run of `provisioner args` failed; returns its stderr.
pub fn refused(output: Output, args: &[&str]) -> String {
    assert!(
        !output.status.success(),
        "provisioner {args:?} succeeded but should be refused"
    );
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// A trust policy letting `principal` (`{"Service": ...}`, `{"AWS": ...}`) assume a role: what
/// the tests that make or drift a role by hand write.
pub fn trust_policy(principal: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": principal, "Action": "sts:AssumeRole"}]})
}

/// True when `path` exists.
pub fn exists(path: &Path) -> bool {
    path.exists()
}

/// One `#[tokio::test]` per case, each running the scenario with that case's argument:
/// `scenario_tests!(scenario; test_name => argument, ...)` makes
/// `async fn test_name() { scenario(argument).await }` for each case.
#[allow(unused_macros)]
macro_rules! scenario_tests {
    ($scenario:ident; $($test:ident => $argument:expr),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $test() {
                $scenario($argument).await;
            }
        )+
    };
}
#[allow(unused_imports)]
pub(crate) use scenario_tests;
