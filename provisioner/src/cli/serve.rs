//! `provisioner serve --env ENV`: the environment's deployed HTTP API on 127.0.0.1, as API
//! Gateway serves it (the work is in `provisioner::serve`). Read-only: it reads the state as
//! `output` does (no lock) and then only AWS's descriptions of the API and the function.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use provisioner::serve::{self, ServeOptions};

use super::Global;
use super::flags::AwsFlags;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The port on 127.0.0.1 (0 picks a free one; the base URL is printed on stdout).
    #[arg(long, default_value_t = 8080, value_name = "PORT")]
    pub port: u16,
    /// The JWT authorizer's keys from this JWKS file (a local issuer), instead of the
    /// `jwks_uri` of the issuer's OpenID configuration.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<String>,
    /// Most sandboxes (warm function processes) at once per function; more requests wait.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub sandboxes: u16,
    #[command(flatten)]
    pub aws: AwsFlags,
}

pub async fn run(global: &Global, args: &ServeArgs) -> Result<ExitCode> {
    let (session, document) = super::commands::applied_state(global, &args.env).await?;
    let options = ServeOptions {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        jwks: args.jwks.clone(),
        sandboxes: usize::from(args.sandboxes),
    };
    let prepared = serve::prepare(&session.engine.aws, &document, &options).await?;
    outln!("{}", prepared.base_url);
    errln!(
        "Serving the {} environment's HTTP API on {} (routes: {}). Ctrl-C stops.",
        args.env,
        prepared.base_url,
        prepared.route_keys().join(", ")
    );
    super::signals::serving();
    let summary = prepared
        .serve(async { super::signals::interrupt().raised(1).await })
        .await?;
    if args.aws.stats {
        errln!(
            "stats: {} requests, {} invoked the function; gateway overhead median {:.3} ms \
             (p90 {:.3} ms), function median {:.3} ms, whole request median {:.3} ms",
            summary.requests,
            summary.invoked,
            summary.gateway_median_ms,
            summary.gateway_p90_ms,
            summary.function_median_ms,
            summary.total_median_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}
