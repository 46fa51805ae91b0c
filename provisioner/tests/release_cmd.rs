//! Releases through the real binary: each apply with new code publishes a version the alias
//! `live` moves to, API Gateway invokes the alias (its permission is the alias's own),
//! `status` tells what serves, and `rollback` serves the version before at once, until the next
//! apply releases the declared code again.

use crate::common;

use common::Fixture;

fn status(f: &Fixture) -> String {
    f.ok(&["status", "--env", "dev"])
}

#[tokio::test(flavor = "multi_thread")]
async fn each_release_is_a_version_the_alias_serves_and_rollback_serves_the_one_before() {
    let (f, aws) = Fixture::new("").applied().await;
    let function = f.function_name();
    let first = status(&f);
    assert!(first.contains("live:     version 1 "), "{first}");
    // Every alarm of the environment with its state; one forced into ALARM says why.
    let errors = format!("{}-function-errors", function.trim_end_matches("-api"));
    assert!(first.contains(&format!("alarm:    {errors} ")), "{first}");
    let call = aws.cloudwatch.set_alarm_state().alarm_name(&errors);
    let call = call.state_value(aws_sdk_cloudwatch::types::StateValue::Alarm);
    call.state_reason("forced by the test")
        .send()
        .await
        .unwrap();
    let alarmed = status(&f);
    assert!(
        alarmed.contains(&format!("alarm:    {errors} ALARM: forced by the test")),
        "{alarmed}"
    );

    // API Gateway invokes the alias, never $LATEST, and the permission is on the alias.
    let apis = aws.apigw.get_apis().send().await.unwrap();
    let api = apis
        .items()
        .iter()
        .find(|a| a.name() == Some(f.api_name().as_str()))
        .expect("the stack's API");
    let integrations = aws.apigw.get_integrations();
    let integrations = integrations
        .api_id(api.api_id().unwrap())
        .send()
        .await
        .unwrap();
    let uri = integrations.items()[0]
        .integration_uri()
        .unwrap_or_default();
    assert!(uri.contains(&format!(":function:{function}:live")), "{uri}");
    let policy = aws
        .lambda
        .get_policy()
        .function_name(&function)
        .qualifier("live");
    assert!(policy.send().await.is_ok(), "the alias has its permission");

    f.new_code("two");
    f.apply();
    let now = status(&f);
    assert!(now.contains("live:     version 2 "), "{now}");
    assert!(now.contains("versions: 1, 2"), "{now}");
    let (code, out) = f.plan();
    assert_eq!(code, 0, "converged: {out}");

    let back = f.ok(&["rollback", "--env", "dev"]);
    assert!(
        back.contains("version 1 serves everything again (was version 2)"),
        "{back}"
    );
    assert!(status(&f).contains("live:     version 1 "));
    // The next plan moves forward again: the declared code is version 2's.
    f.plan_shows(&["~ lambda_alias.live"]);
    f.apply();
    assert!(status(&f).contains("live:     version 2 "));

    // Nothing older to go back to from the first version.
    f.ok(&["rollback", "--env", "dev"]);
    let refused = f.run(&["rollback", "--env", "dev"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("no version older than the live one (1)"),
        "{stderr}"
    );
    f.destroy();
}
