//! A no-op plan only reads: after an apply, `plan --stats` lists every AWS operation it sent
//! (see `provisioner/src/cli/stats.rs`), and each is a read, at most one per resource except
//! where an AWS API splits one resource over several reads.
//!
//! With the state in a local file under an OS file lock, the state and the lock cost no AWS call
//! at all; with the S3 backend deploys use they add exactly `s3.GET` (the state object) and the
//! DynamoDB lock's `dynamodb.PutItem`/`dynamodb.DeleteItem`. Both backends are checked.

use crate::common;

use std::collections::BTreeMap;

use common::Fixture;

/// Reads beyond one per resource, each unavoidable without losing drift detection or safety:
/// DynamoDB returns point-in-time recovery and tags apart from `DescribeTable`, CloudWatch
/// returns an alarm's tags and CloudWatch Logs a log group's apart from their describe calls
/// (both read, for all of a kind's objects at once, from the tagging API's `GetResources`), and
/// STS `GetCallerIdentity` names the account the credentials act in, which the state must belong
/// to (one call per command; the API's execution ARN, which holds the account id too, comes from
/// the state).
const EXTRA_READS: &[&str] = &[
    "dynamodb.DescribeContinuousBackups",
    "dynamodb.ListTagsOfResource",
    "tagging.GetResources",
    "sts.GetCallerIdentity",
];

/// Exactly what a no-op plan of the fixture's stack sends, per operation: one read per resource,
/// except the API's routes, all read from one `GetRoutes` listing (one page holds the API
/// contract's routes), the alarms, all described by one `DescribeAlarms`, the tags of the
/// alarms and of the log groups, one `GetResources` per kind, and the [`EXTRA_READS`].
fn expected() -> BTreeMap<String, usize> {
    [
        ("apigateway.GetApi", 1),
        ("apigateway.GetIntegration", 1),
        ("apigateway.GetRoutes", 1),
        ("apigateway.GetStage", 1),
        // The seven alarms described by one call, their tags by another; the dashboard.
        ("monitoring.DescribeAlarms", 1),
        ("monitoring.GetDashboard", 1),
        ("dynamodb.DescribeContinuousBackups", 1),
        ("dynamodb.DescribeTable", 1),
        ("dynamodb.ListTagsOfResource", 1),
        ("iam.GetRole", 1),
        ("iam.GetRolePolicy", 1),
        ("iam.ListAttachedRolePolicies", 1),
        ("lambda.GetAlias", 1),
        ("lambda.GetFunction", 1),
        ("lambda.GetPolicy", 1),
        // The function's log group and the stage's access log group.
        ("logs.DescribeLogGroups", 2),
        // The alarms' tags, and the log groups'.
        ("tagging.GetResources", 2),
        ("sts.GetCallerIdentity", 1),
    ]
    .into_iter()
    .map(|(operation, n)| (operation.to_string(), n))
    .collect()
}

/// A read by its name: `Get*`, `Describe*`, `List*`, `Head*` (and `s3.GET`/`s3.HEAD`).
fn is_read(operation: &str) -> bool {
    let name = operation
        .split_once('.')
        .map_or(operation, |(_, name)| name);
    ["Get", "Describe", "List", "Head", "GET", "HEAD"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// The `stats:` lines of stderr: (total calls, calls per operation).
fn stats(stderr: &str) -> (usize, BTreeMap<String, usize>) {
    let mut total = None;
    let mut operations = BTreeMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("stats: ") else {
            continue;
        };
        if let Some((calls, _)) = rest.split_once(" AWS calls, ") {
            total = Some(calls.parse().expect("a call count"));
        } else {
            let (operation, count) = rest.rsplit_once(' ').expect("`<operation> <count>`");
            operations.insert(operation.to_string(), count.parse().expect("a count"));
        }
    }
    (total.expect("the stats summary line"), operations)
}

/// What the S3 backend adds to a no-op plan: the lock taken and released (`PutItem`,
/// `DeleteItem`) and the state object read (`GET`).
const S3_BACKEND_CALLS: &[&str] = &["dynamodb.PutItem", "dynamodb.DeleteItem", "s3.GET"];

/// Applies `f`'s stack, then checks that a no-op plan sends only reads, at most one per resource
/// beyond the [`EXTRA_READS`] and `backend_calls`, exactly the [`expected`] ones plus those.
fn check_no_op_plan(f: &Fixture, backend_calls: &[&str]) {
    f.apply();
    let resources = f.resource_count();

    let output = f.run(&["plan", "--env", "dev", "--detailed-exitcode", "--stats"]);
    assert_eq!(output.status.code(), Some(0), "the plan is empty");
    let (total, mut operations) = stats(&String::from_utf8_lossy(&output.stderr));

    assert_eq!(
        operations.values().sum::<usize>(),
        total,
        "every call is named: {operations:?}"
    );
    for call in backend_calls {
        assert_eq!(
            operations.remove(*call),
            Some(1),
            "the backend's {call}: {operations:?}"
        );
    }
    let writes: Vec<&String> = operations.keys().filter(|op| !is_read(op)).collect();
    assert!(writes.is_empty(), "a no-op plan wrote: {writes:?}");
    let reads: usize = operations.values().sum();
    assert!(
        reads <= resources + EXTRA_READS.len(),
        "{reads} reads for {resources} resources: {operations:#?}"
    );
    assert_eq!(operations, expected());

    f.destroy();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_no_op_plan_sends_only_reads_at_most_one_per_resource() {
    check_no_op_plan(&Fixture::new(""), &[]);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_s3_state_a_no_op_plan_adds_only_the_lock_and_the_state_read() {
    check_no_op_plan(&Fixture::on_s3(""), S3_BACKEND_CALLS);
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_the_calls_of_commands_other_than_plan_too() {
    // `import` looks the role up before refusing it: that read must be counted.
    let f = Fixture::new("");
    let output = f.run(&[
        "import",
        "--env",
        "dev",
        "iam_role.lambda",
        "no-such-role-x1",
        "--stats",
    ]);
    assert!(!output.status.success(), "the role does not exist");
    let (total, operations) = stats(&String::from_utf8_lossy(&output.stderr));
    assert!(total >= 1, "import's calls are counted: {operations:?}");
    assert!(
        operations.get("iam.GetRole").is_some_and(|n| *n >= 1),
        "{operations:?}"
    );
}

#[test]
fn reads_are_told_from_writes_by_name() {
    assert!(is_read("lambda.GetFunction"));
    assert!(is_read("logs.DescribeLogGroups"));
    assert!(is_read("iam.ListAttachedRolePolicies"));
    assert!(is_read("s3.HEAD"));
    assert!(!is_read("dynamodb.PutItem"));
    assert!(!is_read("lambda.UpdateFunctionConfiguration"));
    assert!(!is_read("s3.PUT"));
}
