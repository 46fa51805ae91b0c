//! The results as data (serialised to `bench.json` whole: every run of every step) and as the
//! Markdown table the README includes. Rendering is pure, so it is unit-tested on fixed figures.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::bench::function::FunctionFigures;
use crate::bench::infra::{Operation, Step, Tool};
use crate::bench::stats::Summary;

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
    pub runs: usize,
    pub terraform_version: Option<String>,
    /// Why the Terraform side is missing, when it is.
    pub terraform_missing: Option<String>,
}

/// The summaries of one step of one tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepSummary {
    pub tool: Tool,
    pub operation: Operation,
    pub wall_s: Summary,
    pub cpu_s: Summary,
    pub peak_rss_mb: Summary,
    pub aws_calls: Option<Summary>,
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

/// A row of the step table: the measure's name, how to pick it, its unit.
type MeasureRow = (&'static str, fn(&StepSummary) -> Summary, &'static str);

/// The goals of the issue, as ratios (Terraform / provisioner, or function / floor).
pub const GOAL_PLAN_SPEEDUP: f64 = 10.0;
pub const GOAL_PLAN_MAX_S: f64 = 0.5;
pub const GOAL_APPLY_DESTROY_SPEEDUP: f64 = 5.0;
pub const GOAL_MEMORY_RATIO: f64 = 10.0;
pub const GOAL_COLD_START_OVER_FLOOR: f64 = 3.0;

/// The function's own goals: ten times better than the Python original on cold start (~190 ms,
/// so under 20 ms) and CPU per request (~3 ms), and small enough to run at 128 MB from a small
/// zip.
pub const PYTHON_COLD_START_MS: f64 = 190.0;
pub const GOAL_COLD_START_MS: f64 = 20.0;
pub const PYTHON_CPU_MS_PER_REQUEST: f64 = 3.0;
pub const GOAL_OVER_PYTHON: f64 = 10.0;
pub const GOAL_SERVE_RSS_MB: f64 = 40.0;
pub const GOAL_ZIP_MB: f64 = 5.0;

/// Summarises every (tool, operation) pair that has samples.
pub fn summarise(steps: &[Step]) -> Vec<StepSummary> {
    let mut out = Vec::new();
    for tool in [Tool::Provisioner, Tool::Terraform] {
        for operation in Operation::ALL {
            let of: Vec<&Step> = steps
                .iter()
                .filter(|s| s.tool == tool && s.operation == operation)
                .collect();
            let pick = |f: fn(&Step) -> f64| -> Vec<f64> { of.iter().map(|s| f(s)).collect() };
            let (Some(wall_s), Some(cpu_s), Some(peak_rss_mb)) = (
                Summary::of(&pick(|s| s.sample.wall_s)),
                Summary::of(&pick(|s| s.sample.cpu_s)),
                Summary::of(&pick(|s| s.sample.peak_rss_mb)),
            ) else {
                continue;
            };
            let calls: Vec<f64> = of
                .iter()
                .filter_map(|s| s.sample.aws_calls.map(|c| c as f64))
                .collect();
            out.push(StepSummary {
                tool,
                operation,
                wall_s,
                cpu_s,
                peak_rss_mb,
                aws_calls: Summary::of(&calls),
            });
        }
    }
    out
}

impl Report {
    pub fn summary(&self, tool: Tool, operation: Operation) -> Option<&StepSummary> {
        self.summaries
            .iter()
            .find(|s| s.tool == tool && s.operation == operation)
    }

    /// The Markdown the README includes: conditions, the two tables, the goals.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let c = &self.conditions;
        let _ = writeln!(
            md,
            "Run of {} (tree {}) on {} cores, load average {:.2} / {:.2} / {:.2} before and {:.2} / {:.2} / {:.2} after; \
             median (min – max) of {} runs per tool, tools alternated on fresh environments; \
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
            c.terraform_version
                .as_deref()
                .map_or("provisioner alone".to_string(), |v| format!(
                    "provisioner (release) vs {v} with AWS provider 5.100.0"
                )),
        );
        if let Some(why) = &c.terraform_missing {
            let _ = writeln!(md, "**Terraform was not measured:** {why}\n");
        }
        if !self.summaries.is_empty() {
            md.push_str(&self.infra_table());
        }
        if let Some(f) = &self.function {
            md.push('\n');
            md.push_str(&function_table(f));
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

    fn infra_table(&self) -> String {
        let mut md = String::from(
            "| step | measure | provisioner | Terraform | Terraform / provisioner |\n|---|---|---|---|---|\n",
        );
        for operation in Operation::ALL {
            let ours = self.summary(Tool::Provisioner, operation);
            let theirs = self.summary(Tool::Terraform, operation);
            if ours.is_none() && theirs.is_none() {
                continue;
            }
            let rows: [MeasureRow; 3] = [
                ("wall time", |s| s.wall_s, "s"),
                ("CPU time", |s| s.cpu_s, "s"),
                ("peak memory", |s| s.peak_rss_mb, "MB"),
            ];
            for (measure, pick, unit) in rows {
                let a = ours.map(pick);
                let b = theirs.map(pick);
                let _ = writeln!(
                    md,
                    "| {} | {measure} | {} | {} | {} |",
                    operation.label(),
                    cell(a, unit),
                    cell(b, unit),
                    ratio_cell(b, a),
                );
            }
            if let Some(calls) = ours.and_then(|s| s.aws_calls) {
                let _ = writeln!(
                    md,
                    "| {} | AWS calls | {} | | |",
                    operation.label(),
                    count_cell(calls)
                );
            }
        }
        md
    }

    fn goals(&self) -> String {
        let mut md = String::from("| goal | measured | met |\n|---|---|---|\n");
        let speedup = |op| {
            let ours = self.summary(Tool::Provisioner, op)?;
            let theirs = self.summary(Tool::Terraform, op)?;
            Some(theirs.wall_s.median / ours.wall_s.median)
        };
        let mut row = |goal: String, measured: Option<f64>, unit: &str, met: Option<bool>| {
            let measured = measured.map_or("not measured".to_string(), |m| format!("{m:.1}{unit}"));
            let met = match met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            };
            let _ = writeln!(md, "| {goal} | {measured} | {met} |");
        };
        let plan = speedup(Operation::NoopPlan);
        row(
            format!("no-op plan ≥ {GOAL_PLAN_SPEEDUP}x faster than Terraform"),
            plan,
            "x",
            plan.map(|r| r >= GOAL_PLAN_SPEEDUP),
        );
        let plan_s = self
            .summary(Tool::Provisioner, Operation::NoopPlan)
            .map(|s| s.wall_s.median);
        let _ = writeln!(
            md,
            "| no-op plan under {GOAL_PLAN_MAX_S} s | {} | {} |",
            plan_s.map_or("not measured".to_string(), |s| format!("{s:.3} s")),
            match plan_s {
                Some(s) if s < GOAL_PLAN_MAX_S => "yes",
                Some(_) => "**no**",
                None => "–",
            }
        );
        for op in [Operation::Apply, Operation::Destroy] {
            let r = speedup(op);
            let _ = writeln!(
                md,
                "| {} ≥ {GOAL_APPLY_DESTROY_SPEEDUP}x faster | {} | {} |",
                op.label(),
                r.map_or("not measured".to_string(), |r| format!("{r:.1}x")),
                yes_no(r.map(|r| r >= GOAL_APPLY_DESTROY_SPEEDUP))
            );
        }
        let memory = Operation::ALL
            .iter()
            .filter(|op| **op != Operation::Init)
            .filter_map(|op| {
                let ours = self.summary(Tool::Provisioner, *op)?;
                let theirs = self.summary(Tool::Terraform, *op)?;
                Some(theirs.peak_rss_mb.median / ours.peak_rss_mb.median)
            })
            .fold(None, |min: Option<f64>, r| {
                Some(min.map_or(r, |m| m.min(r)))
            });
        let _ = writeln!(
            md,
            "| peak memory ≥ {GOAL_MEMORY_RATIO}x lower (worst step) | {} | {} |",
            memory.map_or("not measured".to_string(), |r| format!("{r:.1}x")),
            yes_no(memory.map(|r| r >= GOAL_MEMORY_RATIO))
        );
        let cold = self
            .function
            .as_ref()
            .map(|f| f.cold_start_ready_ms.median / f.floor_ready_ms.median);
        let _ = writeln!(
            md,
            "| cold start (exec → ready) within {GOAL_COLD_START_OVER_FLOOR}x of the empty binary | {} | {} |",
            cold.map_or("not measured".to_string(), |r| format!("{r:.2}x")),
            yes_no(cold.map(|r| r <= GOAL_COLD_START_OVER_FLOOR))
        );
        if let Some(f) = &self.function {
            md.push_str(&function_goals(f));
        }
        md
    }
}

fn yes_no(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "–",
    }
}

/// `1.23 s (1.10 – 1.40)`, with precision that suits the magnitude.
pub fn cell(summary: Option<Summary>, unit: &str) -> String {
    match summary {
        None => "–".to_string(),
        Some(s) => format!(
            "{} {unit} ({} – {})",
            number(s.median),
            number(s.min),
            number(s.max)
        ),
    }
}

fn count_cell(s: Summary) -> String {
    if s.min == s.max {
        format!("{:.0}", s.median)
    } else {
        format!("{:.0} ({:.0} – {:.0})", s.median, s.min, s.max)
    }
}

/// `12.3x` = `numerator.median / denominator.median`.
pub fn ratio_cell(numerator: Option<Summary>, denominator: Option<Summary>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d.median > 0.0 => format!("{:.1}x", n.median / d.median),
        _ => "–".to_string(),
    }
}

/// Three significant digits, no exponent.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// The goal rows of the function against the Python original; CPU is judged on both mixes.
fn function_goals(f: &FunctionFigures) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| cold start (exec → ready) under {GOAL_COLD_START_MS} ms (the original: ~{PYTHON_COLD_START_MS} ms) | {} ms | {} |",
        number(f.cold_start_ready_ms.median),
        yes_no(Some(f.cold_start_ready_ms.median < GOAL_COLD_START_MS))
    );
    let cpu_goal_ms = PYTHON_CPU_MS_PER_REQUEST / GOAL_OVER_PYTHON;
    let mixes = [
        ("new playgrounds", Some(f.cpu_s_per_1000_requests)),
        ("every user exists", f.steady_cpu_s_per_1000_requests),
    ];
    for (mix, cpu_s_per_1000) in mixes {
        // CPU seconds per 1,000 requests are milliseconds per request.
        let _ = writeln!(
            md,
            "| CPU per request, mixed GET/PUT ({mix}), at most {cpu_goal_ms} ms ({GOAL_OVER_PYTHON}x less than the original's ~{PYTHON_CPU_MS_PER_REQUEST} ms) | {} | {} |",
            cpu_s_per_1000.map_or("not measured".to_string(), |ms| format!(
                "{} ms ({:.1}x less)",
                number(ms),
                PYTHON_CPU_MS_PER_REQUEST / ms
            )),
            yes_no(cpu_s_per_1000.map(|ms| ms <= cpu_goal_ms))
        );
    }
    let _ = writeln!(
        md,
        "| peak memory of `function serve` under load under {GOAL_SERVE_RSS_MB} MB | {} MB | {} |",
        number(f.serve_peak_rss_mb),
        yes_no(Some(f.serve_peak_rss_mb < GOAL_SERVE_RSS_MB))
    );
    let zip_mb = f.zip_bytes as f64 / 1e6;
    let _ = writeln!(
        md,
        "| zip under {GOAL_ZIP_MB} MB | {zip_mb:.2} MB | {} |",
        yes_no(Some(zip_mb < GOAL_ZIP_MB))
    );
    md
}

fn function_table(f: &FunctionFigures) -> String {
    let mut md = String::from(
        "| function | `bootstrap` | empty `lambda_http` (floor) | ratio |\n|---|---|---|---|\n",
    );
    let _ = writeln!(
        md,
        "| cold start: exec → first request polled | {} | {} | {} |",
        cell(Some(f.cold_start_ready_ms), "ms"),
        cell(Some(f.floor_ready_ms), "ms"),
        ratio_cell(Some(f.cold_start_ready_ms), Some(f.floor_ready_ms)),
    );
    let _ = writeln!(
        md,
        "| cold start: exec → first response (function: one GetItem) | {} | {} | {} |",
        cell(Some(f.cold_start_answered_ms), "ms"),
        cell(Some(f.floor_answered_ms), "ms"),
        ratio_cell(Some(f.cold_start_answered_ms), Some(f.floor_answered_ms)),
    );
    let _ = writeln!(
        md,
        "| binary size | {:.2} MB | {:.2} MB | {:.1}x |",
        f.binary_bytes as f64 / 1e6,
        f.floor_binary_bytes as f64 / 1e6,
        f.binary_bytes as f64 / f.floor_binary_bytes.max(1) as f64,
    );
    let _ = writeln!(
        md,
        "| zip size (`bootstrap`, deflate) | {:.2} MB | | |",
        f.zip_bytes as f64 / 1e6
    );
    let _ = writeln!(
        md,
        "| CPU per 1,000 requests, `function serve`, mixed GET/PUT on new playgrounds ({} requests, {} clients) | {} s | | |",
        f.requests,
        f.clients,
        number(f.cpu_s_per_1000_requests)
    );
    let optional_rows = [
        (
            "the same mix once every user exists (one DynamoDB call per request)",
            f.steady_cpu_s_per_1000_requests,
        ),
        (
            "requests making exactly one DynamoDB call (GET playground)",
            f.one_call_cpu_s_per_1000_requests,
        ),
        (
            "requests making no DynamoDB call (CORS preflight)",
            f.no_call_cpu_s_per_1000_requests,
        ),
    ];
    for (what, value) in optional_rows {
        if let Some(value) = value {
            let _ = writeln!(
                md,
                "| CPU per 1,000 requests, {what} | {} s | | |",
                number(value)
            );
        }
    }
    let _ = writeln!(
        md,
        "| peak memory of `function serve` under that load | {} MB | | |",
        number(f.serve_peak_rss_mb)
    );
    let _ = writeln!(
        md,
        "| requests/s (bounded by the emulator, Python) | {:.0} | | |",
        f.requests_per_s
    );
    md
}

/// Sample reports for the tests of this module and of the chart: one way to build them.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::bench::measure::Sample;

    /// One measured step; CPU is half the wall time, and only the provisioner counts AWS calls.
    pub fn step(tool: Tool, operation: Operation, run: usize, wall: f64, rss: f64) -> Step {
        Step {
            run,
            tool,
            operation,
            sample: Sample {
                wall_s: wall,
                cpu_s: wall / 2.0,
                peak_rss_mb: rss,
                aws_calls: (tool == Tool::Provisioner).then_some(30),
            },
            finding: None,
        }
    }

    /// A report of `steps` over `runs` runs, on a fixed machine, without the function side.
    pub fn report_of(steps: Vec<Step>, runs: usize) -> Report {
        Report {
            conditions: Conditions {
                started_at: "2026-11-25T19:15:00Z".into(),
                revision: "abc1234".into(),
                cores: 2,
                load_before: [1.0, 2.0, 3.0],
                load_after: [1.5, 2.0, 3.0],
                runs,
                terraform_version: Some("Terraform v1.11.4".into()),
                terraform_missing: None,
            },
            summaries: summarise(&steps),
            function: None,
            findings: vec![],
            steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{report_of, step};
    use super::*;

    /// Three runs of a no-op plan for both tools (Terraform 60x slower, 30x the memory) and
    /// Terraform's init.
    fn report() -> Report {
        let mut steps = Vec::new();
        for run in 1..=3 {
            let r = run as f64;
            steps.push(step(
                Tool::Provisioner,
                Operation::NoopPlan,
                run,
                0.1 * r,
                20.0,
            ));
            steps.push(step(
                Tool::Terraform,
                Operation::NoopPlan,
                run,
                6.0 * r,
                600.0,
            ));
            steps.push(step(Tool::Terraform, Operation::Init, run, 1.9, 100.0));
        }
        report_of(steps, 3)
    }

    #[test]
    fn summaries_group_by_tool_and_operation() {
        let r = report();
        let plan = r.summary(Tool::Provisioner, Operation::NoopPlan).unwrap();
        assert!((plan.wall_s.median - 0.2).abs() < 1e-9);
        assert_eq!(plan.aws_calls.unwrap().median, 30.0);
        assert!(r.summary(Tool::Provisioner, Operation::Init).is_none());
        let init = r.summary(Tool::Terraform, Operation::Init).unwrap();
        assert_eq!(init.aws_calls, None);
    }

    #[test]
    fn the_table_shows_medians_spreads_and_ratios() {
        let md = report().markdown();
        assert!(
            md.contains("| no-op plan | wall time | 0.200 s (0.100 – 0.300) | 12.0 s (6.00 – 18.0) | 60.0x |"),
            "{md}"
        );
        assert!(md.contains("| no-op plan | AWS calls | 30 | | |"), "{md}");
        assert!(
            md.contains("| init | wall time | – | 1.90 s (1.90 – 1.90) | – |"),
            "{md}"
        );
        assert!(
            md.contains("| no-op plan ≥ 10x faster than Terraform | 60.0x | yes |"),
            "{md}"
        );
        assert!(
            md.contains("| no-op plan under 0.5 s | 0.200 s | yes |"),
            "{md}"
        );
        assert!(
            md.contains("| peak memory ≥ 10x lower (worst step) | 30.0x | yes |"),
            "{md}"
        );
        assert!(
            md.contains("load average 1.00 / 2.00 / 3.00 before"),
            "{md}"
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
        assert!(
            md.contains("| no-op plan | wall time | 0.200 s (0.100 – 0.300) | – | – |"),
            "{md}"
        );
        assert!(md.contains("| no-op plan ≥ 10x faster than Terraform | not measured | – |"));
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(0.01234), "0.012");
        assert_eq!(number(1.234), "1.23");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(1234.4), "1234");
    }

    fn figures(fresh_cpu: f64, steady_cpu: Option<f64>) -> FunctionFigures {
        let ms = |v: f64| crate::bench::stats::Summary::of(&[v]).unwrap();
        FunctionFigures {
            cold_start_ready_ms: ms(1.6),
            cold_start_answered_ms: ms(5.0),
            floor_ready_ms: ms(0.7),
            floor_answered_ms: ms(1.0),
            requests: 3000,
            clients: 8,
            requests_per_s: 80.0,
            cpu_s_per_1000_requests: fresh_cpu,
            steady_cpu_s_per_1000_requests: steady_cpu,
            one_call_cpu_s_per_1000_requests: None,
            no_call_cpu_s_per_1000_requests: None,
            serve_peak_rss_mb: 8.3,
            zip_bytes: 3_710_000,
            binary_bytes: 8_200_000,
            floor_binary_bytes: 2_000_000,
        }
    }

    #[test]
    fn function_goals_judge_each_mix_against_a_tenth_of_the_original() {
        let md = function_goals(&figures(0.63, Some(0.25)));
        let line = |needle: &str| md.lines().find(|l| l.contains(needle)).unwrap().to_string();
        assert!(
            line("(new playgrounds)").ends_with("| 0.630 ms (4.8x less) | **no** |"),
            "{md}"
        );
        assert!(
            line("(every user exists)").ends_with("| 0.250 ms (12.0x less) | yes |"),
            "{md}"
        );
        assert!(line("cold start").ends_with("| 1.60 ms | yes |"), "{md}");
        assert!(line("zip under").ends_with("| 3.71 MB | yes |"), "{md}");
        // A report from before the steady mix was measured says so instead of guessing.
        let older = function_goals(&figures(0.63, None));
        assert!(older.contains("| not measured | – |"), "{older}");
    }
}
