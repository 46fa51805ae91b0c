//! Two applies of one environment never interleave: the second waits for the state lock (or
//! fails at once with the lock holder's details when it may not wait).

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{Aws, Fixture};

/// An apply of dev that waits up to five minutes for the state lock.
const APPLY_WAITING_FOR_THE_LOCK: [&str; 6] = [
    "apply",
    "--env",
    "dev",
    "--auto-approve",
    "--lock-timeout",
    "5m",
];

#[tokio::test(flavor = "multi_thread")]
async fn two_applies_of_one_environment_serialize() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    let mut first = f
        .command(&APPLY_WAITING_FOR_THE_LOCK)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = first.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    // Wait until the first apply holds the lock and is working.
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains(": creating...") {
            break;
        }
    }

    // One that may not wait fails with the lock holder's details.
    let refused = f.run(&["apply", "--env", "dev", "--auto-approve"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("locked"), "{message}");
    assert!(message.contains("force-unlock"), "{message}");

    // One that may wait runs after the first and finds nothing left to do.
    let second = f.command(&APPLY_WAITING_FOR_THE_LOCK).output().unwrap();
    for line in lines {
        let _ = line;
    }
    assert!(first.wait().unwrap().success(), "the first apply succeeds");
    let second_out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        second_out.contains("No changes."),
        "the second saw the first's result:\n{second_out}"
    );

    assert_eq!(aws.api_ids(&f.api_name()).await.len(), 1);
    assert_eq!(aws.function_count(&f.prefix).await, 1);
    aws.destroy_to_nothing(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_of_different_environments_run_side_by_side() {
    let f = Fixture::new("[env.stage]\n");
    let aws = Aws::new().await;
    // Both start before either is waited for.
    let applies = ["dev", "stage"].map(|env| {
        f.command(&["apply", "--env", env, "--auto-approve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    });
    // Neither waits for the other's lock (--lock-timeout is 0): both succeed.
    for child in applies {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(aws.api_ids(&f.api_name()).await.len(), 1);
    assert_eq!(
        aws.api_ids(&format!("{}-stage-http-api", f.prefix))
            .await
            .len(),
        1
    );
    assert!(
        aws.table_exists(&format!("{}-stage-playground", f.prefix))
            .await
    );
    f.destroy();
    f.ok(&["destroy", "--env", "stage", "--auto-approve"]);
    assert!(aws.leftovers(&f).await.is_empty());
    assert_eq!(aws.function_count(&f.prefix).await, 0);
}
