//! What each command does, wiring the library's parts together: stack → artifacts → desired →
//! lock → state → refresh → plan → (confirm) → apply → outputs.
//!
//! The state lock is held from before the state is read until the run ends, for plan too
//! (as Terraform does), and released on every path, errors included.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};

use provisioner::desired;
use provisioner::output;
use provisioner::package::{self, ZipsFor};
use provisioner::pipeline::{self, Declared, Inputs, PipelineError, PlanOptions, Session};
use provisioner::plan::Plan;
use provisioner::resource::Desired;
use provisioner::stack::{BackendSettings, ResolvedStack, Stack};

use super::progress::Stderr;
use super::{ApplyArgs, DestroyArgs, ForceUnlockArgs, Global, OutputArgs, PackageArgs, PlanArgs};

/// One environment's session: the stack, the engine, the state backend.
pub async fn session(global: &Global, environment: &str) -> Result<Session> {
    let env = super::env::open_env(global, environment).await?;
    refuse_throwaway_state(&env.resolved)?;
    let (resolved, engine, backend) = env.into_engine();
    Ok(Session {
        resolved,
        engine,
        backend,
        lock_timeout: global.run.lock.lock_timeout,
    })
}

/// The resources the session's environment declares, with the artifacts `zips` names.
pub fn declared(session: &Session, zips: ZipsFor) -> Result<Vec<Desired>> {
    Ok(declare(&session.resolved, zips)?)
}

/// The resources `stack` declares, with the artifacts `zips` names: what [`declared`] and the
/// background work of [`declaring`] compute.
fn declare(stack: &ResolvedStack, zips: ZipsFor) -> Result<Vec<Desired>, package::PackageError> {
    let artifacts = package::artifacts(stack, zips)?;
    Ok(desired::desired_resources(stack, &artifacts))
}

/// [`declared`] for a run: zips that are only hashed are hashed beside the run's first AWS
/// calls ([`Declared`]); a function built from source is built now, before the lock. A zip that
/// is missing was refused already, with the session (the stack's `package` and `layer_zip` when
/// it is resolved, `--package-dir` when it is applied).
fn declaring(session: &Session, zips: ZipsFor) -> Result<Declared> {
    if package::builds_function(&session.resolved, zips) {
        return Ok(Declared::ready(declared(session, zips)?));
    }
    let stack = session.resolved.clone();
    Ok(Declared::in_background(move || declare(&stack, zips)))
}

/// How `plan` and `apply` plan.
fn plan_options(allow_data_loss: bool, replace: &[String]) -> PlanOptions {
    PlanOptions {
        allow_data_loss,
        destroy: false,
        replace: replace.to_vec(),
    }
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

fn print_plan(global: &Global, plan: &Plan) {
    out!("{}", super::show::text(global, plan));
}

pub async fn validate(global: &Global) -> Result<ExitCode> {
    let stack = Stack::load(&global.stack)?;
    let all = stack.resolve_all()?;
    outln!(
        "{} is valid: environments {}",
        global.stack.display(),
        all.iter()
            .map(|r| format!("{} (table {}, {})", r.environment, r.table.name, r.region))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn plan(global: &Global, args: &PlanArgs) -> Result<ExitCode> {
    let session = session(global, &args.env).await?;
    let zips = if args.destroy {
        ZipsFor::Destroy
    } else {
        ZipsFor::Deploy
    };
    let desired = declaring(&session, zips)?;
    let options = PlanOptions {
        destroy: args.destroy,
        ..plan_options(args.allow_data_loss, &args.replace)
    };
    let plan = pipeline::plan(&session, &desired, &options, &Stderr).await?;
    if let Some(out) = &args.out {
        plan.save(out)
            .map_err(|e| anyhow!("writing the plan file {}: {e}", out.display()))?;
    }
    if args.json {
        outln!("{}", super::show::json(&plan)?);
    } else {
        print_plan(global, &plan);
        if let Some(out) = &args.out {
            outln!(
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

/// What to run when there is no terminal to confirm on: `--auto-approve`, or the reviewed way,
/// a saved plan (a destroy plan for `destroy`) applied exactly.
fn without_terminal(environment: &str, destroy: bool) -> String {
    let flag = if destroy { " --destroy" } else { "" };
    format!(
        "pass --auto-approve, or save the plan with `provisioner plan{flag} --env {environment} \
         --out FILE`, review it, and apply exactly that plan with `provisioner apply --env \
         {environment} FILE`"
    )
}

/// Asks for `yes` on a terminal; refuses when there is none to ask on, saying what to run
/// instead (`without_terminal`).
async fn confirm(
    question: String,
    auto_approve: bool,
    without_terminal: String,
) -> Result<bool, PipelineError> {
    if auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(PipelineError::Refused(format!(
            "no terminal to ask for confirmation on: {without_terminal}. Nothing was changed"
        )));
    }
    err!("{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    });
    let line = answer
        .await
        .map_err(|e| PipelineError::Refused(format!("reading the answer: {e}")))?
        .map_err(|e| PipelineError::Refused(format!("reading the answer: {e}")))?;
    Ok(line.trim() == "yes")
}

fn print_applied(verb: &str, applied: &pipeline::Applied) {
    let s = applied.plan.summary();
    outln!(
        "\n{verb} complete! Resources: {} added, {} changed, {} destroyed.",
        s.add,
        s.change,
        s.destroy
    );
    if !applied.plan.destroy {
        outln!("\nOutputs:\n\n{}", output::render(&applied.outputs));
    }
}

pub async fn apply(global: &Global, args: &ApplyArgs) -> Result<ExitCode> {
    let session = session(global, &args.env).await?;
    let saved = match &args.plan_file {
        Some(path) => Some(Plan::load(path).map_err(|e| anyhow!(e))?),
        None => None,
    };
    if let Some(saved) = &saved {
        if saved.environment != args.env {
            bail!(
                "the plan file is for environment '{}', not '{}'; nothing was changed",
                saved.environment,
                args.env
            );
        }
        if saved.destroy {
            return destroy_in(global, &session, Some(saved), false).await;
        }
    }
    let desired = declaring(&session, ZipsFor::Deploy)?;
    let options = plan_options(args.allow_data_loss, &args.replace);
    state::prepare_backend(&session.resolved.backend_config(), &session.engine.aws.sdk).await?;
    let inputs = Inputs {
        desired: &desired,
        options: &options,
        saved: saved.as_ref(),
    };
    let applied = pipeline::apply(
        &session,
        inputs,
        async |plan| {
            print_plan(global, plan);
            confirm(
                "\nDo you want to perform these actions?".into(),
                args.auto_approve,
                without_terminal(&args.env, false),
            )
            .await
        },
        &Stderr,
    )
    .await?;
    if applied.plan.is_empty() && saved.is_none() {
        print_plan(global, &applied.plan);
    }
    print_applied("Apply", &applied);
    Ok(ExitCode::SUCCESS)
}

pub async fn destroy(global: &Global, args: &DestroyArgs) -> Result<ExitCode> {
    let session = session(global, &args.env).await?;
    destroy_in(global, &session, None, args.auto_approve).await
}

/// Destroys the session's environment: what the saved destroy plan lists (`apply FILE`), or
/// what it finds now once confirmed (`destroy`).
async fn destroy_in(
    global: &Global,
    session: &Session,
    saved: Option<&Plan>,
    auto_approve: bool,
) -> Result<ExitCode> {
    let environment = &session.resolved.environment;
    let desired = declaring(session, ZipsFor::Destroy)?;
    let options = plan_options(false, &[]);
    let question =
        format!("\nDo you really want to destroy every resource of the {environment} environment?");
    let inputs = Inputs {
        desired: &desired,
        options: &options,
        saved,
    };
    let destroyed = pipeline::destroy(
        session,
        inputs,
        async |plan| {
            print_plan(global, plan);
            let advice = without_terminal(environment, true);
            confirm(question, auto_approve, advice).await
        },
        &Stderr,
    )
    .await?;
    match destroyed {
        Some(applied) => {
            if applied.plan.is_empty() {
                print_plan(global, &applied.plan);
            }
            print_applied("Destroy", &applied);
        }
        None => {
            print_plan(global, &Plan::empty(environment, true));
            outln!("\nNothing to destroy.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The environment's state as the read-only commands (`output`, `serve`) read it: no lock, the
/// owner checked; no state yet is an error saying to apply first.
pub async fn applied_state(
    global: &Global,
    environment: &str,
) -> Result<(Session, state::StateDocument)> {
    let ctx = session(global, environment).await?;
    let stored = ctx.backend.read_owned(&ctx.engine.owner().await?).await?;
    let Some(document) = stored.document else {
        bail!(
            "the {environment} environment has no state at {} yet: run `provisioner apply --env \
             {environment}` first",
            ctx.backend.location(),
        );
    };
    Ok((ctx, document))
}

pub async fn output(global: &Global, args: &OutputArgs) -> Result<ExitCode> {
    let (_, document) = applied_state(global, &args.env).await?;
    let Some(name) = &args.name else {
        if args.json {
            outln!("{}", serde_json::to_string_pretty(&document.outputs)?);
        } else {
            out!("{}", output::render(&document.outputs));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some(value) = document.outputs.get(name) else {
        let names: Vec<&str> = document.outputs.keys().map(String::as_str).collect();
        bail!(
            "the {} environment has no output '{name}': its outputs are {}",
            args.env,
            names.join(", ")
        );
    };
    if args.raw {
        outln!("{}", output::raw(name, value).map_err(|e| anyhow!(e))?);
    } else if args.json {
        outln!("{}", serde_json::to_string_pretty(value)?);
    } else {
        outln!("{value}");
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
        Some(binary) => {
            package::check_architecture(binary, args.arch)?;
            let zip = out.join(format!("function-{}.zip", args.arch.as_str()));
            package::zip_bootstrap(binary, &zip)?
        }
        None => package::package(&root, args.arch, &out)?,
    };
    outln!("path   {}", packaged.path.display());
    outln!("size   {} bytes", packaged.size);
    outln!("sha256 {}", packaged.sha256);
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
    let ctx = session(global, &args.env).await?;
    let freed = ctx.backend.force_unlock(&args.lock_id).await?;
    outln!(
        "Released the lock {} on {}.",
        args.lock_id,
        ctx.backend.location()
    );
    outln!("It was held by {}.", freed.holder());
    Ok(ExitCode::SUCCESS)
}
