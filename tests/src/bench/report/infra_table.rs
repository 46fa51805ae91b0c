//! The provisioner/Terraform tables: every step's wall time, CPU and peak memory for both
//! tools, the backends side by side (three columns each), then the provisioner's AWS calls per
//! command with each backend and which calls the S3 backend adds.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::format::{cell, count_cell, ratio_cell, signed};
use super::{Report, StepSummary};
use crate::bench::infra::{Backend, Operation, Tool};
use crate::bench::stats::Summary;

/// A row of the step table: the measure's name, how to pick it, its unit.
type MeasureRow = (&'static str, fn(&StepSummary) -> Summary, &'static str);

const MEASURES: [MeasureRow; 3] = [
    ("wall time", |s| s.wall_s, "s"),
    ("CPU time", |s| s.cpu_s, "s"),
    ("peak memory", |s| s.peak_rss_mb, "MB"),
];

impl Report {
    /// The step table; a report with local state alone keeps its single set of columns.
    pub(super) fn infra_table(&self) -> String {
        let backends = self.backends();
        let mut md = String::from("| step | measure |");
        for &b in &backends {
            let (ours, theirs) = if self.names_backends() {
                (
                    format!("provisioner, {}", b.label()),
                    format!("Terraform, {}", b.label()),
                )
            } else {
                ("provisioner".to_string(), "Terraform".to_string())
            };
            let _ = write!(md, " {ours} | {theirs} | Terraform / provisioner |");
        }
        md.push_str("\n|---|---|");
        md.push_str(&"---|---|---|".repeat(backends.len()));
        md.push('\n');
        for operation in Operation::ALL {
            let pairs: Vec<_> = backends
                .iter()
                .map(|&b| {
                    (
                        self.summary(b, Tool::Provisioner, operation),
                        self.summary(b, Tool::Terraform, operation),
                    )
                })
                .collect();
            if pairs.iter().all(|(a, b)| a.is_none() && b.is_none()) {
                continue;
            }
            for (measure, pick, unit) in MEASURES {
                let _ = write!(md, "| {} | {measure} |", operation.label());
                for (ours, theirs) in &pairs {
                    let (a, b) = (ours.map(pick), theirs.map(pick));
                    let _ = write!(
                        md,
                        " {} | {} | {} |",
                        cell(a, unit),
                        cell(b, unit),
                        ratio_cell(b, a)
                    );
                }
                md.push('\n');
            }
            let calls: Vec<Option<Summary>> = pairs
                .iter()
                .map(|(ours, _)| ours.and_then(|s| s.aws_calls))
                .collect();
            if calls.iter().any(Option::is_some) {
                let _ = write!(md, "| {} | AWS calls |", operation.label());
                for calls in calls {
                    let _ = write!(md, " {} | | |", calls.map_or("–".to_string(), count_cell));
                }
                md.push('\n');
            }
        }
        md
    }

    /// The provisioner's AWS calls per command with local and with S3 state, and the calls the
    /// S3 backend adds by operation (its state object, bucket checks and DynamoDB lock), from
    /// the median run; empty unless both backends were measured.
    pub(super) fn backend_calls_table(&self) -> String {
        let backends = self.backends();
        if !(backends.contains(&Backend::Local) && backends.contains(&Backend::S3)) {
            return String::new();
        }
        let mut md = format!(
            "| step | provisioner's AWS calls, {} | provisioner's AWS calls, {} | added by the S3 backend (S3 − local, per operation) |\n|---|---|---|---|\n",
            Backend::Local.label(),
            Backend::S3.label()
        );
        let mut any = false;
        for operation in Operation::ALL {
            let (Some(local), Some(s3)) = (
                self.summary(Backend::Local, Tool::Provisioner, operation),
                self.summary(Backend::S3, Tool::Provisioner, operation),
            ) else {
                continue;
            };
            let (Some(local_calls), Some(s3_calls)) = (local.aws_calls, s3.aws_calls) else {
                continue;
            };
            any = true;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                operation.label(),
                count_cell(local_calls),
                count_cell(s3_calls),
                added_calls(local, s3)
            );
        }
        if !any {
            return String::new();
        }
        md.push_str(
            "\nThe `state` crate's S3 requests are named by HTTP method (`s3.HEAD`, `s3.GET`: the \
             bucket and its settings, the state object; `s3.PUT`: a conditional write of the \
             state), its DynamoDB ones by operation (`PutItem` and `DeleteItem` take and release \
             the lock).\n",
        );
        md
    }
}

/// `` `dynamodb.PutItem` +1, `s3.GET` +2 ``: each operation whose median count differs between
/// the two backends; `–` when the report has no per-operation counts.
fn added_calls(local: &StepSummary, s3: &StepSummary) -> String {
    if local.aws_operations.is_empty() && s3.aws_operations.is_empty() {
        return "–".to_string();
    }
    let names: BTreeSet<&String> = local
        .aws_operations
        .keys()
        .chain(s3.aws_operations.keys())
        .collect();
    let count = |s: &StepSummary, name: &String| s.aws_operations.get(name).copied();
    let differences: Vec<String> = names
        .into_iter()
        .filter_map(|name| {
            let difference = count(s3, name).unwrap_or(0.0) - count(local, name).unwrap_or(0.0);
            (difference != 0.0).then(|| format!("`{name}` {}", signed(difference)))
        })
        .collect();
    if differences.is_empty() {
        "none".to_string()
    } else {
        differences.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_shows, both_backends, local_plans, report_of};

    #[test]
    fn the_table_shows_medians_spreads_and_ratios() {
        let md = report_of(local_plans(), 3).markdown();
        assert_shows(
            &md,
            &[
                "| no-op plan | wall time | 0.200 s (0.100 – 0.300) | 12.0 s (6.00 – 18.0) | 60.0x |",
                "| no-op plan | AWS calls | 30 | | |",
                "| init | wall time | – | 1.90 s (1.90 – 1.90) | – |",
                "| no-op plan ≥ 50x faster than Terraform | 60.0x | yes |",
                "| no-op plan under 0.1 s | 0.200 s | **no** |",
                "| peak memory ≥ 10x lower (worst step) | 30.0x | yes |",
                "load average 1.00 / 2.00 / 3.00 before",
            ],
        );
        // One backend: no table of what S3 adds.
        assert!(!md.contains("added by the S3 backend"), "{md}");
    }

    #[test]
    fn both_backends_stand_side_by_side() {
        let md = both_backends().infra_table();
        let mut lines = md.lines();
        assert_eq!(
            lines.next(),
            Some(
                "| step | measure | provisioner, local state | Terraform, local state | Terraform / provisioner | provisioner, S3 state + DynamoDB lock | Terraform, S3 state + DynamoDB lock | Terraform / provisioner |"
            )
        );
        assert_eq!(lines.next(), Some("|---|---|---|---|---|---|---|---|"));
        assert_shows(
            &md,
            &[
                "| no-op plan | wall time | 0.200 s (0.100 – 0.300) | 12.0 s (6.00 – 18.0) | 60.0x | 0.300 s (0.300 – 0.300) | 9.00 s (9.00 – 9.00) | 30.0x |",
                "| no-op plan | AWS calls | 30 | | | 34 | | |",
            ],
        );
        // Apply was measured with S3 state only.
        assert_shows(
            &md,
            &[
                "| apply from nothing | wall time | – | – | – | 2.00 s (2.00 – 2.00) | 8.00 s (8.00 – 8.00) | 4.0x |",
                "| apply from nothing | AWS calls | – | | | 34 | | |",
            ],
        );
        // Every row has the header's number of cells.
        let cells = |l: &str| l.matches('|').count();
        assert!(md.lines().all(|l| cells(l) == 9), "{md}");
    }

    #[test]
    fn the_calls_the_s3_backend_adds_are_named() {
        let md = both_backends().backend_calls_table();
        assert!(
            md.starts_with("| step | provisioner's AWS calls, local state | provisioner's AWS calls, S3 state + DynamoDB lock | added by the S3 backend (S3 − local, per operation) |\n"),
            "{md}"
        );
        assert_shows(
            &md,
            &[
                "| no-op plan | 30 | 34 | `dynamodb.DeleteItem` +1, `dynamodb.PutItem` +1, `s3.GET` +1, `s3.HEAD` +1 |",
            ],
        );
        // Apply has no local figures to compare with: no row rather than a guess.
        assert!(!md.contains("| apply from nothing |"), "{md}");
        assert_shows(&md, &["named by HTTP method"]);
    }

    #[test]
    fn calls_without_per_operation_counts_show_totals_only() {
        let mut report = both_backends();
        for s in &mut report.summaries {
            s.aws_operations.clear();
        }
        let md = report.backend_calls_table();
        assert_shows(&md, &["| no-op plan | 30 | 34 | – |"]);
    }
}
