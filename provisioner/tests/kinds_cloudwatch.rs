//! The monitoring kinds against the emulator: CloudWatch metric alarms and dashboards, and the
//! SNS topics and subscriptions the alarms notify. (One file, so one more test binary.)

use crate::kinds_support;

use std::collections::BTreeMap;

use kinds_support::{
    assert_found_again, assert_replaced_by, clients, create_and_read, delete_twice, desired,
    found_again_then_life_cycle, kind, life_cycle, output, tags,
};
use provisioner::resource::{Desired, Fields, ResourceError};
use serde_json::{Value, json};

/// An alarm on a function's errors, notifying `topic`.
fn errors_alarm(name: &str, topic: &str) -> Desired {
    desired(
        "cloudwatch_metric_alarm",
        name,
        json!({
            "namespace": "AWS/Lambda",
            "metric_name": "Errors",
            "dimensions": {"FunctionName": "kinds-fn"},
            "statistic": "Sum",
            "period": 60,
            "evaluation_periods": 3,
            "datapoints_to_alarm": 2,
            "threshold": 1,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "treat_missing_data": "notBreaching",
            "alarm_description": "the function fails",
            "alarm_actions": [topic],
            "ok_actions": [topic],
        }),
        tags(&[("team", "a")]),
    )
}

/// The ARN of a topic `name` (CloudWatch does not check that an action's topic exists).
fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:us-east-1:123456789012:{name}")
}

#[tokio::test]
async fn metric_alarm_life_cycle() {
    let (aws, name) = (clients().await, testkit::unique_name("kinds-alarm"));
    let (first, second) = (topic_arn("kinds-first"), topic_arn("kinds-second"));
    let after = life_cycle(
        &aws,
        errors_alarm(&name, &first),
        |d| {
            d.fields.insert("threshold".into(), json!(5.5));
            // Declared in another order than AWS lists them: compared sorted.
            d.fields.insert(
                "alarm_actions".into(),
                json!([second.clone(), first.clone()]),
            );
            d.tags.insert("team".into(), "b".into());
        },
        &["alarm_actions", "threshold", "tags"],
    )
    .await;
    assert_eq!(output(&after, "name"), Some(name.as_str()));
    let arn = format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}");
    assert_eq!(output(&after, "arn"), Some(arn.as_str()));
    assert_eq!(after.tags.as_ref().map(|t| t["team"].as_str()), Some("b"));
}

#[tokio::test]
async fn a_percentile_alarm_is_found_again_and_changed_in_place() {
    let (aws, name) = (clients().await, testkit::unique_name("kinds-alarm"));
    let mut declared = errors_alarm(&name, &topic_arn("kinds-alerts"));
    declared.fields.remove("statistic");
    declared.fields.remove("datapoints_to_alarm");
    declared
        .fields
        .insert("metric_name".into(), json!("Duration"));
    declared
        .fields
        .insert("extended_statistic".into(), json!("p99"));
    let kind = kind("cloudwatch_metric_alarm");
    found_again_then_life_cycle(kind, &aws, declared, "evaluation_periods", json!(5)).await;
}

#[tokio::test]
async fn an_alarm_needs_exactly_one_statistic() {
    let (aws, name) = (clients().await, testkit::unique_name("kinds-alarm"));
    let mut declared = errors_alarm(&name, &topic_arn("kinds-alerts"));
    declared
        .fields
        .insert("extended_statistic".into(), json!("p99"));
    let refused = kind("cloudwatch_metric_alarm")
        .create(&aws, &declared)
        .await;
    assert!(
        matches!(&refused, Err(ResourceError::Invalid(m)) if m.contains("exactly one")),
        "{refused:?}"
    );
}

fn dashboard_body(title: &str) -> Value {
    json!({"widgets": [{
        "type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
        "properties": {
            "title": title, "region": "us-east-1", "stat": "Sum", "period": 60,
            "metrics": [["AWS/Lambda", "Errors", "FunctionName", "kinds-fn"]]
        }
    }]})
}

#[tokio::test]
async fn dashboard_life_cycle() {
    let (aws, name) = (clients().await, testkit::unique_name("kinds-dashboard"));
    // Untagged: the declaration's tags are not compared with anything.
    let declared = desired(
        "cloudwatch_dashboard",
        &name,
        json!({"body": dashboard_body("Errors")}),
        tags(&[]),
    );
    let kind = kind("cloudwatch_dashboard");
    assert_found_again(kind, &aws, &declared).await;
    let change = |d: &mut Desired| {
        d.fields
            .insert("body".into(), dashboard_body("Errors, per minute"));
    };
    let after = life_cycle(&aws, declared, change, &["body"]).await;
    assert_eq!(after.tags, None, "a dashboard has no tags");
    let arn = format!("arn:aws:cloudwatch::123456789012:dashboard/{name}");
    assert_eq!(output(&after, "arn"), Some(arn.as_str()));
}

#[tokio::test]
async fn topic_life_cycle_and_replacement_by_name() {
    let (aws, name) = (clients().await, testkit::unique_name("kinds-topic"));
    let declared = desired("sns_topic", &name, json!({"name": name}), tags(&[]));
    let kind = kind("sns_topic");
    assert_found_again(kind, &aws, &declared).await;
    let created = create_and_read(kind, &aws, &declared, |o| o.id.clone()).await;
    let arn = topic_arn(&name);
    assert_eq!(
        (created.id.as_str(), output(&created, "arn")),
        (arn.as_str(), Some(arn.as_str()))
    );
    assert_replaced_by(kind, &declared, &created, "name", json!("another"));
    kind.delete(&aws, &arn, &Fields::new())
        .await
        .expect("delete");

    let tagged = |d: &mut Desired| {
        d.tags.insert("owner".into(), "kinds".into());
    };
    life_cycle(&aws, declared, tagged, &["tags"]).await;
}

#[tokio::test]
async fn subscription_life_cycle() {
    let (aws, name) = (clients().await, testkit::unique_name("kinds-topic"));
    let topic = desired("sns_topic", &name, json!({"name": name}), tags(&[]));
    let topic = kind("sns_topic").create(&aws, &topic).await;
    let topic = topic.expect("create topic").id;
    let declared = desired(
        "sns_topic_subscription",
        "alerts",
        json!({"topic_arn": topic, "protocol": "email", "endpoint": "oncall@example.com"}),
        BTreeMap::new(),
    );
    let kind = kind("sns_topic_subscription");
    assert_found_again(kind, &aws, &declared).await;
    let created = create_and_read(kind, &aws, &declared, |o| o.id.clone()).await;
    assert!(created.id.starts_with(&format!("{topic}:")), "{created:#?}");
    for (field, value) in [
        ("endpoint", "other@example.com"),
        ("protocol", "email-json"),
        ("topic_arn", "arn:aws:sns:us-east-1:123456789012:other"),
    ] {
        assert_replaced_by(kind, &declared, &created, field, json!(value));
    }
    delete_twice(kind, &aws, &created.id, &Fields::new()).await;
    // Without its topic, there is nothing to find.
    delete_twice(
        kinds_support::kind("sns_topic"),
        &aws,
        &topic,
        &Fields::new(),
    )
    .await;
    assert!(
        kind.find_existing(&aws, &declared)
            .await
            .expect("find")
            .is_none(),
        "no topic, no subscription"
    );
}
