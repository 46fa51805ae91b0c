//! Sample reports for the tests of the report's modules and of the chart: one way to build
//! them, so a change to a report's shape is made once.

use std::collections::BTreeMap;

use super::{Conditions, Report, summarise};
use crate::bench::function::FunctionFigures;
use crate::bench::infra::{Backend, Operation, Step, Tool};
use crate::bench::measure::Sample;
use crate::bench::stats::Summary;

/// One measured step with local state (see [`step_on`]).
pub fn step(tool: Tool, operation: Operation, run: usize, wall: f64, rss: f64) -> Step {
    step_on(Backend::Local, tool, operation, run, wall, rss)
}

/// One measured step; CPU is half the wall time, and only the provisioner counts AWS calls:
/// 30 `lambda.GetFunction` with local state, plus four state and lock calls with S3.
pub fn step_on(
    backend: Backend,
    tool: Tool,
    operation: Operation,
    run: usize,
    wall: f64,
    rss: f64,
) -> Step {
    let mut operations = BTreeMap::from([("lambda.GetFunction".to_string(), 30)]);
    if backend == Backend::S3 {
        for name in [
            "dynamodb.DeleteItem",
            "dynamodb.PutItem",
            "s3.GET",
            "s3.HEAD",
        ] {
            operations.insert(name.to_string(), 1);
        }
    }
    let provisioner = tool == Tool::Provisioner;
    Step {
        run,
        tool,
        backend,
        operation,
        sample: Sample {
            wall_s: wall,
            cpu_s: wall / 2.0,
            peak_rss_mb: rss,
            aws_calls: provisioner.then(|| operations.values().sum()),
            aws_operations: if provisioner {
                operations
            } else {
                BTreeMap::new()
            },
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

/// Three runs of a no-op plan for both tools with local state (Terraform 60x slower, 30x the
/// memory) and Terraform's init.
pub fn local_plans() -> Vec<Step> {
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
    steps
}

/// The local plans of [`local_plans`], and with S3 state one run of: a no-op plan (0.3 s
/// against Terraform's 9 s: 30x) and an apply that misses its goal (2 s against 8 s: 4x).
pub fn both_backends() -> Report {
    let mut steps = local_plans();
    let s3 = Backend::S3;
    steps.extend([
        step_on(s3, Tool::Provisioner, Operation::NoopPlan, 1, 0.3, 25.0),
        step_on(s3, Tool::Terraform, Operation::NoopPlan, 1, 9.0, 620.0),
        step_on(s3, Tool::Provisioner, Operation::Apply, 1, 2.0, 30.0),
        step_on(s3, Tool::Terraform, Operation::Apply, 1, 8.0, 600.0),
    ]);
    report_of(steps, 3)
}

/// The function's figures with the given CPU per 1,000 requests of both mixes.
pub fn figures(fresh_cpu: f64, steady_cpu: Option<f64>) -> FunctionFigures {
    let ms = |v: f64| Summary::of(&[v]).expect("one sample");
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

/// Asserts that the report `md` shows every one of `expected`, naming the one it lacks.
pub fn assert_shows(md: &str, expected: &[&str]) {
    for text in expected {
        assert!(md.contains(text), "the report lacks {text:?}:\n{md}");
    }
}
