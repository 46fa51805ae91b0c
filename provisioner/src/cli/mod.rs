//! The command line: arguments only. Each command's work is in [`commands`]; `main` dispatches.

#[macro_use]
pub mod out;
pub mod bootstrap;
pub mod commands;
pub mod completions;
pub mod env;
pub mod flags;
pub mod history;
pub mod import;
pub mod migrate;
pub mod progress;
pub mod release;
pub mod serve;
pub mod show;
pub mod signals;
pub mod state_cmd;
pub mod stats;

use std::path::PathBuf;
use std::time::Duration;

use flags::{AwsFlags, RunFlags};

use clap::{Args, ColorChoice, Parser, Subcommand};

use provisioner::stack::Architecture;

/// Plans, applies and destroys the playground stack (API Gateway → Lambda → DynamoDB) per
/// environment, reconciling the stack file against the state.
#[derive(Debug, Parser)]
#[command(name = "provisioner", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The stack file.
    #[arg(long, global = true, default_value = "stack.toml", value_name = "FILE")]
    pub stack: PathBuf,
    /// More logs on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Colour in plans and logs: `auto` only on a terminal and without `NO_COLOR` set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// The flags of this run's command that only some commands take ([`flags::of`]).
    #[arg(skip)]
    pub run: flags::RunFlags,
}

impl Global {
    /// Whether output to a stream is coloured: `--color always|never` decide; `auto` colours
    /// a terminal only, and never when `NO_COLOR` is set (https://no-color.org).
    pub fn color_on(&self, stream_is_terminal: bool) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stream_is_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the stack file (every environment) without calling AWS.
    Validate,
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Change the environment to match the stack (or apply a saved plan exactly).
    Apply(ApplyArgs),
    /// Delete everything the stack created in the environment.
    Destroy(DestroyArgs),
    /// Print the environment's outputs (API URL, table name, function name, ...).
    Output(OutputArgs),
    /// Build the function for Lambda and zip it deterministically as `bootstrap`.
    Package(PackageArgs),
    /// Print a plan saved by `plan --out` as plan prints it (or as JSON); no AWS call, no lock.
    Show(show::ShowArgs),
    /// Free the state lock a crashed run left behind.
    ForceUnlock(ForceUnlockArgs),
    /// One-time account set-up: state bucket, lock table, GitHub OIDC provider, deploy role.
    Bootstrap(bootstrap::BootstrapArgs),
    /// Adopt one existing resource into the state (nothing in AWS changes).
    Import(import::ImportArgs),
    /// Adopt the original Terraform stack's resources from its state (dry run unless --write).
    Migrate(migrate::MigrateArgs),
    /// Look into the state: list, show, history, rollback.
    State(state_cmd::StateArgs),
    /// What serves the environment's traffic: the live version, a rollout's weight, the
    /// versions kept.
    Status(release::StatusArgs),
    /// Serve the version before the live one again, at once (or revert an unfinished rollout).
    Rollback(release::RollbackArgs),
    /// Serve the environment's deployed HTTP API locally as API Gateway would, running the
    /// deployed function's zip under a local Lambda Runtime API.
    Serve(serve::ServeArgs),
    /// Print a shell completion script (bash, zsh, fish).
    Completions(completions::CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Save the plan to apply it exactly later (`provisioner apply --env ENV FILE`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there is nothing to change, 2 when there is, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Plan the deletion of everything the state records (and this stack's objects it lost),
    /// as `destroy` would; save it with --out and apply it with `apply --env ENV FILE`.
    #[arg(long, conflicts_with_all = ["allow_data_loss", "replace"])]
    pub destroy: bool,
    /// Replace this resource although nothing forces it (a wedged object), create before
    /// destroy where both can exist; repeatable. ADDR as the plan shows it.
    #[arg(long, value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Plan the replacement of an object that holds data (the table, when its name or keys
    /// change) instead of refusing it: the old table and its items are deleted.
    #[arg(long)]
    pub allow_data_loss: bool,
    #[command(flatten)]
    pub flags: RunFlags,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// A plan saved by `plan --out`, applied exactly (refused if the state or stack moved).
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// As for plan: replace an object that holds data (the table) instead of refusing. A saved
    /// plan carries its own choice.
    #[arg(long)]
    pub allow_data_loss: bool,
    /// As for plan: replace this resource although nothing forces it; repeatable. A saved plan
    /// carries its own.
    #[arg(long, value_name = "ADDR", conflicts_with = "plan_file")]
    pub replace: Vec<String>,
    #[command(flatten)]
    pub flags: RunFlags,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub flags: RunFlags,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Print only this output (its value as JSON: strings quoted, unless --raw).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Print the outputs as a JSON object (with NAME: that output's JSON value).
    #[arg(long, conflicts_with = "raw")]
    pub json: bool,
    /// With NAME: print a string, number or boolean bare, for scripts (`curl "$(provisioner
    /// output --env dev api_base_url --raw)/tables"`).
    #[arg(long, requires = "name")]
    pub raw: bool,
    #[command(flatten)]
    pub aws: AwsFlags,
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Lambda architecture to build for.
    #[arg(long, value_parser = parse_architecture, default_value = "arm64")]
    pub arch: Architecture,
    /// Directory for the zip (default: target/lambda).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Zip this already built binary instead of building (e.g. for the local emulator).
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The lock ID from the "state is locked" error.
    pub lock_id: String,
    #[command(flatten)]
    pub aws: AwsFlags,
}

fn parse_architecture(s: &str) -> Result<Architecture, String> {
    s.parse()
}

/// `30s`, `2m`, `1h`, `500ms` or a bare number of seconds ([`provisioner::duration::parse`]).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    provisioner::duration::parse(text)
}

/// Parses the command line, with the help texts that come from the registry of kinds.
///
/// A usage error exits 1 like every other error: 2 belongs to `plan --detailed-exitcode`
/// ("there are changes"), and a CI job must not read a typo as a pending change. `--help` and
/// `--version` exit 0.
pub fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let command =
        Cli::command().mut_subcommand("import", |c| c.after_long_help(import::ids_help()));
    let parsed = command
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    match parsed {
        Ok(mut cli) => {
            cli.global.run = flags::of(&cli.command);
            cli
        }
        Err(error) => {
            let _ = error.print();
            std::process::exit(usage_exit_code(error.kind()));
        }
    }
}

/// The exit status for what clap stopped on: 0 for the help and version it printed, else 1.
fn usage_exit_code(kind: clap::error::ErrorKind) -> i32 {
    use clap::error::ErrorKind;
    match kind {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    /// Every flag and argument of every command says what it is for in `--help`.
    #[test]
    fn every_argument_has_help() {
        use clap::CommandFactory;
        fn undocumented(command: &clap::Command, path: &str, out: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() {
                    out.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                undocumented(sub, &format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "provisioner", &mut missing);
        assert!(missing.is_empty(), "no help: {missing:#?}");
    }
}
