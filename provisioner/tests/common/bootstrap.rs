//! Set-up of the `provisioner bootstrap` tests: an account-level stack (S3 state with a lock
//! table; dev, stage and prod) in its own temp dir, and readers of what bootstrap made.

use std::path::PathBuf;
use std::process::{Command, Output};

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::{fake_function_zip, provisioner_command, run_logged, succeeded};

/// What `--print-policy` needs besides the stack: the repository and the account.
pub const PRINT_POLICY: [&str; 5] = [
    "--repo",
    "octo/pg",
    "--account-id",
    "123456789012",
    "--print-policy",
];

/// One account's stack for bootstrap, named with a unique prefix.
pub struct Account {
    pub dir: tempfile::TempDir,
    pub prefix: String,
    pub bucket: String,
    pub lock_table: String,
}

impl Account {
    pub fn new() -> Self {
        testkit::endpoint();
        let dir = tempfile::tempdir().expect("a temp dir");
        let prefix = testkit::unique_name("bs");
        let bucket = format!("{prefix}-state");
        let lock_table = format!("{prefix}-locks");
        let stack = format!(
            "[stack]\nname_prefix = \"{prefix}\"\ntags = {{ Project = \"bootstrap-test\" }}\n\n\
             [backend]\ntype = \"s3\"\nbucket = \"{bucket}\"\nlock_table = \"{lock_table}\"\n\n\
             [env.dev]\n\n[env.stage]\n\n[env.prod.table]\nname = \"{prefix}-Scores\"\n"
        );
        std::fs::write(dir.path().join("stack.toml"), stack).expect("write the stack file");
        Self {
            dir,
            prefix,
            bucket,
            lock_table,
        }
    }

    pub fn stack(&self) -> PathBuf {
        self.dir.path().join("stack.toml")
    }

    /// `provisioner --stack <this stack> ARGS`, run to the end (outside any GitHub job).
    pub fn run(&self, args: &[&str]) -> Output {
        let stack = self.stack();
        let args = [&["--stack", stack.to_str().unwrap()], args].concat();
        let mut command = provisioner_command(self.dir.path(), &args);
        command.env_remove("GITHUB_REPOSITORY");
        run_logged(command, &args)
    }

    /// `provisioner --stack <this stack> bootstrap ARGS`, run to the end.
    pub fn bootstrap_run(&self, args: &[&str]) -> Output {
        self.run(&[&["bootstrap"], args].concat())
    }

    /// `provisioner --stack <this stack> bootstrap --repo octo/playground EXTRA`; asserts
    /// success and returns stdout.
    pub fn bootstrap(&self, extra: &[&str]) -> String {
        let args = [&["bootstrap", "--repo", "octo/playground"], extra].concat();
        succeeded(self.run(&args), &args)
    }

    pub fn role_name(&self, env: &str) -> String {
        format!("{}-github-deploy-{env}", self.prefix)
    }

    /// `provisioner --stack <this stack> ARGS --package-dir DIR` with the fake function zip CI would have built
    /// (`--package-dir`), so plan and apply never build.
    pub fn deploy_run(&self, args: &[&str]) -> Output {
        let dir = self.dir.path().join("dist");
        if !dir.join("function-arm64.zip").exists() {
            std::fs::create_dir_all(&dir).unwrap();
            fake_function_zip(&dir, &dir.join("function-arm64.zip"));
        }
        self.run(&[args, &["--package-dir", dir.to_str().unwrap()]].concat())
    }
}

/// A policy document as IAM returns it (URL-encoded JSON).
pub fn decode(text: &str) -> Value {
    serde_json::from_str(&percent_decode_str(text).decode_utf8_lossy()).expect("policy JSON")
}

/// A customer-managed policy's default document (what the bootstrap and migration tests
/// check of the boundary and of the original's table policy).
pub async fn managed_policy(iam: &aws_sdk_iam::Client, arn: &str) -> Value {
    let policy = iam.get_policy().policy_arn(arn).send().await.unwrap();
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap()
        .to_string();
    let document = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    decode(
        document
            .policy_version()
            .and_then(|v| v.document())
            .unwrap(),
    )
}

/// The strings of a policy field that is a string or a list of them.
pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        _ => vec![],
    }
}

/// GetBucketVersioning read over plain HTTP (the Rust SDK cannot parse moto's reply).
pub fn versioning_enabled(bucket: &str) -> bool {
    let out = Command::new("curl")
        .args([
            "-sf",
            &format!("{}/{bucket}?versioning", testkit::endpoint()),
        ])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).contains("<Status>Enabled</Status>")
}
