//! `provisioner state history`: the stored versions grouped by the run that wrote them. One
//! apply writes a version after every step, so a list of versions buries the runs an operator
//! looks for (who changed what, when) under dozens of lines; `--all-versions` still lists each
//! one, since `state rollback` takes a version id.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::Global;
use super::env::open_env;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Print every stored version as JSON (newest first), with the run that wrote it.
    #[arg(long)]
    pub json: bool,
    /// List every stored version instead of one line per run.
    #[arg(long)]
    pub all_versions: bool,
    /// Show at most this many runs (or versions, with --all-versions), newest first.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

/// Consecutive versions written by one run, newest first.
struct RunGroup<'a> {
    versions: Vec<&'a state::HistoryEntry>,
}

impl RunGroup<'_> {
    fn newest(&self) -> &state::HistoryEntry {
        self.versions[0]
    }

    fn oldest(&self) -> &state::HistoryEntry {
        self.versions[self.versions.len() - 1]
    }

    fn serials(&self) -> String {
        let serial = |v: &state::HistoryEntry| v.serial.map_or("-".to_string(), |s| s.to_string());
        match self.versions.len() {
            1 => serial(self.newest()),
            _ => format!("{}-{}", serial(self.oldest()), serial(self.newest())),
        }
    }
}

/// Groups versions (newest first) by run; a version written before runs were recorded is a
/// group of its own.
fn by_run(versions: &[state::HistoryEntry]) -> Vec<RunGroup<'_>> {
    let mut groups: Vec<RunGroup<'_>> = Vec::new();
    for version in versions {
        let same_run = |group: &RunGroup<'_>| {
            let run = |v: &state::HistoryEntry| v.run.as_ref().map(|r| r.id.clone());
            version.run.is_some() && run(group.newest()) == run(version)
        };
        match groups.last_mut() {
            Some(group) if same_run(group) => group.versions.push(version),
            _ => groups.push(RunGroup {
                versions: vec![version],
            }),
        }
    }
    groups
}

/// Rows of cells printed with each column as wide as its widest cell.
fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<width$}", width = widths[c]))
            .collect();
        outln!("{}", cells.join("  ").trim_end());
    }
}

pub async fn history(global: &Global, args: &HistoryArgs) -> Result<ExitCode> {
    let env = open_env(global, &args.env).await?;
    let versions = env.backend.history().await?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&versions)?);
        return Ok(ExitCode::SUCCESS);
    }
    if versions.is_empty() {
        outln!("No stored versions at {}.", env.backend.location());
        return Ok(ExitCode::SUCCESS);
    }
    let current = |v: &state::HistoryEntry| if v.is_latest { "(current)" } else { "" }.to_string();
    let command = |v: &state::HistoryEntry| match &v.run {
        Some(run) if !run.command.is_empty() => run.command.clone(),
        _ => "-".to_string(),
    };
    // To the second: the local backend's file times have nanoseconds, S3's have none.
    let written = |v: &state::HistoryEntry| match v.last_modified.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => v.last_modified.clone(),
    };
    let writer = |v: &state::HistoryEntry| v.writer.clone().unwrap_or_else(|| "-".to_string());
    let mut rows;
    let shown;
    let total;
    if args.all_versions {
        rows = vec![cells(&[
            "VERSION", "SERIAL", "WRITTEN", "BY", "", "COMMAND",
        ])];
        total = versions.len();
        shown = total.min(args.limit);
        for v in versions.iter().take(args.limit) {
            let serial = v.serial.map_or("-".to_string(), |s| s.to_string());
            rows.push(vec![
                v.version_id.clone(),
                serial,
                written(v),
                writer(v),
                current(v),
                command(v),
            ]);
        }
    } else {
        let groups = by_run(&versions);
        rows = vec![cells(&[
            "VERSION", "SERIALS", "WRITTEN", "BY", "STEPS", "", "COMMAND",
        ])];
        total = groups.len();
        shown = total.min(args.limit);
        for group in groups.iter().take(args.limit) {
            let newest = group.newest();
            rows.push(vec![
                newest.version_id.clone(),
                group.serials(),
                written(newest),
                writer(newest),
                group.versions.len().to_string(),
                current(newest),
                command(newest),
            ]);
        }
    }
    print_table(&rows);
    let what = if args.all_versions {
        "versions"
    } else {
        "runs"
    };
    if shown < total {
        outln!(
            "({shown} of {total} {what}; --limit {total} shows them all{})",
            if args.all_versions {
                ""
            } else {
                ", --all-versions every version"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn cells(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}
