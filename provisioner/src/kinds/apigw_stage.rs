//! `apigw_stage`: the named stage (`dev`, `stage`, `prod`) with auto-deploy.
//!
//! Id: the stage name; the API id comes from the recorded fields. An update uses UpdateStage,
//! as on AWS, and DeleteRouteSettings for a route whose own throttle is no longer declared.
//! moto 5.2 lacks both; the project's emulator launcher (`scripts/emulator/server.py`) adds
//! them, so the update path runs against the emulator too.
//!
//! Throttling: `default_throttle` is the stage's default route settings (every route), and
//! `route_throttles` the per-route settings, keyed by route key (the stricter limits of the
//! routes that write).
//!
//! Access logs: `access_log` names the log group (its ARN) and the line format API Gateway
//! writes per request; removed, the settings are deleted (DeleteAccessLogSettings), as
//! terraform-provider-aws does. Turning them on needs the caller's right to set up CloudWatch
//! Logs delivery, which has no resource-level permission (API Gateway's "Permissions for
//! logging to CloudWatch" for HTTP APIs).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_apigatewayv2::types::{AccessLogSettings, RouteSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::apigw_api;
use super::errors::{AwsResult, NotFound};
use super::fields;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, Observed, ResourceError, Tags};

/// The `apigw_stage` kind.
pub struct ApigwStage;

/// A stage's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub api_id: String,
    pub auto_deploy: bool,
    /// Every route's throttle; `None` leaves the account's limits.
    pub default_throttle: Option<Throttle>,
    /// Routes throttled apart, by route key (absent from states written before throttling).
    #[serde(default)]
    pub route_throttles: BTreeMap<String, Throttle>,
    /// Where and how the stage logs each request; `None`: no access logs.
    #[serde(default)]
    pub access_log: Option<AccessLog>,
}

/// A stage's access log settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLog {
    /// The log group's ARN (without the trailing `:*`).
    pub destination_arn: String,
    /// One line per request, with `$context` variables.
    pub format: String,
}

impl AccessLog {
    fn settings(log: Option<&Self>) -> Option<AccessLogSettings> {
        log.map(|log| {
            AccessLogSettings::builder()
                .destination_arn(&log.destination_arn)
                .format(&log.format)
                .build()
        })
    }

    fn of(settings: &AccessLogSettings) -> Option<Self> {
        Some(Self {
            destination_arn: settings.destination_arn()?.to_string(),
            format: settings.format().unwrap_or_default().to_string(),
        })
    }
}

/// A throttle as the stage holds it: steady requests per second and burst.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    pub rate_limit: f64,
    pub burst_limit: i32,
}

impl Throttle {
    /// The throttle in `settings`, when both its values are set.
    fn of(settings: &RouteSettings) -> Option<Self> {
        Some(Self {
            rate_limit: settings.throttling_rate_limit()?,
            burst_limit: settings.throttling_burst_limit()?,
        })
    }

    /// `throttle` as route settings; `None` gives settings without a throttle.
    fn settings(throttle: Option<Self>) -> RouteSettings {
        RouteSettings::builder()
            .set_throttling_rate_limit(throttle.map(|t| t.rate_limit))
            .set_throttling_burst_limit(throttle.map(|t| t.burst_limit))
            .build()
    }
}

/// The per-route settings AWS takes for `throttles`.
fn route_settings(
    throttles: &BTreeMap<String, Throttle>,
) -> Option<HashMap<String, RouteSettings>> {
    Some(
        throttles
            .iter()
            .map(|(key, throttle)| (key.clone(), Throttle::settings(Some(*throttle))))
            .collect(),
    )
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

    fn deploy_statements(_scope: &DeployScope<'_>) -> Vec<Value> {
        // The stage's own calls are covered by the API's statements.
        vec![json!({
            "Sid": "StageAccessLogDelivery",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                "logs:UpdateLogDelivery"
            ],
            "Resource": "*",
        })]
    }

    async fn read(aws: &AwsClients, id: &str, recorded: &Fields) -> Read<Spec> {
        let api_id = fields::string(Self::NAME, recorded, "api_id")?;
        let call = aws.apigw.get_stage().api_id(api_id).stage_name(id);
        let Some(stage) = call.send().await.aws("GetStage").absent()? else {
            return Ok(None);
        };
        let url = invoke_url(&aws.region, api_id, id);
        let route_throttles = stage
            .route_settings()
            .into_iter()
            .flatten()
            .filter_map(|(key, settings)| Some((key.clone(), Throttle::of(settings)?)))
            .collect();
        let spec = Spec {
            api_id: api_id.to_string(),
            auto_deploy: stage.auto_deploy().unwrap_or(false),
            default_throttle: stage.default_route_settings().and_then(Throttle::of),
            route_throttles,
            access_log: stage.access_log_settings().and_then(AccessLog::of),
        };
        Ok(Some(Found::new(id, spec).with_output("invoke_url", url)))
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        let call = aws
            .apigw
            .create_stage()
            .api_id(&spec.api_id)
            .stage_name(name)
            .auto_deploy(spec.auto_deploy)
            .default_route_settings(Throttle::settings(spec.default_throttle))
            .set_route_settings(route_settings(&spec.route_throttles))
            .set_access_log_settings(AccessLog::settings(spec.access_log.as_ref()));
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
            .auto_deploy(spec.auto_deploy)
            .default_route_settings(Throttle::settings(spec.default_throttle))
            .set_route_settings(route_settings(&spec.route_throttles))
            .set_access_log_settings(AccessLog::settings(spec.access_log.as_ref()));
        call.send().await.aws("UpdateStage")?;
        if spec.access_log.is_none() && change.current.spec.access_log.is_some() {
            let call = aws.apigw.delete_access_log_settings().api_id(&spec.api_id);
            let call = call.stage_name(change.id);
            call.send().await.aws("DeleteAccessLogSettings").gone()?;
        }
        // UpdateStage merges route settings by key: one no longer declared is deleted apart.
        let dropped = change.current.spec.route_throttles.keys();
        for key in dropped.filter(|key| !spec.route_throttles.contains_key(*key)) {
            let call = aws.apigw.delete_route_settings().api_id(&spec.api_id);
            let call = call.stage_name(change.id).route_key(key);
            call.send().await.aws("DeleteRouteSettings").gone()?;
        }
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
