//! A cancelled run (Ctrl-C, or a cancelled CI job's SIGINT then SIGTERM) on the S3 backend with
//! its DynamoDB lock: it starts no new step, lets the step in flight finish, writes the state,
//! releases the lock and exits 130 (SIGINT) or 143 (SIGTERM) with a message. No force-unlock is
//! needed afterwards: the next command takes the lock at once, and the next apply converges.
//! A second signal stops the wait for the steps in flight; the lock is still released.

use crate::common;

use std::process::Command;

use common::kill::{APPLY, watch_stderr};
use common::{Aws, Fixture};

/// Sends `signal` (`INT`, `TERM`) to `pid`.
fn send(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Runs `args`, sending each signal of `steps` once a stderr line contains its trigger (in
/// order: a second signal waits for the line the first one made, as a person pressing Ctrl-C
/// twice does; sent back to back, the process could see them in either order). Returns the exit
/// code and the whole stderr.
fn signal_when(f: &Fixture, args: &[&str], steps: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut seen = String::new();
    let mut next = 0;
    let (mut child, _) = watch_stderr(f.command(args), |line, child| {
        if let Some((trigger, signal)) = steps.get(next)
            && line.contains(trigger)
        {
            send(signal, child.id());
            next += 1;
        }
        seen.push_str(line);
        seen.push('\n');
        false
    });
    let status = child.wait().expect("wait");
    assert_eq!(
        next,
        steps.len(),
        "`provisioner {args:?}` never printed {:?}",
        steps.get(next)
    );
    (status.code(), seen)
}

/// After a stopped run: the lock is free (no waiting, no force-unlock), the next apply
/// converges to one of everything, then destroy leaves nothing.
async fn the_next_run_just_continues(f: &Fixture, aws: &Aws) {
    let (code, out) = f.plan();
    assert_eq!(
        code, 2,
        "the lock is free and the rest is still to do: {out}"
    );
    f.apply();
    assert_eq!(aws.inventory(f).await, Aws::one_stack());
    assert_eq!(f.plan().0, 0);
    f.destroy();
    assert_eq!(aws.leftovers(f).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_during_apply_finishes_the_step_in_flight_and_releases_the_lock() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let (code, stderr) = signal_when(&f, &APPLY, &[("lambda_function.api: creating", "INT")]);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("stopped by SIGINT"), "{stderr}");
    assert!(
        stderr.contains("lambda_function.api: created after"),
        "the step in flight finished and was recorded: {stderr}"
    );
    assert!(
        !stderr.contains("apigw_integration.lambda: creating"),
        "no step started after the signal: {stderr}"
    );
    let listed = f.ok(&["state", "list", "--env", "dev"]);
    assert!(listed.contains("lambda_function.api"), "{listed}");
    assert!(
        !listed.contains("pending"),
        "nothing left pending: {listed}"
    );
    the_next_run_just_continues(&f, &aws).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_destroy_exits_143_and_releases_the_lock() {
    let (f, aws) = Fixture::on_s3("").applied().await;
    let destroy = ["destroy", "--env", "dev", "--auto-approve"];
    let (code, stderr) = signal_when(
        &f,
        &destroy,
        &[("lambda_permission.apigw: destroying", "TERM")],
    );
    assert_eq!(code, Some(143), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");
    // The destroy can be finished at once, by a destroy that needs no force-unlock.
    aws.destroy_to_nothing(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_stops_waiting_and_still_releases_the_lock() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let steps = [
        ("dynamodb_table.playground: creating", "INT"),
        ("Stopping: no new step starts", "TERM"),
    ];
    let (code, stderr) = signal_when(&f, &APPLY, &steps);
    assert_eq!(
        code,
        Some(130),
        "the first signal names the status: {stderr}"
    );
    assert!(stderr.contains("Stopping now"), "{stderr}");
    the_next_run_just_continues(&f, &aws).await;
}
