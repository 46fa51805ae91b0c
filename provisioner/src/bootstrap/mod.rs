//! `provisioner bootstrap`: the one-time set-up of an AWS account for this stack, replacing the
//! original README's manual `aws` commands with one idempotent command.
//!
//! It makes sure of, in order: the state bucket (versioned, encrypted, public access blocked,
//! TLS only, old state versions expired after N days), the lock table (`LockID`, on demand,
//! PITR), GitHub's OIDC identity provider (reused when the account has one), then for each
//! environment its permissions boundary and its own deploy role (trust, permissions and
//! boundary from [`policies`]). Names that would collide are refused before anything is written.
//! [`evaluate`] evaluates the generated policies, so tests show what they allow and deny.
//!
//! Every step reads first and writes only what differs, recording what it did in a [`Report`];
//! a second run writes nothing and reports "no changes". Creating the bucket and the lock table
//! is the `state` crate's job ([`state::ensure_backend_resources`]); this module adds the
//! hardening on top. Bootstrap runs with administrator credentials: it is the only writer of the
//! bucket's settings (apply only checks them, [`state::prepare_backend`]).

pub mod boundary;
pub mod bucket;
pub mod evaluate;
pub mod github;
pub mod lock_table;
pub mod policies;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::kinds::errors::aws_error;
pub(crate) use crate::kinds::errors::{AwsResult, NotFound};
use crate::resource::ResourceError;
pub use policies::{EnvScope, PolicyInputs};

/// Default number of days a superseded state version is kept.
pub const DEFAULT_NONCURRENT_DAYS: i32 = 90;

/// Everything bootstrap needs, resolved from the stack file and the flags.
#[derive(Debug, Clone)]
pub struct Settings {
    pub inputs: PolicyInputs,
    /// Region of the state bucket and lock table.
    pub state_region: String,
    /// Days a noncurrent state version is kept before S3 expires it.
    pub noncurrent_days: i32,
    /// The name an earlier bootstrap gave its one deploy role for every environment; reported
    /// when it still exists.
    pub shared_role_name: Option<String>,
    /// Put the TLS-only bucket policy. Off only when the S3 endpoint itself is plain HTTP (a
    /// local emulator that enforces bucket policies): the policy would deny every request of
    /// this tool, bootstrap included.
    pub tls_only_policy: bool,
}

/// What bootstrap did (or found already done), in order.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// `(what, change)` for every write made.
    pub changes: Vec<(String, String)>,
    /// Things found exactly as wanted.
    pub unchanged: Vec<String>,
    /// `(environment, deploy role ARN)`: each GitHub environment's `AWS_ROLE_TO_ASSUME` secret.
    pub roles: Vec<(String, String)>,
    pub oidc_provider_arn: String,
    /// Things left as they are that need a person's attention.
    pub warnings: Vec<String>,
}

impl Report {
    pub(crate) fn changed(&mut self, what: impl Into<String>, change: impl Into<String>) {
        let (what, change) = (what.into(), change.into());
        tracing::info!(%what, %change, "bootstrap changed");
        self.changes.push((what, change));
    }

    pub(crate) fn unchanged(&mut self, what: impl Into<String>) {
        self.unchanged.push(what.into());
    }
}

/// Errors of bootstrap.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{what}: {source}")]
    Aws {
        what: String,
        #[source]
        source: ResourceError,
    },
    #[error(transparent)]
    State(Box<state::StateError>),
    #[error("{0}")]
    Invalid(String),
}

impl From<state::StateError> for BootstrapError {
    fn from(error: state::StateError) -> Self {
        Self::State(Box::new(error))
    }
}

impl BootstrapError {
    /// The AWS error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws {
                source: ResourceError::Aws { code, .. },
                ..
            } => code.as_deref(),
            _ => None,
        }
    }
}

/// Maps an SDK error of `operation` on `what` (keeps AWS's code and message), for the answers
/// a step tells apart by the SDK's error itself before giving up (a bucket's bare 404, a
/// provider another run created first).
pub(crate) fn aws<E, R>(what: &str, operation: &str, error: SdkError<E, R>) -> BootstrapError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    BootstrapError::Aws {
        what: what.to_string(),
        source: aws_error(operation, error),
    }
}

/// The kinds' errors as bootstrap's, about `what` (`deploy role x`): an SDK call reads
/// `call.send().await.aws("GetRole").absent().on(&what)?`, so bootstrap maps errors and decides
/// not-found exactly as the kinds do ([`AwsResult`], [`NotFound`]).
pub(crate) trait On<T> {
    fn on(self, what: &str) -> Result<T, BootstrapError>;
}

impl<T> On<T> for Result<T, ResourceError> {
    fn on(self, what: &str) -> Result<T, BootstrapError> {
        self.map_err(|source| BootstrapError::Aws {
            what: what.to_string(),
            source,
        })
    }
}

/// Runs every step against the account `sdk` points at.
pub async fn run(
    sdk: &aws_config::SdkConfig,
    settings: &Settings,
) -> Result<Report, BootstrapError> {
    let mut report = Report::default();
    let inputs = &settings.inputs;
    policies::check_names(inputs).map_err(BootstrapError::Invalid)?;
    bucket::ensure_state_bucket(
        sdk,
        &inputs.state_bucket,
        inputs.lock_table.as_deref(),
        settings.noncurrent_days,
        settings.tls_only_policy,
        &mut report,
    )
    .await?;
    if let Some(table) = &inputs.lock_table {
        lock_table::ensure_pitr(&aws_sdk_dynamodb::Client::new(sdk), table, &mut report).await?;
    }
    let iam = aws_sdk_iam::Client::new(sdk);
    let provider_arn = github::ensure_oidc_provider(&iam, &mut report).await?;
    for env in &inputs.environments {
        boundary::ensure_boundary_policy(&iam, inputs, env, &mut report).await?;
        let arn = github::ensure_deploy_role(&iam, inputs, env, &provider_arn, &mut report).await?;
        report.roles.push((env.environment.clone(), arn));
    }
    if let (Some(name), Some(env)) = (&settings.shared_role_name, inputs.environments.first()) {
        github::report_shared_role(&iam, name, &env.stack_name, &mut report).await?;
    }
    report.oidc_provider_arn = provider_arn;
    Ok(report)
}

/// The account the credentials belong to (policies name it in ARNs).
pub async fn account_id(sdk: &aws_config::SdkConfig) -> Result<String, BootstrapError> {
    let call = aws_sdk_sts::Client::new(sdk).get_caller_identity();
    let identity = call
        .send()
        .await
        .aws("GetCallerIdentity")
        .on("the current AWS identity")?;
    identity
        .account()
        .map(str::to_string)
        .ok_or_else(|| BootstrapError::Invalid("GetCallerIdentity returned no account id".into()))
}
