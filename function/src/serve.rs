//! The local server: the same router over plain HTTP, for people (curl) and tests.
//!
//! It reaches DynamoDB through the usual AWS variables, so pointing `AWS_ENDPOINT_URL` at the
//! local emulator gives the whole stack on one machine.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use tokio::net::TcpListener;

use crate::app::{AppState, app};
use crate::auth::jwks::JwksError;
use crate::auth::{Authenticator, JwtVerifier};
use crate::aws::{Host, sdk_config};
use crate::config::Config;
use crate::store::{Store, StoreError};

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: IpAddr,
    pub port: u16,
    /// Create the table (with its indexes) first if it is missing.
    pub create_table: bool,
    /// Verify bearer tokens (auth on), or not (the open API).
    pub auth: Option<ServeAuth>,
}

/// How `function serve` verifies tokens: what API Gateway's JWT authorizer does on AWS.
#[derive(Debug, Clone)]
pub struct ServeAuth {
    pub issuer: String,
    pub audiences: Vec<String>,
    /// A JWKS file, or an http(s) URL.
    pub jwks: String,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not prepare table: {0}")]
    Table(#[from] StoreError),
    #[error(
        "the table {0} does not exist: start with --create-table to create it (with its \
         indexes), or name an existing one with --table or TABLE_NAME"
    )]
    NoTable(String),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("could not load the token keys: {0}")]
    Keys(#[from] JwksError),
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// Serves until Ctrl-C or SIGTERM. Prints the base URL on stdout once listening.
pub async fn run(config: Config, options: ServeOptions) -> Result<(), ServeError> {
    let sdk = sdk_config(Host::Local).await;
    let store = Store::new(Client::new(&sdk), config.table_name.clone());
    if options.create_table {
        store.ensure_table().await?;
    } else if !store.table_exists().await? {
        // Checked before listening: otherwise every request would answer 500.
        return Err(ServeError::NoTable(config.table_name.clone()));
    }
    let addr = SocketAddr::new(options.host, options.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let auth = match options.auth {
        None => Authenticator::Off,
        Some(auth) => {
            let verifier = JwtVerifier::new(auth.issuer, auth.audiences, &auth.jwks).await?;
            Authenticator::Bearer(Arc::new(verifier), config.claims.clone())
        }
    };
    let state = AppState::new(store, config.clone()).with_auth(auth);
    println!("http://{local}");
    tracing::info!(table = %config.table_name, "serving the playground API on http://{local}");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(ServeError::Serve)
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
