//! SIGKILL on the S3 backend with its DynamoDB lock, where a killed run leaves its lock behind:
//! a destroy killed at nine points spread over its run (from right after it took the lock to its
//! last deletes), a first apply killed at three points, and an apply that renames objects
//! (create-before-destroy replacements, the old objects deposed in the state) killed at two. Each
//! is followed by what an operator does: the next apply is refused naming the lock, the
//! `provisioner force-unlock --env dev ID` its error prints frees it, and that apply is run
//! again; it must converge (no "someone else wrote the state"), then the plan is empty and
//! destroy leaves nothing. Also a renaming apply killed and then reverted.
//!
//! Each point is its own test, so they run in parallel and a failure names its point.

use crate::common;

use common::kill::{APPLY, destroys_to_nothing, kill_when, recovers};
use common::{Aws, Fixture};

/// A destroy of a whole stack whose state is in S3, locked in DynamoDB, killed at `point`:
/// the lock stays. The next apply is refused and names it; after force-unlock that apply
/// converges, the plan is empty, destroy leaves nothing.
async fn s3_destroy_killed_at(point: &str) {
    let (f, aws) = Fixture::on_s3("").applied().await;
    kill_when(&f, &VERBOSE_DESTROY, point);
    f.force_unlock_after_kill(&APPLY, "dev");
    recovers(&f, &aws, point).await;
}

/// Destroy with `-v`, so "state locked" is printed once the lock is held, before any read.
const VERBOSE_DESTROY: [&str; 5] = ["-v", "destroy", "--env", "dev", "--auto-approve"];

common::scenario_tests!(
    s3_destroy_killed_at;
    s3_destroy_killed_once_it_holds_the_lock => "state locked",
    s3_destroy_killed_while_destroying_a_route => "apigw_route.get_users: destroying",
    s3_destroy_killed_after_destroying_the_stage => "apigw_stage.main: destroyed",
    s3_destroy_killed_after_destroying_the_integration => "apigw_integration.lambda: destroyed",
    s3_destroy_killed_while_destroying_the_function => "lambda_function.api: destroying",
    s3_destroy_killed_after_destroying_the_function => "lambda_function.api: destroyed",
    s3_destroy_killed_after_destroying_the_role_policy => "iam_role_policy.dynamodb: destroyed",
    s3_destroy_killed_while_destroying_the_role => "iam_role.lambda: destroying",
    s3_destroy_killed_while_destroying_the_table => "dynamodb_table.playground: destroying",
);

/// A first apply on the S3 backend killed at `point`, then force-unlock and the same checks.
async fn s3_first_apply_killed_at(point: &str) {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    kill_when(&f, &APPLY, point);
    f.force_unlock_after_kill(&APPLY, "dev");
    recovers(&f, &aws, point).await;
}

common::scenario_tests!(
    s3_first_apply_killed_at;
    s3_first_apply_killed_while_creating_the_role => "iam_role.lambda: creating",
    s3_first_apply_killed_while_creating_the_function => "lambda_function.api: creating",
    s3_first_apply_killed_after_creating_the_integration => "apigw_integration.lambda: created",
);

/// An applied stack on the S3 backend, then an apply that renames its objects (a new name
/// prefix under the same `[stack] name`, the table's name kept) killed at `point`. Returns the
/// stack, the SDK clients, and the old and new prefixes.
async fn renaming_apply_killed_at(point: &str) -> (Fixture, Aws, String, String) {
    let (f, aws) = Fixture::on_s3("").applied().await;
    let (old, new) = (f.prefix.clone(), format!("{}r", f.prefix));
    f.write_stack(&format!(
        "[env.dev.stack]\nname_prefix = \"{new}\"\nname = \"{old}\"\n\n\
         [env.dev.table]\nname = \"{}\"\n",
        f.table_name()
    ));
    kill_when(&f, &APPLY, point);
    (f, aws, old, new)
}

/// An apply that renames the stack's objects (a new name prefix under the same `[stack] name`,
/// the table's name kept), killed at `point` while old and new objects both exist. After
/// force-unlock, the next apply finishes the rename: one role, function, log group, each under
/// its new name, the old ones deleted; then an empty plan and a destroy to nothing.
async fn s3_rename_killed_at(point: &str) {
    let (f, aws, old, new) = renaming_apply_killed_at(point).await;
    f.force_unlock_after_kill(&APPLY, "dev");
    f.apply();

    let counts = [
        aws.role_count(&old).await,
        aws.function_count(&old).await,
        aws.log_group_count(&format!("/aws/lambda/{old}")).await,
        aws.table_count(&old).await,
        aws.api_ids(&format!("{new}-dev-http-api")).await.len(),
    ];
    assert_eq!(
        counts, [1; 5],
        "role, function, log group, table, API after {point:?}"
    );
    assert!(aws.role_exists(&format!("{new}-dev-lambda")).await);
    assert!(aws.function_exists(&format!("{new}-dev-api")).await);
    let policy = aws.function_policy(&format!("{new}-dev-api")).await;
    assert!(
        policy.contains("AllowApiGatewayInvoke"),
        "the new function has its invoke permission: {policy}"
    );
    assert_eq!(
        aws.permission_count(&f).await,
        0,
        "the old function's permission (or the function) is left"
    );
    assert_eq!(f.plan().0, 0, "the plan after the re-apply is not empty");
    aws.destroy_to_nothing(&f).await;
    let left = [
        aws.role_count(&old).await,
        aws.function_count(&old).await,
        aws.log_group_count(&format!("/aws/lambda/{old}")).await,
        aws.table_count(&old).await,
    ];
    assert_eq!(left, [0; 4], "left behind after a kill at {point:?}");
}

common::scenario_tests!(
    s3_rename_killed_at;
    s3_rename_killed_once_the_new_function_exists => "lambda_function.api: replaced",
    s3_rename_killed_while_deleting_the_old_permission => "lambda_permission.apigw#deposed-0: destroying",
);

/// A renaming apply killed once the new role exists (the old one deposed in the state, still
/// in AWS), then the operator reverts the stack file to the old names and applies again: the
/// old objects are declared again, so they must stay (or come back) and be what the function
/// uses, the new ones go, and one apply converges.
#[tokio::test(flavor = "multi_thread")]
async fn s3_rename_killed_then_reverted_keeps_the_old_objects() {
    let point = "iam_role.lambda: replaced";
    let (f, aws, _, new) = renaming_apply_killed_at(point).await;
    f.write_stack("");
    f.force_unlock_after_kill(&APPLY, "dev");
    f.apply();

    let role = f.role_name();
    assert!(
        aws.role_exists(&role).await,
        "the declared role {role} was deleted by the apply that declared it"
    );
    let config = aws.function_configuration(&f.function_name()).await;
    assert!(
        config
            .role()
            .is_some_and(|r| r.ends_with(&format!("/{role}"))),
        "{config:?}"
    );
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    assert!(!aws.role_exists(&format!("{new}-dev-lambda")).await);
    let (code, plan) = f.plan();
    assert_eq!(
        code, 0,
        "one apply after the revert does not converge: {plan}"
    );
    destroys_to_nothing(&f, &aws, point).await;
}
