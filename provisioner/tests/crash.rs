//! SIGKILL at ten points of an apply (nine across a first apply, one during an in-place
//! update), each in a fresh stack with its state in a local file: the kill must land while the
//! apply runs, the next apply then converges with exactly one of everything (counted by listing
//! each service), the plan after it is empty, and destroy leaves nothing behind. Also a destroy
//! killed half way, and a destroy right after a killed first apply.
//!
//! The ten points are the apply's progress lines on stderr (`<address>: creating...` is printed
//! once the step's pending operation is in the state, right before its AWS calls;
//! `<address>: created after ...` once the result is in the state). The kill lands as that step
//! starts or ends, while independent steps may be in flight, so whether AWS then holds an object
//! the state does not know is up to timing: `crash_unheard.rs` makes that window certain.
//! The same on the S3 backend, with the lock a killed run leaves: `crash_s3.rs`.
//!
//! Each point is its own test, so they run in parallel and a failure names its point.

use crate::common;

use common::kill::{APPLY, DESTROY, destroys_to_nothing, kill_when, reapply_converges, recovers};
use common::{Aws, Fixture};

/// A first apply of a fresh stack killed at `point`.
async fn first_apply_killed_at(point: &str) {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    kill_when(&f, &APPLY, point);
    recovers(&f, &aws, point).await;
}

common::scenario_tests!(
    first_apply_killed_at;
    killed_while_creating_the_role => "iam_role.lambda: creating",
    killed_while_creating_the_table => "dynamodb_table.playground: creating",
    killed_after_creating_the_log_group => "log_group.lambda: created",
    killed_after_creating_the_role_policy => "iam_role_policy.dynamodb: created",
    killed_while_creating_the_function => "lambda_function.api: creating",
    killed_after_creating_the_api => "apigw_api.http: created",
    killed_while_creating_the_integration => "apigw_integration.lambda: creating",
    killed_while_creating_a_route => "apigw_route.put_user: creating",
    killed_while_creating_the_permission => "lambda_permission.apigw: creating",
);

/// The tenth point: an in-place update (memory changed in the stack file) killed mid-step.
#[tokio::test(flavor = "multi_thread")]
async fn killed_while_updating_the_function() {
    let point = "lambda_function.api: updating";
    let (f, aws) = Fixture::new("").applied().await;
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    kill_when(&f, &APPLY, point);

    reapply_converges(&f, &aws, point).await;
    let config = aws.function_configuration(&f.function_name()).await;
    assert_eq!(config.memory_size(), Some(512), "the update was completed");
    destroys_to_nothing(&f, &aws, point).await;
}

/// A destroy killed half way, then a destroy that finishes: nothing left.
#[tokio::test(flavor = "multi_thread")]
async fn killed_destroy_then_destroy_leaves_nothing() {
    let (f, aws) = Fixture::new("").applied().await;
    kill_when(&f, &DESTROY, "destroyed after");
    aws.destroy_to_nothing(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_after_a_killed_first_apply_finds_what_the_state_lost() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    // Killed while the function is being created: the state may not know it yet.
    kill_when(&f, &APPLY, "lambda_function.api: creating");
    aws.destroy_to_nothing(&f).await;
}
