//! A canary release through the real binary, with the stack file's `[release]` and `[alarms]`
//! (durations in seconds): an alarm forced into ALARM mid-bake rolls the alias back and fails
//! the apply naming the alarm; an apply killed with SIGKILL mid-bake leaves the alias weighted,
//! which the next plan shows and the next apply finishes (on the S3 backend, after the
//! `force-unlock` its left lock asks for).

use crate::common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use common::{Aws, Fixture};

/// Half the traffic for 4 s, then 4 s more before the alias moves fully: long enough to act
/// in, short enough for a test.
const CANARY: &str =
    "[release]\nstrategy = \"canary\"\npercent = 50\ninterval = \"4s\"\nbake = \"4s\"\n";

/// The alias `live`: (its version, the weighted version and its weight, if any).
async fn live(aws: &Aws, function: &str) -> (String, Option<(String, f64)>) {
    let call = aws.lambda.get_alias().function_name(function).name("live");
    let alias = call.send().await.expect("get_alias");
    let weights = alias
        .routing_config()
        .and_then(|r| r.additional_version_weights());
    let weighted = weights.and_then(|w| w.iter().next().map(|(v, w)| (v.clone(), *w)));
    (
        alias.function_version().unwrap_or_default().to_string(),
        weighted,
    )
}

/// Waits (up to 60 s) until the alias weights a second version: the canary's step has begun.
async fn until_weighted(aws: &Aws, function: &str, apply: &mut Child) -> (String, f64) {
    let started = Instant::now();
    loop {
        if let (_, Some(weighted)) = live(aws, function).await {
            return weighted;
        }
        if let Ok(Some(status)) = apply.try_wait() {
            panic!("the apply ended ({status}) before the alias was weighted");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the alias was never weighted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn spawn_apply(f: &Fixture) -> Child {
    let mut command = f.command(&["apply", "--env", "dev", "--auto-approve"]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.spawn().expect("start the apply")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_mid_bake_rolls_the_canary_back_and_fails_the_apply() {
    let (f, aws) = Fixture::new(CANARY).applied().await;
    let function = f.function_name();
    assert_eq!(live(&aws, &function).await, ("1".to_string(), None));

    f.new_code("two");
    let mut apply = spawn_apply(&f);
    let (version, weight) = until_weighted(&aws, &function, &mut apply).await;
    assert_eq!((version.as_str(), weight), ("2", 0.5));
    // The new version's own errors alarm fires while it takes half the traffic.
    let alarm = format!("{}-dev-new-version-errors", f.prefix);
    let call = aws.cloudwatch.set_alarm_state().alarm_name(&alarm);
    let call = call.state_value(StateValue::Alarm);
    call.state_reason("forced mid-bake by the test")
        .send()
        .await
        .unwrap();

    let output = apply.wait_with_output().expect("the apply ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "a rolled-back release fails the apply: {stderr}"
    );
    assert!(
        stderr.contains("lambda_alias.live: version 2 takes 50% of the traffic, ")
            && stderr.contains("alarms: 6 watched: "),
        "the step says where it is, by default: {stderr}"
    );
    assert!(stderr.contains(&alarm), "names the alarm: {stderr}");
    assert!(
        stderr.contains("forced mid-bake by the test"),
        "says why: {stderr}"
    );
    assert_eq!(
        live(&aws, &function).await,
        ("1".to_string(), None),
        "the alias is back on the version before, with no weight"
    );
    let status = f.ok(&["status", "--env", "dev"]);
    assert!(status.contains("live:     version 1 "), "{status}");
    assert!(
        status.contains(&format!("alarm:    {alarm} ALARM")),
        "{status}"
    );
    f.destroy();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_killed_mid_bake_shows_in_the_plan_and_the_next_apply_finishes_it() {
    killed_mid_bake_then_finished(Fixture::new(CANARY), false).await;
}

/// The same on the backend deploys use: the killed apply leaves its DynamoDB lock, which the
/// next run names; after `force-unlock` the plan shows the half-weighted alias.
#[tokio::test(flavor = "multi_thread")]
async fn on_s3_a_rollout_killed_mid_bake_is_finished_after_force_unlock() {
    killed_mid_bake_then_finished(Fixture::on_s3(CANARY), true).await;
}

async fn killed_mid_bake_then_finished(f: Fixture, leaves_a_lock: bool) {
    let (f, aws) = f.applied().await;
    let function = f.function_name();

    f.new_code("two");
    let mut apply = spawn_apply(&f);
    until_weighted(&aws, &function, &mut apply).await;
    apply.kill().expect("SIGKILL the apply");
    apply.wait().expect("reaped");
    assert_eq!(
        live(&aws, &function).await,
        ("1".to_string(), Some(("2".to_string(), 0.5))),
        "killed mid-bake, the alias is left half way"
    );
    if leaves_a_lock {
        f.force_unlock_after_kill(&["plan", "--env", "dev"], "dev");
    }

    let status = f.ok(&["status", "--env", "dev"]);
    assert!(
        status.contains("rollout:  version 2 takes 50% of the traffic"),
        "{status}"
    );
    let shown = f.plan_shows(&["~ lambda_alias.live"]);
    assert!(shown.contains("additional_version_weights"), "{shown}");

    f.apply();
    assert_eq!(
        live(&aws, &function).await,
        ("2".to_string(), None),
        "the next apply finished the rollout"
    );
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "converged: {plan}");
    f.destroy();
}
