//! `provisioner import --env ENV ADDRESS ID`: adopt one existing resource into the state.
//! Also the shared set-up of the adopting commands (`import`, `migrate`): the stack, the engine
//! and the declared resources, without building the function (adoption only reads).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;

use provisioner::desired::{self, Artifact, Artifacts};
use provisioner::engine::Engine;
use provisioner::engine::diff;
use provisioner::engine::refresh::refresh;
use provisioner::engine::writer::StateWriter;
use provisioner::kind::Desired;
use provisioner::migrate;
use provisioner::package;
use provisioner::stack::{CodeSource, ResolvedStack};

use super::Global;

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The stack's address for it, as `provisioner plan` shows (e.g. dynamodb_table.playground).
    pub address: String,
    /// Its physical id: a name (table, role, function, log group, stage), an API/route/
    /// integration id, `role/policy-arn` for the attachment, `role:policy` for the inline
    /// policy, the statement id for the permission, the version ARN for the layer.
    pub id: String,
}

/// One environment, ready to adopt into.
pub struct AdoptContext {
    pub resolved: ResolvedStack,
    pub engine: Engine,
    pub backend: state::Backend,
    pub desired: Vec<Desired>,
}

/// The zips as far as adoption needs them: a prebuilt package is hashed (so the remaining plan
/// shows a real code change or none); a function still to be built shows as changed.
fn artifacts(stack: &ResolvedStack) -> Result<Artifacts> {
    let described = |path: &str| -> Result<Artifact> {
        let packaged = package::describe(&stack.path(path))?;
        Ok(Artifact {
            path: packaged.path,
            sha256: packaged.sha256,
        })
    };
    let function = match &stack.lambda.code {
        CodeSource::Prebuilt(path) => described(path)?,
        CodeSource::Build => Artifact {
            path: PathBuf::from("(built at apply)"),
            sha256: "(built at apply)".to_string(),
        },
    };
    let layer = stack
        .lambda
        .layer_zip
        .as_deref()
        .map(described)
        .transpose()?;
    Ok(Artifacts { function, layer })
}

pub async fn adopt_context(global: &Global, environment: &str) -> Result<AdoptContext> {
    let env = super::env::open_env(global, environment).await?;
    let desired = desired::desired_resources(&env.resolved, &artifacts(&env.resolved)?);
    let (resolved, engine, backend) = env.into_engine();
    Ok(AdoptContext {
        resolved,
        engine,
        backend,
        desired,
    })
}

/// Runs `body` under this tool's state lock and releases it whatever happens.
pub async fn with_state_lock<T>(
    ctx: &AdoptContext,
    global: &Global,
    operation: &str,
    body: impl AsyncFnOnce() -> Result<T>,
) -> Result<T> {
    state::prepare_backend(&ctx.resolved.backend_config(), &ctx.engine.aws.sdk)
        .await
        .context("preparing the state backend")?;
    let guard = ctx
        .backend
        .lock(state::LockOptions {
            operation: operation.to_string(),
            timeout: global.lock_timeout,
        })
        .await?;
    let result = body().await;
    let released = guard.release().await;
    let value = result?;
    released.context("releasing the state lock")?;
    Ok(value)
}

pub async fn run(global: &Global, args: &ImportArgs) -> Result<ExitCode> {
    let ctx = adopt_context(global, &args.env).await?;
    with_state_lock(&ctx, global, "import", async || {
        let mut writer = StateWriter::open(&ctx.backend, &ctx.engine.owner().await?).await?;
        let refreshed = refresh(&ctx.engine, &writer.document).await?;
        let mut outputs = diff::refreshed_outputs(&refreshed);
        let observed = migrate::adopt_one(
            &ctx.engine,
            &ctx.desired,
            &mut writer.document,
            &mut outputs,
            &args.address,
            &args.id,
        )
        .await?;
        writer.save().await?;
        println!(
            "Imported {} (id {}{}) into the {} state.\nNothing in AWS was changed. Run \
             `provisioner plan --env {}` to see how it differs from the stack.",
            args.address,
            observed.id,
            observed
                .arn
                .as_deref()
                .map_or(String::new(), |arn| format!(", {arn}")),
            args.env,
            args.env
        );
        Ok(ExitCode::SUCCESS)
    })
    .await
}
