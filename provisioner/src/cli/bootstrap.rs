//! `provisioner bootstrap`: arguments, the settings resolved from them and the stack file, and
//! the report printed at the end (the role ARN and the next commands). The work is in the
//! library's `bootstrap` module.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;

use provisioner::bootstrap::{self, EnvScope, PolicyInputs, Settings, policies};
use provisioner::stack::{BackendSettings, ResolvedStack, Stack};

use super::Global;

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// The GitHub repository (`owner/name`) whose workflows may deploy.
    #[arg(long, env = "GITHUB_REPOSITORY", value_name = "OWNER/NAME")]
    pub repo: String,
    /// Environments to set up, each with its own deploy role (repeatable; default: every one
    /// the stack declares).
    #[arg(long = "env", value_name = "ENV")]
    pub environments: Vec<String>,
    /// The state bucket (default: the stack's `[backend] bucket`).
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
    /// The lock table (default: the stack's `[backend] lock_table`).
    #[arg(long, value_name = "NAME")]
    pub lock_table: Option<String>,
    /// Days a superseded state version is kept before S3 expires it.
    #[arg(long, default_value_t = bootstrap::DEFAULT_NONCURRENT_DAYS, value_parser = clap::value_parser!(i32).range(1..=36500), value_name = "DAYS")]
    pub noncurrent_days: i32,
    /// Name of each environment's deploy role, `{env}` standing for the environment (default:
    /// `<name_prefix>-github-deploy-{env}`).
    #[arg(long, value_name = "TEMPLATE")]
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
    #[command(flatten)]
    pub aws: super::flags::AwsFlags,
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

/// Each environment's deploy role name from the `--role-name` template (`{env}` replaced).
fn deploy_role_names(args: &BootstrapArgs, envs: &[ResolvedStack]) -> Result<Vec<String>> {
    let Some(first) = envs.first() else {
        bail!("the stack file declares no environment");
    };
    let template = args
        .role_name
        .clone()
        .unwrap_or_else(|| format!("{}-github-deploy-{{env}}", first.name_prefix));
    if !template.contains("{env}") && envs.len() > 1 {
        bail!(
            "--role-name '{template}' would give every environment the same role: put {{env}} \
             in it (e.g. {template}-{{env}}), or pass one --env"
        );
    }
    Ok(envs
        .iter()
        .map(|e| template.replace("{env}", &e.environment))
        .collect())
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
    let s3_backends: Vec<(&String, &Option<String>)> = envs
        .iter()
        .filter_map(|e| match &e.backend {
            BackendSettings::S3 {
                bucket, lock_table, ..
            } => Some((bucket, lock_table)),
            BackendSettings::Local { .. } => None,
        })
        .collect();
    let bucket = match (&args.bucket, s3_backends.first()) {
        (Some(bucket), _) => bucket.clone(),
        (None, Some((bucket, _))) => (*bucket).clone(),
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
        .or_else(|| s3_backends.iter().find_map(|(_, t)| (*t).clone()));
    let roles = deploy_role_names(args, envs)?;
    let inputs = PolicyInputs {
        account_id,
        repository: args.repo.clone(),
        environments: envs
            .iter()
            .zip(roles)
            .map(|(e, role)| EnvScope::of(e, role))
            .collect(),
        state_bucket: bucket,
        lock_table,
        lock_table_region: first.region.clone(),
    };
    bootstrap::policies::check_names(&inputs).map_err(anyhow::Error::msg)?;
    Ok(Settings {
        inputs,
        state_region: first.region.clone(),
        noncurrent_days: args.noncurrent_days,
        shared_role_name: Some(format!("{}-github-deploy", first.name_prefix)),
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
    outln!(
        "Bootstrap of account {} ({}):",
        settings.inputs.account_id,
        settings.state_region
    );
    for (what, change) in &report.changes {
        outln!("  ~ {what}: {change}");
    }
    for what in &report.unchanged {
        outln!("  = {what}");
    }
    if report.changes.is_empty() {
        outln!("\nNo changes: everything was already set up.");
    } else {
        outln!("\n{} change(s) made.", report.changes.len());
    }
    print_next_steps(&settings, &report, &envs);
    Ok(ExitCode::SUCCESS)
}

fn print_policies(settings: &Settings) -> Result<()> {
    let inputs = &settings.inputs;
    let provider = policies::oidc_provider_arn(&inputs.account_id);
    for env in &inputs.environments {
        outln!(
            "# Environment {}: trust policy of the deploy role {}\n{}\n",
            env.environment,
            env.deploy_role_name,
            serde_json::to_string_pretty(&policies::trust_policy(inputs, env, &provider))?
        );
        outln!(
            "# Environment {}: permission policy {} of the deploy role\n{}\n",
            env.environment,
            bootstrap::github::DEPLOY_POLICY_NAME,
            serde_json::to_string_pretty(&policies::deploy_policy(inputs, env))?
        );
        outln!(
            "# Environment {}: permissions boundary {} of its roles\n{}\n",
            env.environment,
            env.boundary_name,
            serde_json::to_string_pretty(&policies::boundary_policy(inputs, env))?
        );
    }
    let bucket_policy = policies::merge_bucket_policy(None, &inputs.state_bucket);
    outln!(
        "# Statement added to the policy of the state bucket {}\n{}",
        inputs.state_bucket,
        serde_json::to_string_pretty(&bucket_policy)?
    );
    Ok(())
}

/// The `gh` commands that create or update a GitHub environment so only `main` deploys to it,
/// with the caller as required reviewer for `prod` (one line each, to paste as they are).
fn environment_commands(repo: &str, environment: &str) -> [String; 2] {
    let branches = r#""deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}"#;
    let put = if environment == "prod" {
        format!(
            r#"printf '{{{branches}, "reviewers": [{{"type": "User", "id": %s}}]}}' "$(gh api user --jq .id)" | gh api --method PUT repos/{repo}/environments/{environment} --input -"#
        )
    } else {
        format!(
            r#"echo '{{{branches}}}' | gh api --method PUT repos/{repo}/environments/{environment} --input -"#
        )
    };
    [
        put,
        format!(
            "gh api --method POST repos/{repo}/environments/{environment}/deployment-branch-policies -f name=main -f type=branch"
        ),
    ]
}

fn print_next_steps(settings: &Settings, report: &bootstrap::Report, envs: &[ResolvedStack]) {
    let repo = &settings.inputs.repository;
    outln!("\nDeploy roles (one per GitHub environment):");
    for (environment, arn) in &report.roles {
        outln!("  {environment:<8} {arn}");
    }
    for warning in &report.warnings {
        outln!("\nWARNING: {warning}");
    }
    outln!(
        "\nNext (each GitHub environment deploys from main only, prod after a reviewer approves):"
    );
    let mut step = 0;
    let mut next = || {
        step += 1;
        step
    };
    for (environment, arn) in &report.roles {
        outln!(
            "  {}. Environment {environment}: create it, restrict it to main{}, store its role:\n{}\n       gh secret set AWS_ROLE_TO_ASSUME --repo {repo} --env {environment} --body '{arn}'",
            next(),
            if environment == "prod" {
                ", require you as reviewer (add others in Settings > Environments)"
            } else {
                ""
            },
            environment_commands(repo, environment)
                .map(|l| format!("       {l}"))
                .join("\n")
        );
    }
    outln!(
        "  {}. Set the repository variable AWS_REGION, and remove a repository-wide role secret an \
         earlier bootstrap asked for (each environment has its own now):\n       gh variable set AWS_REGION --repo {repo} --body {}\n       gh secret delete AWS_ROLE_TO_ASSUME --repo {repo}",
        next(),
        settings.state_region
    );
    let backend_is_s3 = envs
        .iter()
        .all(|e| matches!(&e.backend, BackendSettings::S3 { bucket, .. } if *bucket == settings.inputs.state_bucket));
    if !backend_is_s3 {
        outln!(
            "  {}. Point the stack file at the bucket:\n       [backend]\n       type = \"s3\"\n       bucket = \"{}\"{}",
            next(),
            settings.inputs.state_bucket,
            settings
                .inputs
                .lock_table
                .as_ref()
                .map_or(String::new(), |t| format!("\n       lock_table = \"{t}\""))
        );
    }
    outln!(
        "  {}. Try it: provisioner plan --env {}",
        next(),
        envs.first().map_or("dev", |e| e.environment.as_str())
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

    #[test]
    fn environment_commands_send_valid_json_and_prod_gets_a_reviewer() {
        for environment in ["dev", "prod"] {
            let [put, branch] = environment_commands("octo/pg", environment);
            let body = put
                .split('\'')
                .nth(1)
                .expect("a quoted JSON body")
                .replace("%s", "42");
            let body: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
            assert_eq!(
                body["deployment_branch_policy"]["custom_branch_policies"],
                true
            );
            assert_eq!(body.get("reviewers").is_some(), environment == "prod");
            assert!(put.ends_with(&format!(
                "repos/octo/pg/environments/{environment} --input -"
            )));
            assert!(branch.contains("-f name=main -f type=branch"));
        }
    }
}
