//! The alarms, topic and dashboard as declared: thresholds from `[alarms]`, the release alarms
//! the alias watches (the new version's own only in a gradual release), notifications only when
//! someone is to hear them.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::desired::{Artifact, Artifacts, desired_resources};
use crate::resource::Desired;
use crate::stack::Stack;

fn declared(stack_file: &str) -> Vec<Desired> {
    let stack = Stack::parse(
        Path::new("stack.toml"),
        format!("{stack_file}\n[env.dev]\n"),
    );
    let stack = stack.unwrap().resolve("dev").unwrap();
    let function = Artifact {
        path: PathBuf::from("function.zip"),
        sha256: "c2hh".into(),
    };
    desired_resources(
        &stack,
        &Artifacts {
            function,
            layer: None,
        },
    )
}

fn find<'a>(list: &'a [Desired], address: &str) -> &'a Desired {
    let found = list.iter().find(|d| d.address == address);
    found.unwrap_or_else(|| panic!("{address} is not declared"))
}

fn of_kind<'a>(list: &'a [Desired], kind: &str) -> Vec<&'a str> {
    let found = list.iter().filter(|d| d.kind == kind);
    found.map(|d| d.name.as_str()).collect()
}

#[test]
fn the_default_alarms_watch_the_alias_the_stage_and_the_table() {
    let list = declared("[lambda]\ntimeout_seconds = 10");
    let mut alarms = of_kind(&list, "cloudwatch_metric_alarm");
    alarms.sort_unstable();
    let names = [
        "api-5xx",
        "api-latency",
        "function-duration",
        "function-errors",
        "function-throttles",
        "table-read-throttles",
        "table-write-throttles",
    ];
    assert_eq!(alarms, names.map(|n| format!("aimodelshare-dev-{n}")));
    let errors = &find(&list, "cloudwatch_metric_alarm.function_errors").fields;
    assert_eq!(errors["namespace"], "AWS/Lambda");
    assert_eq!(errors["metric_name"], "Errors");
    let alias =
        json!({ "FunctionName": "aimodelshare-dev-api", "Resource": "aimodelshare-dev-api:live" });
    assert_eq!(errors["dimensions"], alias);
    assert_eq!(
        (errors["statistic"].clone(), errors["threshold"].clone()),
        (json!("Sum"), json!(5.0))
    );
    // 80 % of a 10 s timeout, as a p99.
    let duration = &find(&list, "cloudwatch_metric_alarm.function_duration").fields;
    assert_eq!(duration["extended_statistic"], "p99");
    assert_eq!(duration["statistic"], json!(null));
    assert_eq!(duration["threshold"], json!(8000.0));
    // The stage's 5xx share, on the API's id once it is known.
    let five_xx = &find(&list, "cloudwatch_metric_alarm.api_5xx");
    assert_eq!(
        five_xx.fields["dimensions"]["ApiId"],
        json!({ "$ref": "apigw_api.http.id" })
    );
    assert_eq!(five_xx.fields["dimensions"]["Stage"], "dev");
    assert_eq!(five_xx.fields["threshold"], json!(0.05));
    assert!(five_xx.depends_on.contains(&"apigw_api.http".to_string()));
    // Nobody to tell: no topic, no actions.
    assert!(of_kind(&list, "sns_topic").is_empty());
    assert_eq!(errors["alarm_actions"], json!([]));
    assert_eq!(of_kind(&list, "cloudwatch_dashboard"), ["aimodelshare-dev"]);
    // All at once: the alias watches nothing and has no new-version alarm.
    let live = find(&list, "lambda_alias.live");
    assert_eq!(live.fields["rollout"], json!(null));
    assert!(
        !list
            .iter()
            .any(|d| d.address.ends_with("new_version_errors"))
    );
}

#[test]
fn a_gradual_release_watches_the_function_the_stage_and_the_new_version() {
    let list = declared("[release]\nstrategy = \"canary\"\n[alarms]\nfunction_errors = 2");
    let new_version = find(&list, "cloudwatch_metric_alarm.new_version_errors");
    let dimensions = &new_version.fields["dimensions"];
    assert_eq!(
        dimensions["ExecutedVersion"],
        json!({ "$ref": "lambda_function.api.version" })
    );
    assert_eq!(dimensions["Resource"], "aimodelshare-dev-api:live");
    assert_eq!(new_version.fields["threshold"], json!(2.0));
    let live = find(&list, "lambda_alias.live");
    let watched: Vec<&str> = live.fields["rollout"]["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let expected = [
        "function-errors",
        "function-throttles",
        "function-duration",
        "api-5xx",
        "api-latency",
        "new-version-errors",
    ];
    assert_eq!(watched, expected.map(|n| format!("aimodelshare-dev-{n}")));
    // The alias is made (and moved) after the alarms it watches.
    for key in ["function_errors", "api_5xx", "new_version_errors"] {
        let address = format!("cloudwatch_metric_alarm.{key}");
        assert!(live.depends_on.contains(&address), "{address}");
    }
    assert!(
        !live.depends_on.iter().any(|d| d.contains("table_")),
        "capacity is not the release's"
    );
}

#[test]
fn notify_adds_a_topic_every_alarm_tells() {
    let list = declared(
        "[alarms]\nnotify = [\"ops@example.com\", \"dev.team+x@example.org\", \"ops@example.com\"]",
    );
    assert_eq!(of_kind(&list, "sns_topic"), ["aimodelshare-dev-alarms"]);
    let mut subscriptions = list.iter().filter(|d| d.kind == "sns_topic_subscription");
    let first = subscriptions.next().unwrap();
    assert_eq!(
        first.address,
        "sns_topic_subscription.email_dev_team_x_example_org"
    );
    assert_eq!(first.fields["protocol"], "email");
    assert_eq!(first.fields["endpoint"], "dev.team+x@example.org");
    assert_eq!(
        first.fields["topic_arn"],
        json!({ "$ref": "sns_topic.alarms.arn" })
    );
    assert_eq!(subscriptions.count(), 1, "each address once");
    for alarm in list.iter().filter(|d| d.kind == "cloudwatch_metric_alarm") {
        let topic = json!([{ "$ref": "sns_topic.alarms.arn" }]);
        assert_eq!(alarm.fields["alarm_actions"], topic, "{}", alarm.address);
        assert_eq!(alarm.fields["ok_actions"], topic, "{}", alarm.address);
        assert!(alarm.depends_on.contains(&"sns_topic.alarms".to_string()));
    }
}

#[test]
fn disabled_alarms_declare_no_alarm_topic_or_dashboard() {
    let list = declared(
        "[release]\nstrategy = \"linear\"\n[alarms]\nenabled = false\nnotify = [\"ops@example.com\"]",
    );
    for kind in [
        "cloudwatch_metric_alarm",
        "cloudwatch_dashboard",
        "sns_topic",
    ] {
        assert!(of_kind(&list, kind).is_empty(), "{kind}");
    }
    assert_eq!(
        find(&list, "lambda_alias.live").fields["rollout"]["alarms"],
        json!([])
    );
}

#[test]
fn the_dashboard_shows_the_environments_metrics() {
    let list = declared("");
    let body = &find(&list, "cloudwatch_dashboard.main").fields["body"];
    let widgets = body["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 6);
    let metrics: Vec<&serde_json::Value> = widgets
        .iter()
        .flat_map(|w| w["properties"]["metrics"].as_array().unwrap())
        .collect();
    assert!(metrics.contains(&&json!([
        "AWS/Lambda",
        "Errors",
        "FunctionName",
        "aimodelshare-dev-api",
        "Resource",
        "aimodelshare-dev-api:live"
    ])));
    assert!(metrics.contains(
        &&json!(["AWS/ApiGateway", "5xx", "ApiId", { "$ref": "apigw_api.http.id" }, "Stage", "dev"])
    ));
    assert!(metrics.contains(&&json!([
        "AWS/DynamoDB",
        "WriteThrottleEvents",
        "TableName",
        "aimodelshare-dev-playground"
    ])));
    assert!(
        widgets
            .iter()
            .all(|w| w["properties"]["region"] == "us-east-1")
    );
}
