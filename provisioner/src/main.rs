//! `provisioner`: the command line. It only parses arguments, sets up logging and dispatches;
//! each command lives in `cli::commands`, the work in the library.

#[macro_use]
mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use cli::{Command, commands};

/// Logs go to stderr, coloured only as `--color` and the terminal allow. A log line that cannot
/// be written (stderr a pipe nobody reads any more) is dropped: tracing's own report of it
/// would panic on the same stderr, mid-run, with the state lock held.
fn init_logging(verbosity: u8, ansi: bool, serving: bool) {
    let default = match verbosity {
        // `serve` logs its cold starts and failed invocations, as Lambda's logs would show them.
        0 if serving => "warn,provisioner::serve=info",
        // A rollout says where it is (weight, time left, alarms) while apply waits on it.
        0 => "warn,provisioner::kinds::lambda_rollout=info",
        1 => "info,provisioner=info",
        _ => "debug,provisioner=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PROVISIONER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_target(false)
        .with_ansi(ansi)
        .init();
}

/// The error and its causes on one line, each cause once: most errors already include their
/// cause's text, which `{:#}` would print a second time.
fn one_line(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::parse();
    let ansi = cli.global.color_on(std::io::stderr().is_terminal());
    let serving = matches!(cli.command, Command::Serve(_));
    init_logging(cli.global.verbose, ansi, serving);
    cli::signals::install();
    cli::out::use_stack(&cli.global.stack);
    // Every state version this run writes names it, so `state history` can group by run.
    let command_line: Vec<String> = std::env::args().skip(1).collect();
    state::run::set_command(&command_line.join(" "));
    let global = &cli.global;
    let clock = std::time::Instant::now();
    let result = match &cli.command {
        Command::Validate => commands::validate(global).await,
        Command::Plan(args) => commands::plan(global, args).await,
        Command::Apply(args) => commands::apply(global, args).await,
        Command::Destroy(args) => commands::destroy(global, args).await,
        Command::Output(args) => commands::output(global, args).await,
        Command::Package(args) => commands::package(global, args).await,
        Command::Show(args) => cli::show::run(global, args),
        Command::ForceUnlock(args) => commands::force_unlock(global, args).await,
        Command::Bootstrap(args) => cli::bootstrap::run(global, args).await,
        Command::Import(args) => cli::import::run(global, args).await,
        Command::Migrate(args) => cli::migrate::run(global, args).await,
        Command::State(args) => cli::state_cmd::run(global, args).await,
        Command::Status(args) => cli::release::status(global, args).await,
        Command::Rollback(args) => cli::release::rollback(global, args).await,
        Command::Serve(args) => cli::serve::run(global, args).await,
        Command::Completions(args) => cli::completions::run(global, args),
    };
    if global.run.aws.stats {
        errln!(
            "stats: {} AWS calls, {:.3}s wall time",
            cli::stats::calls(),
            clock.elapsed().as_secs_f64()
        );
        // Then one line per operation: `stats: dynamodb.DescribeTable 1`.
        for (operation, count) in cli::stats::operations() {
            errln!("stats: {operation} {count}");
        }
    }
    match result {
        Ok(code) => code,
        Err(error) => {
            errln!("error: {}", cli::out::runnable(&one_line(&error)));
            if let Some(signal) = cli::signals::interrupt().signal() {
                // Stopped by a signal: exit as shells expect (130, 143), without waiting for a
                // confirmation prompt that may still be blocked reading stdin.
                std::process::exit(i32::from(cli::signals::exit_status(signal)));
            }
            ExitCode::FAILURE
        }
    }
}
