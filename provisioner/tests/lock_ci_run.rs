//! A lock taken in a CI job records the job's run
//! (`GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`): when a cancelled or
//! killed run leaves the lock held, the next run's "locked" error and `force-unlock` both name
//! that run, so whoever frees the lock can first look at what the run was doing.

use crate::common;

use common::Fixture;
use common::kill::{APPLY, kill_at};

const RUN: &str = "https://github.com/octo/playground/actions/runs/4242";

#[test]
fn a_killed_ci_runs_lock_names_the_run_and_force_unlock_prints_it() {
    let bucket = testkit::unique_name("ci-state");
    let table = testkit::unique_name("ci-locks");
    let f = Fixture::new(&format!(
        "[env.dev.backend]\ntype = \"s3\"\nbucket = \"{bucket}\"\nlock_table = \"{table}\"\n"
    ));

    // An apply in a CI job, killed while it holds the lock.
    let mut apply = f.command(&APPLY);
    apply
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "octo/playground")
        .env("GITHUB_RUN_ID", "4242");
    let (mut child, killed) = kill_at(apply, "creating...");
    child.wait().expect("wait");
    assert!(killed, "the apply never started creating");

    // The next run is refused, naming the CI run that holds the lock.
    let plan = f
        .command(&["plan", "--env", "dev"])
        .env_remove("GITHUB_RUN_ID")
        .output()
        .unwrap();
    assert!(!plan.status.success());
    let error = String::from_utf8_lossy(&plan.stderr);
    assert!(error.contains(&format!("CI run {RUN}")), "{error}");
    let id = error
        .split("lock ID ")
        .nth(1)
        .and_then(|rest| rest.split([',', ')']).next())
        .expect("the error names the lock ID")
        .to_string();

    // force-unlock frees it and says which run held it.
    let out = f.ok(&["force-unlock", "--env", "dev", &id]);
    assert!(out.contains(&format!("CI run {RUN}")), "{out}");
    assert!(out.contains("operation 'apply'"), "{out}");

    // The stack converges and goes away as usual.
    f.apply();
    f.destroy();
}
