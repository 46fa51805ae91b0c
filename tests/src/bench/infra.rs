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

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
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
    // moto loads each service's code on its first request: one untimed round first, so run 1
    // of the first tool does not pay for the emulator's own warm-up.
    tracing::info!("warm-up round (not measured)");
    provisioner_round(setup, 0)?;
    let mut steps = Vec::new();
    for run in 1..=runs {
        tracing::info!(run, runs, "provisioner round");
        steps.extend(provisioner_round(setup, run)?);
        if let Some(terraform) = &setup.terraform {
            tracing::info!(run, runs, "terraform round");
            steps.extend(terraform_round(setup, terraform, run)?);
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
    operation: Operation,
    command: Command,
    dir: &Path,
) -> Result<(Step, Outcome)> {
    let outcome = run_measured(command, dir, &dir.join("time.txt"))?;
    let plan_with_changes = operation == Operation::NoopPlan && outcome.exit_code == 2;
    if outcome.exit_code != 0 && !plan_with_changes {
        bail!(
            "{tool:?} {} (run {run}) failed with exit code {}:\n{}\n{}",
            operation.label(),
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
        tracing::warn!(run, ?tool, "{finding}");
    }
    let step = Step {
        run,
        tool,
        operation,
        sample: outcome.sample.clone(),
        finding,
    };
    tracing::info!(
        run,
        ?tool,
        op = operation.label(),
        wall_s = step.sample.wall_s,
        "measured"
    );
    Ok((step, outcome))
}

/// The stack file of one provisioner environment.
pub fn stack_file(prefix: &str, zip: &Path, architecture: &str, memory_mb: u32) -> String {
    format!(
        "[stack]\nname_prefix = \"{prefix}\"\nregion = \"us-east-1\"\n\n\
         [table]\npoint_in_time_recovery = true\nby_user_index = true\nordered_indexes = true\ndeletion_protection = false\n\n\
         [lambda]\nmemory_mb = {memory_mb}\ntimeout_seconds = 10\narchitecture = \"{architecture}\"\n\
         package = \"{}\"\nlog_retention_days = 14\nsafe_concurrency = true\n\n\
         [api]\ncors_allow_origins = [\"*\"]\n\n\
         [backend]\ntype = \"local\"\n\n[env.{ENVIRONMENT}]\n",
        zip.display()
    )
}

fn provisioner_round(setup: &Setup, run: usize) -> Result<Vec<Step>> {
    let dir = setup.work_dir.join(format!("run{run}-provisioner"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let prefix = unique_prefix("p", run);
    let stack = dir.join("stack.toml");
    let write_stack = |memory| {
        std::fs::write(
            &stack,
            stack_file(&prefix, &setup.function_zip, &setup.architecture, memory),
        )
        .with_context(|| format!("writing {}", stack.display()))
    };
    let command = |args: &[&str]| {
        let mut c = Command::new(&setup.provisioner);
        c.arg("--stack").arg(&stack).arg("--stats").args(args);
        aws_env(&mut c, &setup.endpoint);
        c
    };
    let tool = Tool::Provisioner;
    let mut steps = Vec::new();
    write_stack(MEMORY_BEFORE_MB)?;
    let apply = ["apply", "--env", ENVIRONMENT, "--auto-approve"];
    steps.push(step(run, tool, Operation::Apply, command(&apply), &dir)?.0);
    let plan = ["plan", "--env", ENVIRONMENT, "--detailed-exitcode"];
    steps.push(step(run, tool, Operation::NoopPlan, command(&plan), &dir)?.0);
    write_stack(MEMORY_AFTER_MB)?;
    steps.push(step(run, tool, Operation::ChangeApply, command(&apply), &dir)?.0);
    let destroy = ["destroy", "--env", ENVIRONMENT, "--auto-approve"];
    steps.push(step(run, tool, Operation::Destroy, command(&destroy), &dir)?.0);
    Ok(steps)
}

fn terraform_round(setup: &Setup, terraform: &TerraformSetup, run: usize) -> Result<Vec<Step>> {
    let dir = setup.work_dir.join(format!("run{run}-terraform"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::copy(&terraform.main_tf, dir.join("main.tf"))
        .with_context(|| format!("copying {}", terraform.main_tf.display()))?;
    let prefix = unique_prefix("t", run);
    let command = |args: &[&str], memory: Option<u32>| {
        let mut c = Command::new(&terraform.binary);
        c.args(args).args(["-input=false", "-no-color"]);
        if let Some(memory) = memory {
            c.arg(format!("-var=endpoint={}", setup.endpoint))
                .arg(format!("-var=name_prefix={prefix}"))
                .arg(format!("-var=environment={ENVIRONMENT}"))
                .arg(format!("-var=lambda_zip={}", setup.function_zip.display()))
                .arg(format!("-var=lambda_architecture={}", setup.architecture))
                .arg(format!("-var=lambda_memory={memory}"));
        }
        c.env("TF_CLI_CONFIG_FILE", &terraform.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1");
        aws_env(&mut c, &setup.endpoint);
        c
    };
    let tool = Tool::Terraform;
    let mut steps = Vec::new();
    steps.push(step(run, tool, Operation::Init, command(&["init"], None), &dir)?.0);
    let before = Some(MEMORY_BEFORE_MB);
    let after = Some(MEMORY_AFTER_MB);
    let apply = ["apply", "-auto-approve"];
    steps.push(step(run, tool, Operation::Apply, command(&apply, before), &dir)?.0);
    let plan = ["plan", "-detailed-exitcode"];
    steps.push(step(run, tool, Operation::NoopPlan, command(&plan, before), &dir)?.0);
    steps.push(
        step(
            run,
            tool,
            Operation::ChangeApply,
            command(&apply, after),
            &dir,
        )?
        .0,
    );
    let destroy = ["destroy", "-auto-approve"];
    steps.push(
        step(
            run,
            tool,
            Operation::Destroy,
            command(&destroy, after),
            &dir,
        )?
        .0,
    );
    // The provider binary copied by init is hundreds of MB: do not keep one per run.
    let plugins = dir.join(".terraform");
    if let Err(error) = std::fs::remove_dir_all(&plugins) {
        tracing::warn!(%error, "could not remove {}", plugins.display());
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_file_carries_the_prefix_zip_and_memory() {
        let text = stack_file("b1pabc", Path::new("/tmp/f.zip"), "x86_64", 512);
        assert!(text.contains("name_prefix = \"b1pabc\""));
        assert!(text.contains("package = \"/tmp/f.zip\""));
        assert!(text.contains("memory_mb = 512"));
        assert!(text.contains("[env.bench]"));
        let parsed: toml::Table = toml::from_str(&text).expect("the stack file is TOML");
        assert_eq!(parsed["lambda"]["memory_mb"].as_integer(), Some(512));
        assert_eq!(parsed["backend"]["type"].as_str(), Some("local"));
    }

    #[test]
    fn prefixes_are_unique_and_short() {
        let a = unique_prefix("p", 12);
        let b = unique_prefix("p", 12);
        assert_ne!(a, b);
        assert!(a.len() <= 12, "{a}");
    }
}
