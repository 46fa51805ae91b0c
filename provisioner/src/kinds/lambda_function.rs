//! `lambda_function`: the API handler on `provided.al2023`, code uploaded from a local zip.
//!
//! Fields: `role_arn`, `runtime`, `handler`, `architecture`, `memory_size`, `timeout`,
//! `environment` (object of strings), `layers` (list of version ARNs, in Lambda's order, which
//! matters), `code_sha256` (base64 SHA-256 of the zip, what Lambda reports), `zip_path` (where
//! the zip is; carried for create and update, never compared). Id: the function name.
//!
//! Like cargo-lambda and terraform-provider-aws: create is retried while IAM has not yet
//! propagated the new role to Lambda; an update sends the configuration first and the code
//! second, each waited until `LastUpdateStatus` is `Successful` (Lambda rejects a second update
//! with `ResourceConflictException` while one is in progress, which is retried too).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, FunctionConfiguration, LastUpdateStatus, Runtime,
    State,
};
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields::{self, tag_changes};
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
use crate::retry::{
    RetryPolicy, is_iam_propagation, is_lambda_create_retryable, is_lambda_update_in_progress,
    is_throttling, poll_until, retry,
};

const KIND: &str = "lambda_function";

/// Fields carried for create/update but never compared.
const NOT_COMPARED: &[&str] = &["zip_path"];

/// Fields UpdateFunctionConfiguration changes.
const CONFIGURATION_FIELDS: &[&str] = &[
    "role_arn",
    "runtime",
    "handler",
    "memory_size",
    "timeout",
    "environment",
    "layers",
];

/// Fields UpdateFunctionCode changes (the architecture goes with the code).
const CODE_FIELDS: &[&str] = &["code_sha256", "architecture"];

/// How long a function may stay `Pending` or `InProgress`.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The `lambda_function` kind.
#[derive(Debug, Default)]
pub struct LambdaFunction;

#[async_trait]
impl ResourceKind for LambdaFunction {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let output = not_found_as_none(
            retry(&RetryPolicy::default(), is_throttling, || async {
                aws.lambda
                    .get_function()
                    .function_name(id)
                    .send()
                    .await
                    .map_err(|e| aws_error("GetFunction", e))
            })
            .await,
        )?;
        let Some(output) = output else {
            return Ok(None);
        };
        let Some(config) = output.configuration() else {
            return Ok(None);
        };
        let tags = output
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Some(observe(&aws.region, id, config, tags)))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let declared = &desired.fields;
        let zip_path = fields::string(KIND, declared, "zip_path")?;
        let environment = environment(declared)?;
        let layers = fields::strings(KIND, declared, "layers")?;
        let tags: HashMap<String, String> = desired
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        retry(
            &RetryPolicy::default(),
            is_lambda_create_retryable,
            || async {
                aws.lambda
                    .create_function()
                    .function_name(&desired.name)
                    .role(fields::string(KIND, declared, "role_arn")?)
                    .runtime(Runtime::from(fields::string(KIND, declared, "runtime")?))
                    .handler(fields::string(KIND, declared, "handler")?)
                    .architectures(Architecture::from(fields::string(
                        KIND,
                        declared,
                        "architecture",
                    )?))
                    .memory_size(fields::int32(KIND, declared, "memory_size")?)
                    .timeout(fields::int32(KIND, declared, "timeout")?)
                    .environment(environment.clone())
                    .set_layers(Some(layers.clone()))
                    .code(
                        FunctionCode::builder()
                            .zip_file(fields::zip_blob(zip_path).await?)
                            .build(),
                    )
                    .set_tags((!tags.is_empty()).then(|| tags.clone()))
                    .send()
                    .await
                    .map_err(|e| aws_error("CreateFunction", e))
            },
        )
        .await?;
        wait_lambda_updated(aws, &desired.name).await?;
        self.read_back(aws, &desired.name, &Fields::new()).await
    }

    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        let name = current.id.as_str();
        let declared = &desired.fields;
        let changed = |set: &[&str]| changes.iter().any(|c| set.contains(&c.field.as_str()));
        if changed(CONFIGURATION_FIELDS) {
            let environment = environment(declared)?;
            let layers = fields::strings(KIND, declared, "layers")?;
            retry(
                &RetryPolicy::default(),
                |e| is_lambda_update_in_progress(e) || is_iam_propagation(e),
                || async {
                    aws.lambda
                        .update_function_configuration()
                        .function_name(name)
                        .role(fields::string(KIND, declared, "role_arn")?)
                        .runtime(Runtime::from(fields::string(KIND, declared, "runtime")?))
                        .handler(fields::string(KIND, declared, "handler")?)
                        .memory_size(fields::int32(KIND, declared, "memory_size")?)
                        .timeout(fields::int32(KIND, declared, "timeout")?)
                        .environment(environment.clone())
                        .set_layers(Some(layers.clone()))
                        .send()
                        .await
                        .map_err(|e| aws_error("UpdateFunctionConfiguration", e))
                },
            )
            .await?;
            wait_lambda_updated(aws, name).await?;
        }
        if changed(CODE_FIELDS) {
            let zip_path = fields::string(KIND, declared, "zip_path")?;
            let architecture = Architecture::from(fields::string(KIND, declared, "architecture")?);
            retry(
                &RetryPolicy::default(),
                is_lambda_update_in_progress,
                || async {
                    aws.lambda
                        .update_function_code()
                        .function_name(name)
                        .zip_file(fields::zip_blob(zip_path).await?)
                        .architectures(architecture.clone())
                        .send()
                        .await
                        .map_err(|e| aws_error("UpdateFunctionCode", e))
                },
            )
            .await?;
            wait_lambda_updated(aws, name).await?;
        }
        if changed(&["tags"]) {
            let arn = current.arn.clone().unwrap_or_default();
            let current_tags = current.tags.clone().unwrap_or_default();
            update_tags(aws, &arn, &current_tags, &desired.tags).await?;
        }
        if let Some(unknown) = changes.iter().find(|c| {
            let f = c.field.as_str();
            !CONFIGURATION_FIELDS.contains(&f) && !CODE_FIELDS.contains(&f) && f != "tags"
        }) {
            return Err(ResourceError::Invalid(format!(
                "{KIND}: cannot update unknown field `{}`",
                unknown.field
            )));
        }
        self.read_back(aws, name, &Fields::new()).await
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<(), ResourceError> {
        let deleted = retry(
            &RetryPolicy::default(),
            is_lambda_update_in_progress,
            || async {
                aws.lambda
                    .delete_function()
                    .function_name(id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error("DeleteFunction", e))
            },
        )
        .await;
        ignore_not_found(deleted)
    }

    fn diff(&self, desired: &Desired, observed: &Observed) -> Vec<FieldChange> {
        fields::diff_skipping(NOT_COMPARED, self.replace_on(), desired, observed)
    }
}

/// Normalises a function's configuration into the declared shape.
fn observe(
    region: &str,
    name: &str,
    config: &FunctionConfiguration,
    tags: BTreeMap<String, String>,
) -> Observed {
    let arn = config.function_arn().unwrap_or_default().to_string();
    let environment: serde_json::Map<String, Value> = config
        .environment()
        .and_then(|e| e.variables())
        .map(|vars| {
            vars.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default();
    let layers: Vec<Value> = config
        .layers()
        .iter()
        .filter_map(|l| l.arn())
        .map(|a| Value::String(a.to_string()))
        .collect();
    let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_string()));
    Observed {
        id: name.to_string(),
        arn: Some(arn.clone()),
        fields: fields::fields([
            ("role_arn", text(config.role())),
            ("runtime", text(config.runtime().map(Runtime::as_str))),
            ("handler", text(config.handler())),
            (
                "architecture",
                Value::String(
                    config
                        .architectures()
                        .first()
                        .map_or("x86_64", Architecture::as_str)
                        .to_string(),
                ),
            ),
            (
                "memory_size",
                config.memory_size().map_or(Value::Null, Value::from),
            ),
            ("timeout", config.timeout().map_or(Value::Null, Value::from)),
            ("environment", Value::Object(environment)),
            ("layers", Value::Array(layers)),
            ("code_sha256", text(config.code_sha256())),
        ]),
        outputs: fields::fields([
            ("arn", Value::String(arn.clone())),
            (
                "invoke_arn",
                Value::String(format!(
                    "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"
                )),
            ),
            ("name", Value::String(name.to_string())),
        ]),
        tags: Some(tags),
    }
}

/// Waits until the function is out of `Pending` and its last update is no longer `InProgress`;
/// a `Failed` state or update is an error carrying Lambda's reason.
pub async fn wait_lambda_updated(aws: &AwsClients, name: &str) -> Result<(), ResourceError> {
    poll_until(
        &format!("function {name} finishing its update"),
        UPDATE_TIMEOUT,
        || async {
            let config = aws
                .lambda
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .map_err(|e| aws_error("GetFunctionConfiguration", e))?;
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

fn environment(declared: &Fields) -> Result<Environment, ResourceError> {
    let variables: HashMap<String, String> = fields::string_map(KIND, declared, "environment")?
        .into_iter()
        .collect();
    Ok(Environment::builder()
        .set_variables(Some(variables))
        .build())
}

async fn update_tags(
    aws: &AwsClients,
    arn: &str,
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Result<(), ResourceError> {
    let (to_set, to_remove) = tag_changes(current, desired);
    if !to_remove.is_empty() {
        aws.lambda
            .untag_resource()
            .resource(arn)
            .set_tag_keys(Some(to_remove))
            .send()
            .await
            .map_err(|e| aws_error("UntagResource", e))?;
    }
    if !to_set.is_empty() {
        aws.lambda
            .tag_resource()
            .resource(arn)
            .set_tags(Some(to_set.into_iter().collect()))
            .send()
            .await
            .map_err(|e| aws_error("TagResource", e))?;
    }
    Ok(())
}
