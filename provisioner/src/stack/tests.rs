use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Stack, StackError> {
    Stack::parse(Path::new("dir/stack.toml"), text.to_string())
}

fn resolve(text: &str, env: &str) -> Result<ResolvedStack, StackError> {
    parse(text)?.resolve(env)
}

#[test]
fn defaults_follow_the_original_variables() {
    let r = resolve("[env.dev]\n", "dev").unwrap();
    assert_eq!(r.name_prefix, "aimodelshare");
    assert_eq!(r.region, "us-east-1");
    assert_eq!(r.table.name, "aimodelshare-dev-playground");
    assert!(r.table.point_in_time_recovery);
    assert!(r.table.by_user_index);
    assert!(!r.table.deletion_protection);
    assert_eq!(r.lambda.memory_mb, 256);
    assert_eq!(r.lambda.timeout_seconds, 10);
    assert_eq!(r.lambda.log_retention_days, 14);
    assert!(r.lambda.safe_concurrency);
    assert_eq!(r.lambda.architecture, Architecture::Arm64);
    assert_eq!(r.lambda.code, CodeSource::Build);
    assert_eq!(r.lambda.function_name, "aimodelshare-dev-api");
    assert_eq!(r.lambda.log_group, "/aws/lambda/aimodelshare-dev-api");
    assert_eq!(r.api.stage_name, "dev");
    assert_eq!(r.api.cors_allow_origins, vec!["*"]);
    assert_eq!(r.backend, BackendSettings::Local { dir: ".".into() });
    assert_eq!(r.tags.get(crate::resource::TAG_ENVIRONMENT).unwrap(), "dev");
    assert_eq!(
        r.tags.get(crate::resource::TAG_STACK).unwrap(),
        "aimodelshare"
    );
}

#[test]
fn environment_overrides_win_and_merge_tags() {
    let text = r#"
[stack]
name_prefix = "pg"
tags = { Team = "ml", Cost = "a" }
[lambda]
memory_mb = 512
[env.dev]
[env.prod.stack]
tags = { Cost = "b" }
[env.prod.lambda]
memory_mb = 1024
architecture = "x86_64"
[env.prod.table]
deletion_protection = true
"#;
    let dev = resolve(text, "dev").unwrap();
    let prod = resolve(text, "prod").unwrap();
    assert_eq!(dev.lambda.memory_mb, 512);
    assert_eq!(prod.lambda.memory_mb, 1024);
    assert_eq!(prod.lambda.architecture, Architecture::X86_64);
    assert!(prod.table.deletion_protection && !dev.table.deletion_protection);
    assert_eq!(prod.tags.get("Cost").unwrap(), "b");
    assert_eq!(prod.tags.get("Team").unwrap(), "ml");
    assert_eq!(dev.tags.get("Cost").unwrap(), "a");
    assert_ne!(dev.table.name, prod.table.name);
}

#[test]
fn unknown_key_points_at_its_line_with_a_suggestion() {
    let err = parse("[env.dev]\n[lambda]\nmemroy_mb = 512\n").unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("dir/stack.toml:3:1: unknown field `memroy_mb`"),
        "{text}"
    );
    assert!(text.contains("did you mean `memory_mb`?"), "{text}");
}

/// Errors of the file's shape (an unknown section, a wrong type, a bad variant, broken TOML)
/// point at their line, with a hint where there is one ("" where the line is the point).
#[test]
fn shape_errors_point_at_their_line() {
    let cases = [
        ("[env.dev]\n[lamda]\n", "did you mean `lambda`?"),
        ("[lambda]\nmemory_mb = \"big\"\n[env.dev]\n", ""),
        ("[lambda]\narchitecture = \"arm\"\n[env.dev]\n", "`arm64`"),
        ("[env.dev]\nthis is not toml\n", ""),
    ];
    for (text, hint) in cases {
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, Some(2), "{text:?}: {err}");
        assert!(err.to_string().contains(hint), "{text:?}: {err}");
    }
}

#[test]
fn bad_values_point_at_the_value() {
    let cases = [
        ("[lambda]\nmemory_mb = 64\n[env.dev]\n", 2, "128 to 10240"),
        ("[lambda]\ntimeout_seconds = 0\n[env.dev]\n", 2, "1 to 900"),
        ("[lambda]\nlog_retention_days = 15\n[env.dev]\n", 2, "14"),
        (
            "[stack]\nname_prefix = \"Bad_Prefix\"\n[env.dev]\n",
            2,
            "lowercase",
        ),
        ("[stack]\nregion = \"mars\"\n[env.dev]\n", 2, "us-east-1"),
        ("[api]\ncors_allow_origins = []\n[env.dev]\n", 2, "https://"),
        (
            "[api]\ncors_allow_origins = [\"example.com/\"]\n[env.dev]\n",
            2,
            "https://",
        ),
        ("[env.dev.lambda]\nmemory_mb = 20000\n", 2, "128 to 10240"),
        (
            "[env.dev.lambda]\npackage = \"missing.zip\"\n",
            2,
            "provisioner package",
        ),
        (
            "[backend]\nbucket = \"Bad Bucket\"\n[env.dev]\n",
            2,
            "lowercase",
        ),
    ];
    for (text, line, hint) in cases {
        let err = resolve(text, "dev").unwrap_err();
        assert_eq!(err.line, Some(line), "{text:?}: {err}");
        assert!(err.to_string().contains(hint), "{text:?}: {err}");
    }
}

#[test]
fn undeclared_environment_names_the_declared_ones() {
    let err = resolve("[env.dev]\n[env.prod]\n", "qa").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("'qa' is not declared"), "{text}");
    assert!(text.contains("dev, prod"), "{text}");
}

#[test]
fn two_environments_may_not_share_a_table() {
    let err = resolve(
        "[table]\nname = \"PlaygroundScores\"\n[env.dev]\n[env.prod]\n",
        "dev",
    )
    .unwrap_err();
    assert!(err.to_string().contains("share the table"), "{err}");
}

#[test]
fn s3_backend_needs_a_bucket() {
    let err = resolve("[backend]\ntype = \"s3\"\n[env.dev]\n", "dev").unwrap_err();
    assert!(err.to_string().contains("needs a bucket"), "{err}");
    let ok = resolve(
        "[backend]\nbucket = \"state-bucket\"\nlock_table = \"locks\"\n[env.dev]\n",
        "dev",
    )
    .unwrap();
    assert_eq!(
        ok.backend,
        BackendSettings::S3 {
            bucket: "state-bucket".into(),
            prefix: "provisioner".into(),
            lock_table: Some("locks".into()),
            s3_lock: false
        }
    );
}

#[test]
fn the_shipped_stack_file_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stack.toml");
    let stack = Stack::load(&path).unwrap();
    assert_eq!(stack.environments(), vec!["dev", "prod", "stage"]);
    let prod = stack.resolve("prod").unwrap();
    assert!(prod.table.deletion_protection);
    assert!(!stack.resolve("dev").unwrap().table.deletion_protection);
}

const AUTH_ON: &str =
    "[auth]\nenabled = true\nissuer = \"https://issuer.example.com\"\naudience = [\"app\"]\n";

#[test]
fn auth_is_off_unless_enabled_and_takes_defaults() {
    let off = resolve(
        "[auth]\nissuer = \"https://x.example.com\"\n[env.dev]\n",
        "dev",
    )
    .unwrap();
    assert_eq!(off.auth, None);
    let on = resolve(&format!("{AUTH_ON}[env.dev]\n"), "dev").unwrap();
    let auth = on.auth.unwrap();
    assert_eq!(auth.username_claim, "sub");
    assert_eq!(auth.groups_claim, "cognito:groups");
    assert_eq!(auth.admin_group, None);
    assert!(auth.public_reads);
    // An environment can turn it on alone.
    let text = format!("{AUTH_ON}enabled = false\n[env.dev]\n[env.stage.auth]\nenabled = true\n");
    let text = text.replacen("enabled = true\n", "", 1);
    assert!(resolve(&text, "dev").unwrap().auth.is_none());
    assert!(resolve(&text, "stage").unwrap().auth.is_some());
}

/// Each bad `[auth]` or limit is refused at its line, with what to write instead.
#[test]
fn bad_auth_and_limits_are_refused_with_a_hint() {
    for (text, message, hint) in [
        (
            "[auth]\nenabled = true\naudience = [\"app\"]\n",
            "needs an issuer",
            "issuer =",
        ),
        (
            "[auth]\nenabled = true\nissuer = \"https://i.example.com\"\n",
            "non-empty audience",
            "audience =",
        ),
        (
            "[auth]\nenabled = true\nissuer = \"https://i.example.com\"\naudience = []\n",
            "non-empty audience",
            "audience =",
        ),
        (
            "[auth]\nenabled = true\nissuer = \"http://i.example.com\"\naudience = [\"a\"]\n",
            "not an https URL",
            "https://",
        ),
        (
            &format!("{AUTH_ON}username_claim = \"\"\n"),
            "not a claim name",
            "\"sub\"",
        ),
        (
            &format!("{AUTH_ON}admin_group = \"\"\n"),
            "admin_group is empty",
            "remove the key",
        ),
        (
            "[api]\nthrottle_rate_limit = 10.0\n",
            "without throttle_burst_limit",
            "set both",
        ),
        (
            "[api]\nthrottle_rate_limit = 0.0\nthrottle_burst_limit = 5\n",
            "outside what API Gateway allows",
            "more than 0",
        ),
        (
            "[api]\nthrottle_rate_limit = 10.0\nthrottle_burst_limit = 9000\n",
            "outside what API Gateway allows",
            "1 to 5000",
        ),
        (
            "[api]\nthrottle_rate_limit = 10.0\nthrottle_burst_limit = 20\nwrite_throttle_rate_limit = 20.0\nwrite_throttle_burst_limit = 5\n",
            "looser than the stage's",
            "at most 10",
        ),
        (
            "[lambda]\nreserved_concurrency = -1\n",
            "outside what Lambda allows",
            "shared pool",
        ),
        (
            "[release]\nkeep_versions = 1\n",
            "no version to roll back to",
            "at least the one before",
        ),
        (
            "[release]\nstrategy = \"blue_green\"\n",
            "not a release strategy",
            "\"canary\"",
        ),
        ("[release]\npercent = 100\n", "not a share", "1 to 99"),
        (
            "[release]\ninterval = \"soon\"\n",
            "interval: 'soon' is not a duration",
            "",
        ),
        (
            "[release]\nbake = \"2h\"\ninterval = \"25h\"\n",
            "longer than a day",
            "minutes",
        ),
    ] {
        let err = resolve(&format!("{text}[env.dev]\n"), "dev").unwrap_err();
        assert!(err.message.contains(message), "{text:?}: {err}");
        assert!(
            err.hint.as_deref().unwrap_or("").contains(hint),
            "{text:?}: {err}"
        );
        assert!(
            err.to_string().contains("dir/stack.toml:"),
            "{text:?}: {err}"
        );
    }
}

/// CORS `*` with auth is refused where real users are (`prod`, or `protected = true`), and
/// allowed elsewhere, where it is the easy default for experiments.
#[test]
fn protected_environments_refuse_any_origin_with_auth() {
    // Every environment is checked whichever one is resolved, so each case stands alone.
    let with = |envs: &str| format!("{AUTH_ON}{envs}");
    assert!(resolve(&with("[env.dev]\n"), "dev").is_ok());
    assert!(resolve(&with("[env.prod.stack]\nprotected = false\n"), "prod").is_ok());
    for (envs, env) in [
        ("[env.prod]\n", "prod"),
        ("[env.live.stack]\nprotected = true\n", "live"),
    ] {
        let err = resolve(&with(envs), env).unwrap_err();
        assert!(err.message.contains("protected environment"), "{err}");
        assert!(
            err.hint
                .as_deref()
                .unwrap()
                .contains("https://app.example.com"),
            "{err}"
        );
    }
    let listed = with("[env.prod.api]\ncors_allow_origins = [\"https://app.example.com\"]\n");
    assert!(resolve(&listed, "prod").unwrap().protected);
    // Without auth the open API may stay open to any origin, as today.
    assert!(resolve("[env.prod]\n", "prod").is_ok());
}

/// `[release]`: all at once by default, per environment otherwise, durations as for flags.
#[test]
fn release_settings_default_to_all_at_once_and_override_per_environment() {
    use crate::kinds::lambda_rollout::Strategy;
    let text = "[release]\nkeep_versions = 3\n[env.dev]\n[env.prod.release]\nstrategy = \"linear\"\n\
                percent = 20\ninterval = \"30s\"\nbake = \"2m\"\n";
    let dev = resolve(text, "dev").unwrap().release;
    assert_eq!((dev.strategy, dev.keep_versions), (Strategy::AllAtOnce, 3));
    let prod = resolve(text, "prod").unwrap().release;
    assert_eq!((prod.strategy, prod.percent), (Strategy::Linear, 20));
    assert_eq!(prod.interval, std::time::Duration::from_secs(30));
    assert_eq!(prod.bake, std::time::Duration::from_secs(120));
}

#[test]
fn alarms_are_on_by_default_and_bad_thresholds_or_addresses_are_refused() {
    let text = "[alarms]\nfunction_errors = 3\n[env.dev]\n[env.prod.alarms]\nenabled = false\n";
    let dev = resolve(text, "dev").unwrap().alarms.unwrap();
    assert_eq!(dev.function_errors, 3.0);
    assert_eq!((dev.duration_percent, dev.api_latency_ms), (80.0, 2000.0));
    assert!(dev.notify.is_empty());
    assert_eq!(resolve(text, "prod").unwrap().alarms, None);
    for (text, message, hint) in [
        (
            "[alarms]\nfunction_errors = 0\n",
            "function_errors = 0 is not a threshold",
            "more than 0",
        ),
        (
            "[alarms]\nduration_percent = 120.0\n",
            "duration_percent = 120",
            "at most 100",
        ),
        (
            "[alarms]\nnotify = [\"ops@example\"]\n",
            "\"ops@example\" is not an e-mail",
            "ops@example.com",
        ),
    ] {
        let error = resolve(&format!("{text}[env.dev]\n"), "dev").unwrap_err();
        let shown = format!("{error:?} {error}");
        assert!(shown.contains(message), "{text}: {shown}");
        assert!(shown.contains(hint), "{text}: {shown}");
    }
}
