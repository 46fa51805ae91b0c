//! One round of Terraform on the yardstick (`tests/bench/terraform/main.tf`): init, apply,
//! no-op plan, plan + apply after the memory change, destroy. In an S3 round the working
//! directory also gets a partial `backend "s3" {}` block and init its settings from a
//! `-backend-config` file, as a deploy's init does.

use std::process::Command;

use anyhow::{Context, Result};

use super::backend::{
    Backend, S3Names, TERRAFORM_BACKEND_BLOCK, create_s3_backend, terraform_backend_config,
};
use super::{
    ENVIRONMENT, MEMORY_AFTER_MB, MEMORY_BEFORE_MB, Operation, Setup, Step, TerraformSetup, Tool,
    aws_env, step, unique_prefix,
};

/// Where init reads the S3 backend's settings, in the round's directory.
const BACKEND_CONFIG_FILE: &str = "s3.tfbackend";

/// Measures one environment's life.
pub fn round(
    setup: &Setup,
    terraform: &TerraformSetup,
    backend: Backend,
    run: usize,
) -> Result<Vec<Step>> {
    let dir = setup
        .work_dir
        .join(format!("run{run}-terraform-{}", backend.short()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::copy(&terraform.main_tf, dir.join("main.tf"))
        .with_context(|| format!("copying {}", terraform.main_tf.display()))?;
    let prefix = unique_prefix("t", run);
    let mut init = vec!["init".to_string()];
    if backend == Backend::S3 {
        let names = S3Names::of(&prefix);
        create_s3_backend(&names, &setup.endpoint)?;
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
        };
        write("backend.tf", TERRAFORM_BACKEND_BLOCK.to_string())?;
        write(
            BACKEND_CONFIG_FILE,
            terraform_backend_config(&names, &setup.endpoint),
        )?;
        init.push(format!("-backend-config={BACKEND_CONFIG_FILE}"));
    }
    let command = |args: &[&str], memory: Option<u32>| {
        let mut c = Command::new(&terraform.binary);
        c.args(args).args(["-input=false", "-no-color"]);
        if let Some(memory) = memory {
            c.arg(format!("-var=endpoint={}", setup.endpoint))
                .arg(format!("-var=name_prefix={prefix}"))
                .arg(format!("-var=environment={ENVIRONMENT}"))
                .arg(format!("-var=lambda_zip={}", setup.function_zip.display()))
                .arg(format!("-var=lambda_architecture={}", setup.architecture))
                .arg(format!("-var=lambda_memory={memory}"))
                // The grown stack: the alias, access logs, alarms and dashboard, as the
                // provisioner's stack declares them.
                .arg("-var=monitoring=true");
        }
        c.env("TF_CLI_CONFIG_FILE", &terraform.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1");
        aws_env(&mut c, &setup.endpoint);
        c
    };
    let measured = |operation, command| -> Result<Step> {
        Ok(step(run, Tool::Terraform, backend, operation, command, &dir)?.0)
    };
    let init: Vec<&str> = init.iter().map(String::as_str).collect();
    let before = Some(MEMORY_BEFORE_MB);
    let after = Some(MEMORY_AFTER_MB);
    let apply = ["apply", "-auto-approve"];
    let plan = ["plan", "-detailed-exitcode"];
    let destroy = ["destroy", "-auto-approve"];
    let steps = vec![
        measured(Operation::Init, command(&init, None))?,
        measured(Operation::Apply, command(&apply, before))?,
        measured(Operation::NoopPlan, command(&plan, before))?,
        measured(Operation::ChangeApply, command(&apply, after))?,
        measured(Operation::Destroy, command(&destroy, after))?,
    ];
    // The provider binary copied by init is hundreds of MB: do not keep one per run.
    let plugins = dir.join(".terraform");
    if let Err(error) = std::fs::remove_dir_all(&plugins) {
        tracing::warn!(%error, "could not remove {}", plugins.display());
    }
    Ok(steps)
}
