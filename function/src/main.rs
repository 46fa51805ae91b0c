//! `function`: the playground API binary (shipped to Lambda as `bootstrap`).
//!
//! With no subcommand it is a Lambda function and needs `AWS_LAMBDA_RUNTIME_API` (set by
//! Lambda); `function serve` runs the same router as a local HTTP server.

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use function::config::Config;
use function::serve::{ServeAuth, ServeOptions};
use function::{lambda, logging, serve};

/// musl's own allocator is slow: mimalloc took 14 % off the CPU per request (see Cargo.toml).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "The playground API: on Lambda (no subcommand) or as a local server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API over HTTP on this machine (AWS settings from the usual variables,
    /// e.g. AWS_ENDPOINT_URL for a local emulator).
    Serve {
        /// Port to listen on (0 picks a free one; the URL is printed).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        host: IpAddr,
        /// DynamoDB table holding the playgrounds.
        #[arg(long, env = "TABLE_NAME")]
        table: String,
        /// Create the table with its indexes first if it does not exist.
        #[arg(long)]
        create_table: bool,
        #[command(flatten)]
        auth: AuthArgs,
    },
}

/// Token verification for `serve` (on Lambda, API Gateway verifies and these are unused).
/// Auth is on when an issuer is given; writes then need `Authorization: Bearer <token>`.
#[derive(Debug, clap::Args)]
struct AuthArgs {
    /// The tokens' issuer (`iss`); turns auth on. Needs --auth-audience and --auth-jwks.
    #[arg(long, env = "AUTH_ISSUER")]
    auth_issuer: Option<String>,
    /// An accepted audience (`aud`); repeat or separate with commas.
    #[arg(long, env = "AUTH_AUDIENCE", value_delimiter = ',')]
    auth_audience: Vec<String>,
    /// The issuer's public keys (JWKS): a file, or an http(s) URL fetched at start and again
    /// for an unknown kid (at most every 5 minutes).
    #[arg(long, env = "AUTH_JWKS")]
    auth_jwks: Option<String>,
    /// Members of this group may change any playground and any user row.
    #[arg(long, env = "AUTH_ADMIN_GROUP")]
    auth_admin_group: Option<String>,
    /// The claim that must equal {username} to write that user's row.
    #[arg(long, env = "AUTH_USERNAME_CLAIM", default_value = "sub")]
    auth_username_claim: String,
    /// The claim listing the caller's groups.
    #[arg(long, env = "AUTH_GROUPS_CLAIM", default_value = "cognito:groups")]
    auth_groups_claim: String,
}

impl AuthArgs {
    /// The verification settings, `None` without an issuer; an issuer without an audience or
    /// keys is refused rather than served open.
    fn verification(&self) -> anyhow::Result<Option<ServeAuth>> {
        let Some(issuer) = self.auth_issuer.clone().filter(|i| !i.trim().is_empty()) else {
            return Ok(None);
        };
        let audiences: Vec<String> = self
            .auth_audience
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        if audiences.is_empty() {
            bail!("--auth-issuer needs --auth-audience (AUTH_AUDIENCE): the accepted audiences");
        }
        let Some(jwks) = self.auth_jwks.clone() else {
            bail!("--auth-issuer needs --auth-jwks (AUTH_JWKS): the issuer's keys, a file or URL");
        };
        Ok(Some(ServeAuth {
            issuer,
            audiences,
            jwks,
        }))
    }
}

/// Errors end the process with one line and status 1, never a backtrace (anyhow's `Result`
/// from `main` prints one whenever `RUST_BACKTRACE` is set).
fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    // Lambda starts `bootstrap` with no arguments: nothing to parse, so clap's parser is kept
    // off the cold-start path.
    if std::env::args_os().len() == 1 {
        return run_lambda();
    }
    let cli = Cli::parse();
    match cli.command {
        None => run_lambda(),
        Some(Command::Serve {
            port,
            host,
            table,
            create_table,
            auth,
        }) => run_server(
            table,
            &auth,
            ServeOptions {
                host,
                port,
                create_table,
                auth: auth.verification()?,
            },
        ),
    }
}

fn run_lambda() -> anyhow::Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        bail!(
            "AWS_LAMBDA_RUNTIME_API is not set, so this is not Lambda: \
             to run locally use `function serve --port 8080 --table TABLE`"
        );
    }
    logging::init_lambda();
    let config = Config::from_env().context("reading the function's configuration")?;
    // One invocation at a time: a single-threaded runtime starts faster and is enough.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime
        .block_on(lambda::run(config))
        .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"))
}

fn run_server(table: String, auth: &AuthArgs, options: ServeOptions) -> anyhow::Result<()> {
    logging::init_local();
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table.clone()),
        "AUTH_ENABLED" => Some(options.auth.is_some().to_string()),
        "AUTH_USERNAME_CLAIM" => Some(auth.auth_username_claim.clone()),
        "AUTH_GROUPS_CLAIM" => Some(auth.auth_groups_claim.clone()),
        "AUTH_ADMIN_GROUP" => auth.auth_admin_group.clone(),
        other => std::env::var(other).ok(),
    })
    .context("reading the configuration")?;
    if options.auth.is_none() && std::env::var("AUTH_ENABLED").is_ok_and(|v| v.trim() == "true") {
        bail!(
            "AUTH_ENABLED=true, but `function serve` verifies tokens itself: give \
             --auth-issuer, --auth-audience and --auth-jwks (or AUTH_ISSUER, AUTH_AUDIENCE, \
             AUTH_JWKS)"
        );
    }
    // Single-threaded like the Lambda runtime: the handler only waits on DynamoDB, so one
    // thread serves many concurrent requests, and the CPU measured locally is Lambda's.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime
        .block_on(serve::run(config, options))
        .context("serving the API")
}
