//! `apigw_stage`: the named stage (`dev`, `stage`, `prod`) with auto-deploy.
//!
//! Id: the stage name; the API id comes from the recorded fields. An update uses UpdateStage,
//! as on AWS. The emulator (moto 5.2) does not implement UpdateStage (it answers 500) and lets a
//! duplicate CreateStage overwrite silently; this kind keeps AWS's semantics regardless, so
//! against the emulator a drifted `auto_deploy` cannot be fixed in place (rare: it is the
//! stage's only field).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::apigw_api;
use super::errors::{AwsResult, NotFound};
use super::fields;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::kind::{Fields, Observed, ResourceError, Tags};

/// The `apigw_stage` kind.
pub struct ApigwStage;

/// A stage's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub api_id: String,
    pub auto_deploy: bool,
}

#[async_trait]
impl Kind for ApigwStage {
    const ABOUT: About = About::kind("apigw_stage", "the stage name")
        .terraform("aws_apigatewayv2_stage", TerraformId::Attribute("name"))
        .replace_on(&["api_id"]);
    type Spec = Spec;

    /// Stage names are unique per API: a stage of another name, or on another API, can exist
    /// beside the old one.
    fn coexists_with(name: &str, spec: &Spec, old: &Observed) -> bool {
        name != old.id || old.fields.get("api_id").and_then(Value::as_str) != Some(&spec.api_id)
    }

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        apigw_api::covered_by_the_api(scope)
    }

    async fn read(aws: &AwsClients, id: &str, recorded: &Fields) -> Read<Spec> {
        let api_id = fields::string(Self::NAME, recorded, "api_id")?;
        let call = aws.apigw.get_stage().api_id(api_id).stage_name(id);
        let Some(stage) = call.send().await.aws("GetStage").absent()? else {
            return Ok(None);
        };
        let url = invoke_url(&aws.region, api_id, id);
        let spec = Spec {
            api_id: api_id.to_string(),
            auto_deploy: stage.auto_deploy().unwrap_or(false),
        };
        Ok(Some(Found::new(id, spec).with_output("invoke_url", url)))
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        let call = aws
            .apigw
            .create_stage()
            .api_id(&spec.api_id)
            .stage_name(name)
            .auto_deploy(spec.auto_deploy);
        call.send().await.aws("CreateStage")?;
        Self::read_back(aws, name, &apigw_api::parent(&spec.api_id)).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        let spec = change.spec;
        let call = aws
            .apigw
            .update_stage()
            .api_id(&spec.api_id)
            .stage_name(change.id)
            .auto_deploy(spec.auto_deploy);
        call.send().await.aws("UpdateStage")?;
        Self::read_back(aws, change.id, &apigw_api::parent(&spec.api_id)).await
    }

    async fn delete(aws: &AwsClients, id: &str, recorded: &Fields) -> Result<(), ResourceError> {
        let api_id = fields::string(Self::NAME, recorded, "api_id")?;
        let call = aws.apigw.delete_stage().api_id(api_id).stage_name(id);
        call.send().await.aws("DeleteStage").gone()
    }
}

/// The stage's public URL (`$default` has no path segment).
fn invoke_url(region: &str, api_id: &str, stage: &str) -> String {
    let base = format!("https://{api_id}.execute-api.{region}.amazonaws.com");
    if stage == "$default" {
        format!("{base}/")
    } else {
        format!("{base}/{stage}")
    }
}
