//! The provisioner against Terraform on the same stack: each run gives each tool a fresh
//! environment of its own (unique name prefix, own state, own working directory) and takes it
//! through the same life, alternating the tools (A, B, A, B, ...) so a change in machine load
//! hits both alike:
//!
//! 1. Terraform only: `init` (the provisioner has no such step);
//! 2. apply from nothing;
//! 3. a no-op plan (anything but "no changes" is recorded as a finding);
//! 4. plan + apply after one changed setting (Lambda memory 256 -> 512 MB);
//! 5. destroy.
//!
//! Each run does this once per backend asked for ([`Backend`]): local state, then S3 state with
//! a DynamoDB lock, so local and S3 rounds of both tools alternate too.

mod backend;
mod provisioner;
mod terraform;

pub use backend::Backend;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::bench::measure::{Outcome, Sample, run_measured};

/// The environment name every run deploys (each run has its own name prefix).
const ENVIRONMENT: &str = "bench";
/// Lambda memory before and after the changed-setting step.
const MEMORY_BEFORE_MB: u32 = 256;
const MEMORY_AFTER_MB: u32 = 512;

/// One step of an environment's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Init,
    Apply,
    NoopPlan,
    ChangeApply,
    Destroy,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::Init,
        Operation::Apply,
        Operation::NoopPlan,
        Operation::ChangeApply,
        Operation::Destroy,
    ];

    /// How the README and the chart name the step.
    pub fn label(self) -> &'static str {
        match self {
            Operation::Init => "init",
            Operation::Apply => "apply from nothing",
            Operation::NoopPlan => "no-op plan",
            Operation::ChangeApply => "plan + apply, memory 256 -> 512 MB",
            Operation::Destroy => "destroy",
        }
    }
}

/// The two tools compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    Provisioner,
    Terraform,
}

/// One measured step of one run, with anything unexpected it showed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub run: usize,
    pub tool: Tool,
    /// Absent from reports written before the S3 backend was measured: those were local.
    #[serde(default)]
    pub backend: Backend,
    pub operation: Operation,
    #[serde(flatten)]
    pub sample: Sample,
    /// Set when the step did not do what it should (a "no-op" plan that found changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
}

/// Everything the infrastructure comparison needs to run.
pub struct Setup {
    pub provisioner: PathBuf,
    /// `None` when Terraform is not installed: the provisioner is measured alone.
    pub terraform: Option<TerraformSetup>,
    /// The function zip both tools upload.
    pub function_zip: PathBuf,
    pub architecture: String,
    pub endpoint: String,
    pub work_dir: PathBuf,
    /// The backends each run measures, in order (each at most once).
    pub backends: Vec<Backend>,
}

pub struct TerraformSetup {
    pub binary: PathBuf,
    /// The yardstick configuration (`tests/bench/terraform/main.tf`).
    pub main_tf: PathBuf,
    /// CLI configuration that installs the AWS provider from the local mirror.
    pub cli_config: PathBuf,
}

/// Runs `runs` rounds and returns every step measured.
pub fn run_rounds(setup: &Setup, runs: usize) -> Result<Vec<Step>> {
    // moto loads each service's code on its first request: one untimed round per backend
    // first, so run 1 of the first tool does not pay for the emulator's own warm-up.
    for backend in &setup.backends {
        tracing::info!(backend = backend.short(), "warm-up round (not measured)");
        provisioner::round(setup, *backend, 0)?;
    }
    let mut steps = Vec::new();
    for run in 1..=runs {
        for backend in &setup.backends {
            let label = backend.short();
            tracing::info!(run, runs, backend = label, "provisioner round");
            steps.extend(provisioner::round(setup, *backend, run)?);
            if let Some(terraform) = &setup.terraform {
                tracing::info!(run, runs, backend = label, "terraform round");
                steps.extend(terraform::round(setup, terraform, *backend, run)?);
            }
        }
    }
    Ok(steps)
}

/// A name prefix no other run uses (names stay short: IAM role names are capped at 64).
fn unique_prefix(tool: &str, run: usize) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("b{run}{tool}{}", &id[..6])
}

fn aws_env(command: &mut Command, endpoint: &str) {
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
}

/// Measures one step; a step that fails is an error with the tool's own output.
fn step(
    run: usize,
    tool: Tool,
    backend: Backend,
    operation: Operation,
    command: Command,
    dir: &Path,
) -> Result<(Step, Outcome)> {
    let outcome = run_measured(command, dir, &dir.join("time.txt"))?;
    let plan_with_changes = operation == Operation::NoopPlan && outcome.exit_code == 2;
    if outcome.exit_code != 0 && !plan_with_changes {
        bail!(
            "{tool:?} {} with {} (run {run}) failed with exit code {}:\n{}\n{}",
            operation.label(),
            backend.label(),
            outcome.exit_code,
            outcome.stdout,
            outcome.stderr
        );
    }
    let finding = plan_with_changes.then(|| {
        format!(
            "the plan after apply was not empty:\n{}",
            outcome.stdout.trim()
        )
    });
    if let Some(finding) = &finding {
        tracing::warn!(run, ?tool, backend = backend.short(), "{finding}");
    }
    let step = Step {
        run,
        tool,
        backend,
        operation,
        sample: outcome.sample.clone(),
        finding,
    };
    tracing::info!(
        run,
        ?tool,
        backend = backend.short(),
        op = operation.label(),
        wall_s = step.sample.wall_s,
        "measured"
    );
    Ok((step, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_unique_and_short() {
        let a = unique_prefix("p", 12);
        let b = unique_prefix("p", 12);
        assert_ne!(a, b);
        assert!(a.len() <= 12, "{a}");
    }
}
