//! What a CI job and a terminal rely on, through the real binary: exit statuses (0 success, 1
//! any error including usage errors, 2 only for `plan --detailed-exitcode` with changes) and
//! colour only where it is wanted.

mod common;

use common::Fixture;

const ESC: char = '\u{1b}';

#[test]
fn usage_errors_exit_1_never_the_changes_status() {
    let f = Fixture::new("");
    let cases: [&[&str]; 4] = [
        // A bad value: read as "changes" by a CI job when it exited 2.
        &["plan", "--env", "dev", "--detailed-exitcode", "--lock-timeout=abc"],
        &["plan", "--detailed-exitcode"],
        &["plan", "--env", "dev", "--no-such-flag"],
        &["no-such-command"],
    ];
    for args in cases {
        let output = f.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
    }
    let bad_duration = f.run(&["plan", "--env", "dev", "--lock-timeout=abc"]);
    let stderr = String::from_utf8_lossy(&bad_duration.stderr);
    assert!(stderr.contains("'abc' is not a duration"), "{stderr}");
}

#[test]
fn help_and_version_exit_0() {
    let f = Fixture::new("");
    for args in [&["--help"][..], &["--version"], &["plan", "--help"]] {
        let output = f.run(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?} prints to stdout");
    }
}

#[test]
fn colour_follows_the_color_flag_and_no_color() {
    let f = Fixture::new("");
    let plan = ["plan", "--env", "dev", "-v"];
    let piped = f.run(&plan);
    assert!(piped.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&piped.stdout),
        String::from_utf8_lossy(&piped.stderr),
    );
    assert!(stderr.contains("INFO"), "-v logs at info: {stderr}");
    assert!(!stdout.contains(ESC), "no colour into a pipe: {stdout}");
    assert!(!stderr.contains(ESC), "no colour in piped logs: {stderr}");

    let forced = f
        .command(&["--color", "always", "plan", "--env", "dev", "-v"])
        .env_remove("NO_COLOR")
        .output()
        .expect("run provisioner");
    assert!(forced.status.success());
    assert!(String::from_utf8_lossy(&forced.stdout).contains(ESC));
    assert!(String::from_utf8_lossy(&forced.stderr).contains(ESC));

    let refused = f.run(&["--color", "sometimes", "validate"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("always") && stderr.contains("never"), "{stderr}");
}
