//! The backend dimension: each tool's life is measured with its local state and with the
//! production backend, state in a versioned S3 bucket locked by a DynamoDB table, on the same
//! emulator. An S3 round gets a bucket and a lock table of its own, made before anything is
//! timed, as `provisioner bootstrap` (or an administrator, for Terraform) makes them once per
//! account: a deploy finds them there, so a measured apply must too.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Where a tool keeps its state for one round.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// A state file in the round's working directory (each tool's default).
    // The serde default too: reports written before the S3 rounds measured local state only.
    #[default]
    Local,
    /// State in a versioned S3 bucket, locked in a DynamoDB table: what deploys use.
    S3,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Local, Backend::S3];

    /// How tables and goal rows name the backend.
    pub fn label(self) -> &'static str {
        match self {
            Backend::Local => "local state",
            Backend::S3 => "S3 state + DynamoDB lock",
        }
    }

    /// How chart bars and log lines name it (a bar label has little room).
    pub fn short(self) -> &'static str {
        match self {
            Backend::Local => "local",
            Backend::S3 => "S3",
        }
    }
}

/// The state bucket and lock table of one S3 round, named after the round's unique prefix so
/// no two rounds share a lock or a state history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Names {
    pub bucket: String,
    pub lock_table: String,
}

impl S3Names {
    /// `<prefix>-state` and `<prefix>-locks`; the prefix is lowercase letters and digits, so
    /// both are valid bucket and table names.
    pub fn of(prefix: &str) -> S3Names {
        S3Names {
            bucket: format!("{prefix}-state"),
            lock_table: format!("{prefix}-locks"),
        }
    }
}

/// The key of Terraform's state object in its round's bucket.
pub const TERRAFORM_STATE_KEY: &str = "bench/terraform.tfstate";

/// The file `tests/bench/terraform/main.tf` gets beside it in an S3 round: an empty (partial)
/// S3 backend block, its settings coming from `-backend-config` at init, as a deploy passes
/// them. The yardstick itself stays backend-free, since the migration tests use it with local
/// state.
pub const TERRAFORM_BACKEND_BLOCK: &str = "terraform {\n  backend \"s3\" {}\n}\n";

/// The `-backend-config` file of an S3 round: Terraform 1.11's S3 backend pointed at the
/// emulator (path-style addressing, both endpoints), with the checks that need real AWS (STS,
/// the account id, the instance metadata service, the region list) switched off, as the
/// yardstick's provider block does. Credentials come from the environment, as for the provider.
pub fn terraform_backend_config(names: &S3Names, endpoint: &str) -> String {
    format!(
        "bucket                      = {}\n\
         key                         = {}\n\
         region                      = \"us-east-1\"\n\
         dynamodb_table              = {}\n\
         use_path_style              = true\n\
         skip_credentials_validation = true\n\
         skip_requesting_account_id  = true\n\
         skip_metadata_api_check     = true\n\
         skip_region_validation      = true\n\
         endpoints = {{\n  s3       = {}\n  dynamodb = {}\n}}\n",
        hcl_string(&names.bucket),
        hcl_string(TERRAFORM_STATE_KEY),
        hcl_string(&names.lock_table),
        hcl_string(endpoint),
        hcl_string(endpoint),
    )
}

/// The `[backend]` section of the provisioner's stack file: a local file, or the round's
/// bucket and lock table (the state key keeps the provisioner's default prefix).
pub fn stack_backend_section(s3: Option<&S3Names>) -> String {
    match s3 {
        None => "[backend]\ntype = \"local\"\n".to_string(),
        Some(names) => format!(
            "[backend]\ntype = \"s3\"\nbucket = \"{}\"\nlock_table = \"{}\"\n",
            names.bucket, names.lock_table
        ),
    }
}

/// An HCL string literal: quotes and backslashes escaped, and `${` / `%{` doubled so a value
/// is never read as a template.
fn hcl_string(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

/// Makes the round's bucket (versioned, public access blocked) and lock table (`LockID` key)
/// with the `state` crate's [`state::ensure_backend_resources`], the very function `provisioner
/// bootstrap` creates them with; the provisioner's apply then only checks them, as in a deploy.
/// Terraform reads the same kind of bucket and table (its lock items use the same `LockID` key).
pub fn create_s3_backend(names: &S3Names, endpoint: &str) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "bench",
            ))
            .load()
            .await;
        // Only the bucket and the lock table matter here: no state is read or written.
        let config = state::BackendConfig::S3 {
            bucket: names.bucket.clone(),
            prefix: String::new(),
            environment: "bootstrap".to_string(),
            lock_table: Some(names.lock_table.clone()),
            s3_lock: false,
        };
        state::ensure_backend_resources(&config, &sdk)
            .await
            .with_context(|| {
                format!(
                    "creating the state bucket {} and lock table {}",
                    names.bucket, names.lock_table
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_bucket_and_table_names() {
        let names = S3Names::of("b1pabc123");
        assert_eq!(names.bucket, "b1pabc123-state");
        assert_eq!(names.lock_table, "b1pabc123-locks");
        assert!((3..=63).contains(&names.bucket.len()));
        assert!(
            names
                .bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn the_terraform_backend_config_points_every_setting_at_the_emulator() {
        let text = terraform_backend_config(&S3Names::of("b1tabc"), "http://127.0.0.1:5612");
        for line in [
            "bucket                      = \"b1tabc-state\"",
            "key                         = \"bench/terraform.tfstate\"",
            "region                      = \"us-east-1\"",
            "dynamodb_table              = \"b1tabc-locks\"",
            "use_path_style              = true",
            "skip_credentials_validation = true",
            "skip_requesting_account_id  = true",
            "skip_metadata_api_check     = true",
            "skip_region_validation      = true",
            "  s3       = \"http://127.0.0.1:5612\"",
            "  dynamodb = \"http://127.0.0.1:5612\"",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in\n{text}"
            );
        }
        assert_eq!(text.matches('{').count(), text.matches('}').count());
    }

    #[test]
    fn hcl_strings_are_never_templates() {
        assert_eq!(hcl_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(hcl_string("${x} %{y}"), "\"$${x} %%{y}\"");
    }

    #[test]
    fn the_stack_backend_section_names_the_bucket_and_lock_table() {
        let local: toml::Table = toml::from_str(&stack_backend_section(None)).unwrap();
        assert_eq!(local["backend"]["type"].as_str(), Some("local"));
        let names = S3Names::of("b1pabc");
        let s3: toml::Table = toml::from_str(&stack_backend_section(Some(&names))).unwrap();
        assert_eq!(s3["backend"]["type"].as_str(), Some("s3"));
        assert_eq!(s3["backend"]["bucket"].as_str(), Some("b1pabc-state"));
        assert_eq!(s3["backend"]["lock_table"].as_str(), Some("b1pabc-locks"));
    }

    #[test]
    fn reports_from_before_the_backend_dimension_read_as_local() {
        assert_eq!(Backend::default(), Backend::Local);
        assert_eq!(serde_json::to_string(&Backend::S3).unwrap(), "\"s3\"");
    }
}
