//! What watches the stack: the stage's access logs, the CloudWatch alarms `[alarms]` declares,
//! their optional SNS topic, the environment's dashboard, and the rollout the release alarms
//! guard.
//!
//! Lambda publishes an alias's metrics under the `Resource` dimension `<function>:<alias>`,
//! and, for each version the alias runs, under `ExecutedVersion` as well: the alias alarms see
//! every request whatever version answers it, and the new-version alarm sees the canary's share
//! alone, so a bad canary fires it even while the old version keeps the totals low.

use serde_json::{Value, json};

use super::{Builder, LIVE_ALIAS, reference};
use crate::kinds::cloudwatch_metric_alarm::TREAT_MISSING_DATA;
use crate::kinds::lambda_rollout::Strategy;
use crate::stack::{ResolvedAlarms, ResolvedStack};

/// What the stage's access log says of each request, one JSON object per line: who asked
/// what, how it ended, how long it took, and why the integration failed when it did.
pub const ACCESS_LOG_FORMAT: &str = concat!(
    r#"{"requestId":"$context.requestId","sourceIp":"$context.identity.sourceIp","#,
    r#""requestTime":"$context.requestTime","routeKey":"$context.routeKey","#,
    r#""status":"$context.status","responseLength":"$context.responseLength","#,
    r#""latency":"$context.responseLatency","integrationLatency":"$context.integrationLatency","#,
    r#""integrationError":"$context.integrationErrorMessage"}"#
);

/// The stage's access log group: `/aws/apigateway/<api name>`, named for the API, not the
/// stage, so a new stage name keeps the logs written so far.
pub fn access_log_group(stack: &ResolvedStack) -> String {
    format!("/aws/apigateway/{}", stack.api.name)
}

/// The address of the alarms' SNS topic, declared when `[alarms] notify` lists someone.
const TOPIC: &str = "sns_topic.alarms";

/// The seconds each alarm's data point covers: a minute, the finest standard resolution.
const PERIOD: i64 = 60;

/// One alarm as [`add_monitoring`] declares it.
struct Alarm {
    /// The address's second part and the alarm name's suffix.
    key: &'static str,
    namespace: &'static str,
    metric: &'static str,
    dimensions: Value,
    /// `Sum`/`Average`, or a percentile such as `p99`.
    statistic: &'static str,
    threshold: f64,
    why: String,
    depends_on: &'static [&'static str],
    /// Watched by a rollout: a release that trips it is rolled back.
    release: bool,
}

/// The alarms, the topic they notify and the dashboard; nothing when `[alarms]` is disabled.
pub(super) fn add_monitoring(b: &mut Builder<'_>) {
    let stack = b.stack;
    let Some(settings) = &stack.alarms else {
        return;
    };
    let base = stack.name_base();
    let actions = add_topic(b, &base, settings);
    for alarm in alarms(stack, settings) {
        let percentile = alarm.statistic.starts_with('p');
        b.add(
            &address(&alarm),
            &name(&base, &alarm),
            json!({
                "namespace": alarm.namespace,
                "metric_name": alarm.metric,
                "dimensions": alarm.dimensions,
                "statistic": (!percentile).then_some(alarm.statistic),
                "extended_statistic": percentile.then_some(alarm.statistic),
                "period": PERIOD,
                "evaluation_periods": 1,
                "datapoints_to_alarm": null,
                "threshold": alarm.threshold,
                "comparison_operator": "GreaterThanOrEqualToThreshold",
                "treat_missing_data": TREAT_MISSING_DATA,
                "alarm_description": alarm.why,
                "alarm_actions": actions,
                "ok_actions": actions,
            }),
            true,
            &with_topic(alarm.depends_on, !actions.is_empty()),
        );
    }
    add_dashboard(b, &base);
}

/// The alarms a rollout watches, each as (address, alarm name): a release that trips one is
/// rolled back. None when `[alarms]` is disabled.
pub(super) fn release_alarms(stack: &ResolvedStack) -> Vec<(String, String)> {
    let Some(settings) = &stack.alarms else {
        return Vec::new();
    };
    let base = stack.name_base();
    let alarms = alarms(stack, settings).into_iter().filter(|a| a.release);
    alarms.map(|a| (address(&a), name(&base, &a))).collect()
}

fn address(alarm: &Alarm) -> String {
    format!("cloudwatch_metric_alarm.{}", alarm.key)
}

/// `<base>-function-errors` for the key `function_errors`.
fn name(base: &str, alarm: &Alarm) -> String {
    format!("{base}-{}", alarm.key.replace('_', "-"))
}

/// The SNS topic and one e-mail subscription per address; the ARNs alarms notify.
fn add_topic(b: &mut Builder<'_>, base: &str, settings: &ResolvedAlarms) -> Vec<Value> {
    if settings.notify.is_empty() {
        return Vec::new();
    }
    let topic = format!("{base}-alarms");
    b.add(TOPIC, &topic, json!({ "name": topic }), true, &[]);
    for address in &settings.notify {
        b.add(
            &format!("sns_topic_subscription.{}", address_key(address)),
            address,
            json!({
                "topic_arn": reference(TOPIC, "arn"),
                "protocol": "email",
                "endpoint": address,
            }),
            false,
            &[TOPIC],
        );
    }
    vec![reference(TOPIC, "arn")]
}

/// An address's part of a subscription's address in the state: its characters, each not a
/// letter or digit written `_` (`ops@example.com` is `ops_example_com`).
fn address_key(address: &str) -> String {
    let key: String = address
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("email_{key}")
}

fn with_topic(deps: &[&'static str], notifies: bool) -> Vec<&'static str> {
    let mut deps = deps.to_vec();
    if notifies {
        deps.push(TOPIC);
    }
    deps
}

/// The alarms of the environment with their thresholds from `settings`.
fn alarms(stack: &ResolvedStack, settings: &ResolvedAlarms) -> Vec<Alarm> {
    let function = &stack.lambda.function_name;
    let alias = json!({ "FunctionName": function, "Resource": format!("{function}:{LIVE_ALIAS}") });
    let stage = json!({
        "ApiId": reference("apigw_api.http", "id"),
        "Stage": stack.api.stage_name,
    });
    let table = json!({ "TableName": stack.table.name });
    let timeout_ms = stack.lambda.timeout_seconds as f64 * 1000.0;
    let function_deps: &[&str] = &["lambda_function.api"];
    let mut alarms = vec![
        Alarm {
            key: "function_errors",
            namespace: "AWS/Lambda",
            metric: "Errors",
            dimensions: alias.clone(),
            statistic: "Sum",
            threshold: settings.function_errors,
            why: format!(
                "{function}:{LIVE_ALIAS} failed at least {} times in a minute",
                settings.function_errors
            ),
            depends_on: function_deps,
            release: true,
        },
        Alarm {
            key: "function_throttles",
            namespace: "AWS/Lambda",
            metric: "Throttles",
            dimensions: alias.clone(),
            statistic: "Sum",
            threshold: settings.function_throttles,
            why: format!(
                "{function}:{LIVE_ALIAS} was throttled at least {} times in a minute",
                settings.function_throttles
            ),
            depends_on: function_deps,
            release: true,
        },
        Alarm {
            key: "function_duration",
            namespace: "AWS/Lambda",
            metric: "Duration",
            dimensions: alias.clone(),
            statistic: "p99",
            threshold: (timeout_ms * settings.duration_percent / 100.0).round(),
            why: format!(
                "{function}:{LIVE_ALIAS}'s p99 duration reached {}% of its {} s timeout",
                settings.duration_percent, stack.lambda.timeout_seconds
            ),
            depends_on: function_deps,
            release: true,
        },
        Alarm {
            key: "api_5xx",
            namespace: "AWS/ApiGateway",
            metric: "5xx",
            dimensions: stage.clone(),
            // The average of a 0-or-1 metric: the share of requests answered 5xx.
            statistic: "Average",
            threshold: settings.api_5xx_percent / 100.0,
            why: format!(
                "at least {}% of stage {}'s requests were answered 5xx in a minute",
                settings.api_5xx_percent, stack.api.stage_name
            ),
            depends_on: &["apigw_api.http"],
            release: true,
        },
        Alarm {
            key: "api_latency",
            namespace: "AWS/ApiGateway",
            metric: "Latency",
            dimensions: stage,
            statistic: "p99",
            threshold: settings.api_latency_ms,
            why: format!(
                "stage {}'s p99 latency reached {} ms",
                stack.api.stage_name, settings.api_latency_ms
            ),
            depends_on: &["apigw_api.http"],
            release: true,
        },
    ];
    for (key, metric, what) in [
        ("table_read_throttles", "ReadThrottleEvents", "reads"),
        ("table_write_throttles", "WriteThrottleEvents", "writes"),
    ] {
        alarms.push(Alarm {
            key,
            namespace: "AWS/DynamoDB",
            metric,
            dimensions: table.clone(),
            statistic: "Sum",
            threshold: settings.table_throttles,
            why: format!(
                "at least {} {what} of table {} were throttled in a minute",
                settings.table_throttles, stack.table.name
            ),
            depends_on: &["dynamodb_table.playground"],
            // Capacity, not the code: a release does not cause it and rolling back won't help.
            release: false,
        });
    }
    if stack.release.strategy != Strategy::AllAtOnce {
        let mut dimensions = alias;
        dimensions["ExecutedVersion"] = reference("lambda_function.api", "version");
        alarms.push(Alarm {
            key: "new_version_errors",
            namespace: "AWS/Lambda",
            metric: "Errors",
            dimensions,
            statistic: "Sum",
            threshold: settings.function_errors,
            why: format!(
                "the version being released failed at least {} times in a minute",
                settings.function_errors
            ),
            depends_on: function_deps,
            release: true,
        });
    }
    alarms
}

/// One dashboard per environment: the function's, the stage's and the table's metrics.
fn add_dashboard(b: &mut Builder<'_>, base: &str) {
    let stack = b.stack;
    let function = &stack.lambda.function_name;
    let resource = format!("{function}:{LIVE_ALIAS}");
    let api = reference("apigw_api.http", "id");
    let stage = &stack.api.stage_name;
    let table = &stack.table.name;
    let lambda_metric = |metric: &str| {
        json!([
            "AWS/Lambda",
            metric,
            "FunctionName",
            function,
            "Resource",
            resource
        ])
    };
    let stage_metric =
        |metric: &str| json!(["AWS/ApiGateway", metric, "ApiId", api, "Stage", stage]);
    let table_metric = |metric: &str| json!(["AWS/DynamoDB", metric, "TableName", table]);
    let widget = |index: usize, title: &str, stat: &str, metrics: Vec<Value>| {
        json!({
            "type": "metric",
            "x": (index % 2) * 12,
            "y": (index / 2) * 6,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": stack.region,
                "stat": stat,
                "period": PERIOD,
                "metrics": metrics,
            },
        })
    };
    let widgets = vec![
        widget(
            0,
            "Function invocations, errors, throttles",
            "Sum",
            ["Invocations", "Errors", "Throttles"]
                .map(lambda_metric)
                .to_vec(),
        ),
        widget(
            1,
            "Function duration (p99, ms)",
            "p99",
            vec![lambda_metric("Duration")],
        ),
        widget(
            2,
            "API requests and errors",
            "Sum",
            ["Count", "4xx", "5xx"].map(stage_metric).to_vec(),
        ),
        widget(
            3,
            "API latency (p99, ms)",
            "p99",
            ["Latency", "IntegrationLatency"].map(stage_metric).to_vec(),
        ),
        widget(
            4,
            "Table throttled reads and writes",
            "Sum",
            ["ReadThrottleEvents", "WriteThrottleEvents"]
                .map(table_metric)
                .to_vec(),
        ),
        widget(
            5,
            "Table consumed capacity",
            "Sum",
            ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"]
                .map(table_metric)
                .to_vec(),
        ),
    ];
    b.add(
        "cloudwatch_dashboard.main",
        base,
        json!({ "body": { "widgets": widgets } }),
        false,
        &[
            "lambda_function.api",
            "apigw_api.http",
            "dynamodb_table.playground",
        ],
    );
}

/// How the alias moves to a new version, watched by `alarms`: `None` (null) for all at once.
pub(super) fn rollout(stack: &ResolvedStack, alarms: &[String]) -> Value {
    let release = &stack.release;
    if release.strategy == Strategy::AllAtOnce {
        return Value::Null;
    }
    json!({
        "strategy": release.strategy,
        "percent": release.percent,
        "interval_seconds": release.interval.as_secs(),
        "bake_seconds": release.bake.as_secs(),
        "alarms": alarms,
    })
}

#[cfg(test)]
mod tests;
