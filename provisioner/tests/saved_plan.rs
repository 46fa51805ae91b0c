//! A saved plan is applied exactly, and refused when the state moved or the stack changed
//! since it was saved.

use crate::common;

use common::identity::refused;
use common::{Aws, Fixture};

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_after_the_state_or_stack_moved() {
    let f = Fixture::new("");
    let aws = Aws::new().await;

    // From nothing: a saved plan applies exactly.
    f.ok(&["plan", "--env", "dev", "--out", "first.plan"]);
    let out = f.ok(&["apply", "--env", "dev", "first.plan"]);
    let resources = f.resource_count();
    assert!(
        out.contains(&format!("Resources: {resources} added")),
        "{out}"
    );
    // Applying it twice is refused: the state moved (it applied).
    let again = refused(&f, &["apply", "--env", "dev", "first.plan"]);
    assert!(again.contains("stale"), "{again}");

    // Save a plan, then let another apply move the state: the plan is refused.
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    f.ok(&["plan", "--env", "dev", "--out", "memory.plan"]);
    f.write_stack("[env.dev.lambda]\nmemory_mb = 1024\n");
    f.apply();
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    let before = std::fs::read(f.state_file()).unwrap();
    let stderr = refused(&f, &["apply", "--env", "dev", "memory.plan"]);
    assert!(
        stderr.contains("stale") && stderr.contains("run plan again"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(f.state_file()).unwrap(),
        before,
        "nothing written"
    );
    let memory = aws
        .function_configuration(&f.function_name())
        .await
        .memory_size();
    assert_eq!(memory, Some(1024), "nothing applied");

    // Save a plan, then change the stack: refused too.
    f.ok(&["plan", "--env", "dev", "--out", "stack.plan"]);
    f.write_stack("[env.dev.lambda]\nmemory_mb = 2048\n");
    let stderr = refused(&f, &["apply", "--env", "dev", "stack.plan"]);
    assert!(stderr.contains("changed since this plan"), "{stderr}");

    // Without a terminal and without --auto-approve, apply refuses to go ahead.
    let unconfirmed = refused(&f, &["apply", "--env", "dev"]);
    assert!(unconfirmed.contains("--auto-approve"), "{unconfirmed}");

    aws.destroy_to_nothing(&f).await;
}
