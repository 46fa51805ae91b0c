//! SIGKILL at several points of an apply and of a destroy: the next run converges with no
//! duplicates, and destroy then leaves nothing behind.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{Aws, Fixture};

/// Starts `args`, SIGKILLs it as soon as a stderr line contains `trigger`; returns whether the
/// trigger was seen before the run ended by itself.
fn kill_when(f: &Fixture, args: &[&str], trigger: &str) -> bool {
    let mut child = f
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start provisioner");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut seen = false;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        eprintln!("[child] {line}");
        if line.contains(trigger) {
            // Child::kill sends SIGKILL on Unix.
            child.kill().expect("SIGKILL");
            seen = true;
            break;
        }
    }
    let status = child.wait().expect("wait");
    eprintln!("killed at {trigger:?}: seen={seen}, status={status:?}");
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_apply_and_destroy_converges_without_duplicates() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    let apply = ["apply", "--env", "dev", "--auto-approve"];
    let mut seen = 0;
    for trigger in [
        "iam_role.lambda: creating",
        "dynamodb_table.playground: created",
        "lambda_function.api: creating",
        "apigw_integration.lambda: creating",
        "apigw_route.put_user: creating",
        "lambda_permission.apigw: creating",
    ] {
        if kill_when(&f, &apply, trigger) {
            seen += 1;
        }
    }
    assert!(seen >= 3, "the kills hit a running apply ({seen} did)");

    // Converges: one of everything, then an empty plan.
    f.apply();
    assert_eq!(aws.function_count(&f.prefix).await, 1);
    let apis = aws.api_ids(&f.api_name()).await;
    assert_eq!(apis.len(), 1, "no duplicate API");
    assert_eq!(
        aws.route_keys(&apis[0]).await.len(),
        7,
        "no duplicate route"
    );
    assert_eq!(
        aws.integration_count(&apis[0]).await,
        1,
        "no duplicate integration"
    );
    assert_eq!(f.plan().0, 0);

    // A destroy killed half way, then a destroy that finishes: nothing left.
    let destroy = ["destroy", "--env", "dev", "--auto-approve"];
    kill_when(&f, &destroy, "destroyed after");
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_after_a_killed_first_apply_finds_what_the_state_lost() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    let apply = ["apply", "--env", "dev", "--auto-approve"];
    // Killed while the function is being created: the state may not know it yet.
    assert!(kill_when(&f, &apply, "lambda_function.api: creating"));
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}
