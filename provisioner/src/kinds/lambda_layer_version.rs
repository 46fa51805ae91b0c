//! `lambda_layer_version`: an optional layer published from a local zip.
//!
//! Fields (all force replacement: a layer version is immutable, a change publishes a new one):
//! `layer_name`, `code_sha256` (base64 SHA-256 of the zip), `zip_path` (not compared nor
//! recorded), `compatible_runtimes`, `compatible_architectures` (sorted lists). The id is the
//! version ARN, which Lambda assigns, so there is no declared id. A lost version is found
//! again by taking the layer's newest version when its code matches.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_lambda::types::{Architecture, LayerVersionContentInput, Runtime};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{self, AwsResult, NotFound};
use super::fields;
use super::lambda_versions::beyond;
use super::typed::{About, Found, Kind, Made, Read, TerraformId};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};

/// The `lambda_layer_version` kind.
pub struct LambdaLayerVersion;

/// A layer version's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub layer_name: String,
    pub code_sha256: String,
    /// How many of the layer's versions to keep (`[release] keep_versions`) and the zip to
    /// publish: declared, never read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_versions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_path: Option<String>,
    #[serde(default)]
    pub compatible_runtimes: Vec<String>,
    #[serde(default)]
    pub compatible_architectures: Vec<String>,
}

#[async_trait]
impl Kind for LambdaLayerVersion {
    const ABOUT: About = About::kind("lambda_layer_version", "the layer version ARN")
        .terraform("aws_lambda_layer_version", TerraformId::Attribute("arn"))
        .replace_on(&[
            "layer_name",
            "code_sha256",
            "compatible_runtimes",
            "compatible_architectures",
        ])
        .not_compared(&["zip_path", "keep_versions"])
        .aws_assigns_id();
    type Spec = Spec;

    /// The lists sorted and without duplicates.
    fn normalise(mut spec: Spec) -> Spec {
        for list in [
            &mut spec.compatible_runtimes,
            &mut spec.compatible_architectures,
        ] {
            list.sort();
            list.dedup();
        }
        spec
    }

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        let layers = scope.arn("lambda", &format!("layer:{}-*", scope.env.name_base));
        vec![json!({
            "Sid": "Layer",
            "Effect": "Allow",
            "Action": [
                "lambda:DeleteLayerVersion", "lambda:GetLayerVersion", "lambda:ListLayerVersions",
                "lambda:PublishLayerVersion"
            ],
            "Resource": [layers.clone(), format!("{layers}:*")],
        })]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        // GetLayerVersion by name and number (equivalent to GetLayerVersionByArn, which the
        // emulator does not implement).
        let (layer_name, version) = split_arn(id)?;
        let call = aws.lambda.get_layer_version().layer_name(layer_name);
        let call = call.version_number(version);
        let output = call.send().await.aws("GetLayerVersion").absent()?;
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

    /// The layer's newest version, when its code is the declared one.
    async fn find_existing(aws: &AwsClients, _name: &str, spec: &Spec, _tags: &Tags) -> Read<Spec> {
        let call = aws
            .lambda
            .list_layer_versions()
            .layer_name(&spec.layer_name);
        let versions = call.send().await.aws("ListLayerVersions").absent()?;
        let newest = versions
            .as_ref()
            .and_then(|v| v.layer_versions().iter().max_by_key(|l| l.version()))
            .and_then(|l| l.layer_version_arn())
            .map(str::to_string);
        let Some(arn) = newest else { return Ok(None) };
        let found = Self::read(aws, &arn, &Fields::new()).await?;
        Ok(found.filter(|f| f.spec.code_sha256 == spec.code_sha256))
    }

    async fn create(aws: &AwsClients, _name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        let zip_path = fields::required(Self::NAME, "zip_path", spec.zip_path.as_deref())?;
        let runtimes: Vec<Runtime> = spec
            .compatible_runtimes
            .iter()
            .map(|r| Runtime::from(r.as_str()))
            .collect();
        let architectures: Vec<Architecture> = spec
            .compatible_architectures
            .iter()
            .map(|a| Architecture::from(a.as_str()))
            .collect();
        let content = LayerVersionContentInput::builder()
            .zip_file(fields::zip_blob(zip_path).await?)
            .build();
        let call = aws
            .lambda
            .publish_layer_version()
            .layer_name(&spec.layer_name)
            .content(content)
            .set_compatible_runtimes(Some(runtimes))
            .set_compatible_architectures(Some(architectures));
        let output = call.send().await.aws("PublishLayerVersion")?;
        if let Some(keep) = spec.keep_versions {
            prune(aws, &spec.layer_name, keep as usize, output.version()).await?;
        }
        let arn = output.layer_version_arn().unwrap_or_default();
        Ok(observe(
            arn,
            &spec.layer_name,
            output.content().and_then(|c| c.code_sha256()),
            output.compatible_runtimes(),
            output.compatible_architectures(),
        ))
    }

    /// A version with a newer one beside it was replaced: it is left to the count its successor
    /// keeps. The newest goes with every version of the layer. DeleteLayerVersion succeeds for
    /// a version that is already gone, so a repeated delete is a no-op.
    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let (layer_name, version) = split_arn(id)?;
        let versions = listed(aws, layer_name).await?;
        if versions.iter().any(|v| *v > version) {
            tracing::info!(layer = %layer_name, version, "replaced layer version kept");
            return Ok(());
        }
        // `version` is among them unless it is gone already.
        delete_versions(aws, layer_name, &versions).await
    }
}

/// The layer's version numbers, oldest first (none when the layer has none).
async fn listed(aws: &AwsClients, layer_name: &str) -> Result<Vec<i64>, ResourceError> {
    let call = aws.lambda.list_layer_versions().layer_name(layer_name);
    let listing = call.into_paginator().items().send();
    let versions = errors::every_item(listing, "ListLayerVersions")
        .await
        .absent()?
        .unwrap_or_default();
    let mut numbers: Vec<i64> = versions.iter().map(|v| v.version()).collect();
    numbers.sort_unstable();
    Ok(numbers)
}

/// Deletes the layer's versions beyond the newest `keep`, never `published`.
async fn prune(
    aws: &AwsClients,
    layer_name: &str,
    keep: usize,
    published: i64,
) -> Result<(), ResourceError> {
    let versions = listed(aws, layer_name).await?;
    let doomed = beyond(&versions, keep, &BTreeSet::from([published.to_string()]));
    if !doomed.is_empty() {
        delete_versions(aws, layer_name, &doomed).await?;
        tracing::info!(layer = %layer_name, deleted = ?doomed, "old layer versions deleted");
    }
    Ok(())
}

async fn delete_versions(
    aws: &AwsClients,
    layer_name: &str,
    versions: &[i64],
) -> Result<(), ResourceError> {
    for version in versions {
        let call = aws.lambda.delete_layer_version().layer_name(layer_name);
        let call = call.version_number(*version);
        call.send().await.aws("DeleteLayerVersion").gone()?;
    }
    Ok(())
}

fn observe(
    arn: &str,
    layer_name: &str,
    code_sha256: Option<&str>,
    runtimes: &[Runtime],
    architectures: &[Architecture],
) -> Found<Spec> {
    let spec = LambdaLayerVersion::normalise(Spec {
        layer_name: layer_name.to_string(),
        code_sha256: code_sha256.unwrap_or_default().to_string(),
        keep_versions: None,
        zip_path: None,
        compatible_runtimes: runtimes.iter().map(|r| r.as_str().to_string()).collect(),
        compatible_architectures: architectures
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
    });
    Found::new(arn, spec).with_arn(arn).with_output("arn", arn)
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
        "{}: id `{arn}` is not a layer version ARN; fix the recorded state",
        LambdaLayerVersion::NAME
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

    #[test]
    fn pruning_keeps_the_newest_and_the_one_just_published() {
        let published = |v: i64| BTreeSet::from([v.to_string()]);
        assert_eq!(beyond(&[1_i64, 2, 3, 4], 2, &published(4)), [1, 2]);
        assert_eq!(beyond(&[1_i64, 2, 3], 5, &published(3)), Vec::<i64>::new());
        // The published version is never among the doomed, wherever it stands.
        assert_eq!(beyond(&[1_i64, 2, 3, 4], 2, &published(1)), [2]);
    }

    #[test]
    fn lists_are_compared_sorted_and_the_zip_path_never() {
        let declared = json!({
            "layer_name": "l", "code_sha256": "c2hh", "zip_path": "/tmp/l.zip",
            "compatible_runtimes": ["provided.al2023"],
            "compatible_architectures": ["x86_64", "arm64", "arm64"]
        });
        let spec: Spec = serde_json::from_value(declared).expect("a layer declaration");
        let spec = LambdaLayerVersion::normalise(spec);
        assert_eq!(spec.compatible_architectures, ["arm64", "x86_64"]);
        assert_eq!(
            LambdaLayerVersion::NOT_COMPARED,
            ["zip_path", "keep_versions"]
        );
        assert_eq!(LambdaLayerVersion::declared_id("l", &spec), None);
    }
}
