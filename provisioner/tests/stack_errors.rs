//! A malformed stack file is reported with its file, line and a hint, by every command, and
//! nothing is touched: no state written, nothing created in AWS.

use crate::common;

use common::{Aws, Fixture};

fn assert_refused(f: &Fixture, args: &[&str], expect: &[&str]) {
    let output = f.run(args);
    assert_eq!(output.status.code(), Some(1), "{args:?} must fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in expect {
        assert!(
            stderr.contains(needle),
            "{args:?}: missing {needle:?} in:\n{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_stack_files_give_their_location_and_touch_nothing() {
    let aws = Aws::new().await;
    let cases: [(&str, &[&str]); 4] = [
        // An unknown key, with the closest valid one.
        (
            "[env.dev.lambda]\nmemroy_mb = 512\n",
            &[
                "stack.toml:",
                "unknown field `memroy_mb`",
                "did you mean `memory_mb`?",
            ],
        ),
        // A value out of range.
        (
            "[env.dev.lambda]\nmemory_mb = 64\n",
            &["stack.toml:", "memory_mb = 64", "128 to 10240"],
        ),
        // A wrong type.
        (
            "[env.dev.table]\npoint_in_time_recovery = \"yes\"\n",
            &["stack.toml:", "invalid type"],
        ),
        // Not TOML at all.
        ("[env.dev\n", &["stack.toml:"]),
    ];
    for (bad, expect) in cases {
        let f = Fixture::new("");
        // The fixture's own text ends with `[env.dev]`; append the bad part after it.
        f.write_stack(bad);
        let text = std::fs::read_to_string(f.stack_path()).unwrap();
        let bad_line = text
            .lines()
            .position(|l| l.starts_with(bad.lines().nth(1).unwrap_or(bad.trim())))
            .map(|i| i + 1)
            .unwrap();
        for args in [
            &["validate"][..],
            &["plan", "--env", "dev"][..],
            &["apply", "--env", "dev", "--auto-approve"][..],
            &["destroy", "--env", "dev", "--auto-approve"][..],
        ] {
            let mut needles: Vec<String> = expect.iter().map(|s| s.to_string()).collect();
            if !bad.starts_with("[env.dev\n") {
                needles.push(format!("stack.toml:{bad_line}:"));
            }
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            assert_refused(&f, args, &needles);
        }
        assert!(
            !f.dir.path().join(".provisioner").exists(),
            "no state was written"
        );
        assert!(aws.leftovers(&f).await.is_empty(), "nothing was created");
    }
}

#[test]
fn an_undeclared_environment_names_the_declared_ones() {
    let f = Fixture::new("");
    let output = f.run(&["plan", "--env", "qa"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'qa' is not declared"), "{stderr}");
    assert!(stderr.contains("[env.qa]"), "{stderr}");
}

#[test]
fn validate_accepts_the_fixture_and_the_shipped_stack() {
    let f = Fixture::new("");
    let out = f.ok(&["validate"]);
    assert!(out.contains("is valid"), "{out}");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../stack.toml");
    let out = f.ok(&["validate", "--stack", shipped.to_str().unwrap()]);
    assert!(
        out.contains("dev") && out.contains("prod") && out.contains("stage"),
        "{out}"
    );
}

/// The deploy workflows set PROVISIONER_REQUIRE_REMOTE_STATE=1: a local state file on a runner
/// would be thrown away with it, and the next deploy would duplicate everything.
#[test]
fn a_local_state_is_refused_where_remote_state_is_required() {
    let f = Fixture::new("");
    for args in [
        &["plan", "--env", "dev"][..],
        &["apply", "--env", "dev", "--auto-approve"][..],
    ] {
        let output = f
            .command(args)
            .env("PROVISIONER_REQUIRE_REMOTE_STATE", "1")
            .output()
            .expect("run provisioner");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("state backend of environment dev is local")
                && stderr.contains("type = \"s3\""),
            "{args:?}: {stderr}"
        );
        assert!(!f.state_file().exists(), "no state may be written");
    }
}

/// The function zip is hashed beside the run's first AWS calls, but a zip that is not there is
/// still refused first, with its place in the stack file, before the state lock is taken (no
/// `.provisioner` directory, where the local lock file lives). A zip replaced after an apply is
/// a code change in the plan, and none once applied: the hash computed aside is the one the plan
/// compares. Both with local state and with S3 state under the DynamoDB lock.
#[test]
fn a_missing_zip_is_refused_before_the_lock_and_a_new_zip_is_planned() {
    for f in [Fixture::new(""), Fixture::on_s3("")] {
        missing_then_new_zip(&f);
    }
}

fn missing_then_new_zip(f: &Fixture) {
    let zip = f.dir.path().join("function.zip");
    let kept = std::fs::read(&zip).expect("the fixture's zip");
    std::fs::remove_file(&zip).expect("remove the zip");
    for args in [
        &["plan", "--env", "dev"][..],
        &["apply", "--env", "dev", "--auto-approve"][..],
    ] {
        assert_refused(f, args, &["function.zip", "no such file"]);
    }
    assert!(
        !f.dir.path().join(".provisioner").exists(),
        "refused before the lock: no lock file, no state"
    );
    std::fs::write(&zip, kept).expect("put the zip back");
    f.apply();
    let other = f.dir.path().join("bootstrap-other");
    std::fs::write(&other, b"#!/bin/sh\necho another release\n").expect("write");
    provisioner::package::zip_bootstrap(&other, &zip).expect("zip");
    let plan = f.run(&["plan", "--env", "dev", "--detailed-exitcode"]);
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "a new zip is a change:\n{stdout}"
    );
    assert!(
        stdout.contains("lambda_function.api") && stdout.contains("code_sha256"),
        "{stdout}"
    );
    f.apply();
    let again = f.run(&["plan", "--env", "dev", "--detailed-exitcode"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}
