//! `provisioner bootstrap`: arguments, the settings resolved from them and the stack file, and
//! the report printed at the end (the role ARN and the next commands). The work is in the
//! library's `bootstrap` module.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;

use provisioner::bootstrap::{self, EnvScope, PolicyInputs, Settings};
use provisioner::stack::{BackendSettings, ResolvedStack, Stack};

use super::Global;

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// The GitHub repository (`owner/name`) whose workflows may deploy.
    #[arg(long, env = "GITHUB_REPOSITORY", value_name = "OWNER/NAME")]
    pub repo: String,
    /// Environments the role may deploy (repeatable; default: every one the stack declares).
    #[arg(long = "env", value_name = "ENV")]
    pub environments: Vec<String>,
    /// The branch deploys may run from besides the GitHub environments.
    #[arg(long, default_value = "main", value_name = "BRANCH")]
    pub branch: String,
    /// The state bucket (default: the stack's `[backend] bucket`).
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
    /// The lock table (default: the stack's `[backend] lock_table`).
    #[arg(long, value_name = "NAME")]
    pub lock_table: Option<String>,
    /// Days a superseded state version is kept before S3 expires it.
    #[arg(long, default_value_t = bootstrap::DEFAULT_NONCURRENT_DAYS, value_parser = clap::value_parser!(i32).range(1..=36500), value_name = "DAYS")]
    pub noncurrent_days: i32,
    /// Name of the deploy role (default: `<name_prefix>-github-deploy`).
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// Print the role's trust and permission policies and the bucket policy; create nothing.
    #[arg(long)]
    pub print_policy: bool,
    /// Put the TLS-only bucket policy even when the S3 endpoint is plain HTTP (an emulator).
    #[arg(long)]
    pub force_tls_policy: bool,
    /// Account id for `--print-policy` without credentials (default: asked from STS).
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
}

fn check_repository(repo: &str) -> Result<()> {
    let valid_part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if valid_part(owner) && valid_part(name) => Ok(()),
        _ => bail!(
            "--repo '{repo}' is not a GitHub repository: write it as owner/name (e.g. \
             aimodelshare/playground), without wildcards"
        ),
    }
}

/// The stack's environments to cover, resolved.
fn environments(stack: &Stack, wanted: &[String]) -> Result<Vec<ResolvedStack>> {
    let names = if wanted.is_empty() {
        stack.environments()
    } else {
        wanted.to_vec()
    };
    names
        .iter()
        .map(|name| stack.resolve(name).map_err(anyhow::Error::from))
        .collect()
}

/// The settings: flags first, then the stack's backend.
fn settings(
    args: &BootstrapArgs,
    envs: &[ResolvedStack],
    account_id: String,
    plain_http_endpoint: bool,
) -> Result<Settings> {
    check_repository(&args.repo)?;
    let first = envs
        .first()
        .context("the stack file declares no environment")?;
    let s3_backends: Vec<(&String, &String, &Option<String>)> = envs
        .iter()
        .filter_map(|e| match &e.backend {
            BackendSettings::S3 {
                bucket,
                prefix,
                lock_table,
                ..
            } => Some((bucket, prefix, lock_table)),
            BackendSettings::Local { .. } => None,
        })
        .collect();
    let bucket = match (&args.bucket, s3_backends.first()) {
        (Some(bucket), _) => bucket.clone(),
        (None, Some((bucket, _, _))) => (*bucket).clone(),
        (None, None) => bail!(
            "no state bucket: the stack's backend is local. Pass --bucket NAME (a globally \
             unique name, e.g. {}-state-<account id>), then set [backend] type = \"s3\", bucket \
             and lock_table in {}",
            first.name_prefix,
            "the stack file"
        ),
    };
    let lock_table = args
        .lock_table
        .clone()
        .or_else(|| s3_backends.iter().find_map(|(_, _, t)| (*t).clone()));
    let mut state_prefixes: Vec<String> =
        s3_backends.iter().map(|(_, p, _)| (*p).clone()).collect();
    if state_prefixes.is_empty() {
        state_prefixes.push("provisioner".to_string());
    }
    state_prefixes.sort();
    state_prefixes.dedup();
    let tags: BTreeMap<String, String> = first
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != provisioner::resource::TAG_ENVIRONMENT)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Settings {
        inputs: PolicyInputs {
            account_id,
            repository: args.repo.clone(),
            branch: args.branch.clone(),
            environments: envs
                .iter()
                .map(|e| EnvScope {
                    environment: e.environment.clone(),
                    name_base: format!("{}-{}", e.name_prefix, e.environment),
                    table_name: e.table.name.clone(),
                    region: e.region.clone(),
                })
                .collect(),
            state_bucket: bucket,
            state_prefixes,
            lock_table,
            lock_table_region: first.region.clone(),
        },
        state_region: first.region.clone(),
        role_name: args
            .role_name
            .clone()
            .unwrap_or_else(|| format!("{}-github-deploy", first.name_prefix)),
        noncurrent_days: args.noncurrent_days,
        tags,
        tls_only_policy: args.force_tls_policy || !plain_http_endpoint,
    })
}

pub async fn run(global: &Global, args: &BootstrapArgs) -> Result<ExitCode> {
    let stack = Stack::load(&global.stack)?;
    let envs = environments(&stack, &args.environments)?;
    let region = envs
        .first()
        .map(|e| e.region.clone())
        .context("the stack file declares no environment")?;
    let sdk = super::env::sdk_config(global, &region).await;
    let account_id = match &args.account_id {
        Some(id) => id.clone(),
        None => bootstrap::account_id(&sdk)
            .await
            .context("finding the AWS account (pass --account-id to print policies offline)")?,
    };
    let plain_http = sdk
        .endpoint_url()
        .is_some_and(|url| url.starts_with("http://"));
    let settings = settings(args, &envs, account_id, plain_http)?;

    if args.print_policy {
        print_policies(&settings)?;
        return Ok(ExitCode::SUCCESS);
    }

    let report = bootstrap::run(&sdk, &settings)
        .await
        .context("bootstrap stopped; what it finished stays done, so run it again once fixed")?;
    println!(
        "Bootstrap of account {} ({}):",
        settings.inputs.account_id, settings.state_region
    );
    for (what, change) in &report.changes {
        println!("  ~ {what}: {change}");
    }
    for what in &report.unchanged {
        println!("  = {what}");
    }
    if report.changes.is_empty() {
        println!("\nNo changes: everything was already set up.");
    } else {
        println!("\n{} change(s) made.", report.changes.len());
    }
    print_next_steps(&settings, &report, &envs);
    Ok(ExitCode::SUCCESS)
}

fn print_policies(settings: &Settings) -> Result<()> {
    let provider = bootstrap::policies::oidc_provider_arn(&settings.inputs.account_id);
    println!(
        "# Trust policy of the deploy role {}\n{}\n",
        settings.role_name,
        serde_json::to_string_pretty(&bootstrap::policies::trust_policy(
            &settings.inputs,
            &provider
        ))?
    );
    println!(
        "# Permission policy {} of the deploy role\n{}\n",
        bootstrap::github::DEPLOY_POLICY_NAME,
        serde_json::to_string_pretty(&bootstrap::policies::deploy_policy(&settings.inputs))?
    );
    let bucket_policy =
        bootstrap::policies::merge_bucket_policy(None, &settings.inputs.state_bucket);
    println!(
        "# Statement added to the policy of the state bucket {}\n{}",
        settings.inputs.state_bucket,
        serde_json::to_string_pretty(&bucket_policy)?
    );
    Ok(())
}

fn print_next_steps(settings: &Settings, report: &bootstrap::Report, envs: &[ResolvedStack]) {
    let repo = &settings.inputs.repository;
    let env_names: Vec<&str> = envs.iter().map(|e| e.environment.as_str()).collect();
    println!("\nDeploy role: {}", report.role_arn);
    println!("\nNext:");
    println!(
        "  1. Store the role ARN as the repository secret AWS_ROLE_TO_ASSUME:\n       gh secret set AWS_ROLE_TO_ASSUME --repo {repo} --body '{}'",
        report.role_arn
    );
    println!(
        "  2. Set the repository variable AWS_REGION:\n       gh variable set AWS_REGION --repo {repo} --body {}",
        settings.state_region
    );
    println!(
        "  3. Create the GitHub environments {} (Settings > Environments; add required reviewers to prod).",
        env_names.join(", ")
    );
    let backend_is_s3 = envs
        .iter()
        .all(|e| matches!(&e.backend, BackendSettings::S3 { bucket, .. } if *bucket == settings.inputs.state_bucket));
    if !backend_is_s3 {
        println!(
            "  4. Point the stack file at the bucket:\n       [backend]\n       type = \"s3\"\n       bucket = \"{}\"{}",
            settings.inputs.state_bucket,
            settings
                .inputs
                .lock_table
                .as_ref()
                .map_or(String::new(), |t| format!("\n       lock_table = \"{t}\""))
        );
    }
    println!(
        "  {}. Try it: provisioner plan --env {}",
        if backend_is_s3 { 4 } else { 5 },
        env_names.first().copied().unwrap_or("dev")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_must_be_owner_slash_name() {
        assert!(check_repository("octo/playground").is_ok());
        assert!(check_repository("octo/play.ground-2").is_ok());
        for bad in ["octo", "octo/*", "/x", "octo/", "a/b/c", "octo/pl ay"] {
            assert!(check_repository(bad).is_err(), "{bad}");
        }
    }
}
