//! The results as data (serialised to `bench.json` whole: every run of every step) and as the
//! Markdown the README includes. Rendering is pure, so it is unit-tested on fixed figures; each
//! table has its module: the provisioner/Terraform steps and AWS calls (`infra_table`), the
//! function (`function_table`), the goals (`goals`), and how figures are written (`format`).
//!
//! `bench.json` stays readable by `--redraw` across versions: what later versions added (the
//! backend of a step, AWS calls per operation) has a default that says what older runs did.

mod format;
mod function_table;
mod goals;
mod infra_table;

#[cfg(test)]
pub(crate) mod fixtures;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::bench::function::FunctionFigures;
use crate::bench::infra::{Backend, Operation, Step, Tool};
use crate::bench::stats::Summary;

pub use goals::{
    GOAL_APPLY_SPEEDUP, GOAL_COLD_START_OVER_FLOOR, GOAL_DESTROY_SPEEDUP, GOAL_MEMORY_RATIO,
    GOAL_PLAN_SPEEDUP,
};

/// The machine and the conditions of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Conditions {
    pub started_at: String,
    /// `git describe --always --dirty` of the measured tree.
    pub revision: String,
    pub cores: usize,
    /// `/proc/loadavg` (1, 5, 15 minutes) before and after the run.
    pub load_before: [f64; 3],
    pub load_after: [f64; 3],
    /// Runs per tool (and per backend).
    pub runs: usize,
    pub terraform_version: Option<String>,
    /// Why the Terraform side is missing, when it is.
    pub terraform_missing: Option<String>,
}

/// The summaries of one step of one tool on one backend.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepSummary {
    pub tool: Tool,
    /// Absent from reports written before the S3 backend was measured: those were local.
    #[serde(default)]
    pub backend: Backend,
    pub operation: Operation,
    pub wall_s: Summary,
    pub cpu_s: Summary,
    pub peak_rss_mb: Summary,
    pub aws_calls: Option<Summary>,
    /// Median count of each AWS operation over the runs (a run without it counts 0).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aws_operations: BTreeMap<String, f64>,
}

/// Everything `bench.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub conditions: Conditions,
    pub summaries: Vec<StepSummary>,
    pub function: Option<FunctionFigures>,
    pub findings: Vec<String>,
    pub steps: Vec<Step>,
}

/// Summarises every (backend, tool, operation) that has samples.
pub fn summarise(steps: &[Step]) -> Vec<StepSummary> {
    let mut out = Vec::new();
    for backend in Backend::ALL {
        for tool in [Tool::Provisioner, Tool::Terraform] {
            for operation in Operation::ALL {
                let of: Vec<&Step> = steps
                    .iter()
                    .filter(|s| s.backend == backend && s.tool == tool && s.operation == operation)
                    .collect();
                if let Some(summary) = summarise_one(backend, tool, operation, &of) {
                    out.push(summary);
                }
            }
        }
    }
    out
}

fn summarise_one(
    backend: Backend,
    tool: Tool,
    operation: Operation,
    of: &[&Step],
) -> Option<StepSummary> {
    let pick = |f: fn(&Step) -> f64| -> Vec<f64> { of.iter().map(|s| f(s)).collect() };
    let calls: Vec<f64> = of
        .iter()
        .filter_map(|s| s.sample.aws_calls.map(|c| c as f64))
        .collect();
    let names: Vec<&String> = of
        .iter()
        .flat_map(|s| s.sample.aws_operations.keys())
        .collect();
    let aws_operations = names
        .into_iter()
        .filter_map(|name| {
            let counts: Vec<f64> = of
                .iter()
                .map(|s| s.sample.aws_operations.get(name).map_or(0.0, |&c| c as f64))
                .collect();
            Some((name.clone(), Summary::of(&counts)?.median))
        })
        .collect();
    Some(StepSummary {
        tool,
        backend,
        operation,
        wall_s: Summary::of(&pick(|s| s.sample.wall_s))?,
        cpu_s: Summary::of(&pick(|s| s.sample.cpu_s))?,
        peak_rss_mb: Summary::of(&pick(|s| s.sample.peak_rss_mb))?,
        aws_calls: Summary::of(&calls),
        aws_operations,
    })
}

impl Report {
    pub fn summary(
        &self,
        backend: Backend,
        tool: Tool,
        operation: Operation,
    ) -> Option<&StepSummary> {
        self.summaries
            .iter()
            .find(|s| s.backend == backend && s.tool == tool && s.operation == operation)
    }

    /// The backends measured, local first.
    pub fn backends(&self) -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|b| self.summaries.iter().any(|s| s.backend == *b))
            .collect()
    }

    /// Whether tables, goals and bars name the backend: only when there is more than local
    /// state, so a local-only report (every report before the S3 rounds) reads as it did.
    pub fn names_backends(&self) -> bool {
        self.backends().iter().any(|b| *b != Backend::Local)
    }

    /// The Markdown the README includes: conditions, the tables, the goals.
    pub fn markdown(&self) -> String {
        let mut md = self.conditions_text();
        if !self.summaries.is_empty() {
            md.push_str(&self.infra_table());
        }
        let calls = self.backend_calls_table();
        if !calls.is_empty() {
            md.push('\n');
            md.push_str(&calls);
        }
        if let Some(f) = &self.function {
            md.push('\n');
            md.push_str(&function_table::function_table(f));
        }
        md.push('\n');
        md.push_str(&self.goals());
        if !self.findings.is_empty() {
            md.push_str("\nFindings:\n");
            for finding in &self.findings {
                let first = finding.lines().next().unwrap_or_default();
                let _ = writeln!(md, "- {first}");
            }
        }
        md
    }

    /// The paragraph above the tables: when, where, how many runs, against what.
    fn conditions_text(&self) -> String {
        let mut md = String::new();
        let c = &self.conditions;
        let _ = writeln!(
            md,
            "Run of {} (tree {}) on {} cores, load average {:.2} / {:.2} / {:.2} before and {:.2} / {:.2} / {:.2} after; \
             median (min – max) of {} runs per tool{}, tools alternated on fresh environments; \
             {} against moto on 127.0.0.1.\n",
            c.started_at,
            c.revision,
            c.cores,
            c.load_before[0],
            c.load_before[1],
            c.load_before[2],
            c.load_after[0],
            c.load_after[1],
            c.load_after[2],
            c.runs,
            if self.names_backends() {
                " and backend"
            } else {
                ""
            },
            c.terraform_version
                .as_deref()
                .map_or("provisioner alone".to_string(), |v| format!(
                    "provisioner (release) vs {v} with AWS provider 5.100.0"
                )),
        );
        if self.backends().contains(&Backend::S3) {
            let _ = writeln!(
                md,
                "Backends: {}. An S3 round's state bucket (versioned, public access blocked) and \
                 DynamoDB lock table are made before it, outside the measured time, as `provisioner \
                 bootstrap` makes them once per account; Terraform's S3 backend gets them through \
                 `-backend-config` at init.\n",
                self.backends()
                    .iter()
                    .map(|b| b.label())
                    .collect::<Vec<_>>()
                    .join(", then ")
            );
        }
        if let Some(why) = &c.terraform_missing {
            let _ = writeln!(md, "**Terraform was not measured:** {why}\n");
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{assert_shows, both_backends, local_plans, report_of, step};
    use super::*;

    fn report() -> Report {
        report_of(local_plans(), 3)
    }

    #[test]
    fn summaries_group_by_backend_tool_and_operation() {
        let r = report();
        let plan = r
            .summary(Backend::Local, Tool::Provisioner, Operation::NoopPlan)
            .unwrap();
        assert!((plan.wall_s.median - 0.2).abs() < 1e-9);
        assert_eq!(plan.aws_calls.unwrap().median, 30.0);
        assert_eq!(plan.aws_operations["lambda.GetFunction"], 30.0);
        assert!(
            r.summary(Backend::Local, Tool::Provisioner, Operation::Init)
                .is_none()
        );
        assert!(
            r.summary(Backend::S3, Tool::Provisioner, Operation::NoopPlan)
                .is_none()
        );
        let init = r
            .summary(Backend::Local, Tool::Terraform, Operation::Init)
            .unwrap();
        assert_eq!(init.aws_calls, None);
        assert!(init.aws_operations.is_empty());
        let both = both_backends();
        assert_eq!(both.backends(), [Backend::Local, Backend::S3]);
        let s3 = both
            .summary(Backend::S3, Tool::Provisioner, Operation::NoopPlan)
            .unwrap();
        assert_eq!(s3.aws_calls.unwrap().median, 34.0);
    }

    #[test]
    fn an_operation_missing_from_a_run_counts_zero_in_the_median() {
        let mut steps = local_plans();
        steps
            .iter_mut()
            .filter(|s| s.tool == Tool::Provisioner && s.run == 1)
            .for_each(|s| {
                s.sample.aws_operations.insert("s3.GET".into(), 3);
            });
        let r = report_of(steps, 3);
        let plan = r
            .summary(Backend::Local, Tool::Provisioner, Operation::NoopPlan)
            .unwrap();
        assert_eq!(plan.aws_operations["s3.GET"], 0.0);
    }

    #[test]
    fn a_local_report_reads_as_before_the_backend_dimension() {
        let md = report().markdown();
        assert_shows(
            &md,
            &[
                "| step | measure | provisioner | Terraform | Terraform / provisioner |\n|---|---|---|---|---|\n",
                "median (min – max) of 3 runs per tool, tools",
            ],
        );
        assert!(!md.contains("Backends:"), "{md}");
        assert!(!md.contains("local state"), "{md}");
    }

    #[test]
    fn the_conditions_name_both_backends_and_how_s3_was_set_up() {
        let md = both_backends().markdown();
        assert_shows(
            &md,
            &[
                "of 3 runs per tool and backend",
                "Backends: local state, then S3 state + DynamoDB lock.",
                "outside the measured time",
            ],
        );
    }

    #[test]
    fn a_missing_terraform_is_said_and_leaves_ratios_empty() {
        let mut r = report();
        r.steps.retain(|s| s.tool == Tool::Provisioner);
        r.summaries = summarise(&r.steps);
        r.conditions.terraform_version = None;
        r.conditions.terraform_missing = Some("`terraform` is not on PATH".into());
        let md = r.markdown();
        assert!(md.contains("**Terraform was not measured:** `terraform` is not on PATH"));
        assert_shows(
            &md,
            &["| no-op plan | wall time | 0.200 s (0.100 – 0.300) | – | – |"],
        );
        assert!(md.contains("| no-op plan ≥ 50x faster than Terraform | not measured | – |"));
    }

    #[test]
    fn a_report_from_before_the_backends_reads_back_as_local() {
        // The shape of bench.json before the S3 rounds: no backend, no calls per operation.
        let mut json = serde_json::to_value(report()).unwrap();
        for list in ["steps", "summaries"] {
            for item in json[list].as_array_mut().unwrap() {
                let item = item.as_object_mut().unwrap();
                item.remove("backend");
                item.remove("aws_operations");
            }
        }
        let old: Report = serde_json::from_value(json).unwrap();
        assert!(old.steps.iter().all(|s| s.backend == Backend::Local));
        assert_eq!(old.backends(), [Backend::Local]);
        assert_eq!(
            old.markdown().lines().nth(2),
            Some("| step | measure | provisioner | Terraform | Terraform / provisioner |")
        );
    }

    #[test]
    fn the_committed_results_still_redraw() {
        // `scripts/bench --redraw` on tests/bench/results/bench.json, whatever run wrote it.
        let text = include_str!("../../bench/results/bench.json");
        let report: Report = serde_json::from_str(text).expect("bench.json is a report");
        assert!(report.markdown().contains("| goal | measured | met |"));
    }

    #[test]
    fn steps_without_samples_are_not_summarised() {
        let r = report_of(
            vec![step(
                Tool::Provisioner,
                Operation::Destroy,
                1,
                f64::NAN,
                1.0,
            )],
            1,
        );
        assert!(r.summaries.is_empty());
        assert!(r.backends().is_empty());
    }
}
