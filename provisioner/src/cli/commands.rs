//! What each command does, wiring the library's parts together: stack → artifacts → desired →
//! lock → state → refresh → plan → (confirm) → apply → outputs.
//!
//! The state lock is held from before the state is read until the run ends, for plan too
//! (as Terraform does), and released on every path, errors included.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow, bail};
use sha2::{Digest, Sha256};

use provisioner::desired::{self, Artifact, Artifacts};
use provisioner::engine::refresh::{Refreshed, refresh};
use provisioner::engine::writer::StateWriter;
use provisioner::engine::{Engine, adopt, apply, diff};
use provisioner::kind::Desired;
use provisioner::output;
use provisioner::package;
use provisioner::plan::Plan;
use provisioner::stack::{BackendSettings, CodeSource, ResolvedStack, Stack};

use super::progress::Stderr;
use super::signals;
use super::{ApplyArgs, DestroyArgs, ForceUnlockArgs, Global, OutputArgs, PackageArgs, PlanArgs};

/// One environment, ready to work on.
struct Context {
    resolved: ResolvedStack,
    engine: Engine,
    backend: state::Backend,
    lock_timeout: std::time::Duration,
}

async fn context(global: &Global, environment: &str) -> Result<Context> {
    let env = super::env::open_env(global, environment).await?;
    refuse_throwaway_state(&env.resolved)?;
    let (resolved, engine, backend) = env.into_engine();
    Ok(Context {
        resolved,
        engine,
        backend,
        lock_timeout: global.lock_timeout,
    })
}

/// Set by the deploy and destroy workflows: their runner's disk is thrown away after the job.
const REQUIRE_REMOTE_STATE: &str = "PROVISIONER_REQUIRE_REMOTE_STATE";

/// Refuses a local state file where it would be lost with the machine (a CI runner): the next
/// run would then create every resource again beside the first ones.
fn refuse_throwaway_state(stack: &ResolvedStack) -> Result<()> {
    let required = std::env::var(REQUIRE_REMOTE_STATE).is_ok_and(|v| v == "1");
    if required && matches!(stack.backend, BackendSettings::Local { .. }) {
        bail!(
            "{REQUIRE_REMOTE_STATE}=1 but the state backend of environment {} is local: its state \
             would be lost with this machine. Set [backend] type = \"s3\" with bucket and \
             lock_table in the stack file (`provisioner bootstrap` creates them and prints the names)",
            stack.environment
        );
    }
    Ok(())
}

/// The code zips: a prebuilt package as is, or the function built for the declared
/// architecture. `for_destroy` skips building (only names matter to find what to delete).
fn artifacts(stack: &ResolvedStack, for_destroy: bool) -> Result<Artifacts> {
    let function = match &stack.lambda.code {
        CodeSource::Prebuilt(path) => {
            let packaged = package::describe(&stack.path(path))?;
            Artifact {
                path: packaged.path,
                sha256: packaged.sha256,
            }
        }
        CodeSource::Build if for_destroy => Artifact {
            path: PathBuf::from("(not built for destroy)"),
            sha256: String::new(),
        },
        CodeSource::Build => {
            eprintln!(
                "building the function for {} (cargo build --release)...",
                stack.lambda.architecture.as_str()
            );
            let packaged = package::package(
                &stack.root,
                stack.lambda.architecture,
                &package::default_out_dir(&stack.root),
            )?;
            Artifact {
                path: packaged.path,
                sha256: packaged.sha256,
            }
        }
    };
    let layer = match &stack.lambda.layer_zip {
        Some(path) => {
            let packaged = package::describe(&stack.path(path))?;
            Some(Artifact {
                path: packaged.path,
                sha256: packaged.sha256,
            })
        }
        None => None,
    };
    Ok(Artifacts { function, layer })
}

/// SHA-256 of the resolved stack and its declaration: a saved plan is only applied to the
/// stack it was computed from.
fn stack_hash(stack: &ResolvedStack, desired: &[Desired]) -> Result<String> {
    let bytes = serde_json::to_vec(&(stack, desired)).context("serialising the stack")?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Runs `body` under the environment's lock and releases it whatever happens.
async fn with_lock<T>(
    ctx: &Context,
    operation: &str,
    body: impl AsyncFnOnce() -> Result<T>,
) -> Result<T> {
    let guard = ctx
        .backend
        .lock(state::LockOptions {
            operation: operation.to_string(),
            timeout: ctx.lock_timeout,
        })
        .await?;
    tracing::info!(lock_id = guard.id(), operation, "state locked");
    let result = body().await;
    let released = guard.release().await;
    let value = result?;
    released.context("releasing the state lock")?;
    Ok(value)
}

fn color_on(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none()
}

pub async fn validate(global: &Global) -> Result<ExitCode> {
    let stack = Stack::load(&global.stack)?;
    let all = stack.resolve_all()?;
    println!(
        "{} is valid: environments {}",
        global.stack.display(),
        all.iter()
            .map(|r| format!("{} (table {}, {})", r.environment, r.table.name, r.region))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

async fn compute_plan(
    ctx: &Context,
    writer: &mut StateWriter<'_>,
    desired: &[Desired],
    hash: String,
    allow_data_loss: bool,
) -> Result<(Plan, Refreshed)> {
    let mut refreshed = refresh(&ctx.engine, &writer.document).await?;
    let orphans =
        adopt::adopt_pending_orphans(&ctx.engine, desired, &mut writer.document, &mut refreshed)
            .await?;
    if !orphans.is_empty() {
        eprintln!(
            "found what an interrupted run was creating under names no longer declared; \
             the plan deletes it: {}",
            orphans.join(", ")
        );
    }
    let plan = diff::make_plan(
        &ctx.engine,
        &diff::PlanInput {
            desired,
            document: &writer.document,
            state_exists: writer.exists,
            refreshed: &refreshed,
            destroy: false,
            stack_hash: hash,
            allow_data_loss,
        },
    )?;
    Ok((plan, refreshed))
}

/// Opens the environment's state, refusing one that belongs to another stack, environment,
/// region or account.
async fn open_state<'a>(ctx: &'a Context) -> Result<StateWriter<'a>> {
    let owner = ctx.engine.owner().await?;
    Ok(StateWriter::open(&ctx.backend, &owner).await?)
}

pub async fn plan(global: &Global, args: &PlanArgs) -> Result<ExitCode> {
    let ctx = context(global, &args.env).await?;
    let desired = desired::desired_resources(&ctx.resolved, &artifacts(&ctx.resolved, false)?);
    let hash = stack_hash(&ctx.resolved, &desired)?;
    let plan = with_lock(&ctx, "plan", async || {
        let mut writer = open_state(&ctx).await?;
        let (plan, _) = until_interrupted(compute_plan(
            &ctx,
            &mut writer,
            &desired,
            hash,
            args.allow_data_loss,
        ))
        .await?;
        Ok(plan)
    })
    .await?;
    if let Some(out) = &args.out {
        plan.save(out)
            .with_context(|| format!("writing the plan file {}", out.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", plan.render(color_on(std::io::stdout().is_terminal())));
        if let Some(out) = &args.out {
            println!(
                "\nSaved the plan to {0}. Apply exactly this plan with:\n  provisioner apply --env {1} {0}",
                out.display(),
                args.env
            );
        }
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Asks for `yes` on a terminal; refuses when there is none to ask on.
/// An interruption (SIGINT, SIGTERM) ends it: nothing it does changes AWS, so it is simply
/// dropped and the command ends with the lock released.
async fn until_interrupted<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        result = work => result,
        _ = signals::interrupt().raised(1) => {
            bail!("stopped by a signal before anything was changed")
        }
    }
}

/// Between the plan and its first step: a stop asked for meanwhile ends the run unchanged.
fn refuse_if_interrupted() -> Result<()> {
    if signals::interrupt().signal().is_some() {
        bail!("stopped by a signal before anything was changed");
    }
    Ok(())
}

async fn confirm(question: &str, auto_approve: bool) -> Result<bool> {
    if auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to ask for confirmation on: pass --auto-approve, or save a plan with \
             `plan --out FILE` and apply that file"
        );
    }
    eprint!("{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    std::io::stderr().flush().ok();
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    });
    let line = until_interrupted(async { Ok(answer.await??) }).await?;
    Ok(line.trim() == "yes")
}

pub async fn apply(global: &Global, args: &ApplyArgs) -> Result<ExitCode> {
    let ctx = context(global, &args.env).await?;
    let saved = match &args.plan_file {
        Some(path) => Some(Plan::load(path).map_err(|e| anyhow!(e))?),
        None => None,
    };
    if let Some(saved) = &saved
        && saved.environment != args.env
    {
        bail!(
            "the plan file is for environment '{}', not '{}'; nothing was changed",
            saved.environment,
            args.env
        );
    }
    let desired = desired::desired_resources(&ctx.resolved, &artifacts(&ctx.resolved, false)?);
    let hash = stack_hash(&ctx.resolved, &desired)?;
    state::prepare_backend(&ctx.resolved.backend_config(), &ctx.engine.aws.sdk)
        .await
        .context("preparing the state backend")?;
    with_lock(&ctx, "apply", async || {
        let mut writer = open_state(&ctx).await?;
        report_pending(&writer);
        let (plan, refreshed) = match &saved {
            Some(saved) => {
                check_saved_plan(saved, &writer, &hash)?;
                let (now, refreshed) = until_interrupted(compute_plan(
                    &ctx,
                    &mut writer,
                    &desired,
                    hash.clone(),
                    saved.allow_data_loss,
                ))
                .await?;
                check_saved_plan_contents(saved, &now)?;
                (now, refreshed)
            }
            None => {
                let (plan, refreshed) = until_interrupted(compute_plan(
                    &ctx,
                    &mut writer,
                    &desired,
                    hash.clone(),
                    args.allow_data_loss,
                ))
                .await?;
                print!("{}", plan.render(color_on(std::io::stdout().is_terminal())));
                if !plan.is_empty()
                    && !confirm("\nDo you want to perform these actions?", args.auto_approve)
                        .await?
                {
                    bail!("apply cancelled; nothing was changed");
                }
                (plan, refreshed)
            }
        };
        refuse_if_interrupted()?;
        run_plan(&ctx, &plan, &refreshed, &mut writer, "Apply").await
    })
    .await
}

/// A saved plan applies only to the state and stack it was computed from.
fn check_saved_plan(saved: &Plan, writer: &StateWriter<'_>, hash: &str) -> Result<()> {
    let current_lineage = writer.exists.then(|| writer.document.lineage.clone());
    let current_serial = writer.exists.then_some(writer.document.serial);
    if saved.state_lineage != current_lineage || saved.state_serial != current_serial {
        bail!(
            "the saved plan is stale: it was computed from state {} serial {}, the state is now {} \
             serial {} (another run changed it). Nothing was changed; run plan again",
            saved.state_lineage.as_deref().unwrap_or("(none)"),
            saved
                .state_serial
                .map_or("-".to_string(), |s| s.to_string()),
            current_lineage.as_deref().unwrap_or("(none)"),
            current_serial.map_or("-".to_string(), |s| s.to_string()),
        );
    }
    if saved.stack_hash != hash {
        bail!(
            "the stack (stack file or function code) changed since this plan was saved, so it \
             would not apply what was reviewed. Nothing was changed; run plan again"
        );
    }
    if saved.destroy {
        bail!("this is a destroy plan; run `provisioner destroy` instead");
    }
    Ok(())
}

/// A saved plan is applied only if it is exactly what the stack and AWS give now: its declared
/// resources and its changes, field by field. The file is data anyone can edit; its stack hash
/// only covers the stack it was computed from, not what the file now says.
fn check_saved_plan_contents(saved: &Plan, now: &Plan) -> Result<()> {
    if saved.desired != now.desired {
        let differing: Vec<&str> = now
            .desired
            .iter()
            .filter(|d| !saved.desired.contains(d))
            .map(|d| d.address.as_str())
            .chain(
                saved
                    .desired
                    .iter()
                    .filter(|d| !now.desired.iter().any(|n| n.address == d.address))
                    .map(|d| d.address.as_str()),
            )
            .collect();
        bail!(
            "the plan file declares {} differently from the stack it claims to come from (was it \
             edited?); nothing was changed. Run plan again and apply the file it saves",
            differing.join(", ")
        );
    }
    if saved.changes != now.changes {
        bail!(
            "the plan file's changes are not what the stack and AWS give now (AWS changed since \
             the plan was saved, or the file was edited); nothing was changed. Run plan again \
             and review the new plan"
        );
    }
    Ok(())
}

fn report_pending(writer: &StateWriter<'_>) {
    for op in &writer.document.pending {
        eprintln!(
            "note: a previous run was interrupted while it was {} {} ({}); this run finishes it",
            match op.action {
                state::PendingAction::Create => "creating",
                state::PendingAction::Update => "updating",
                state::PendingAction::Replace => "replacing",
                state::PendingAction::Delete => "deleting",
            },
            op.address,
            op.physical_name
        );
    }
}

async fn run_plan(
    ctx: &Context,
    plan: &Plan,
    refreshed: &Refreshed,
    writer: &mut StateWriter<'_>,
    verb: &str,
) -> Result<ExitCode> {
    let outputs = apply::execute(&ctx.engine, plan, refreshed, writer, &Stderr).await?;
    let stack_outputs = if plan.destroy {
        BTreeMap::new()
    } else {
        output::stack_outputs(&ctx.resolved, &outputs)
    };
    if writer.document.outputs != stack_outputs || !writer.exists {
        writer.document.outputs = stack_outputs;
        writer.save().await?;
    }
    let s = plan.summary();
    println!(
        "\n{verb} complete! Resources: {} added, {} changed, {} destroyed.",
        s.add, s.change, s.destroy
    );
    if !plan.destroy {
        println!("\nOutputs:\n\n{}", output::render(&writer.document.outputs));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn destroy(global: &Global, args: &DestroyArgs) -> Result<ExitCode> {
    let ctx = context(global, &args.env).await?;
    let desired = desired::desired_resources(&ctx.resolved, &artifacts(&ctx.resolved, true)?);
    with_lock(&ctx, "destroy", async || {
        let mut writer = open_state(&ctx).await?;
        report_pending(&writer);
        let mut refreshed =
            until_interrupted(async { Ok(refresh(&ctx.engine, &writer.document).await?) }).await?;
        let adopted = until_interrupted(async {
            let (document, refreshed) = (&mut writer.document, &mut refreshed);
            let mut found =
                adopt::adopt_pending_orphans(&ctx.engine, &desired, document, refreshed).await?;
            found
                .extend(adopt::adopt_unrecorded(&ctx.engine, &desired, document, refreshed).await?);
            Ok(found)
        })
        .await?;
        if !adopted.is_empty() {
            eprintln!(
                "found {} object(s) of this stack missing from the state (an interrupted run?): {}",
                adopted.len(),
                adopted.join(", ")
            );
            writer.save().await?;
        }
        let plan = diff::make_plan(
            &ctx.engine,
            &diff::PlanInput {
                desired: &desired,
                document: &writer.document,
                state_exists: writer.exists,
                refreshed: &refreshed,
                destroy: true,
                stack_hash: String::new(),
                allow_data_loss: false,
            },
        )?;
        print!("{}", plan.render(color_on(std::io::stdout().is_terminal())));
        if !plan.is_empty()
            && !confirm(
                &format!(
                    "\nDo you really want to destroy every resource of the {} environment?",
                    args.env
                ),
                args.auto_approve,
            )
            .await?
        {
            bail!("destroy cancelled; nothing was changed");
        }
        if plan.is_empty() && !writer.exists {
            println!("\nNothing to destroy.");
            return Ok(ExitCode::SUCCESS);
        }
        refuse_if_interrupted()?;
        run_plan(&ctx, &plan, &refreshed, &mut writer, "Destroy").await
    })
    .await
}

pub async fn output(global: &Global, args: &OutputArgs) -> Result<ExitCode> {
    let ctx = context(global, &args.env).await?;
    let stored = ctx.backend.read_owned(&ctx.engine.owner().await?).await?;
    let Some(document) = stored.document else {
        bail!(
            "the {} environment has no state at {} yet: run `provisioner apply --env {}` first",
            args.env,
            ctx.backend.location(),
            args.env
        );
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&document.outputs)?);
    } else {
        print!("{}", output::render(&document.outputs));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn package(global: &Global, args: &PackageArgs) -> Result<ExitCode> {
    let root = workspace_root(&global.stack);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| package::default_out_dir(&root));
    let packaged = match &args.binary {
        Some(binary) => package::zip_bootstrap(
            binary,
            &out.join(format!("function-{}.zip", args.arch.as_str())),
        )?,
        None => package::package(&root, args.arch, &out)?,
    };
    println!("path   {}", packaged.path.display());
    println!("size   {} bytes", packaged.size);
    println!("sha256 {}", packaged.sha256);
    Ok(ExitCode::SUCCESS)
}

/// The workspace holding the `function` crate: the stack file's directory.
fn workspace_root(stack: &Path) -> PathBuf {
    stack
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

pub async fn force_unlock(global: &Global, args: &ForceUnlockArgs) -> Result<ExitCode> {
    let ctx = context(global, &args.env).await?;
    let freed = ctx.backend.force_unlock(&args.lock_id).await?;
    println!(
        "Released the lock {} on {}.",
        args.lock_id,
        ctx.backend.location()
    );
    println!("It was held by {}.", freed.holder());
    Ok(ExitCode::SUCCESS)
}
