//! Running one command and measuring it: wall time, CPU time (user + system) and peak resident
//! memory, through `/usr/bin/time` so every figure comes from the kernel's accounting of that
//! one child (and the children it waited for, such as Terraform's provider plugin).
//!
//! Wall time is the bench's own clock around the child (GNU time adds about a millisecond to
//! start); CPU time has GNU time's resolution, 10 ms. Peak memory is the largest single process in the tree (`ru_maxrss`), not a sum: for Terraform
//! that is its AWS provider plugin, for the provisioner its only process.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// What one command cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_rss_mb: f64,
    /// AWS requests the provisioner counted itself (`--stats`); `None` for Terraform.
    pub aws_calls: Option<u64>,
    /// The same requests per operation (`s3.GET`, `dynamodb.PutItem`, ...), so a report can
    /// say which calls a backend adds; empty for Terraform and in reports that predate it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aws_operations: BTreeMap<String, u64>,
}

/// The output of a measured command, for the caller's own checks (exit code, stats line).
#[derive(Debug)]
pub struct Outcome {
    pub sample: Sample,
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Path of GNU time; the bench cannot measure CPU and memory of a child without it.
pub const GNU_TIME: &str = "/usr/bin/time";

/// Runs `command` under GNU time, in `dir`, and measures it. Any exit code is returned (plan
/// exits 2 on changes); failing to start or to measure is an error.
pub fn run_measured(command: Command, dir: &Path, time_file: &Path) -> Result<Outcome> {
    let program = command.get_program().to_owned();
    let mut timed = Command::new(GNU_TIME);
    timed
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(time_file)
        .arg(&program)
        .args(command.get_args())
        .current_dir(dir);
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    let started = std::time::Instant::now();
    let output = timed.output().with_context(|| {
        format!(
            "running {} under {GNU_TIME} (install it with `apt-get install time`)",
            program.to_string_lossy()
        )
    })?;
    let report = std::fs::read_to_string(time_file)
        .with_context(|| format!("reading {}", time_file.display()))?;
    // GNU time prints wall time in hundredths; the bench's own clock has microseconds.
    let wall_s = started.elapsed().as_secs_f64();
    let (_, cpu_s, peak_rss_mb) = parse_time_line(&report)?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    Ok(Outcome {
        sample: Sample {
            wall_s,
            cpu_s,
            peak_rss_mb,
            aws_calls: stats_calls(&stderr),
            aws_operations: stats_operations(&stderr),
        },
        exit_code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    })
}

/// Parses GNU time's `%e %U %S %M` line (the last line: a failed command adds one before it)
/// into wall seconds, CPU seconds and peak RSS in MB.
pub fn parse_time_line(report: &str) -> Result<(f64, f64, f64)> {
    let Some(line) = report.lines().rev().find(|l| !l.trim().is_empty()) else {
        bail!("{GNU_TIME} wrote no measurement");
    };
    let fields: Vec<f64> = line
        .split_whitespace()
        .map(str::parse::<f64>)
        .collect::<Result<_, _>>()
        .with_context(|| format!("unexpected {GNU_TIME} output: {line:?}"))?;
    let [wall, user, system, rss_kb] = fields[..] else {
        bail!("unexpected {GNU_TIME} output: {line:?}");
    };
    Ok((wall, user + system, rss_kb / 1024.0))
}

/// The call count from the provisioner's `stats: N AWS calls, ...` line, if present.
pub fn stats_calls(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        line.strip_prefix("stats: ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// The per-operation lines that follow the total (`stats: dynamodb.DescribeTable 1`): exactly
/// a dotted name and a count, which the total's line (`stats: 42 AWS calls, ...`) is not.
pub fn stats_operations(stderr: &str) -> BTreeMap<String, u64> {
    stderr
        .lines()
        .filter_map(|line| {
            let mut fields = line.strip_prefix("stats: ")?.split_whitespace();
            let (Some(name), Some(count), None) = (fields.next(), fields.next(), fields.next())
            else {
                return None;
            };
            name.contains('.')
                .then(|| Some((name.to_string(), count.parse().ok()?)))
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_line_gives_wall_cpu_and_megabytes() {
        let (wall, cpu, rss) = parse_time_line("1.50 0.25 0.50 20480\n").unwrap();
        assert_eq!((wall, cpu, rss), (1.5, 0.75, 20.0));
    }

    #[test]
    fn a_failed_command_line_before_the_figures_is_skipped() {
        let report = "Command exited with non-zero status 2\n0.10 0.01 0.02 1024\n";
        assert_eq!(parse_time_line(report).unwrap(), (0.1, 0.03, 1.0));
    }

    #[test]
    fn garbage_is_an_error_not_a_zero() {
        for garbage in ["", "1.0 2.0", "a b c d"] {
            assert!(parse_time_line(garbage).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn stats_line_gives_the_call_count() {
        let stderr = "Plan: 0 to add\nstats: 42 AWS calls, 0.123s wall time\n";
        assert_eq!(stats_calls(stderr), Some(42));
        assert_eq!(stats_calls("no stats here"), None);
    }

    #[test]
    fn stats_lines_give_the_calls_per_operation() {
        let stderr = "Plan: 0 to add\nstats: 4 AWS calls, 0.123s wall time\n\
                      stats: dynamodb.PutItem 1\nstats: s3.GET 3\nstats: odd line here\n";
        let operations = stats_operations(stderr);
        assert_eq!(
            operations.into_iter().collect::<Vec<_>>(),
            [
                ("dynamodb.PutItem".to_string(), 1),
                ("s3.GET".to_string(), 3)
            ]
        );
        assert!(stats_operations("stats: 4 AWS calls, 0.1s wall time").is_empty());
    }
}
