//! `cloudwatch_metric_alarm`: a CloudWatch alarm on one metric (a function's errors, the API's
//! 5xx count, a p99 duration), which notifies its actions (SNS topics) when it fires and when
//! it is OK again. Plain metric alarms only: no metric math, no composite alarms.
//!
//! Id: the alarm name (`<prefix>-<env>-...`, like every name of the stack). One call,
//! PutMetricAlarm, creates an alarm and replaces its whole configuration, so every field
//! changes in place and an update sends the whole declaration again. PutMetricAlarm's tags
//! count only when it creates the alarm; later they go through TagResource and UntagResource.
//! An alarm is read by DescribeAlarms with its name, which answers an empty list (not an error)
//! when there is none.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Dimension, MetricAlarm, Statistic};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::AwsResult;
use super::tag_index::{self, TagIndex};
use super::tags;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};

/// The `cloudwatch_metric_alarm` kind.
pub struct CloudwatchMetricAlarm;

/// What an alarm does while its metric has no data points, unless declared: a quiet function
/// (no invocations, so no errors reported) is healthy, not alarming.
pub const TREAT_MISSING_DATA: &str = "notBreaching";

/// A metric alarm's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The metric's namespace (`AWS/Lambda`, `AWS/ApiGateway`).
    pub namespace: String,
    pub metric_name: String,
    /// The metric's dimensions (`FunctionName` = the function), by name; `{}` for none.
    pub dimensions: BTreeMap<String, String>,
    /// `Sum`, `Average`, `Maximum`, ...; exactly one of this and `extended_statistic`.
    pub statistic: Option<String>,
    /// A percentile (`p99`), for durations.
    pub extended_statistic: Option<String>,
    /// Seconds each data point covers.
    pub period: i32,
    /// How many recent periods are evaluated.
    pub evaluation_periods: i32,
    /// How many of those must breach to fire (`None`: all of them).
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: f64,
    /// `GreaterThanOrEqualToThreshold`, `GreaterThanThreshold`, ...
    pub comparison_operator: String,
    /// `notBreaching`, `breaching`, `ignore` or `missing`.
    #[serde(default = "treat_missing_data")]
    pub treat_missing_data: String,
    pub alarm_description: Option<String>,
    /// ARNs notified when the alarm fires, sorted (`[]` for none, as for `ok_actions`).
    pub alarm_actions: Vec<String>,
    /// ARNs notified when it is OK again, sorted.
    pub ok_actions: Vec<String>,
}

fn treat_missing_data() -> String {
    TREAT_MISSING_DATA.to_string()
}

#[async_trait]
impl Kind for CloudwatchMetricAlarm {
    const ABOUT: About = About::kind("cloudwatch_metric_alarm", "the alarm name")
        .terraform("aws_cloudwatch_metric_alarm", TerraformId::Attribute("id"));
    type Spec = Spec;

    fn normalise(mut spec: Spec) -> Spec {
        for actions in [&mut spec.alarm_actions, &mut spec.ok_actions] {
            actions.sort();
        }
        spec
    }

    /// Alarms named as the environment's objects are; DescribeAlarms, though a listing, is
    /// authorised on the alarms it names.
    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        let alarms = scope.arn("cloudwatch", &format!("alarm:{}-*", scope.env.name_base));
        let actions = [
            "cloudwatch:DeleteAlarms",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource",
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ];
        vec![scope.allow("MetricAlarms", &actions, alarms)]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let answers = read_alarms(aws, &[id.to_string()], false).await;
        answers.into_iter().next().unwrap_or(Ok(None))
    }

    /// The alarms the state records, expected to exist, with their tags from the tagging API's
    /// index, asked beside them ([`tag_index`]).
    async fn read_many(aws: &AwsClients, objects: &[(String, Fields)]) -> Vec<Read<Spec>> {
        let names: Vec<String> = objects.iter().map(|(id, _)| id.clone()).collect();
        read_alarms(aws, &names, true).await
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, tags: &Tags) -> Made<Spec> {
        let tags = (!tags.is_empty()).then(|| tags::cloudwatch_tags(tags));
        put(aws, name, spec, tags.transpose()?).await?;
        Self::read_back(aws, name, &Fields::new()).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        if change.changed.iter().any(|field| field != "tags") {
            put(aws, change.id, change.spec, None).await?;
        }
        tags::cloudwatch(aws, change.arn(), change).await?;
        Self::read_back(aws, change.id, &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        // DeleteAlarms of an alarm that is not there succeeds.
        let call = aws.cloudwatch.delete_alarms().alarm_names(id);
        call.send().await.aws("DeleteAlarms").map(drop)
    }
}

/// PutMetricAlarm with the whole declaration (and `tags`, which count only for a new alarm).
async fn put(
    aws: &AwsClients,
    name: &str,
    spec: &Spec,
    tags: Option<Vec<aws_sdk_cloudwatch::types::Tag>>,
) -> Result<(), ResourceError> {
    if spec.statistic.is_some() == spec.extended_statistic.is_some() {
        return Err(ResourceError::Invalid(format!(
            "cloudwatch_metric_alarm {name}: declare exactly one of `statistic` and \
             `extended_statistic`"
        )));
    }
    let dimensions = spec
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build());
    let call = aws
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace(&spec.namespace)
        .metric_name(&spec.metric_name)
        .set_dimensions(Some(dimensions.collect()))
        .set_statistic(spec.statistic.as_deref().map(Statistic::from))
        .set_extended_statistic(spec.extended_statistic.clone())
        .period(spec.period)
        .evaluation_periods(spec.evaluation_periods)
        .set_datapoints_to_alarm(spec.datapoints_to_alarm)
        .threshold(spec.threshold)
        .comparison_operator(ComparisonOperator::from(spec.comparison_operator.as_str()))
        .treat_missing_data(&spec.treat_missing_data)
        .set_alarm_description(spec.alarm_description.clone())
        .set_alarm_actions(Some(spec.alarm_actions.clone()))
        .set_ok_actions(Some(spec.ok_actions.clone()))
        .set_tags(tags);
    call.send().await.aws("PutMetricAlarm").map(drop)
}

/// The most alarm names one DescribeAlarms takes (and answers).
const MAX_NAMES_PER_CALL: usize = 100;

/// The alarms `names` from one DescribeAlarms naming them all, one answer per name in order,
/// each with its tags. `indexed` (a refresh, the alarms recorded as existing): the tags come
/// from one GetResources of them all, asked at the same time ([`tag_index`]), so a no-op plan
/// reads seven alarms in two calls, not eight; an alarm the index does not list, and every
/// alarm otherwise, has its tags read by its own ListTagsForResource.
async fn read_alarms(aws: &AwsClients, names: &[String], indexed: bool) -> Vec<Read<Spec>> {
    let resources: Vec<String> = match indexed {
        true => names.iter().map(|name| format!("alarm:{name}")).collect(),
        false => Vec::new(),
    };
    let (described, index) = tokio::join!(
        describe_metric_alarms(aws, names),
        tag_index::read(aws, "cloudwatch", &resources)
    );
    let described = match described {
        Ok(described) => described,
        Err(error) => return names.iter().map(|_| Err(error.repeated())).collect(),
    };
    let reads = names.iter().map(|id| {
        let alarm = described.iter().find(|a| a.alarm_name() == Some(id));
        let index = &index;
        async move {
            match alarm {
                Some(alarm) => found(aws, alarm, index).await.map(Some),
                None => Ok(None),
            }
        }
    });
    futures::future::join_all(reads).await
}

/// `alarm` with its tags, from `index` when it lists the alarm's ARN, or read now.
async fn found(
    aws: &AwsClients,
    alarm: &MetricAlarm,
    index: &TagIndex,
) -> Result<Found<Spec>, ResourceError> {
    let id = alarm.alarm_name().unwrap_or_default();
    let arn = alarm.alarm_arn().unwrap_or_default();
    let found = Found::new(id, spec(alarm))
        .with_arn(arn)
        .with_output("arn", arn)
        .with_output("name", id);
    index.tag(found, arn, |arn| read_tags(aws, arn)).await
}

/// The alarm's tags (ListTagsForResource).
async fn read_tags(aws: &AwsClients, arn: String) -> Result<Tags, ResourceError> {
    let listed = aws.cloudwatch.list_tags_for_resource().resource_arn(arn);
    let listed = listed.send().await.aws("ListTagsForResource")?;
    Ok(tags::from_cloudwatch(listed.tags()))
}

/// DescribeAlarms of the metric alarms `names`, one call per [`MAX_NAMES_PER_CALL`]; an alarm
/// that is not there is left out (DescribeAlarms answers what exists, not an error).
pub async fn describe_metric_alarms(
    aws: &AwsClients,
    names: &[String],
) -> Result<Vec<MetricAlarm>, ResourceError> {
    let mut alarms = Vec::new();
    for chunk in names.chunks(MAX_NAMES_PER_CALL) {
        let call = aws.cloudwatch.describe_alarms();
        let call = call.set_alarm_names(Some(chunk.to_vec()));
        let call = call.alarm_types(AlarmType::MetricAlarm);
        let call = call.max_records(MAX_NAMES_PER_CALL as i32);
        let described = call.send().await.aws("DescribeAlarms")?;
        alarms.extend(described.metric_alarms.unwrap_or_default());
    }
    Ok(alarms)
}

/// The declared fields of `alarm` as CloudWatch describes it (an alarm made without
/// TreatMissingData treats missing data as `missing`).
fn spec(alarm: &MetricAlarm) -> Spec {
    let text = |value: Option<&str>| value.unwrap_or_default().to_string();
    let dimensions = alarm
        .dimensions()
        .iter()
        .map(|d| (text(d.name()), text(d.value())));
    Spec {
        namespace: text(alarm.namespace()),
        metric_name: text(alarm.metric_name()),
        dimensions: dimensions.collect(),
        statistic: alarm.statistic().map(|s| s.as_str().to_string()),
        extended_statistic: alarm.extended_statistic().map(str::to_string),
        period: alarm.period().unwrap_or_default(),
        evaluation_periods: alarm.evaluation_periods().unwrap_or_default(),
        datapoints_to_alarm: alarm.datapoints_to_alarm(),
        threshold: alarm.threshold().unwrap_or_default(),
        comparison_operator: text(alarm.comparison_operator().map(ComparisonOperator::as_str)),
        treat_missing_data: alarm.treat_missing_data().unwrap_or("missing").to_string(),
        alarm_description: alarm.alarm_description().map(str::to_string),
        alarm_actions: alarm.alarm_actions().to_vec(),
        ok_actions: alarm.ok_actions().to_vec(),
    }
}
