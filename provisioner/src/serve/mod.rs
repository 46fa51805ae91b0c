//! `provisioner serve`: an environment's HTTP API as deployed, served on 127.0.0.1 as API
//! Gateway would serve it, the function run from its deployed zip under a local Lambda Runtime
//! API. No Docker and no template: what is served is read from AWS (the emulator locally, an
//! account just as well), so a route the code has but the API lacks is a 404, as on AWS.
//!
//! | module | its one job |
//! |---|---|
//! | [`deployed`] | the API, stage, authorizers and functions, read from AWS |
//! | [`gateway`] | one request, in API Gateway's order |
//! | [`routing`] | which route a request takes |
//! | [`cors`] | preflights and CORS headers |
//! | [`throttle`] | the stage's token buckets |
//! | [`authorizer`] | JWT authorizers (the shared `jwtcheck` crate) |
//! | [`event`], [`response`] | payload format 2.0, both ways |
//! | [`sandbox`], [`runtime_api`] | the function's processes and the Runtime API they talk to |
//! | [`stats`] | where the time goes |

pub mod authorizer;
pub mod cors;
pub mod deployed;
pub mod event;
pub mod gateway;
pub mod response;
pub mod routing;
pub mod runtime_api;
pub mod sandbox;
pub mod stats;
pub mod throttle;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use aws_sdk_lambda::config::ProvideCredentials;
use tokio::net::TcpListener;

use crate::aws::AwsClients;
use crate::resource::ResourceError;
use authorizer::Authorizer;
use deployed::Deployed;
use gateway::{Gateway, Served};
use sandbox::{Code, Pool};

/// Why the gateway could not start. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "the state of the {0} environment records no HTTP API and stage: deploy it first with \
         `provisioner apply --env {0}`"
    )]
    NothingDeployed(String),
    #[error(
        "the {0} recorded in the state no longer exists in AWS: see what changed with \
         `provisioner plan`, then apply"
    )]
    Gone(String),
    #[error("{0}")]
    Aws(#[from] ResourceError),
    #[error("cannot serve this API: {0}")]
    Unsupported(String),
    #[error("downloading the zip of function {0}: {1}")]
    Download(String, String),
    #[error("{0}")]
    Sandbox(String),
    #[error(
        "loading the keys of the authorizer {0}: {1}; for a local issuer pass its JWKS with \
         --jwks FILE"
    )]
    Keys(String, String),
    #[error(
        "finding the keys of the issuer {issuer}: {detail}; for a local issuer pass its JWKS \
         with --jwks FILE"
    )]
    Discovery { issuer: String, detail: String },
    #[error("could not listen on {addr}: {source}; choose another port with --port")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// A JWKS file (or URL) for every JWT authorizer, instead of the issuers' own.
    pub jwks: Option<String>,
    /// Most sandboxes per function at once.
    pub sandboxes: usize,
}

/// A gateway ready to serve: bound, its sandboxes' code unpacked.
pub struct Prepared {
    gateway: Arc<Gateway>,
    listener: TcpListener,
    /// The base URL, the stage included (`http://127.0.0.1:8080/dev`).
    pub base_url: String,
}

/// Binds the port, reads what `document` says is deployed and downloads the functions.
pub async fn prepare(
    aws: &AwsClients,
    document: &state::StateDocument,
    options: &ServeOptions,
) -> Result<Prepared, ServeError> {
    let (api_id, stage) = deployed::locate(document)?;
    // Bound first: a port in use is said before minutes of download, not after.
    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: options.addr,
            source,
        })?;
    let deployed = deployed::read(aws, &api_id, &stage).await?;
    let credentials = credentials(aws).await;
    let mut pools: HashMap<String, Arc<Pool>> = HashMap::new();
    for function in &deployed.functions {
        let code = Code::fetch(function.clone(), credentials.clone()).await?;
        let pool = Pool::new(code, options.sandboxes);
        tracing::info!(function = %function.name, dir = %pool.task_root().display(), "unpacked the deployed zip");
        pools.insert(function.arn.clone(), Arc::new(pool));
    }
    let mut authorizers: HashMap<String, Arc<Authorizer>> = HashMap::new();
    for config in &deployed.authorizers {
        let guards = deployed
            .routes
            .iter()
            .any(|r| r.authorizer_id.as_deref() == Some(&config.id));
        if guards {
            let loaded = Authorizer::load(config, options.jwks.as_deref()).await?;
            authorizers.insert(config.id.clone(), Arc::new(loaded));
        }
    }
    let routes = served_routes(&deployed, &pools, &authorizers);
    let local = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: options.addr,
        source,
    })?;
    let base_url = if deployed.stage == "$default" {
        format!("http://{local}")
    } else {
        format!("http://{local}/{}", deployed.stage)
    };
    Ok(Prepared {
        gateway: Arc::new(Gateway::new(deployed, routes)),
        listener,
        base_url,
    })
}

fn served_routes(
    deployed: &Deployed,
    pools: &HashMap<String, Arc<Pool>>,
    authorizers: &HashMap<String, Arc<Authorizer>>,
) -> Vec<Served> {
    deployed
        .routes
        .iter()
        .map(|route| Served {
            key: route.key.clone(),
            pool: route.function.clone().and_then(|arn| {
                pools
                    .get(&arn)
                    .cloned()
                    .ok_or_else(|| format!("function {arn} was not loaded"))
            }),
            authorizer: route
                .authorizer_id
                .as_ref()
                .and_then(|id| authorizers.get(id).cloned()),
        })
        .collect()
}

/// The caller's credentials as the variables Lambda gives a function for its execution role;
/// none when the chain has none (the function then fails its AWS calls, as it would on Lambda
/// without a role).
async fn credentials(aws: &AwsClients) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(provider) = aws.sdk.credentials_provider() else {
        return out;
    };
    match provider.provide_credentials().await {
        Ok(c) => {
            out.insert("AWS_ACCESS_KEY_ID".into(), c.access_key_id().to_string());
            out.insert(
                "AWS_SECRET_ACCESS_KEY".into(),
                c.secret_access_key().to_string(),
            );
            if let Some(token) = c.session_token() {
                out.insert("AWS_SESSION_TOKEN".into(), token.to_string());
            }
        }
        Err(error) => tracing::warn!(%error, "no credentials to give the function"),
    }
    out
}

impl Prepared {
    /// Serves until `shutdown` completes; returns the request timings.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<stats::Summary, ServeError> {
        let app = axum::Router::new()
            .fallback(gateway::handle)
            .with_state(self.gateway.clone());
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServeError::Serve)?;
        Ok(self.gateway.stats.summary())
    }

    /// The routes served, for the start-up message.
    pub fn route_keys(&self) -> Vec<String> {
        self.gateway
            .deployed
            .routes
            .iter()
            .map(|r| r.key.clone())
            .collect()
    }
}
