//! `provisioner status` and `provisioner rollback`: what serves the environment's traffic, and
//! moving it back to the version before at once (the work is `pipeline::release`).

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use provisioner::pipeline::release;

use super::Global;
use super::commands::session;
use super::flags::{AwsFlags, LockFlags};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    #[command(flatten)]
    pub aws: AwsFlags,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    #[command(flatten)]
    pub lock: LockFlags,
    #[command(flatten)]
    pub aws: AwsFlags,
}

pub async fn status(global: &Global, args: &StatusArgs) -> Result<ExitCode> {
    let session = session(global, &args.env).await?;
    let now = release::status(&session).await?;
    outln!("function: {}", now.alias.function_name);
    outln!(
        "live:     version {} (alias `live`)",
        now.alias.function_version
    );
    for (version, weight) in &now.alias.additional_version_weights {
        outln!(
            "rollout:  version {version} takes {:.0}% of the traffic (not finished: `apply` \
             finishes it, `rollback` reverts it)",
            weight * 100.0
        );
    }
    let kept: Vec<String> = now.versions.iter().map(ToString::to_string).collect();
    out!("versions: {}\n", kept.join(", "));
    if now.alarms.is_empty() {
        outln!("alarms:   none declared (`[alarms]` in the stack file)");
    }
    for alarm in &now.alarms {
        let reason = if alarm.state == "OK" {
            String::new()
        } else {
            format!(": {}", alarm.reason)
        };
        outln!("alarm:    {} {}{reason}", alarm.name, alarm.state);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn rollback(global: &Global, args: &RollbackArgs) -> Result<ExitCode> {
    let session = session(global, &args.env).await?;
    let done = release::rollback(&session).await?;
    match &done.dropped {
        Some((version, weight)) => outln!(
            "{}: the rollout of version {version} ({:.0}% of the traffic) is reverted; version \
             {} serves everything",
            done.function,
            weight * 100.0,
            done.to
        ),
        None => outln!(
            "{}: version {} serves everything again (was version {})",
            done.function,
            done.to,
            done.from
        ),
    }
    outln!(
        "The next `provisioner apply --env {}` releases the declared code again: fix it first.",
        args.env
    );
    Ok(ExitCode::SUCCESS)
}
