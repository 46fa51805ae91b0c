//! What every command that works on an environment opens first: the stack resolved for that
//! environment, the one SDK configuration, and the state backend. One place, so that every
//! command loads AWS settings the same way and `--stats` counts the calls of every command.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use aws_config::SdkConfig;

use provisioner::aws::AwsClients;
use provisioner::engine::Engine;
use provisioner::stack::{CodeSource, ResolvedStack, Stack};

use super::Global;

/// One environment's resolved stack, SDK configuration and state backend.
pub struct EnvBackend {
    pub resolved: ResolvedStack,
    pub sdk: SdkConfig,
    pub backend: state::Backend,
}

impl EnvBackend {
    /// Whom this environment's state must belong to (asks STS for the account once).
    pub async fn owner(&self) -> Result<state::Owner> {
        let aws = AwsClients::new(self.sdk.clone());
        Ok(state::Owner {
            stack: self.resolved.stack_name.clone(),
            environment: self.resolved.environment.clone(),
            region: self.resolved.region.clone(),
            account_id: aws.account_id().await?.to_string(),
        })
    }

    /// The engine that reads and writes this environment's resources (it takes the SDK
    /// configuration: the backend keeps its own clients).
    pub fn into_engine(self) -> (ResolvedStack, Engine, state::Backend) {
        let engine = Engine {
            aws: AwsClients::new(self.sdk),
            registry: provisioner::kinds::lookup,
            stack_name: self.resolved.stack_name.clone(),
            environment: self.resolved.environment.clone(),
            stack_tags: self.resolved.tags.clone(),
            interrupt: super::signals::interrupt().clone(),
        };
        (self.resolved, engine, self.backend)
    }
}

/// Loads the stack, resolves `environment` and opens its state backend.
pub async fn open_env(global: &Global, environment: &str) -> Result<EnvBackend> {
    let stack = Stack::load(&global.stack)?;
    let mut resolved = stack.resolve(environment)?;
    if let Some(dir) = &global.run.package_dir {
        resolved.lambda.code = prebuilt_package(dir, &resolved)?;
    }
    let sdk = sdk_config(global, &resolved.region).await;
    let backend = state::Backend::new(resolved.backend_config(), &sdk);
    Ok(EnvBackend {
        resolved,
        sdk,
        backend,
    })
}

/// `--package-dir`: the zip in `dir` for the environment's architecture, instead of building.
fn prebuilt_package(dir: &Path, stack: &ResolvedStack) -> Result<CodeSource> {
    let name = format!("function-{}.zip", stack.lambda.architecture.as_str());
    let zip = std::path::absolute(dir.join(&name))
        .with_context(|| format!("--package-dir {}", dir.display()))?;
    if !zip.is_file() {
        bail!(
            "--package-dir {}: there is no {name} (the {} environment runs on {}); build it \
             with `provisioner package --arch {} --out {}`, or in CI download the zip the CI \
             run built",
            dir.display(),
            stack.environment,
            stack.lambda.architecture.as_str(),
            stack.lambda.architecture.as_str(),
            dir.display()
        );
    }
    Ok(CodeSource::Prebuilt(zip.display().to_string()))
}

/// The one configuration load of a command: profiles, SSO, web identity and
/// `AWS_ENDPOINT_URL[_<SERVICE>]` all come from the standard chain; the stack decides the
/// region. With `--stats` every request made through it is counted, the state backend's too.
pub async fn sdk_config(global: &Global, region: &str) -> SdkConfig {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .http_client(provisioner::http_client::client())
        .load()
        .await;
    if global.run.aws.stats {
        super::stats::counting(sdk)
    } else {
        sdk
    }
}
