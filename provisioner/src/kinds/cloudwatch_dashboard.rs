//! `cloudwatch_dashboard`: a CloudWatch dashboard, the environment's graphs on one page.
//!
//! Id: the dashboard name (`<prefix>-<env>-...`). PutDashboard creates one or replaces its body,
//! so the body changes in place. The body is declared as JSON and CloudWatch answers it as a
//! string, which is parsed back, so key order and spacing never make a difference.
//!
//! Untagged: CloudWatch has lately accepted tags on dashboards (PutDashboard's `Tags`,
//! TagResource on the dashboard's ARN), but the emulator (moto 5.2) answers TagResource on a
//! dashboard with ResourceNotFoundException and lists none, and Terraform's
//! `aws_cloudwatch_dashboard` has no tags either. A dashboard is this stack's by its name.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::{AwsResult, NotFound};
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};

/// The `cloudwatch_dashboard` kind.
pub struct CloudwatchDashboard;

/// A dashboard's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The dashboard body (`{"widgets": [...]}`), as CloudWatch documents it: a JSON value,
    /// not its text, so that it is compared parsed.
    pub body: Value,
}

#[async_trait]
impl Kind for CloudwatchDashboard {
    const ABOUT: About = About::kind("cloudwatch_dashboard", "the dashboard name")
        .terraform("aws_cloudwatch_dashboard", TerraformId::Attribute("id"));
    type Spec = Spec;

    /// Dashboards are global (their ARN has no region), named as the environment's objects.
    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        let dashboards = format!(
            "arn:aws:cloudwatch::{}:dashboard/{}-*",
            scope.account_id, scope.env.name_base
        );
        let actions = [
            "cloudwatch:DeleteDashboards",
            "cloudwatch:GetDashboard",
            "cloudwatch:PutDashboard",
        ];
        vec![scope.allow("Dashboards", &actions, dashboards)]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let call = aws.cloudwatch.get_dashboard().dashboard_name(id);
        let Some(found) = call.send().await.aws("GetDashboard").absent()? else {
            return Ok(None);
        };
        let text = found.dashboard_body().unwrap_or("null");
        let body = serde_json::from_str(text).map_err(|e| {
            ResourceError::Invalid(format!(
                "dashboard {id}: CloudWatch's body is not JSON: {e}"
            ))
        })?;
        let arn = found.dashboard_arn().unwrap_or_default();
        Ok(Some(
            Found::new(id, Spec { body })
                .with_arn(arn)
                .with_output("arn", arn)
                .with_output("name", id),
        ))
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        put(aws, name, spec).await?;
        Self::read_back(aws, name, &Fields::new()).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        put(aws, change.id, change.spec).await?;
        Self::read_back(aws, change.id, &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let call = aws.cloudwatch.delete_dashboards().dashboard_names(id);
        call.send().await.aws("DeleteDashboards").gone()
    }
}

/// PutDashboard with the declared body. What CloudWatch finds odd but accepts (a metric it
/// does not know yet) comes back as validation messages: they are logged, not failed on.
async fn put(aws: &AwsClients, name: &str, spec: &Spec) -> Result<(), ResourceError> {
    let call = aws
        .cloudwatch
        .put_dashboard()
        .dashboard_name(name)
        .dashboard_body(spec.body.to_string());
    let put = call.send().await.aws("PutDashboard")?;
    for message in put.dashboard_validation_messages() {
        let text = message.message().unwrap_or_default();
        tracing::warn!(dashboard = name, data_path = message.data_path(), "{text}");
    }
    Ok(())
}
