//! What a CI job and a terminal rely on, through the real binary: exit statuses (0 success, 1
//! any error including usage errors, 2 only for `plan --detailed-exitcode` with changes) and
//! colour only where it is wanted.

use crate::common;

use common::Fixture;
use common::identity::refused;

const ESC: char = '\u{1b}';

#[test]
fn usage_errors_exit_1_never_the_changes_status() {
    let f = Fixture::new("");
    let cases: [&[&str]; 4] = [
        // A bad value: read as "changes" by a CI job when it exited 2.
        &[
            "plan",
            "--env",
            "dev",
            "--detailed-exitcode",
            "--lock-timeout=abc",
        ],
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

    let stderr = refused(&f, &["--color", "sometimes", "validate"]);
    assert!(
        stderr.contains("always") && stderr.contains("never"),
        "{stderr}"
    );
}

#[test]
fn force_unlock_with_nothing_locked_says_so() {
    let on_s3 = Fixture::on_s3("");
    // The bucket and lock table exist once an apply has run (or bootstrap).
    on_s3.apply();
    for f in [Fixture::new(""), on_s3] {
        let output = f.run(&["force-unlock", "--env", "dev", "some-id"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("is not locked: there is nothing to unlock"),
            "{stderr}"
        );
        assert!(!stderr.contains("was not found"), "{stderr}");
    }
}

/// Environment variables to set (`Some`) or remove (`None`).
type EnvChanges<'a> = &'a [(&'a str, Option<&'a str>)];

/// Runs `args` with the fixture's environment changed by `env`.
fn run_with(f: &Fixture, args: &[&str], env: EnvChanges<'_>) -> (i32, String) {
    let mut command = f.command(args);
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let output = command.output().expect("run provisioner");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    eprintln!("$ provisioner {}\n{stderr}", args.join(" "));
    (output.status.code().unwrap_or(-1), stderr)
}

/// The error line: what follows `error: ` (logs may come before it).
fn error_line(stderr: &str) -> &str {
    let line = stderr.lines().find(|l| l.starts_with("error: "));
    line.unwrap_or_else(|| panic!("no error line in:\n{stderr}"))
}

#[test]
fn aws_errors_are_one_line_that_says_what_to_do() {
    let f = Fixture::new("");
    let plan = ["plan", "--env", "dev"];
    let closed = [("AWS_ENDPOINT_URL", Some("http://127.0.0.1:1"))];
    let no_credentials = [
        ("AWS_ACCESS_KEY_ID", None),
        ("AWS_SECRET_ACCESS_KEY", None),
        ("AWS_SESSION_TOKEN", None),
        ("AWS_PROFILE", None),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            Some("/nonexistent/credentials"),
        ),
        ("AWS_CONFIG_FILE", Some("/nonexistent/config")),
        ("AWS_EC2_METADATA_DISABLED", Some("true")),
    ];
    let missing_backend = format!(
        "[stack]\nname_prefix = \"{}\"\n[lambda]\npackage = \"function.zip\"\n\
         [backend]\ntype = \"s3\"\nbucket = \"{0}-none\"\nlock_table = \"{0}-none\"\n[env.dev]\n",
        f.prefix
    );
    std::fs::write(f.dir.path().join("missing.toml"), missing_backend).expect("write");
    let missing = ["--stack", "missing.toml", "plan", "--env", "dev"];
    let cases: [(&[&str], EnvChanges<'_>, &[&str]); 3] = [
        (
            &plan,
            &closed,
            &[
                "cannot reach the endpoint http://127.0.0.1:1 (from AWS_ENDPOINT_URL)",
                "Connection refused",
            ],
        ),
        (
            &plan,
            &no_credentials,
            &["no AWS credentials found", "AWS_PROFILE"],
        ),
        (
            &missing,
            &[],
            &[
                "ResourceNotFoundException",
                "The lock table does not exist",
                "`provisioner --stack missing.toml bootstrap`",
            ],
        ),
    ];
    for (args, env, expected) in cases {
        let (code, stderr) = run_with(&f, args, env);
        assert_eq!(code, 1, "{stderr}");
        let line = error_line(&stderr);
        for text in expected {
            assert!(line.contains(text), "{text:?} missing from: {line}");
        }
        for dump in ["DispatchFailure", "ServiceError", "headers:", "SdkBody"] {
            assert!(!line.contains(dump), "{dump} in: {line}");
        }
        assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
    }
    // The full chain is still there for whoever asks for it.
    let (_, verbose) = run_with(&f, &["-v", "plan", "--env", "dev"], &closed);
    assert!(verbose.contains("DispatchFailure"), "{verbose}");
}

#[test]
fn a_reader_that_goes_away_is_not_a_crash() {
    let f = Fixture::new("");
    let mut child = f
        .command(&[
            "bootstrap",
            "--print-policy",
            "--repo",
            "owner/name",
            "--account-id",
            "123456789012",
            "--bucket",
            "some-state-bucket",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run provisioner");
    // `| head -c 0`: the reader is gone before the policy is written.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn an_apply_nobody_reads_any_more_still_finishes() {
    // With the S3 backend, a run that dies keeps its DynamoDB lock (a local state's OS file lock
    // goes with the process), so the plan after it tells a finished run from a crashed one.
    for f in [Fixture::new(""), Fixture::on_s3("")] {
        // `provisioner -vv apply ... 2>&1 | head -c 0`: logs, progress and the plan all go to a
        // pipe whose reader is gone before the first line, while the lock is held.
        let mut child = f
            .command(&["-vv", "apply", "--env", "dev", "--auto-approve"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run provisioner");
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "no panic (101), a finished apply");
        let plan = f.run(&[
            "plan",
            "--env",
            "dev",
            "--detailed-exitcode",
            "--lock-timeout",
            "0s",
        ]);
        let stderr = String::from_utf8_lossy(&plan.stderr);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "applied and unlocked: {stderr}"
        );
        f.destroy();
    }
}

#[test]
fn suggested_commands_name_the_stack_file_in_use() {
    let f = Fixture::new("");
    std::fs::copy(f.stack_path(), f.dir.path().join("other stack.toml")).expect("copy");
    let stack = ["--stack", "other stack.toml"];
    let no_state = f.run(
        &[
            &stack[..],
            &["state", "show", "--env", "dev", "iam_role.lambda"],
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&no_state.stderr);
    assert!(
        stderr.contains("`provisioner --stack 'other stack.toml' apply --env dev`"),
        "{stderr}"
    );
    let saved = f.run(&[&stack[..], &["plan", "--env", "dev", "--out", "dev.plan"]].concat());
    let stdout = String::from_utf8_lossy(&saved.stdout);
    assert!(
        stdout.contains("provisioner --stack 'other stack.toml' apply --env dev dev.plan"),
        "{stdout}"
    );
    // With the default stack file, the commands are as short as before.
    let default = f.run(&["plan", "--env", "dev", "--out", "dev.plan"]);
    let stdout = String::from_utf8_lossy(&default.stdout);
    assert!(
        stdout.contains("  provisioner apply --env dev dev.plan"),
        "{stdout}"
    );
}

#[test]
fn without_a_terminal_each_command_says_what_to_run_instead() {
    let f = Fixture::new("");
    f.apply();
    std::fs::copy(f.stack_path(), f.dir.path().join("other.toml")).expect("copy");
    let stderr = refused(&f, &["--stack", "other.toml", "destroy", "--env", "dev"]);
    assert!(
        stderr.contains("`provisioner --stack other.toml plan --destroy --env dev --out FILE`")
            && stderr.contains("`provisioner --stack other.toml apply --env dev FILE`"),
        "{stderr}"
    );
    assert!(stderr.contains("--auto-approve"), "{stderr}");
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    let stderr = refused(&f, &["apply", "--env", "dev"]);
    assert!(
        stderr.contains("`provisioner plan --env dev --out FILE`")
            && stderr.contains("`provisioner apply --env dev FILE`"),
        "{stderr}"
    );
    f.destroy();
}

#[test]
fn flags_appear_only_on_the_commands_that_use_them() {
    let f = Fixture::new("");
    let help = |args: &[&str]| f.ok(&[args, &["--help"]].concat());
    let has = |args: &[&str], flag: &str| help(args).contains(flag);
    for command in [&["validate"][..], &["package"], &["completions"], &["show"]] {
        for flag in ["--lock-timeout", "--package-dir", "--stats"] {
            assert!(!has(command, flag), "{command:?} --help shows {flag}");
        }
    }
    for command in [
        &["plan"][..],
        &["apply"],
        &["destroy"],
        &["import"],
        &["migrate"],
    ] {
        for flag in ["--lock-timeout", "--package-dir", "--stats"] {
            assert!(has(command, flag), "{command:?} --help lacks {flag}");
        }
    }
    assert!(has(&["state", "rollback"], "--lock-timeout"));
    assert!(!has(&["state", "list"], "--lock-timeout"));
    assert!(has(&["output"], "--stats") && !has(&["output"], "--lock-timeout"));
    // Refused where it means nothing, rather than silently ignored.
    let stderr = refused(&f, &["validate", "--lock-timeout", "5s"]);
    testkit::assert_contains(&stderr, "--lock-timeout");
    // Where it applies, the flag goes after the command.
    f.ok(&["plan", "--env", "dev", "--lock-timeout", "5s", "--stats"]);
}
