//! `lambda_function`: the API handler on `provided.al2023`, code uploaded from a local zip.
//!
//! Fields: `role_arn`, `runtime`, `handler`, `architecture`, `memory_size`, `timeout`,
//! `environment` (object of strings), `layers` (list of version ARNs, in Lambda's order, which
//! matters), `code_sha256` (base64 SHA-256 of the zip, what Lambda reports), `zip_path` (where
//! the zip is; carried for create and update, never compared nor recorded), `tracing_mode`
//! (`PassThrough` or `Active`), `publish`. Id: the function name.
//!
//! With `publish`, every create and update ends by publishing a version
//! ([`lambda_versions::publish`]), recorded in the state and given as the output `version`,
//! which an update renews: the alias that serves the function follows it. A function recorded
//! without a version (made before versions, or by Terraform) reads as `publish = false`, so the
//! next apply publishes one.
//!
//! Like cargo-lambda and terraform-provider-aws: create is retried while IAM has not yet
//! propagated the new role to Lambda ([`role_not_yet_assumable`]); an update sends the
//! configuration first and the code second, each waited until `LastUpdateStatus` is
//! `Successful` (Lambda rejects a second update with `ResourceConflictException` while one is
//! in progress, which is retried too: [`update_in_progress`]).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, FunctionConfiguration, LastUpdateStatus, Runtime,
    State, TracingConfig, TracingMode,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{self, AwsResult, NotFound};
use super::fields;
use super::lambda_versions;
use super::tags;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};
use crate::retry::{RetryPolicy, poll_until, retry};

/// Fields UpdateFunctionConfiguration changes.
const CONFIGURATION_FIELDS: [&str; 8] = [
    "role_arn",
    "runtime",
    "handler",
    "memory_size",
    "timeout",
    "environment",
    "layers",
    "tracing_mode",
];

/// Fields UpdateFunctionCode changes (the architecture goes with the code).
const CODE_FIELDS: [&str; 2] = ["code_sha256", "architecture"];

/// Fields whose change publishes a new version: the configuration, the code, and `publish`
/// itself (a function without a recorded version).
const PUBLISHED_FIELDS: [&str; 11] = {
    let mut fields = ["publish"; 11];
    let mut i = 0;
    while i < CONFIGURATION_FIELDS.len() {
        fields[i] = CONFIGURATION_FIELDS[i];
        i += 1;
    }
    fields[8] = CODE_FIELDS[0];
    fields[9] = CODE_FIELDS[1];
    fields
};

/// How long a function may stay `Pending` or `InProgress`.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// `$builder` (CreateFunction's or UpdateFunctionConfiguration's: two types with the same
/// setters) with every field of [`CONFIGURATION_FIELDS`] set from `$spec`, so a create and an
/// update configure a function alike.
macro_rules! configured {
    ($builder:expr, $spec:expr) => {
        $builder
            .role(&$spec.role_arn)
            .runtime(Runtime::from($spec.runtime.as_str()))
            .handler(&$spec.handler)
            .memory_size($spec.memory_size)
            .timeout($spec.timeout)
            .environment(environment($spec))
            .set_layers(Some($spec.layers.clone()))
            .tracing_config(
                TracingConfig::builder()
                    .mode(TracingMode::from($spec.tracing_mode.as_str()))
                    .build(),
            )
    };
}

/// The `lambda_function` kind.
pub struct LambdaFunction;

/// A function's declared fields. Lambda reports every one of them for a function packaged as a
/// zip (an absent one reads as empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The execution role's ARN.
    pub role_arn: String,
    pub runtime: String,
    pub handler: String,
    /// `arm64` or `x86_64`.
    pub architecture: String,
    /// MB.
    pub memory_size: i32,
    /// Seconds.
    pub timeout: i32,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Layer version ARNs, in order.
    #[serde(default)]
    pub layers: Vec<String>,
    pub code_sha256: String,
    /// Instances reserved for (and capping) the function; `None`: the account's shared pool.
    #[serde(default)]
    pub reserved_concurrency: Option<i32>,
    /// X-Ray tracing: `PassThrough` (Lambda's default) or `Active`.
    #[serde(default = "pass_through")]
    pub tracing_mode: String,
    /// Publish a version after every change (read back as whether one is recorded).
    #[serde(default)]
    pub publish: bool,
    /// The zip to upload: declared, never read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_path: Option<String>,
}

#[async_trait]
impl Kind for LambdaFunction {
    const ABOUT: About = About::kind("lambda_function", "the function name")
        .terraform(
            "aws_lambda_function",
            TerraformId::Attribute("function_name"),
        )
        .not_compared(&["zip_path"])
        .recorded(&["version"])
        .renewed_by_update(&["version", "qualified_arn"], &PUBLISHED_FIELDS);
    type Spec = Spec;

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        let role = scope.iam_arn(&format!(
            "role{}{}",
            scope.env.role_path, scope.env.function_role_name
        ));
        vec![
            json!({
                "Sid": "Function",
                "Effect": "Allow",
                "Action": [
                    "lambda:CreateFunction", "lambda:DeleteFunction",
                    "lambda:DeleteFunctionConcurrency", "lambda:GetFunction",
                    "lambda:GetFunctionConfiguration", "lambda:ListTags",
                    "lambda:ListVersionsByFunction", "lambda:PublishVersion",
                    "lambda:PutFunctionConcurrency", "lambda:TagResource",
                    "lambda:UntagResource", "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration"
                ],
                "Resource": functions(scope),
            }),
            // CreateFunction and UpdateFunctionConfiguration pass the role to Lambda.
            json!({
                "Sid": "PassOnlyTheFunctionRoleToLambda",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role,
                "Condition": { "StringEquals": { "iam:PassedToService": "lambda.amazonaws.com" } },
            }),
        ]
    }

    async fn read(aws: &AwsClients, id: &str, recorded: &Fields) -> Read<Spec> {
        let call = aws.lambda.get_function().function_name(id);
        let Some(output) = call.send().await.aws("GetFunction").absent()? else {
            return Ok(None);
        };
        let Some(config) = output.configuration() else {
            return Ok(None);
        };
        let tags = output.tags().map(tags::from_map).unwrap_or_default();
        let mut found = observe(&aws.region, id, config, tags);
        found.spec.reserved_concurrency = output
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions());
        let version = recorded.get("version").and_then(Value::as_str);
        Ok(Some(match version {
            Some(version) => published(found, version),
            None => found,
        }))
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, tags: &Tags) -> Made<Spec> {
        let zip_path = zip_path(spec)?;
        retry(
            &RetryPolicy::default(),
            role_or_function_not_ready,
            || async {
                let code = FunctionCode::builder()
                    .zip_file(fields::zip_blob(zip_path).await?)
                    .build();
                let create = aws.lambda.create_function().function_name(name);
                let call = configured!(create, spec)
                    .architectures(Architecture::from(spec.architecture.as_str()))
                    .code(code)
                    .set_tags((!tags.is_empty()).then(|| tags::as_map(tags)));
                call.send().await.aws("CreateFunction")
            },
        )
        .await?;
        wait_lambda_updated(aws, name).await?;
        if spec.reserved_concurrency.is_some() {
            set_reserved_concurrency(aws, name, spec.reserved_concurrency).await?;
        }
        let published = lambda_versions::publish_if(aws, name, spec.publish, &spec.code_sha256);
        Self::read_back(aws, name, &published.await?).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        let name = change.id;
        let spec = change.spec;
        if let Some(unknown) = change.changed.iter().find(|f| {
            let f = f.as_str();
            !CONFIGURATION_FIELDS.contains(&f)
                && !CODE_FIELDS.contains(&f)
                && !["tags", "reserved_concurrency", "publish"].contains(&f)
        }) {
            return Err(ResourceError::Invalid(format!(
                "{}: cannot update unknown field `{unknown}`",
                Self::NAME
            )));
        }
        let changed = |set: &[&str]| set.iter().any(|field| change.has(field));
        if changed(&CONFIGURATION_FIELDS) {
            // A new role may not be assumable yet either.
            retry(
                &RetryPolicy::default(),
                role_or_function_not_ready,
                || async {
                    let update = aws.lambda.update_function_configuration();
                    let call = configured!(update.function_name(name), spec);
                    call.send().await.aws("UpdateFunctionConfiguration")
                },
            )
            .await?;
            wait_lambda_updated(aws, name).await?;
        }
        if changed(&CODE_FIELDS) {
            let zip_path = zip_path(spec)?;
            let architecture = Architecture::from(spec.architecture.as_str());
            retry(&RetryPolicy::default(), update_in_progress, || async {
                let call = aws
                    .lambda
                    .update_function_code()
                    .function_name(name)
                    .zip_file(fields::zip_blob(zip_path).await?)
                    .architectures(architecture.clone());
                call.send().await.aws("UpdateFunctionCode")
            })
            .await?;
            wait_lambda_updated(aws, name).await?;
        }
        if change.has("reserved_concurrency") {
            set_reserved_concurrency(aws, name, spec.reserved_concurrency).await?;
        }
        tags::lambda(aws, change.arn(), change).await?;
        let recorded = if changed(&PUBLISHED_FIELDS) {
            lambda_versions::publish_if(aws, name, spec.publish, &spec.code_sha256).await?
        } else {
            change.current.recorded.clone()
        };
        Self::read_back(aws, name, &recorded).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        retry(&RetryPolicy::default(), update_in_progress, || async {
            let call = aws.lambda.delete_function().function_name(id);
            call.send().await.aws("DeleteFunction").map(drop)
        })
        .await
        .gone()
    }
}

/// `found` with its published `version`: recorded, and the outputs `version` and
/// `qualified_arn` (the version's own ARN).
fn published(found: Found<Spec>, version: &str) -> Found<Spec> {
    let arn = found.arn.clone().unwrap_or_default();
    let mut found = found
        .with_recorded("version", version)
        .with_output("version", version)
        .with_output("qualified_arn", format!("{arn}:{version}"));
    found.spec.publish = true;
    found
}

/// Lambda's default tracing mode.
fn pass_through() -> String {
    TracingMode::PassThrough.as_str().to_string()
}

/// Reserves `concurrency` instances for the function, or gives it back to the shared pool.
async fn set_reserved_concurrency(
    aws: &AwsClients,
    name: &str,
    concurrency: Option<i32>,
) -> Result<(), ResourceError> {
    match concurrency {
        Some(n) => {
            let call = aws.lambda.put_function_concurrency().function_name(name);
            let call = call.reserved_concurrent_executions(n);
            call.send().await.aws("PutFunctionConcurrency").map(drop)
        }
        None => {
            let call = aws.lambda.delete_function_concurrency().function_name(name);
            call.send().await.aws("DeleteFunctionConcurrency").map(drop)
        }
    }
}

/// A function's configuration in the declared shape (its reserved concurrency, which
/// GetFunction reports beside the configuration, is set by the caller).
fn observe(region: &str, name: &str, config: &FunctionConfiguration, tags: Tags) -> Found<Spec> {
    let arn = config.function_arn().unwrap_or_default().to_string();
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    let spec = Spec {
        role_arn: text(config.role()),
        runtime: text(config.runtime().map(Runtime::as_str)),
        handler: text(config.handler()),
        architecture: config
            .architectures()
            .first()
            .map_or("x86_64", Architecture::as_str)
            .to_string(),
        memory_size: config.memory_size().unwrap_or_default(),
        timeout: config.timeout().unwrap_or_default(),
        environment: config
            .environment()
            .and_then(|e| e.variables())
            .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        layers: config
            .layers()
            .iter()
            .filter_map(|l| l.arn())
            .map(str::to_string)
            .collect(),
        code_sha256: text(config.code_sha256()),
        reserved_concurrency: None,
        tracing_mode: config
            .tracing_config()
            .and_then(|t| t.mode())
            .map_or_else(pass_through, |m| m.as_str().to_string()),
        publish: false,
        zip_path: None,
    };
    let invoke_arn =
        format!("arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations");
    Found::new(name, spec)
        .with_arn(arn.as_str())
        .with_output("arn", arn)
        .with_output("invoke_arn", invoke_arn)
        .with_output("name", name)
        .with_tags(tags)
}

/// Waits until the function is out of `Pending` and its last update is no longer `InProgress`;
/// a `Failed` state or update is an error carrying Lambda's reason.
pub async fn wait_lambda_updated(aws: &AwsClients, name: &str) -> Result<(), ResourceError> {
    poll_until(
        &format!("function {name} finishing its update"),
        UPDATE_TIMEOUT,
        || async {
            let call = aws.lambda.get_function_configuration().function_name(name);
            let config = call.send().await.aws("GetFunctionConfiguration")?;
            if config.state() == Some(&State::Failed)
                || config.last_update_status() == Some(&LastUpdateStatus::Failed)
            {
                let reason = config
                    .last_update_status_reason()
                    .or(config.state_reason())
                    .unwrap_or("no reason given");
                return Err(ResourceError::Aws {
                    operation: "GetFunctionConfiguration".into(),
                    code: Some("FunctionUpdateFailed".into()),
                    message: format!("function {name} failed to update: {reason}"),
                });
            }
            let settled = config.state() != Some(&State::Pending)
                && config.last_update_status() != Some(&LastUpdateStatus::InProgress);
            Ok(settled.then_some(()))
        },
    )
    .await
}

/// The environment's functions (`<prefix>-<env>-*`).
pub fn functions(scope: &DeployScope<'_>) -> String {
    scope.arn("lambda", &format!("function:{}-*", scope.env.name_base))
}

/// The declared zip, which create and a code update need.
fn zip_path(spec: &Spec) -> Result<&str, ResourceError> {
    fields::required(LambdaFunction::NAME, "zip_path", spec.zip_path.as_deref())
}

fn environment(spec: &Spec) -> Environment {
    let variables = spec
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Environment::builder()
        .set_variables(Some(variables))
        .build()
}

/// A role Lambda cannot use yet because IAM has not propagated it (or its permissions) to
/// Lambda: just created, or just given its policies (terraform-provider-aws' list).
pub fn role_not_yet_assumable(error: &ResourceError) -> bool {
    errors::says(
        error,
        "The role defined for the function cannot be assumed by Lambda",
    ) || errors::says(
        error,
        "The provided execution role does not have permissions",
    ) || (errors::code(error) == Some("InvalidParameterValueException")
        && errors::says(error, "cannot be assumed"))
}

/// A write of a function's configuration that waits for its role ([`role_not_yet_assumable`])
/// or for the function itself ([`update_in_progress`]).
fn role_or_function_not_ready(error: &ResourceError) -> bool {
    role_not_yet_assumable(error) || update_in_progress(error)
}

/// A function still applying a previous update (or being created): Lambda refuses another
/// change to it, or to its policy, with `ResourceConflictException` until it is done.
pub fn update_in_progress(error: &ResourceError) -> bool {
    errors::code(error) == Some("ResourceConflictException")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::errors::testing::{assert_retries, aws};

    #[test]
    fn lambda_writes_wait_for_the_role_and_for_updates_in_progress() {
        let neither = [
            aws("AccessDeniedException", "no"),
            aws("InvalidParameterValueException", "Runtime is not supported"),
            aws("TooManyRequestsException", "Rate exceeded"),
            aws("ResourceNotFoundException", "gone"),
            ResourceError::Invalid("i".into()),
        ];
        let role = "InvalidParameterValueException";
        assert_retries(
            role_not_yet_assumable,
            &[
                aws(
                    role,
                    "The role defined for the function cannot be assumed by Lambda.",
                ),
                aws(
                    role,
                    "The provided execution role does not have permissions to call CreateNetworkInterface",
                ),
            ],
            &neither,
        );
        assert_retries(
            update_in_progress,
            &[aws("ResourceConflictException", "x")],
            &neither,
        );
    }

    #[test]
    fn the_zip_path_is_declared_only() {
        let declared = json!({
            "role_arn": "arn:aws:iam::1:role/r", "runtime": "provided.al2023",
            "handler": "bootstrap", "architecture": "arm64", "memory_size": 128, "timeout": 10,
            "code_sha256": "c2hh", "zip_path": "/tmp/f.zip"
        });
        let mut spec: Spec = serde_json::from_value(declared).expect("a function declaration");
        assert_eq!(zip_path(&spec).ok(), Some("/tmp/f.zip"));
        spec.zip_path = None;
        let read_back = crate::kinds::typed::to_fields(&spec);
        assert!(!read_back.contains_key("zip_path"));
        assert_eq!(read_back["environment"], json!({}));
        assert!(zip_path(&spec).is_err());
    }
}
