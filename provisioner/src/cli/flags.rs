//! The flags only some commands take, so that each command's help lists only what it uses:
//! `--lock-timeout` where a run takes the state lock, `--package-dir` where the function's zip
//! is declared, `--stats` where AWS is called. `validate`, `package`, `show` and `completions`
//! take none of them. Each is given after its command (`provisioner plan --env dev --stats`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{Command, parse_duration};

/// Where AWS is called.
#[derive(Debug, Clone, Default, Args)]
pub struct AwsFlags {
    /// Print the number of AWS calls and the wall time on stderr at the end, then each
    /// operation called with its count (`stats: dynamodb.DescribeTable 1`).
    #[arg(long, global = true)]
    pub stats: bool,
}

/// Where a run takes the environment's state lock.
#[derive(Debug, Clone, Default, Args)]
pub struct LockFlags {
    /// How long to wait for the state lock held by another run (e.g. 30s, 2m; default: fail at once).
    #[arg(long, default_value = "0s", value_parser = parse_duration, value_name = "DURATION")]
    pub lock_timeout: Duration,
}

/// The commands that plan against the declaration: the lock, the zip, AWS.
#[derive(Debug, Clone, Default, Args)]
pub struct RunFlags {
    #[command(flatten)]
    pub lock: LockFlags,
    /// Deploy the prebuilt zip `function-<arch>.zip` in DIR (as `provisioner package --out DIR`
    /// and CI write it) instead of the stack's `[lambda] package` or a build, so the deploy
    /// workflow applies exactly the zip CI tested and never runs cargo.
    #[arg(long, env = "PROVISIONER_PACKAGE_DIR", value_name = "DIR")]
    pub package_dir: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsFlags,
}

/// What this run's command was given of those flags (the defaults where it takes none).
pub fn of(command: &Command) -> RunFlags {
    let aws = |aws: &AwsFlags| RunFlags {
        aws: aws.clone(),
        ..RunFlags::default()
    };
    match command {
        Command::Plan(a) => a.flags.clone(),
        Command::Apply(a) => a.flags.clone(),
        Command::Destroy(a) => a.flags.clone(),
        Command::Import(a) => a.flags.clone(),
        Command::Migrate(a) => a.flags.clone(),
        Command::Output(a) => aws(&a.aws),
        Command::Serve(a) => aws(&a.aws),
        Command::ForceUnlock(a) => aws(&a.aws),
        Command::Bootstrap(a) => aws(&a.aws),
        Command::Status(a) => aws(&a.aws),
        Command::Rollback(a) => RunFlags {
            lock: a.lock.clone(),
            ..aws(&a.aws)
        },
        Command::State(a) => RunFlags {
            lock: a.lock().cloned().unwrap_or_default(),
            ..aws(&a.aws)
        },
        Command::Validate | Command::Package(_) | Command::Show(_) | Command::Completions(_) => {
            RunFlags::default()
        }
    }
}
