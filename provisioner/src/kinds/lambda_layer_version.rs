//! `lambda_layer_version`: an optional layer published from a local zip.
//!
//! Fields (all force replacement: a layer version is immutable, a change publishes a new one):
//! `layer_name`, `code_sha256` (base64 SHA-256 of the zip), `zip_path` (not compared),
//! `compatible_runtimes`, `compatible_architectures` (sorted lists). The id is the version ARN.
//! A lost version is found again by taking the layer's newest version when its code matches.

use async_trait::async_trait;
use aws_sdk_lambda::types::{Architecture, LayerVersionContentInput, Runtime};
use serde_json::Value;

use super::errors::{aws_error, not_found_as_none};
use super::fields;
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
use crate::retry::{RetryPolicy, is_throttling, retry};

const KIND: &str = "lambda_layer_version";

/// Fields carried for create but never compared.
const NOT_COMPARED: &[&str] = &["zip_path"];

/// The `lambda_layer_version` kind.
#[derive(Debug, Default)]
pub struct LambdaLayerVersion;

#[async_trait]
impl ResourceKind for LambdaLayerVersion {
    fn kind(&self) -> &'static str {
        KIND
    }

    /// AWS assigns the id: there is no declared one to compare.
    fn declared_id(&self, _desired: &Desired) -> Option<String> {
        None
    }

    fn replace_on(&self) -> &'static [&'static str] {
        &[
            "layer_name",
            "code_sha256",
            "compatible_runtimes",
            "compatible_architectures",
        ]
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        // GetLayerVersion by name and number (equivalent to GetLayerVersionByArn, which the
        // emulator does not implement).
        let (layer_name, version) = split_arn(id)?;
        let output = not_found_as_none(
            retry(&RetryPolicy::default(), is_throttling, || async {
                aws.lambda
                    .get_layer_version()
                    .layer_name(layer_name)
                    .version_number(version)
                    .send()
                    .await
                    .map_err(|e| aws_error("GetLayerVersion", e))
            })
            .await,
        )?;
        Ok(output.map(|o| {
            observe(
                id,
                layer_name,
                o.content().and_then(|c| c.code_sha256()),
                o.compatible_runtimes(),
                o.compatible_architectures(),
            )
        }))
    }

    async fn find_existing(
        &self,
        aws: &AwsClients,
        desired: &Desired,
    ) -> Result<Option<Observed>, ResourceError> {
        let layer_name = fields::string(KIND, &desired.fields, "layer_name")?;
        let versions = not_found_as_none(
            aws.lambda
                .list_layer_versions()
                .layer_name(layer_name)
                .send()
                .await
                .map_err(|e| aws_error("ListLayerVersions", e)),
        )?;
        let newest = versions
            .as_ref()
            .and_then(|v| v.layer_versions().iter().max_by_key(|l| l.version()))
            .and_then(|l| l.layer_version_arn())
            .map(str::to_string);
        let Some(arn) = newest else { return Ok(None) };
        let observed = self.read(aws, &arn, &desired.fields).await?;
        Ok(observed.filter(|o| o.fields.get("code_sha256") == desired.fields.get("code_sha256")))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let declared = &desired.fields;
        let layer_name = fields::string(KIND, declared, "layer_name")?;
        let zip_path = fields::string(KIND, declared, "zip_path")?;
        let runtimes: Vec<Runtime> = fields::strings(KIND, declared, "compatible_runtimes")?
            .iter()
            .map(|r| Runtime::from(r.as_str()))
            .collect();
        let architectures: Vec<Architecture> =
            fields::strings(KIND, declared, "compatible_architectures")?
                .iter()
                .map(|a| Architecture::from(a.as_str()))
                .collect();
        let output = retry(&RetryPolicy::default(), is_throttling, || async {
            aws.lambda
                .publish_layer_version()
                .layer_name(layer_name)
                .content(
                    LayerVersionContentInput::builder()
                        .zip_file(fields::zip_blob(zip_path).await?)
                        .build(),
                )
                .set_compatible_runtimes(Some(runtimes.clone()))
                .set_compatible_architectures(Some(architectures.clone()))
                .send()
                .await
                .map_err(|e| aws_error("PublishLayerVersion", e))
        })
        .await?;
        let arn = output.layer_version_arn().unwrap_or_default();
        Ok(observe(
            arn,
            layer_name,
            output.content().and_then(|c| c.code_sha256()),
            output.compatible_runtimes(),
            output.compatible_architectures(),
        ))
    }

    async fn update(
        &self,
        _aws: &AwsClients,
        _desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        match changes.first() {
            None => Ok(current.clone()),
            Some(change) => Err(ResourceError::Invalid(format!(
                "{KIND}: field `{}` can only change by publishing a new version",
                change.field
            ))),
        }
    }

    /// DeleteLayerVersion succeeds for a version that is already gone.
    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<(), ResourceError> {
        let (layer_name, version) = split_arn(id)?;
        let deleted = aws
            .lambda
            .delete_layer_version()
            .layer_name(layer_name)
            .version_number(version)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("DeleteLayerVersion", e));
        not_found_as_none(deleted).map(|_| ())
    }

    fn diff(&self, desired: &Desired, observed: &Observed) -> Vec<FieldChange> {
        let mut normalised = desired.clone();
        for list in ["compatible_runtimes", "compatible_architectures"] {
            if let Ok(items) = fields::strings(KIND, &desired.fields, list) {
                normalised
                    .fields
                    .insert(list.into(), fields::sorted_strings(items));
            }
        }
        fields::diff_skipping(NOT_COMPARED, self.replace_on(), &normalised, observed)
    }
}

fn observe(
    arn: &str,
    layer_name: &str,
    code_sha256: Option<&str>,
    runtimes: &[Runtime],
    architectures: &[Architecture],
) -> Observed {
    Observed {
        id: arn.to_string(),
        arn: Some(arn.to_string()),
        fields: fields::fields([
            ("layer_name", Value::String(layer_name.to_string())),
            (
                "code_sha256",
                code_sha256.map_or(Value::Null, |s| Value::String(s.to_string())),
            ),
            (
                "compatible_runtimes",
                fields::sorted_strings(runtimes.iter().map(Runtime::as_str)),
            ),
            (
                "compatible_architectures",
                fields::sorted_strings(architectures.iter().map(Architecture::as_str)),
            ),
        ]),
        outputs: fields::fields([("arn", Value::String(arn.to_string()))]),
        tags: None,
    }
}

/// `arn:aws:lambda:<region>:<account>:layer:<name>:<version>` → (name, version).
fn split_arn(arn: &str) -> Result<(&str, i64), ResourceError> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        [_, _, "lambda", _, _, "layer", name, version] => version
            .parse()
            .map(|v| (*name, v))
            .map_err(|_| invalid_arn(arn)),
        _ => Err(invalid_arn(arn)),
    }
}

fn invalid_arn(arn: &str) -> ResourceError {
    ResourceError::Invalid(format!(
        "{KIND}: id `{arn}` is not a layer version ARN; fix the recorded state"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_arns_split_into_name_and_number() {
        assert_eq!(
            split_arn("arn:aws:lambda:us-east-1:123456789012:layer:extra:3").ok(),
            Some(("extra", 3))
        );
        assert!(split_arn("arn:aws:lambda:us-east-1:123456789012:layer:extra").is_err());
        assert!(split_arn("extra:3").is_err());
    }
}
