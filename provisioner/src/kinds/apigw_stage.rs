//! `apigw_stage`: the named stage (`dev`, `stage`, `prod`) with auto-deploy.
//!
//! Fields: `api_id` (forces replacement), `auto_deploy`. The id is the stage name; the API id
//! comes from the recorded fields. An update uses UpdateStage, as on AWS. The emulator (moto
//! 5.2) does not implement UpdateStage (it answers 500) and lets a duplicate CreateStage
//! overwrite silently; this kind keeps AWS's semantics regardless, so against the emulator a
//! drifted `auto_deploy` cannot be fixed in place (rare: it is the stage's only field).

use async_trait::async_trait;
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields;
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
use crate::retry::{RetryPolicy, is_throttling, retry};

const KIND: &str = "apigw_stage";

/// The `apigw_stage` kind.
#[derive(Debug, Default)]
pub struct ApigwStage;

#[async_trait]
impl ResourceKind for ApigwStage {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn replace_on(&self) -> &'static [&'static str] {
        &["api_id"]
    }

    /// Stage names are unique per API: a stage of another name, or on another API, can exist
    /// beside the old one.
    fn coexists_with(&self, desired: &Desired, old: &Observed) -> bool {
        desired.name != old.id || desired.fields.get("api_id") != old.fields.get("api_id")
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let api_id = fields::string(KIND, recorded, "api_id")?;
        let output = not_found_as_none(
            retry(&RetryPolicy::default(), is_throttling, || async {
                aws.apigw
                    .get_stage()
                    .api_id(api_id)
                    .stage_name(id)
                    .send()
                    .await
                    .map_err(|e| aws_error("GetStage", e))
            })
            .await,
        )?;
        Ok(output.map(|stage| Observed {
            id: id.to_string(),
            arn: None,
            fields: fields::fields([
                ("api_id", Value::String(api_id.to_string())),
                (
                    "auto_deploy",
                    Value::Bool(stage.auto_deploy().unwrap_or(false)),
                ),
            ]),
            outputs: fields::fields([(
                "invoke_url",
                Value::String(invoke_url(&aws.region, api_id, id)),
            )]),
            tags: None,
        }))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let declared = &desired.fields;
        let api_id = fields::string(KIND, declared, "api_id")?;
        let auto_deploy = fields::boolean(KIND, declared, "auto_deploy")?;
        retry(&RetryPolicy::default(), is_throttling, || async {
            aws.apigw
                .create_stage()
                .api_id(api_id)
                .stage_name(&desired.name)
                .auto_deploy(auto_deploy)
                .send()
                .await
                .map_err(|e| aws_error("CreateStage", e))
        })
        .await?;
        self.read_back(aws, &desired.name, declared).await
    }

    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        let declared = &desired.fields;
        if let Some(other) = changes.iter().find(|c| c.field != "auto_deploy") {
            return Err(ResourceError::Invalid(format!(
                "{KIND}: cannot update field `{}` in place",
                other.field
            )));
        }
        aws.apigw
            .update_stage()
            .api_id(fields::string(KIND, declared, "api_id")?)
            .stage_name(&current.id)
            .auto_deploy(fields::boolean(KIND, declared, "auto_deploy")?)
            .send()
            .await
            .map_err(|e| aws_error("UpdateStage", e))?;
        self.read_back(aws, &current.id, declared).await
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        recorded: &Fields,
    ) -> Result<(), ResourceError> {
        let api_id = fields::string(KIND, recorded, "api_id")?;
        ignore_not_found(
            aws.apigw
                .delete_stage()
                .api_id(api_id)
                .stage_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DeleteStage", e)),
        )
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
