//! `bench`: the provisioner against Terraform (each with local state and with S3 state and a
//! DynamoDB lock), and the function against an empty `lambda_http` binary, in one run; writes
//! `bench.md` (the README's table), `bench.json` (every figure of every run) and `bench.svg`
//! (the ratios). `scripts/bench` builds the binaries, starts the emulator and calls this; run it
//! directly only with `AWS_ENDPOINT_URL` pointing at an emulator that belongs to you (it creates
//! and destroys many stacks, and a state bucket and lock table per S3 round).
//!
//! The benchmark reports; it never asserts a speed. It fails only when a tool fails its job.

#[path = "../bench/mod.rs"]
mod bench;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Parser;

use bench::function::{FunctionSetup, zip_binary};
use bench::infra::{Backend, Setup, TerraformSetup};
use bench::report::{Conditions, Report, summarise};

/// Benchmarks the provisioner against Terraform, each with local state and with S3 state and a
/// DynamoDB lock, and the function against an empty Lambda.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    /// Runs per tool and backend (each on a fresh environment); at least 5 for published figures.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Where bench.md, bench.json and bench.svg go.
    #[arg(long, default_value = "tests/bench/results")]
    out: PathBuf,
    /// The provisioner binary (release build).
    #[arg(long, default_value = "target/release/provisioner")]
    provisioner: PathBuf,
    /// The function binary (release build for the Lambda target).
    #[arg(
        long,
        default_value = "target/x86_64-unknown-linux-musl/lambda/function"
    )]
    function: PathBuf,
    /// The empty lambda_http binary built from tests/bench/floor.
    #[arg(
        long,
        default_value = "target/bench-floor/x86_64-unknown-linux-musl/release/bench-floor"
    )]
    floor: PathBuf,
    /// Lambda architecture both tools declare (the binaries above are built for it).
    #[arg(long, default_value = "x86_64")]
    architecture: String,
    /// The Terraform binary; when absent, the provisioner is measured alone.
    #[arg(long, default_value = "terraform")]
    terraform: String,
    /// The Terraform yardstick configuration.
    #[arg(long, default_value = "tests/bench/terraform/main.tf")]
    terraform_config: PathBuf,
    /// Directory holding registry.terraform.io/hashicorp/aws (the provider mirror).
    #[arg(long, default_value = "/opt/tf-plugins")]
    terraform_plugins: PathBuf,
    /// Cold starts per binary.
    #[arg(long, default_value_t = 20)]
    cold_runs: usize,
    /// Requests of each measured workload against `function serve`.
    #[arg(long, default_value_t = 3000)]
    requests: usize,
    /// Concurrent clients of each workload.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// State backends each tool's life is measured with, in order: `local` (a state file) and
    /// `s3` (a versioned S3 bucket and a DynamoDB lock table, what deploys use). Repeat the
    /// option or separate with commas; both by default.
    #[arg(
        long = "backend",
        value_enum,
        value_delimiter = ',',
        default_values_t = Backend::ALL
    )]
    backends: Vec<Backend>,
    /// Skip the provisioner/Terraform rounds (function side only).
    #[arg(long)]
    skip_infra: bool,
    /// Skip the function side.
    #[arg(long)]
    skip_function: bool,
    /// Measure nothing: rewrite bench.md and bench.svg in --out from its bench.json (after a
    /// change to the table or the chart).
    #[arg(long)]
    redraw: bool,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if args.redraw {
        return redraw(&args.out);
    }
    if args.runs == 0 {
        bail!("--runs must be at least 1 (5 or more for figures worth publishing)");
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL").context(
        "AWS_ENDPOINT_URL is not set: run `scripts/bench`, which starts the emulator for you",
    )?;
    // The function's zip is deployed by the infrastructure rounds too, so it is always needed.
    let needed = [
        ("provisioner", &args.provisioner, !args.skip_infra),
        ("function", &args.function, true),
        ("floor", &args.floor, !args.skip_function),
    ];
    for (what, path, _) in needed.iter().filter(|(_, _, needed)| *needed) {
        if !path.exists() {
            bail!(
                "the {what} binary {} is missing: `scripts/bench` builds it",
                path.display()
            );
        }
    }
    let work = std::env::temp_dir().join(format!("bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let result = run(&args, &endpoint, &work);
    if let Err(error) = std::fs::remove_dir_all(&work) {
        tracing::warn!(%error, "could not remove {}", work.display());
    }
    result
}

fn run(args: &Args, endpoint: &str, work: &Path) -> Result<()> {
    let load_before = load_average()?;
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .context("formatting the start time")?;
    let (terraform, terraform_version, terraform_missing) = find_terraform(args, work)?;

    let function_zip = work.join("function.zip");
    std::fs::write(&function_zip, zip_binary(&args.function)?)
        .with_context(|| format!("writing {}", function_zip.display()))?;
    let steps = if args.skip_infra {
        Vec::new()
    } else {
        let setup = Setup {
            provisioner: absolute(&args.provisioner)?,
            terraform,
            function_zip,
            architecture: args.architecture.clone(),
            endpoint: endpoint.to_string(),
            work_dir: work.to_path_buf(),
            backends: distinct(&args.backends),
        };
        bench::infra::run_rounds(&setup, args.runs)?
    };

    let function = if args.skip_function {
        None
    } else {
        let setup = FunctionSetup {
            function: absolute(&args.function)?,
            floor: absolute(&args.floor)?,
            aws_env: aws_env(endpoint),
            cold_runs: args.cold_runs,
            requests: args.requests,
            clients: args.clients,
        };
        let table = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        Some(runtime.block_on(bench::function::measure(&setup, &table))?)
    };

    let findings = steps
        .iter()
        .filter_map(|s| {
            let f = s.finding.as_ref()?;
            Some(format!(
                "run {} {:?} ({}) {}: {f}",
                s.run,
                s.tool,
                s.backend.label(),
                s.operation.label()
            ))
        })
        .collect();
    let report = Report {
        conditions: Conditions {
            started_at,
            revision: revision(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_before,
            load_after: load_average()?,
            runs: args.runs,
            terraform_version,
            terraform_missing,
        },
        summaries: summarise(&steps),
        function,
        findings,
        steps,
    };
    write_outputs(&report, &args.out)
}

/// Rewrites bench.md and bench.svg from the bench.json of an earlier run.
fn redraw(out: &Path) -> Result<()> {
    let json = out.join("bench.json");
    let text = std::fs::read_to_string(&json)
        .with_context(|| format!("reading {} (run the benchmark first)", json.display()))?;
    let report: Report = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a bench report", json.display()))?;
    write_views(&report, out)
}

fn write_outputs(report: &Report, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let json = out.join("bench.json");
    std::fs::write(&json, serde_json::to_string_pretty(report)? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    println!("wrote {}", json.display());
    write_views(report, out)
}

/// bench.md and bench.svg, the two views of a report.
fn write_views(report: &Report, out: &Path) -> Result<()> {
    let markdown = report.markdown();
    let md = out.join("bench.md");
    std::fs::write(&md, &markdown).with_context(|| format!("writing {}", md.display()))?;
    let svg = out.join("bench.svg");
    bench::chart::draw(report, &svg).with_context(|| format!("drawing {}", svg.display()))?;
    println!("{markdown}");
    println!("wrote {} and {}", md.display(), svg.display());
    Ok(())
}

/// Terraform and its provider mirror, or the reason the Terraform side is skipped.
fn find_terraform(
    args: &Args,
    work: &Path,
) -> Result<(Option<TerraformSetup>, Option<String>, Option<String>)> {
    if args.skip_infra {
        return Ok((None, None, Some("skipped (--skip-infra)".into())));
    }
    let version = match Command::new(&args.terraform).arg("version").output() {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or("Terraform")
            .to_string(),
        Ok(_) | Err(_) => {
            let why = format!(
                "`{}` is not installed (or does not run), so the provisioner is measured alone",
                args.terraform
            );
            tracing::warn!("{why}");
            return Ok((None, None, Some(why)));
        }
    };
    if !args
        .terraform_plugins
        .join("registry.terraform.io/hashicorp/aws")
        .is_dir()
    {
        let why = format!(
            "no AWS provider mirror under {} (pass --terraform-plugins DIR, the directory that \
             holds registry.terraform.io/hashicorp/aws)",
            args.terraform_plugins.display()
        );
        tracing::warn!("{why}");
        return Ok((None, None, Some(why)));
    }
    let cli_config = work.join("terraform.rc");
    let plugins = absolute(&args.terraform_plugins)?;
    std::fs::write(
        &cli_config,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    \
             include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    \
             exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
            plugins.display()
        ),
    )
    .with_context(|| format!("writing {}", cli_config.display()))?;
    let setup = TerraformSetup {
        binary: PathBuf::from(&args.terraform),
        main_tf: absolute(&args.terraform_config)?,
        cli_config,
    };
    Ok((Some(setup), Some(version), None))
}

/// The backends asked for, each once, in the order first asked.
fn distinct(backends: &[Backend]) -> Vec<Backend> {
    let mut out: Vec<Backend> = Vec::new();
    for backend in backends {
        if !out.contains(backend) {
            out.push(*backend);
        }
    }
    out
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
}

/// The measured tree's revision, `unknown` outside a git checkout.
fn revision() -> String {
    Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_string(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_string(),
        )
}

/// `/proc/loadavg`: the 1, 5 and 15 minute load averages.
fn load_average() -> Result<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").context("reading /proc/loadavg")?;
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    let mut next =
        || -> Result<f64> { Ok(fields.next().context("unexpected /proc/loadavg format")??) };
    Ok([next()?, next()?, next()?])
}
