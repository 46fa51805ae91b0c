//! `bench.svg`: the comparison at a glance, drawn with `plotters` (SVG backend, no fonts to
//! install). Top: how many times faster or lighter the provisioner is than Terraform per step,
//! measure and backend (higher is better, log scale, the goal marked on each bar that has one;
//! a step's local and S3 bars are next to each other). Bottom: the function's cold start over
//! the empty `lambda_http` binary's (lower is better, goal 3x).

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bench::infra::{Backend, Operation, Tool};
use crate::bench::report::{
    GOAL_APPLY_SPEEDUP, GOAL_COLD_START_OVER_FLOOR, GOAL_DESTROY_SPEEDUP, GOAL_MEMORY_RATIO,
    GOAL_PLAN_SPEEDUP, Report, StepSummary,
};

/// One bar: its label, its value (a ratio) and the goal it is held to, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub ratio: f64,
    pub goal: Option<f64>,
}

/// A measure a bar compares: its name, how to pick its median, its goal.
type Measure = (&'static str, fn(&StepSummary) -> f64, Option<f64>);

/// Terraform / provisioner for every step both tools ran, for wall time, CPU and peak memory,
/// on each backend; bars name the backend only when the report has more than local state.
pub fn terraform_bars(report: &Report) -> Vec<Bar> {
    let mut bars = Vec::new();
    let backends = report.backends();
    for operation in Operation::ALL {
        let wall_goal = match operation {
            Operation::NoopPlan => Some(GOAL_PLAN_SPEEDUP),
            Operation::Apply => Some(GOAL_APPLY_SPEEDUP),
            Operation::Destroy => Some(GOAL_DESTROY_SPEEDUP),
            _ => None,
        };
        let measures: [Measure; 3] = [
            ("wall", |s| s.wall_s.median, wall_goal),
            ("CPU", |s| s.cpu_s.median, None),
            ("memory", |s| s.peak_rss_mb.median, Some(GOAL_MEMORY_RATIO)),
        ];
        for (measure, pick, goal) in measures {
            for &backend in &backends {
                let (Some(ours), Some(theirs)) = (
                    report.summary(backend, Tool::Provisioner, operation),
                    report.summary(backend, Tool::Terraform, operation),
                ) else {
                    continue;
                };
                let (ours, theirs) = (pick(ours), pick(theirs));
                if ours > 0.0 && theirs > 0.0 {
                    bars.push(Bar {
                        label: bar_label(report, operation, measure, backend),
                        ratio: theirs / ours,
                        goal,
                    });
                }
            }
        }
    }
    bars
}

/// `no-op plan: wall`, or `no-op plan: wall, S3` when the report has several backends.
fn bar_label(report: &Report, operation: Operation, measure: &str, backend: Backend) -> String {
    let label = format!("{}: {measure}", short_label(operation));
    if report.names_backends() {
        format!("{label}, {}", backend.short())
    } else {
        label
    }
}

fn short_label(operation: Operation) -> &'static str {
    match operation {
        Operation::Init => "init",
        Operation::Apply => "apply",
        Operation::NoopPlan => "no-op plan",
        Operation::ChangeApply => "change memory",
        Operation::Destroy => "destroy",
    }
}

/// Function / floor for both cold-start instants.
pub fn floor_bars(report: &Report) -> Vec<Bar> {
    let Some(f) = &report.function else {
        return Vec::new();
    };
    vec![
        Bar {
            label: "cold start: first poll".into(),
            ratio: f.cold_start_ready_ms.median / f.floor_ready_ms.median,
            goal: Some(GOAL_COLD_START_OVER_FLOOR),
        },
        Bar {
            label: "cold start: first response".into(),
            ratio: f.cold_start_answered_ms.median / f.floor_answered_ms.median,
            goal: None,
        },
    ]
}

/// Draws both panels into `path`.
pub fn draw(report: &Report, path: &Path) -> Result<()> {
    let terraform = terraform_bars(report);
    let floor = floor_bars(report);
    let top_rows = terraform.len().max(1);
    let bottom_rows = floor.len().max(1);
    let row_px = 26;
    let legend_h = 30;
    let (width, top_h, bottom_h) = (960, 90 + row_px * top_rows, 90 + row_px * bottom_rows);
    let root =
        SVGBackend::new(path, (width, (legend_h + top_h + bottom_h) as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let (legend, charts) = root.split_vertically(legend_h as u32);
    draw_legend(&legend)?;
    let (top, bottom) = charts.split_vertically(top_h as u32);
    panel(
        &top,
        "Terraform / provisioner: higher is better",
        &terraform,
        true,
    )?;
    panel(
        &bottom,
        "function / empty lambda_http binary: lower is better",
        &floor,
        false,
    )?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

const GOAL_MET: RGBColor = RGBColor(46, 139, 87);
const GOAL_MISSED: RGBColor = RGBColor(205, 60, 60);
const NO_GOAL: RGBColor = RGBColor(90, 120, 180);

/// What the colours and the black mark mean, once for both panels.
fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>) -> Result<()> {
    let font = ("sans-serif", 14).into_font();
    let mut x = 20;
    for (color, text) in [
        (Some(GOAL_MET), "goal met"),
        (Some(GOAL_MISSED), "goal missed"),
        (Some(NO_GOAL), "no goal"),
        (None, "the goal"),
    ] {
        match color {
            Some(color) => area.draw(&Rectangle::new([(x, 9), (x + 14, 23)], color.filled())),
            None => area.draw(&PathElement::new(
                vec![(x + 7, 6), (x + 7, 26)],
                BLACK.stroke_width(2),
            )),
        }
        .map_err(|e| anyhow!("{e}"))?;
        area.draw(&Text::new(text, (x + 20, 9), font.clone()))
            .map_err(|e| anyhow!("{e}"))?;
        x += 150;
    }
    Ok(())
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    bars: &[Bar],
    higher_is_better: bool,
) -> Result<()> {
    if bars.is_empty() {
        area.titled(&format!("{title}: not measured"), ("sans-serif", 18))
            .map_err(|e| anyhow!("{e}"))?;
        return Ok(());
    }
    let values = bars
        .iter()
        .flat_map(|b| [Some(b.ratio), b.goal])
        .flatten()
        .filter(|v| v.is_finite() && *v > 0.0);
    let (low, high) = values.fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    // Rows count from the bottom; the first bar goes on the top row. The mapping is its own
    // inverse: it also gives the bar drawn on a row.
    let rows = bars.len();
    let row_of = |bar: usize| rows - 1 - bar;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(200)
        .build_cartesian_2d(
            ((low * 0.5)..(high * 2.0)).log_scale(),
            // One segment per bar (an integer range is inclusive here).
            (0..bars.len() - 1).into_segmented(),
        )
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 13))
        .x_desc("ratio (log scale)")
        .x_labels(8)
        .y_labels(bars.len() + 1)
        .x_label_formatter(&|v| format!("{v:.1}x"))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(row) => labels.get(row_of(*row)).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            let met = bar.goal.map(|goal| {
                if higher_is_better {
                    bar.ratio >= goal
                } else {
                    bar.ratio <= goal
                }
            });
            let color = match met {
                Some(true) => GOAL_MET,
                Some(false) => GOAL_MISSED,
                None => NO_GOAL,
            };
            let mut rect = Rectangle::new(
                [
                    (1.0, SegmentValue::Exact(row_of(i))),
                    (bar.ratio, SegmentValue::Exact(row_of(i) + 1)),
                ],
                color.filled(),
            );
            rect.set_margin(4, 4, 0, 0);
            rect
        }))
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(bars.iter().enumerate().filter_map(|(i, bar)| {
            let goal = bar.goal?;
            Some(PathElement::new(
                vec![
                    (goal, SegmentValue::Exact(row_of(i))),
                    (goal, SegmentValue::Exact(row_of(i) + 1)),
                ],
                BLACK.stroke_width(2),
            ))
        }))
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            Text::new(
                format!(" {:.1}x", bar.ratio),
                (bar.ratio.max(1.0), SegmentValue::CenterOf(row_of(i))),
                ("sans-serif", 13),
            )
        }))
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::{both_backends, report_of, step};

    /// One no-op plan per tool, Terraform 12x slower and 12x larger.
    fn report() -> Report {
        report_of(
            vec![
                step(Tool::Provisioner, Operation::NoopPlan, 1, 0.5, 5.0),
                step(Tool::Terraform, Operation::NoopPlan, 1, 6.0, 60.0),
            ],
            1,
        )
    }

    #[test]
    fn bars_are_terraform_over_provisioner_with_goals() {
        let bars = terraform_bars(&report());
        assert_eq!(bars.len(), 3);
        assert_eq!(bars[0].label, "no-op plan: wall");
        assert_eq!(bars[0].ratio, 12.0);
        assert_eq!(bars[0].goal, Some(GOAL_PLAN_SPEEDUP));
        assert_eq!(bars[1].goal, None);
        assert!(floor_bars(&report()).is_empty());
    }

    #[test]
    fn each_steps_backends_are_next_to_each_other() {
        let labels: Vec<String> = terraform_bars(&both_backends())
            .into_iter()
            .map(|b| b.label)
            .collect();
        assert_eq!(
            labels,
            [
                "apply: wall, S3",
                "apply: CPU, S3",
                "apply: memory, S3",
                "no-op plan: wall, local",
                "no-op plan: wall, S3",
                "no-op plan: CPU, local",
                "no-op plan: CPU, S3",
                "no-op plan: memory, local",
                "no-op plan: memory, S3",
            ]
        );
    }

    #[test]
    fn a_report_reads_back_from_its_json() {
        // `bench --redraw` redraws from bench.json: every figure must survive the round trip.
        let report = both_backends();
        let json = serde_json::to_string(&report).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(terraform_bars(&back), terraform_bars(&report));
    }

    #[test]
    fn the_chart_is_an_svg_with_the_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.svg");
        draw(&report(), &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        assert!(svg.contains("no-op plan: wall"));
        assert!(svg.contains("12.0x"));
    }
}
