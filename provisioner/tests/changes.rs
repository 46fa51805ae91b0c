//! Changes after the first apply: one changed setting of the function is its in-place update
//! (publishing a version) and the alias `live` following it, and drift made outside the tool
//! shows as the fields that differ and is repaired by apply.

use crate::common;

use common::Fixture;

#[tokio::test(flavor = "multi_thread")]
async fn changing_memory_is_one_in_place_update() {
    let (f, aws) = Fixture::new("").applied().await;

    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    f.plan_shows(&[
        "~ lambda_function.api",
        "memory_size: 256 -> 512",
        "~ lambda_alias.live",
        "function_version: \"1\" -> (known after apply)",
        "Plan: 0 to add, 2 to change, 0 to destroy.",
    ]);

    testkit::assert_contains(&f.apply(), "Resources: 0 added, 2 changed, 0 destroyed.");
    let config = aws.function_configuration(&f.function_name()).await;
    assert_eq!(config.memory_size(), Some(512));
    assert_eq!(f.plan().0, 0, "converged");

    aws.destroy_to_nothing(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_detected_and_repaired() {
    let (f, aws) = Fixture::new("").applied().await;

    // Outside the tool: memory changed, PITR off, a route deleted.
    aws.lambda
        .update_function_configuration()
        .function_name(f.function_name())
        .memory_size(1024)
        .send()
        .await
        .unwrap();
    aws.dynamodb
        .update_continuous_backups()
        .table_name(f.table_name())
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let api = aws.api_ids(&f.api_name()).await.remove(0);
    let routes = aws.apigw.get_routes().api_id(&api).send().await.unwrap();
    let route = routes
        .items()
        .iter()
        .find(|r| r.route_key() == Some("PATCH /tables/{tableId}"))
        .unwrap();
    aws.apigw
        .delete_route()
        .api_id(&api)
        .route_id(route.route_id().unwrap())
        .send()
        .await
        .unwrap();

    f.plan_shows(&[
        "memory_size: 1024 -> 256",
        "point_in_time_recovery: false -> true",
        "+ apigw_route.patch_table",
        // The function's repair is a new version, which the alias follows.
        "~ lambda_alias.live",
        "Plan: 1 to add, 3 to change, 0 to destroy.",
    ]);

    f.apply();
    let config = aws.function_configuration(&f.function_name()).await;
    assert_eq!(config.memory_size(), Some(256));
    let status = aws.pitr_status(&f.table_name()).await;
    assert_eq!(status.as_deref(), Some("ENABLED"));
    assert_eq!(
        aws.route_keys(&api).await,
        common::counts::contract_route_keys()
    );
    assert_eq!(f.plan().0, 0, "repaired");

    aws.destroy_to_nothing(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_protected_table_is_not_destroyed_until_protection_is_turned_off() {
    let (f, aws) = Fixture::new("").applied_protected().await;

    let message = common::identity::refused(&f, &["destroy", "--env", "dev", "--auto-approve"]);
    assert!(
        message.contains("deletion_protection = false") && message.contains("[env.dev.table]"),
        "{message}"
    );
    assert!(
        aws.table_exists(&f.table_name()).await,
        "nothing was deleted"
    );
    assert!(
        aws.function_exists(&f.function_name()).await,
        "nothing was deleted"
    );

    aws.unprotect_and_destroy(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_with_our_name_and_foreign_tags_is_never_touched() {
    common::identity::foreign_log_group_is_never_touched(&Fixture::new("")).await;
}

/// Tags changed outside the tool on the kinds whose tags are read beside their describe call
/// (by the ARN their names give them): the table, a log group and an alarm. The plan shows each
/// and apply puts the declared tags back.
#[tokio::test(flavor = "multi_thread")]
async fn tag_drift_on_table_log_group_and_alarm_is_shown_and_repaired() {
    tag_drift_is_shown_and_repaired(Fixture::new("")).await;
}

/// The same with the state in S3 under the DynamoDB lock, where the caller's account (which the
/// guessed ARNs need) is asked while the lock is taken.
#[tokio::test(flavor = "multi_thread")]
async fn tag_drift_is_shown_and_repaired_with_s3_state() {
    tag_drift_is_shown_and_repaired(Fixture::on_s3("")).await;
}

async fn tag_drift_is_shown_and_repaired(f: Fixture) {
    let (f, aws) = f.applied().await;
    let table = aws.dynamodb.describe_table().table_name(f.table_name());
    let table_arn = table
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .table_arn
        .unwrap();
    let tag = aws_sdk_dynamodb::types::Tag::builder()
        .key("Suite")
        .value("moved")
        .build();
    let call = aws.dynamodb.tag_resource().resource_arn(&table_arn);
    call.tags(tag.unwrap()).send().await.unwrap();
    let log_group = format!("/aws/lambda/{}", f.function_name());
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&log_group);
    let groups = groups.send().await.unwrap();
    let group_arn = groups.log_groups()[0].log_group_arn().unwrap().to_string();
    let call = aws.logs.tag_resource().resource_arn(&group_arn);
    call.tags("Owner", "someone").send().await.unwrap();
    let alarm = format!("{}-dev-function-errors", f.prefix);
    let alarms = aws.cloudwatch.describe_alarms().alarm_names(&alarm);
    let alarms = alarms.send().await.unwrap();
    let alarm_arn = alarms.metric_alarms()[0].alarm_arn().unwrap().to_string();
    let call = aws.cloudwatch.untag_resource().resource_arn(&alarm_arn);
    call.tag_keys("Suite").send().await.unwrap();

    let plan = f.plan_shows(&[
        "~ dynamodb_table.playground",
        "~ log_group.lambda",
        "~ cloudwatch_metric_alarm.function_errors",
        "Plan: 0 to add, 3 to change, 0 to destroy.",
    ]);
    testkit::assert_contains(&plan, "moved");
    testkit::assert_contains(&plan, "someone");

    testkit::assert_contains(&f.apply(), "Resources: 0 added, 3 changed, 0 destroyed.");
    assert_eq!(f.plan().0, 0, "converged");
    let listed = aws
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(&alarm_arn);
    let listed = listed.send().await.unwrap();
    let suite = listed.tags().iter().find(|t| t.key() == Some("Suite"));
    assert_eq!(suite.and_then(|t| t.value()), Some("provisioner-e2e"));

    aws.destroy_to_nothing(&f).await;
}
