//! Releases against the emulator: a function publishing a version per change of its code or
//! configuration, the alias that serves one (weighting a second during a rollout), the pruning
//! of old versions, and the invoke permission on the alias.

use crate::kinds_support;

use kinds_support::{
    assert_absent, clients, create_and_read, delete_parent, delete_twice, desired, kind,
    lambda_function, lambda_role, lambda_zip, output, tags,
};
use provisioner::aws::AwsClients;
use provisioner::resource::{Desired, Observed};
use serde_json::{Value, json};

/// The clients, a role a function can run as, and a unique name starting with `prefix`: what
/// each test here starts from.
async fn a_function_to_be(prefix: &str) -> (AwsClients, String, String) {
    let aws = clients().await;
    let role = lambda_role(&aws).await;
    (aws, role, testkit::unique_name(prefix))
}

/// A declared function that publishes, with X-Ray tracing active.
fn publishing(name: &str, role: &str, code: &str) -> Desired {
    let mut declared = lambda_function(name, role, &lambda_zip(code));
    declared.fields.insert("publish".into(), json!(true));
    declared
        .fields
        .insert("tracing_mode".into(), json!("Active"));
    declared
}

/// `declared` running a zip of `code` instead.
fn with_code(declared: &Desired, code: &str) -> Desired {
    let (path, sha) = lambda_zip(code);
    let mut changed = declared.clone();
    changed.fields.insert("code_sha256".into(), json!(sha));
    changed.fields.insert("zip_path".into(), json!(path));
    changed
}

/// Applies `declared` to `current` as the engine does: its diff, then the update.
async fn updated(aws: &AwsClients, declared: &Desired, current: &Observed) -> Observed {
    let function = kind(&declared.kind);
    let changes = function.diff(declared, current);
    assert!(!changes.is_empty(), "{} has changes", declared.address);
    function
        .update(aws, declared, current, &changes)
        .await
        .expect("update")
}

fn version(observed: &Observed) -> &str {
    output(observed, "version").expect("a published version")
}

/// The function's published versions, by number.
async fn versions(aws: &AwsClients, function: &str) -> Vec<u64> {
    provisioner::kinds::lambda_versions::listed(aws, function)
        .await
        .expect("list versions")
}

fn alias(function: &str, version: &str, weights: Value) -> Desired {
    desired(
        "lambda_alias",
        "live",
        json!({
            "function_name": function,
            "function_version": version,
            "additional_version_weights": weights,
            "keep_versions": 2,
        }),
        tags(&[]),
    )
}

#[tokio::test]
async fn each_change_publishes_a_version_and_the_alias_serves_and_prunes_them() {
    let (aws, role, name) = a_function_to_be("kinds-rel").await;
    let function = kind("lambda_function");
    let declared = publishing(&name, &role, "v1");
    let first = function.create(&aws, &declared).await.expect("create");
    assert_eq!(version(&first), "1");
    assert_eq!(first.fields["tracing_mode"], json!("Active"));
    assert!(function.diff(&declared, &first).is_empty(), "converged");
    // Read back by what the state recorded: the same version, nothing to change.
    let read = function
        .read(&aws, &name, &first.fields)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(version(&read), "1");
    assert!(function.diff(&declared, &read).is_empty());

    // A function recorded without a version (made before versions) publishes one next.
    let mut unrecorded = first.fields.clone();
    unrecorded.remove("version");
    let old = function.read(&aws, &name, &unrecorded).await.expect("read");
    let changes = function.diff(&declared, &old.expect("found"));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].field, "publish");

    let live = kind("lambda_alias");
    let serving = alias(&name, "1", json!({}));
    assert_absent(live, &aws, "live", &serving.fields).await;
    let made = create_and_read(live, &aws, &serving, |_| "live".into()).await;
    let arn = output(&made, "arn").unwrap_or_default();
    assert!(arn.ends_with(&format!(":function:{name}:live")), "{arn}");

    // New code: version 2. A change of tags only publishes nothing.
    let declared = with_code(&declared, "v2");
    let second = updated(&aws, &declared, &first).await;
    assert_eq!(version(&second), "2");
    let mut tagged = declared.clone();
    tagged.tags.insert("owner".into(), "kinds".into());
    let still = updated(&aws, &tagged, &second).await;
    assert_eq!(version(&still), "2", "tags publish no version");

    // A canary: version 1 serves, version 2 takes a tenth; then version 2 takes all.
    let canary = alias(&name, "1", json!({"2": 0.1}));
    let weighted = updated(&aws, &canary, &made).await;
    assert_eq!(
        weighted.fields["additional_version_weights"],
        json!({"2": 0.1})
    );
    let moved = updated(&aws, &alias(&name, "2", json!({})), &weighted).await;
    assert_eq!(moved.fields["function_version"], json!("2"));
    assert_eq!(moved.fields["additional_version_weights"], json!({}));

    // Version 3, and the alias on it: two kept (2 and 3), version 1 deleted.
    let third = updated(&aws, &with_code(&tagged, "v3"), &still).await;
    assert_eq!(version(&third), "3");
    assert_eq!(versions(&aws, &name).await, [1, 2, 3]);
    updated(&aws, &alias(&name, "3", json!({})), &moved).await;
    assert_eq!(versions(&aws, &name).await, [2, 3]);
    // Numbers go on from the highest ever published, as on AWS.
    let fourth = updated(&aws, &with_code(&tagged, "v4"), &third).await;
    assert_eq!(version(&fourth), "4");

    delete_twice(live, &aws, "live", &serving.fields).await;
    delete_parent("lambda_function", &aws, &name).await;
}

#[tokio::test]
async fn the_invoke_permission_on_the_alias_is_its_own_statement() {
    let (aws, role, name) = a_function_to_be("kinds-rel").await;
    let created = kind("lambda_function")
        .create(&aws, &publishing(&name, &role, "p"))
        .await
        .expect("create");
    let live = kind("lambda_alias");
    live.create(&aws, &alias(&name, version(&created), json!({})))
        .await
        .expect("alias");
    let permission = kind("lambda_permission");
    let statement = "AllowApiGatewayInvoke";
    let on = |qualifier: Value| {
        desired(
            "lambda_permission",
            statement,
            json!({
                "function_name": name,
                "qualifier": qualifier,
                "action": "lambda:InvokeFunction",
                "principal": "apigateway.amazonaws.com",
                "source_arn": "arn:aws:execute-api:us-east-1:123456789012:abc123/*/*"
            }),
            Default::default(),
        )
    };
    let (unqualified, qualified) = (on(Value::Null), on(json!("live")));
    let old = create_and_read(permission, &aws, &unqualified, |_| statement.into()).await;
    // The same statement id on the alias is another statement: made before the old one goes.
    let changes = permission.diff(&qualified, &old);
    assert!(changes.iter().all(|c| c.forces_replacement), "{changes:?}");
    assert!(permission.coexists_with(&qualified, &old));
    let new = create_and_read(permission, &aws, &qualified, |_| statement.into()).await;
    assert_eq!(new.fields["qualifier"], json!("live"));
    delete_twice(permission, &aws, statement, &unqualified.fields).await;
    // The alias's statement outlives the function's.
    let still = permission.read(&aws, statement, &qualified.fields).await;
    assert!(matches!(still, Ok(Some(_))), "{still:?}");
    delete_twice(permission, &aws, statement, &qualified.fields).await;
    delete_parent("lambda_function", &aws, &name).await;
}

/// A declared alias moving with `rollout` (canary at 50 %, steps of one second) watched by
/// `alarm`.
fn canary(function: &str, version: &str, alarm: &str) -> Desired {
    let mut declared = alias(function, version, json!({}));
    declared.fields.insert(
        "rollout".into(),
        json!({"strategy": "canary", "percent": 50, "interval_seconds": 1, "bake_seconds": 1,
               "alarms": [alarm]}),
    );
    declared
}

/// An alarm on the function's errors, in `state`.
async fn alarm_in(aws: &AwsClients, name: &str, function: &str, state: &str) {
    let put = aws.cloudwatch.put_metric_alarm().alarm_name(name);
    put.namespace("AWS/Lambda")
        .metric_name("Errors")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("FunctionName")
                .value(function)
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .send()
        .await
        .expect("put alarm");
    let set = aws.cloudwatch.set_alarm_state().alarm_name(name);
    set.state_value(aws_sdk_cloudwatch::types::StateValue::from(state))
        .state_reason("forced by the test")
        .send()
        .await
        .expect("set alarm state");
}

#[tokio::test]
async fn a_canary_passes_its_bake_or_is_rolled_back_by_an_alarm_and_resumes_after_a_stop() {
    let (aws, role, name) = a_function_to_be("kinds-can").await;
    let alarm = format!("{name}-errors");
    alarm_in(&aws, &alarm, &name, "OK").await;
    let function = kind("lambda_function");
    let declared = publishing(&name, &role, "c1");
    let first = function.create(&aws, &declared).await.expect("create");
    let live = kind("lambda_alias");
    let made = live
        .create(&aws, &canary(&name, "1", &alarm))
        .await
        .expect("alias");
    let second = updated(&aws, &with_code(&declared, "c2"), &first).await;

    // Alarm OK: the canary holds 50 % for its step and bake, then the alias moves fully.
    let started = std::time::Instant::now();
    let moved = updated(&aws, &canary(&name, "2", &alarm), &made).await;
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "watched"
    );
    assert_eq!(moved.fields["function_version"], json!("2"));
    assert_eq!(moved.fields["additional_version_weights"], json!({}));

    // Alarm in ALARM: version 3's canary is rolled back to 2, with no weight left.
    let third = updated(&aws, &with_code(&declared, "c3"), &second).await;
    alarm_in(&aws, &alarm, &name, "ALARM").await;
    let refused = live
        .update(
            &aws,
            &canary(&name, version(&third), &alarm),
            &moved,
            &live.diff(&canary(&name, "3", &alarm), &moved),
        )
        .await
        .expect_err("rolled back");
    let message = refused.to_string();
    assert!(
        message.contains("rolled back to version 2") && message.contains(&alarm),
        "{message}"
    );
    let back = live
        .read(&aws, "live", &moved.fields)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(back.fields["function_version"], json!("2"));
    assert_eq!(back.fields["additional_version_weights"], json!({}));

    // A run stopped half way leaves the alias weighted; the next update resumes and finishes.
    alarm_in(&aws, &alarm, &name, "OK").await;
    let half = updated(&aws, &alias(&name, "2", json!({"3": 0.5})), &back).await;
    let finished = updated(&aws, &canary(&name, "3", &alarm), &half).await;
    assert_eq!(finished.fields["function_version"], json!("3"));
    assert_eq!(finished.fields["additional_version_weights"], json!({}));

    delete_parent("lambda_function", &aws, &name).await;
}
