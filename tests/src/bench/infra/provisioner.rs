//! One round of the provisioner: its stack file, then apply, no-op plan, plan + apply after the
//! memory change, destroy, each a fresh `provisioner` process with `--stats` (its own count of
//! AWS requests, per operation too).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::backend::{Backend, S3Names, create_s3_backend, stack_backend_section};
use super::{
    ENVIRONMENT, MEMORY_AFTER_MB, MEMORY_BEFORE_MB, Operation, Setup, Step, Tool, aws_env, step,
    unique_prefix,
};

/// The stack file of one provisioner environment, with the round's backend.
pub fn stack_file(
    prefix: &str,
    zip: &Path,
    architecture: &str,
    memory_mb: u32,
    s3: Option<&S3Names>,
) -> String {
    format!(
        "[stack]\nname_prefix = \"{prefix}\"\nregion = \"us-east-1\"\n\n\
         [table]\npoint_in_time_recovery = true\nby_user_index = true\nordered_indexes = true\ndeletion_protection = false\n\n\
         [lambda]\nmemory_mb = {memory_mb}\ntimeout_seconds = 10\narchitecture = \"{architecture}\"\n\
         package = \"{}\"\nlog_retention_days = 14\nsafe_concurrency = true\n\n\
         [api]\ncors_allow_origins = [\"*\"]\n\n\
         {}\n[env.{ENVIRONMENT}]\n",
        zip.display(),
        stack_backend_section(s3),
    )
}

/// Measures one environment's life; run 0 is the untimed warm-up.
pub fn round(setup: &Setup, backend: Backend, run: usize) -> Result<Vec<Step>> {
    let dir = setup
        .work_dir
        .join(format!("run{run}-provisioner-{}", backend.short()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let prefix = unique_prefix("p", run);
    let s3 = match backend {
        Backend::Local => None,
        Backend::S3 => {
            let names = S3Names::of(&prefix);
            create_s3_backend(&names, &setup.endpoint)?;
            Some(names)
        }
    };
    let stack = dir.join("stack.toml");
    let write_stack = |memory| {
        std::fs::write(
            &stack,
            stack_file(
                &prefix,
                &setup.function_zip,
                &setup.architecture,
                memory,
                s3.as_ref(),
            ),
        )
        .with_context(|| format!("writing {}", stack.display()))
    };
    let command = |args: &[&str]| {
        let mut c = Command::new(&setup.provisioner);
        c.arg("--stack").arg(&stack).args(args).arg("--stats");
        aws_env(&mut c, &setup.endpoint);
        c
    };
    let measured = |operation, command| -> Result<Step> {
        Ok(step(run, Tool::Provisioner, backend, operation, command, &dir)?.0)
    };
    let mut steps = Vec::new();
    write_stack(MEMORY_BEFORE_MB)?;
    let apply = ["apply", "--env", ENVIRONMENT, "--auto-approve"];
    steps.push(measured(Operation::Apply, command(&apply))?);
    let plan = ["plan", "--env", ENVIRONMENT, "--detailed-exitcode"];
    steps.push(measured(Operation::NoopPlan, command(&plan))?);
    write_stack(MEMORY_AFTER_MB)?;
    steps.push(measured(Operation::ChangeApply, command(&apply))?);
    let destroy = ["destroy", "--env", ENVIRONMENT, "--auto-approve"];
    steps.push(measured(Operation::Destroy, command(&destroy))?);
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_file_carries_the_prefix_zip_and_memory() {
        let text = stack_file("b1pabc", Path::new("/tmp/f.zip"), "x86_64", 512, None);
        assert!(text.contains("name_prefix = \"b1pabc\""));
        assert!(text.contains("package = \"/tmp/f.zip\""));
        assert!(text.contains("memory_mb = 512"));
        assert!(text.contains("[env.bench]"));
        let parsed: toml::Table = toml::from_str(&text).expect("the stack file is TOML");
        assert_eq!(parsed["lambda"]["memory_mb"].as_integer(), Some(512));
        assert_eq!(parsed["backend"]["type"].as_str(), Some("local"));
    }

    #[test]
    fn an_s3_stack_file_names_the_rounds_bucket_and_lock_table() {
        let names = S3Names::of("b1pabc");
        let text = stack_file(
            "b1pabc",
            Path::new("/tmp/f.zip"),
            "x86_64",
            256,
            Some(&names),
        );
        let parsed: toml::Table = toml::from_str(&text).expect("the stack file is TOML");
        let backend = &parsed["backend"];
        assert_eq!(backend["type"].as_str(), Some("s3"));
        assert_eq!(backend["bucket"].as_str(), Some("b1pabc-state"));
        assert_eq!(backend["lock_table"].as_str(), Some("b1pabc-locks"));
        // The environment table stays last and empty: the backend is the stack's, not an override.
        assert!(
            parsed["env"]["bench"]
                .as_table()
                .is_some_and(|t| t.is_empty())
        );
        assert_eq!(parsed["stack"]["name_prefix"].as_str(), Some("b1pabc"));
    }
}
