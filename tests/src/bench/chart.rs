//! `bench.svg`: the comparison at a glance, drawn with `plotters` (SVG backend, no fonts to
//! install). Top: how many times faster or lighter the provisioner is than Terraform per step
//! and measure (higher is better, log scale, the goal marked on each bar that has one). Bottom:
//! the function's cold start over the empty `lambda_http` binary's (lower is better, goal 3x).

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bench::infra::{Operation, Tool};
use crate::bench::report::{
    GOAL_APPLY_DESTROY_SPEEDUP, GOAL_COLD_START_OVER_FLOOR, GOAL_MEMORY_RATIO, GOAL_PLAN_SPEEDUP,
    Report,
};

/// One bar: its label, its value (a ratio) and the goal it is held to, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub ratio: f64,
    pub goal: Option<f64>,
}

/// Terraform / provisioner for every step both tools ran, for wall time, CPU and peak memory.
pub fn terraform_bars(report: &Report) -> Vec<Bar> {
    let mut bars = Vec::new();
    for operation in Operation::ALL {
        let (Some(ours), Some(theirs)) = (
            report.summary(Tool::Provisioner, operation),
            report.summary(Tool::Terraform, operation),
        ) else {
            continue;
        };
        let wall_goal = match operation {
            Operation::NoopPlan => Some(GOAL_PLAN_SPEEDUP),
            Operation::Apply | Operation::Destroy => Some(GOAL_APPLY_DESTROY_SPEEDUP),
            _ => None,
        };
        let measures = [
            ("wall", theirs.wall_s.median, ours.wall_s.median, wall_goal),
            ("CPU", theirs.cpu_s.median, ours.cpu_s.median, None),
            (
                "memory",
                theirs.peak_rss_mb.median,
                ours.peak_rss_mb.median,
                Some(GOAL_MEMORY_RATIO),
            ),
        ];
        for (measure, theirs, ours, goal) in measures {
            if ours > 0.0 && theirs > 0.0 {
                bars.push(Bar {
                    label: format!("{}: {measure}", short_label(operation)),
                    ratio: theirs / ours,
                    goal,
                });
            }
        }
    }
    bars
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
    let (width, top_h, bottom_h) = (960, 90 + row_px * top_rows, 90 + row_px * bottom_rows);
    let root = SVGBackend::new(path, (width, (top_h + bottom_h) as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let (top, bottom) = root.split_vertically(top_h as u32);
    panel(
        &top,
        "Terraform / provisioner (higher is better; | = goal)",
        &terraform,
        true,
    )?;
    panel(
        &bottom,
        "function / empty lambda_http binary (lower is better; | = goal)",
        &floor,
        false,
    )?;
    root.present().map_err(|e| anyhow!("{e}"))?;
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
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(200)
        .build_cartesian_2d(
            ((low * 0.5)..(high * 2.0)).log_scale(),
            (0..bars.len()).into_segmented(),
        )
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("ratio (log scale)")
        .x_label_formatter(&|v| format!("{v:.1}x"))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    let good = RGBColor(46, 139, 87);
    let bad = RGBColor(205, 60, 60);
    let neutral = RGBColor(90, 120, 180);
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
                Some(true) => good,
                Some(false) => bad,
                None => neutral,
            };
            let mut rect = Rectangle::new(
                [
                    (1.0, SegmentValue::Exact(i)),
                    (bar.ratio, SegmentValue::Exact(i + 1)),
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
                    (goal, SegmentValue::Exact(i)),
                    (goal, SegmentValue::Exact(i + 1)),
                ],
                BLACK.stroke_width(2),
            ))
        }))
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, bar)| {
            Text::new(
                format!(" {:.1}x", bar.ratio),
                (bar.ratio.max(1.0), SegmentValue::CenterOf(i)),
                ("sans-serif", 13),
            )
        }))
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::infra::Step;
    use crate::bench::measure::Sample;
    use crate::bench::report::{Conditions, summarise};

    fn report() -> Report {
        let step = |tool, wall| Step {
            run: 1,
            tool,
            operation: Operation::NoopPlan,
            sample: Sample {
                wall_s: wall,
                cpu_s: wall,
                peak_rss_mb: wall * 10.0,
                aws_calls: None,
            },
            finding: None,
        };
        let steps = vec![step(Tool::Provisioner, 0.5), step(Tool::Terraform, 6.0)];
        Report {
            conditions: Conditions {
                started_at: "now".into(),
                revision: "abc1234".into(),
                cores: 2,
                load_before: [0.0; 3],
                load_after: [0.0; 3],
                runs: 1,
                terraform_version: None,
                terraform_missing: None,
            },
            summaries: summarise(&steps),
            function: None,
            findings: vec![],
            steps,
        }
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
