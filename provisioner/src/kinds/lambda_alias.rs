//! `lambda_alias`: the name (`live`) API Gateway invokes the function by, pointing at one of its
//! published versions and, during a rollout, weighting a second one.
//!
//! Fields: `function_name` (forces replacement), `function_version`,
//! `additional_version_weights` (version → share of traffic, 0 to 1; empty outside a rollout),
//! and, carried to create and update but never compared, `keep_versions` (how many published
//! versions to keep: once the alias has moved, older ones are deleted, never one it serves) and
//! `rollout` (how it moves to a new version: [`lambda_rollout`]).
//! Id: the alias name; the function comes from the recorded fields, as for a permission.
//!
//! The API integration and the invoke permission target the alias, never `$LATEST`, so a new
//! version serves no request until the alias moves to it, and moving back is one call.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{AwsResult, NotFound};
use super::fields;
use super::lambda_function::{functions, update_in_progress};
use super::lambda_rollout::{self, Rollout};
use super::lambda_versions;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, Observed, ResourceError, Tags};
use crate::retry::{RetryPolicy, retry};

/// The `lambda_alias` kind.
pub struct LambdaAlias;

/// An alias's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub function_name: String,
    /// The version that takes the traffic the weights leave.
    pub function_version: String,
    /// A second version and its share of the traffic (0 to 1), during a rollout.
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, f64>,
    /// Published versions to keep once the alias has moved (declared, never read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_versions: Option<u32>,
    /// How the alias moves to a new version (declared, never read back); `None`: at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
}

#[async_trait]
impl Kind for LambdaAlias {
    const ABOUT: About = About::kind("lambda_alias", "the alias name")
        .terraform("aws_lambda_alias", TerraformId::Attribute("name"))
        .replace_on(&["function_name"])
        .not_compared(&["keep_versions", "rollout"]);
    type Spec = Spec;

    /// Alias names are unique per function: the same alias on another function (a renamed
    /// stack) can exist beside the old one, so it is made before the old one goes.
    fn coexists_with(name: &str, spec: &Spec, old: &Observed) -> bool {
        name != old.id
            || old.fields.get("function_name").and_then(Value::as_str)
                != Some(spec.function_name.as_str())
    }

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        vec![json!({
            "Sid": "FunctionAliasAndVersions",
            "Effect": "Allow",
            "Action": [
                "lambda:CreateAlias", "lambda:DeleteAlias", "lambda:DeleteFunction",
                "lambda:GetAlias", "lambda:ListVersionsByFunction", "lambda:UpdateAlias"
            ],
            "Resource": functions(scope),
        })]
    }

    async fn read(aws: &AwsClients, id: &str, recorded: &Fields) -> Read<Spec> {
        let function = function_of(recorded)?;
        let call = aws.lambda.get_alias().function_name(function).name(id);
        let Some(alias) = call.send().await.aws("GetAlias").absent()? else {
            return Ok(None);
        };
        let weights = alias
            .routing_config()
            .and_then(AliasRoutingConfiguration::additional_version_weights)
            .map(|w| w.iter().map(|(v, share)| (v.clone(), *share)).collect())
            .unwrap_or_default();
        let spec = Spec {
            function_name: function.to_string(),
            function_version: alias.function_version().unwrap_or_default().to_string(),
            additional_version_weights: weights,
            keep_versions: None,
            rollout: None,
        };
        let arn = alias.alias_arn().unwrap_or_default().to_string();
        let invoke_arn = format!(
            "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{arn}/invocations",
            aws.region
        );
        let found = Found::new(id, spec)
            .with_arn(arn.as_str())
            .with_output("arn", arn)
            .with_output("invoke_arn", invoke_arn)
            .with_output("name", id);
        Ok(Some(found))
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        let create = || async {
            let alias = aws.lambda.create_alias().name(name);
            let alias = alias.function_name(&spec.function_name);
            let alias = alias.function_version(&spec.function_version);
            alias
                .routing_config(routing(spec))
                .send()
                .await
                .aws("CreateAlias")
        };
        retry(&RetryPolicy::default(), update_in_progress, create).await?;
        prune(aws, spec).await?;
        Self::read_back(aws, name, &crate::kinds::typed::to_fields(spec)).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        let spec = change.spec;
        let current = &change.current.spec;
        // A new version with a gradual rollout, from what serves the rest of the traffic now
        // (resuming at the weight the new version already holds, after an interrupted run).
        if let Some(rollout) = &spec.rollout
            && spec.additional_version_weights.is_empty()
            && current.function_version != spec.function_version
        {
            let held = current
                .additional_version_weights
                .get(&spec.function_version);
            let serving = &current.function_version;
            lambda_rollout::release(aws, change.id, spec, serving, held.copied(), rollout).await?;
        }
        point(aws, change.id, spec).await?;
        prune(aws, spec).await?;
        Self::read_back(aws, change.id, &crate::kinds::typed::to_fields(spec)).await
    }

    async fn delete(aws: &AwsClients, id: &str, recorded: &Fields) -> Result<(), ResourceError> {
        let function = function_of(recorded)?;
        let call = aws.lambda.delete_alias().function_name(function).name(id);
        call.send().await.aws("DeleteAlias").gone()
    }
}

/// Points the alias `name` at `spec`'s version and weights (none: all traffic to the version).
pub async fn point(aws: &AwsClients, name: &str, spec: &Spec) -> Result<(), ResourceError> {
    retry(&RetryPolicy::default(), update_in_progress, || async {
        let call = aws
            .lambda
            .update_alias()
            .function_name(&spec.function_name)
            .name(name)
            .function_version(&spec.function_version)
            .routing_config(routing(spec));
        call.send().await.aws("UpdateAlias")
    })
    .await
    .map(drop)
}

/// The alias's weights as Lambda takes them: an empty map clears a rollout's weight (leaving
/// the routing out would keep it).
fn routing(spec: &Spec) -> AliasRoutingConfiguration {
    let weights = spec
        .additional_version_weights
        .clone()
        .into_iter()
        .collect();
    AliasRoutingConfiguration::builder()
        .set_additional_version_weights(Some(weights))
        .build()
}

/// Deletes the versions beyond `keep_versions`, sparing every version the alias serves.
async fn prune(aws: &AwsClients, spec: &Spec) -> Result<(), ResourceError> {
    let Some(keep) = spec.keep_versions else {
        return Ok(());
    };
    let mut live: BTreeSet<String> = spec.additional_version_weights.keys().cloned().collect();
    live.insert(spec.function_version.clone());
    let deleted = lambda_versions::prune(aws, &spec.function_name, keep as usize, &live).await?;
    if !deleted.is_empty() {
        tracing::info!(function = %spec.function_name, ?deleted, "old versions deleted");
    }
    Ok(())
}

/// The function a recorded alias belongs to.
fn function_of(recorded: &Fields) -> Result<&str, ResourceError> {
    fields::string(LambdaAlias::NAME, recorded, "function_name")
}
