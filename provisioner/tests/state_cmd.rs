//! `provisioner state list|show|history|rollback`, `force-unlock` on a lock Terraform wrote, and
//! `completions`, run as the real binary against the emulator.

use crate::common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::Fixture;

fn resource(address: &str, id: &str) -> state::ResourceState {
    state::ResourceState {
        address: address.to_string(),
        kind: address.split('.').next().unwrap_or(address).to_string(),
        id: id.to_string(),
        arn: Some(format!("arn:aws:test:::{id}")),
        attributes: serde_json::json!({ "marker": id }),
        depends_on: vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_show_history_and_rollback_on_the_local_state() {
    let f = Fixture::new("");
    let sdk = testkit::sdk_config().await;
    let backend = state::Backend::new(
        state::BackendConfig::Local {
            dir: f.dir.path().to_path_buf(),
            environment: "dev".to_string(),
        },
        &sdk,
    );
    state::ensure_backend_resources(backend.config(), &sdk)
        .await
        .unwrap();

    // Version 1: the table. Version 2: the table and the function.
    let mut document = state::StateDocument::new(&f.prefix, "dev");
    document.resources.insert(
        "dynamodb_table.playground".into(),
        resource("dynamodb_table.playground", "scores-table"),
    );
    let token = backend.read().await.unwrap().token;
    let token = backend.write(&mut document, &token).await.unwrap();
    document.resources.insert(
        "lambda_function.api".into(),
        resource("lambda_function.api", "scores-api"),
    );
    backend.write(&mut document, &token).await.unwrap();

    let listed = f.ok(&["state", "list", "--env", "dev"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with("dynamodb_table.playground") && lines[0].ends_with("scores-table")
    );
    assert!(lines[1].starts_with("lambda_function.api") && lines[1].ends_with("scores-api"));

    let shown = f.ok(&["state", "show", "--env", "dev", "lambda_function.api"]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["id"], "scores-api");
    assert_eq!(shown["attributes"]["marker"], "scores-api");

    let missing = f.run(&["state", "show", "--env", "dev", "lambda_function.apx"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("did you mean 'lambda_function.api'"),
        "{stderr}"
    );
    assert!(stderr.contains("state list --env dev"), "{stderr}");

    let history = f.ok(&["state", "history", "--env", "dev", "--json"]);
    let history: Vec<serde_json::Value> = serde_json::from_str(&history).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["serial"], 2);
    assert_eq!(history[1]["serial"], 1);
    let first_version = history[1]["version_id"].as_str().unwrap().to_string();
    let text = f.ok(&["state", "history", "--env", "dev"]);
    assert!(text.contains("(current)"), "{text}");

    let bad = f.run(&["state", "rollback", "--env", "dev", "999"]);
    assert!(!bad.status.success(), "an unknown version is refused");

    let rolled = f.ok(&["state", "rollback", "--env", "dev", &first_version]);
    assert!(rolled.contains("now serial 3"), "{rolled}");
    let listed = f.ok(&["state", "list", "--env", "dev"]);
    assert!(listed.contains("dynamodb_table.playground"), "{listed}");
    assert!(!listed.contains("lambda_function.api"), "{listed}");
    let after = backend.read().await.unwrap().document.unwrap();
    assert_eq!(after.serial, 3);
    assert_eq!(after.resources.len(), 1);
    // History is never deleted: three versions now.
    assert_eq!(backend.history().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn state_commands_without_state_say_what_to_run() {
    let f = Fixture::new("");
    let output = f.run(&["state", "list", "--env", "dev"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("provisioner apply --env dev"), "{stderr}");
}

/// The item exactly as Terraform's S3 backend writes it while it holds the lock.
fn terraform_lock_item(id: &str, path: &str) -> serde_json::Value {
    serde_json::json!({
        "ID": id,
        "Operation": "OperationTypeApply",
        "Info": "",
        "Who": "runner@fv-az123-456",
        "Version": "1.11.4",
        "Created": "2026-11-25T17:01:02.123456789Z",
        "Path": path
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn force_unlock_frees_a_lock_terraform_wrote_and_only_with_its_id() {
    let bucket = testkit::unique_name("fu-state");
    let table = testkit::unique_name("fu-locks");
    let f = Fixture::new(&format!(
        "[env.dev.backend]\ntype = \"s3\"\nbucket = \"{bucket}\"\nlock_table = \"{table}\"\n"
    ));
    let sdk = testkit::sdk_config().await;
    let config = state::BackendConfig::S3 {
        bucket: bucket.clone(),
        prefix: "provisioner".into(),
        environment: "dev".into(),
        lock_table: Some(table.clone()),
        s3_lock: false,
    };
    state::ensure_backend_resources(&config, &sdk)
        .await
        .unwrap();

    let path = format!("{bucket}/{}", state::s3::state_key("provisioner", "dev"));
    let id = "3f5c1d2e-6b7a-4c8d-9e0f-112233445566";
    let dynamodb = testkit::dynamodb_client().await;
    dynamodb
        .put_item()
        .table_name(&table)
        .item("LockID", AttributeValue::S(path.clone()))
        .item(
            "Info",
            AttributeValue::S(terraform_lock_item(id, &path).to_string()),
        )
        .send()
        .await
        .unwrap();
    // Terraform's digest item lives next to the lock and must survive.
    dynamodb
        .put_item()
        .table_name(&table)
        .item("LockID", AttributeValue::S(format!("{path}-md5")))
        .item("Digest", AttributeValue::S("0123456789abcdef".into()))
        .send()
        .await
        .unwrap();

    // A plan is refused while Terraform holds the lock, naming the holder and the way out.
    let plan = f.run(&["plan", "--env", "dev"]);
    assert!(!plan.status.success());
    let stderr = String::from_utf8_lossy(&plan.stderr);
    assert!(stderr.contains(id), "{stderr}");

    let wrong = f.run(&["force-unlock", "--env", "dev", "not-the-id"]);
    assert!(!wrong.status.success(), "a wrong ID frees nothing");
    let item = |key: String| {
        let dynamodb = dynamodb.clone();
        let table = table.clone();
        async move {
            dynamodb
                .get_item()
                .table_name(table)
                .key("LockID", AttributeValue::S(key))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
        }
    };
    assert!(item(path.clone()).await.is_some(), "still locked");

    let out = f.ok(&["force-unlock", "--env", "dev", id]);
    assert!(out.contains(id), "{out}");
    assert!(item(path.clone()).await.is_none(), "the lock item is gone");
    assert!(
        item(format!("{path}-md5")).await.is_some(),
        "Terraform's digest item is left alone"
    );
}

#[test]
fn completions_cover_every_command_for_bash_zsh_and_fish() {
    let f = Fixture::new("");
    f.write_stack("[env.qa-one]\n");
    for shell in ["bash", "zsh", "fish"] {
        let script = f.ok(&["completions", shell]);
        for word in [
            // The stack's environments for --env, its addresses for --replace and import.
            "qa-one",
            "lambda_function.api",
            "plan",
            "apply",
            "destroy",
            "force-unlock",
            "state",
            "rollback",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // Without a stack file, the flags alone.
    let flags_only = f.ok(&["--stack", "none.toml", "completions", "bash"]);
    assert!(!flags_only.contains("qa-one") && flags_only.contains("--env"));
    let bad = f.run(&["completions", "tcsh"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values"));
}

common::scenario_tests!(history_groups_versions_by_run_with_a_limit;
    history_groups_runs_on_the_local_state => Fixture::new(""),
    history_groups_runs_on_s3 => Fixture::on_s3(""),
);

/// Two applies: two runs in `state history`, each with its command and step count, aligned,
/// limited by `--limit`; `--all-versions` lists each version.
async fn history_groups_versions_by_run_with_a_limit(f: Fixture) {
    f.apply();
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    f.ok(&["apply", "--env", "dev", "--auto-approve"]);
    let versions: Vec<serde_json::Value> =
        serde_json::from_str(&f.ok(&["state", "history", "--env", "dev", "--json"])).unwrap();
    assert_eq!(
        versions[0]["run"]["command"], "apply --env dev --auto-approve",
        "{versions:#?}"
    );

    let text = f.ok(&["state", "history", "--env", "dev"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one line per apply:\n{text}");
    // Aligned: every row's command starts under the header's COMMAND.
    let column = lines[0].find("COMMAND").expect("a COMMAND column");
    for row in &lines[1..] {
        assert_eq!(row.find("apply --env dev"), Some(column), "{text}");
    }
    let steps = |row: &str| -> usize {
        let cells: Vec<&str> = row.split_whitespace().collect();
        cells[4]
            .parse()
            .unwrap_or_else(|_| panic!("no step count in {row}"))
    };
    // The newest apply wrote its step and the outputs; the first one, every other version.
    assert!(lines[1].contains("(current)"), "{text}");
    assert_eq!(steps(lines[1]) + steps(lines[2]), versions.len(), "{text}");

    let limited = f.ok(&["state", "history", "--env", "dev", "--limit", "1"]);
    assert_eq!(limited.lines().count(), 3, "{limited}");
    testkit::assert_contains(&limited, "(1 of 2 runs; --limit 2 shows them all");
    let every = f.ok(&[
        "state",
        "history",
        "--env",
        "dev",
        "--all-versions",
        "--limit",
        "100",
    ]);
    assert_eq!(every.lines().count(), versions.len() + 1, "{every}");
    f.destroy();
}
