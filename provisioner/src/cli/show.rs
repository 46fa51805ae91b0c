//! `provisioner show PLANFILE [--json]`: a saved plan, as `plan` printed it, for the reviewer
//! who gets the file and not the terminal that made it (a CI artifact). It reads only the file:
//! no AWS call and no lock, so it works anywhere and never waits behind a run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::Args;

use provisioner::plan::Plan;

use super::Global;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved by `plan --out` (or `plan --destroy --out`).
    #[arg(value_name = "PLANFILE")]
    pub plan_file: PathBuf,
    /// Print the plan as `plan --json` does.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: &ShowArgs) -> Result<ExitCode> {
    let plan = Plan::load(&args.plan_file).map_err(|e| anyhow!(e))?;
    if args.json {
        outln!("{}", json(&plan)?);
    } else {
        out!("{}", text(global, &plan));
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan as text, coloured as `--color` and stdout allow: what `plan` and `show` print.
pub fn text(global: &Global, plan: &Plan) -> String {
    plan.render(global.color_on(std::io::stdout().is_terminal()))
}

/// The plan as `plan --json` and `show --json` print it (not the plan file's form).
pub fn json(plan: &Plan) -> Result<String> {
    Ok(serde_json::to_string_pretty(&plan.to_json())?)
}
