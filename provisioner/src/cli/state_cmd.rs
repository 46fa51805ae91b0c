//! `provisioner state list|show|history|rollback`: looking into the state and undoing a bad
//! write, without editing JSON by hand.
//!
//! Reading commands take no lock (they change nothing and must work while a run is stuck);
//! `rollback` writes, so it takes the environment's lock like every other writer.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};

use provisioner::pipeline;

use super::Global;
use super::env::{EnvBackend, open_env};

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub command: StateCommand,
    #[command(flatten)]
    pub aws: super::flags::AwsFlags,
}

impl StateArgs {
    /// The lock flags of the one state command that takes the lock (`rollback`).
    pub fn lock(&self) -> Option<&super::flags::LockFlags> {
        match &self.command {
            StateCommand::Rollback(a) => Some(&a.lock),
            _ => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List every resource the state records: address, physical id.
    List(EnvArg),
    /// Show one recorded resource (id, ARN, attributes, dependencies) as JSON.
    Show(ShowArgs),
    /// The stored versions of the state grouped by the run that wrote them, newest first.
    History(super::history::HistoryArgs),
    /// Write an earlier version back as the newest one (history is kept).
    Rollback(RollbackArgs),
}

#[derive(Debug, Args)]
pub struct EnvArg {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The resource's address, as `state list` prints it (e.g. `lambda_function.api`).
    pub address: String,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The version to restore, as `state history` prints it (S3 version id, or serial locally).
    #[arg(value_name = "VERSION")]
    pub version_id: String,
    #[command(flatten)]
    pub lock: super::flags::LockFlags,
}

pub async fn run(global: &Global, args: &StateArgs) -> Result<ExitCode> {
    match &args.command {
        StateCommand::List(a) => list(global, &a.env).await,
        StateCommand::Show(a) => show(global, a).await,
        StateCommand::History(a) => super::history::history(global, a).await,
        StateCommand::Rollback(a) => rollback(global, a).await,
    }
}

/// The current document, or an error that says how to create one. A document that belongs to
/// another stack or environment is refused (`history` and `rollback` are the way to repair it).
async fn current(env: &EnvBackend) -> Result<state::StateDocument> {
    let stored = env.backend.read_owned(&env.owner().await?).await?;
    match stored.document {
        Some(document) => Ok(document),
        None => bail!(
            "the {0} environment has no state at {1} yet: run `provisioner apply --env {0}` \
             (or `provisioner migrate --env {0} ...` to adopt a Terraform stack) first",
            env.resolved.environment,
            env.backend.location()
        ),
    }
}

async fn list(global: &Global, environment: &str) -> Result<ExitCode> {
    let env = open_env(global, environment).await?;
    let document = current(&env).await?;
    if document.resources.is_empty() {
        outln!(
            "The state at {} records no resources (serial {}).",
            env.backend.location(),
            document.serial
        );
    }
    let width = document
        .resources
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0);
    for (address, resource) in &document.resources {
        outln!("{address:<width$}  {}", resource.id);
    }
    for pending in &document.pending {
        outln!(
            "(pending {:?} of {} as {} since {})",
            pending.action,
            pending.address,
            pending.physical_name,
            pending.started_at
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(global: &Global, args: &ShowArgs) -> Result<ExitCode> {
    let env = open_env(global, &args.env).await?;
    let document = current(&env).await?;
    let Some(resource) = document.resources.get(&args.address) else {
        let known: Vec<&str> = document.resources.keys().map(String::as_str).collect();
        let closest = known
            .iter()
            .copied()
            .max_by(|a, b| {
                strsim::jaro_winkler(a, &args.address)
                    .total_cmp(&strsim::jaro_winkler(b, &args.address))
            })
            .filter(|best| strsim::jaro_winkler(best, &args.address) > 0.8);
        bail!(
            "the {} state has no resource '{}'{}; `provisioner state list --env {}` lists them",
            args.env,
            args.address,
            closest.map_or(String::new(), |c| format!(" (did you mean '{c}'?)")),
            args.env
        );
    };
    outln!("{}", serde_json::to_string_pretty(resource)?);
    Ok(ExitCode::SUCCESS)
}

async fn rollback(global: &Global, args: &RollbackArgs) -> Result<ExitCode> {
    let session = super::commands::session(global, &args.env).await?;
    // Check the version exists and verifies before taking the lock, so a typo costs nothing.
    let target = session
        .backend
        .read_version(&args.version_id)
        .await
        .with_context(|| {
            format!(
                "reading version {} (`provisioner state history --env {}` lists them)",
                args.version_id, args.env
            )
        })?;
    session
        .backend
        .check_owner(&target, &session.engine.owner().await?)
        .with_context(|| format!("version {} is not this environment's", args.version_id))?;
    let written = pipeline::lock::locked(&session, "rollback", async || {
        Ok(session.backend.rollback(&args.version_id).await?)
    })
    .await?;
    outln!(
        "Rolled the {} state back to version {} (serial {}, {} resources): it is now serial {}.\n\
         Run `provisioner plan --env {}` to see how AWS differs from it.",
        args.env,
        args.version_id,
        target.serial,
        written.resources.len(),
        written.serial,
        args.env
    );
    Ok(ExitCode::SUCCESS)
}
