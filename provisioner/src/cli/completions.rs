//! `provisioner completions SHELL`: shell completion scripts generated from the same clap
//! definition that parses the arguments, so they can never fall out of date with the flags.
//!
//! The stack file (`--stack`, default `stack.toml`) is read when the script is generated: its
//! environment names become the values `--env` completes, and its resource addresses those of
//! `--replace`, `import ADDRESS` and `state show ADDRESS`. A static script cannot ask the stack
//! at each Tab, so these are the stack's as it was; regenerate the script after adding an
//! environment. Without a readable stack file the script completes the flags alone.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::builder::PossibleValuesParser;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use provisioner::desired::{self, Artifact, Artifacts};
use provisioner::stack::Stack;

use super::{Cli, Global};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate for: bash, zsh, fish (also elvish, powershell).
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(global: &Global, args: &CompletionsArgs) -> Result<ExitCode> {
    let mut command = Cli::command();
    match stack_words(global) {
        Ok(words) => command = with_values(command, &words),
        Err(error) => {
            tracing::warn!("{error:#}; the script completes --env without the stack's environments")
        }
    }
    let name = command.get_name().to_string();
    clap_complete::generate(args.shell, &mut command, name, &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// What the stack file names: its environments, and every address any of them declares.
struct StackWords {
    environments: Vec<String>,
    addresses: Vec<String>,
}

fn stack_words(global: &Global) -> Result<StackWords> {
    let stack = Stack::load(&global.stack)?;
    let resolved = stack.resolve_all()?;
    // Only the addresses matter here: the zips are named, never read or built.
    let unread = |name: &str| Artifact {
        path: PathBuf::from(name),
        sha256: String::new(),
    };
    let mut addresses = BTreeSet::new();
    for environment in &resolved {
        let artifacts = Artifacts {
            function: unread("function.zip"),
            layer: environment
                .lambda
                .layer_zip
                .as_ref()
                .map(|_| unread("layer.zip")),
        };
        for resource in desired::desired_resources(environment, &artifacts) {
            addresses.insert(resource.address);
        }
    }
    Ok(StackWords {
        environments: resolved.into_iter().map(|r| r.environment).collect(),
        addresses: addresses.into_iter().collect(),
    })
}

/// `command` and its subcommands with the stack's words as the values their `--env` and
/// address arguments complete (parsing never sees this definition: only the script does).
fn with_values(mut command: clap::Command, words: &StackWords) -> clap::Command {
    let values = [
        ("env", &words.environments),
        ("replace", &words.addresses),
        ("address", &words.addresses),
    ];
    for (id, list) in values {
        if command.get_arguments().any(|a| a.get_id() == id) {
            // clap keeps `&'static str` values (without its `string` feature); the process
            // prints the script and exits, so leaking these few names costs nothing.
            let leaked: Vec<&'static str> = list.iter().map(|w| &*w.clone().leak()).collect();
            let parser = PossibleValuesParser::new(leaked);
            command = command.mut_arg(id, |a| a.value_parser(parser));
        }
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, |sub| with_values(sub, words));
    }
    command
}
