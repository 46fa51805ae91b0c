//! Standard output and error that a closed pipe cannot crash, and commands suggested the way
//! they run.
//!
//! `println!` and `eprintln!` panic when their stream is a pipe whose reader has gone
//! (`provisioner bootstrap --print-policy | head`, `provisioner apply 2>&1 | head`): the user
//! sees a panic, and a run cut short that way, mid-apply, would skip writing its state and
//! releasing its lock. Here a broken pipe only means nobody reads any more: the output is
//! dropped and the command goes on to its end.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::sync::OnceLock;

/// `--stack FILE` as this run was given it, when it is not the default `stack.toml`.
static STACK_FLAG: OnceLock<String> = OnceLock::new();

/// The subcommands a message may suggest, as `provisioner <subcommand> ...`.
const SUBCOMMANDS: &[&str] = &[
    "apply",
    "bootstrap",
    "destroy",
    "force-unlock",
    "import",
    "migrate",
    "output",
    "package",
    "plan",
    "serve",
    "show",
    "state",
    "validate",
];

/// Remembers the stack file this run uses, so that every command suggested afterwards (in
/// errors, hints and next steps) names it and runs as printed.
pub fn use_stack(path: &Path) {
    if path != Path::new("stack.toml") {
        let _ = STACK_FLAG.set(format!("--stack {}", shell_quoted(&path.to_string_lossy())));
    }
}

/// `text` with `--stack FILE` added to every suggested `provisioner <subcommand>` when this run
/// uses another stack file than the default.
pub fn runnable(text: &str) -> String {
    match STACK_FLAG.get() {
        Some(flag) => with_flag(text, flag),
        None => text.to_string(),
    }
}

/// `text` with `flag` after every `provisioner` that starts a suggested command.
fn with_flag(text: &str, flag: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(at) = rest.find("provisioner ") {
        let (before, after) = rest.split_at(at + "provisioner ".len());
        out.push_str(before);
        let suggests = SUBCOMMANDS.iter().any(|sub| {
            after
                .strip_prefix(sub)
                .is_some_and(|tail| tail.is_empty() || tail.starts_with([' ', '`', '\n', ')']))
        });
        if suggests {
            out.push_str(flag);
            out.push(' ');
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` as one shell word.
fn shell_quoted(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@+".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Writes `text` to stdout; a reader that has gone is not an error.
pub fn write(text: Arguments<'_>) {
    let text = runnable(&text.to_string());
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(error) = written
        && error.kind() != ErrorKind::BrokenPipe
    {
        tracing::warn!("writing to stdout failed: {error}");
    }
}

/// Writes `text` to stderr, whatever happens to it: when stderr cannot be written there is
/// nowhere left to tell, and the run must still finish (its state, its lock).
pub fn write_err(text: Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(text).and_then(|()| stderr.flush());
}

/// `print!` that a closed pipe cannot crash.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!($($arg)*))
    };
}

/// `println!` that a closed pipe cannot crash.
macro_rules! outln {
    () => {
        $crate::cli::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` that a closed pipe cannot crash.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::cli::out::write_err(format_args!($($arg)*))
    };
}

/// `eprintln!` that a closed pipe cannot crash.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::out::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_commands_get_the_flag_and_prose_does_not() {
        let text = "run `provisioner apply --env dev` first; the provisioner-e2e suite and \
                    provisioner state history --env dev; provisioner statements";
        assert_eq!(
            with_flag(text, "--stack s.toml"),
            "run `provisioner --stack s.toml apply --env dev` first; the provisioner-e2e suite \
             and provisioner --stack s.toml state history --env dev; provisioner statements"
        );
    }

    #[test]
    fn file_names_are_quoted_only_when_the_shell_needs_it() {
        assert_eq!(
            shell_quoted("infra/stack.prod.toml"),
            "infra/stack.prod.toml"
        );
        assert_eq!(shell_quoted("my stack.toml"), "'my stack.toml'");
        assert_eq!(shell_quoted("it's.toml"), r"'it'\''s.toml'");
    }
}
