//! The provisioner acts only on the objects that are this stack's, in this environment, under
//! the names the stack declares: the real binary against the emulator, state in S3 locked in
//! DynamoDB (as deploys keep it). Each scenario checks the exit code, the message and what AWS
//! holds before and after.
//!
//! - A recorded object whose physical name differs from the declared one is replaced, shown as
//!   `-/+ ... # name forces replacement`, never an in-place update of its dependents: a renamed
//!   table (refused unless `--allow-data-loss`, and then created before the old one is deleted;
//!   deletion protection still refuses), a new name prefix under the same `[stack] name` (role,
//!   policies, log group, function and permission replaced create-before-destroy, the old ones
//!   deleted only once the new ones are in use), a new stage name. A new name prefix without
//!   `[stack] name` is another stack: its state is refused.
//! - A state document of another environment (dev's copied to stage's key) is refused by every
//!   command, naming both environments, and nothing in AWS changes.
//! - A saved plan whose file was edited (its declaration or its changes) is refused and nothing
//!   changes; the unedited file still applies.
//! - An object with a declared name but without this stack's and environment's tags (an
//!   untagged hand-made role, a table tagged for another environment) is never adopted: apply
//!   fails naming it and `import`, and destroy leaves it. The log group Lambda makes untagged is
//!   adopted.

mod common;

use std::collections::BTreeMap;
use std::process::Output;

use aws_sdk_dynamodb::types::AttributeValue;
use common::{Aws, Fixture};
use serde_json::{Value, json};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Runs `args`, asserts exit code 1 and returns stderr.
fn refused(f: &Fixture, args: &[&str]) -> String {
    let output = f.run(args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "`provisioner {args:?}` was not refused"
    );
    stderr(&output)
}

/// Index of the first line of `text` containing `needle`; panics naming it when none does.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

/// One item in the table, so its data can be seen to survive (or go).
async fn put_marker(aws: &Aws, table: &str) {
    aws.dynamodb
        .put_item()
        .table_name(table)
        .item("tableId", AttributeValue::S("keep".into()))
        .item("username", AttributeValue::S("_metadata".into()))
        .send()
        .await
        .expect("put_item");
}

async fn has_marker(aws: &Aws, table: &str) -> bool {
    aws.dynamodb
        .get_item()
        .table_name(table)
        .key("tableId", AttributeValue::S("keep".into()))
        .key("username", AttributeValue::S("_metadata".into()))
        .send()
        .await
        .expect("get_item")
        .item()
        .is_some()
}

async fn table_env(aws: &Aws, function: &str) -> Option<String> {
    aws.function_configuration(function)
        .await
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get("TABLE_NAME"))
        .cloned()
}

/// The function's inline policy document on the role.
async fn inline_policy(aws: &Aws, role: &str, policy: &str) -> Value {
    let got = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .expect("get_role_policy");
    let text = percent_encoding::percent_decode_str(got.policy_document())
        .decode_utf8_lossy()
        .to_string();
    serde_json::from_str(&text).expect("a JSON policy")
}

/// The change of `address` in `plan --json` output.
fn json_change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change of {address} in {plan:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn renaming_the_table_is_refused_unless_data_loss_is_allowed_then_replaces_it_first() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    f.apply();
    let (old, new) = (f.table_name(), format!("{}-renamed-playground", f.prefix));
    put_marker(&aws, &old).await;
    let versions = aws.state_versions(&f, "dev").await;

    f.write_stack(&format!("[env.dev.table]\nname = \"{new}\"\n"));
    for args in [
        &["plan", "--env", "dev", "--detailed-exitcode"][..],
        &["apply", "--env", "dev", "--auto-approve"][..],
    ] {
        let error = refused(&f, args);
        assert!(error.contains("--allow-data-loss"), "{error}");
        assert!(
            error.contains(&format!("name = \"{old}\"")),
            "says how to keep the old name: {error}"
        );
        assert!(error.contains(&new), "{error}");
        assert!(
            !error.contains("lambda_function.api: updat"),
            "the function was not re-pointed: {error}"
        );
    }
    // Nothing changed: the function still uses the old table, which still holds its data, the
    // new one was not made, and the state was not written.
    assert_eq!(table_env(&aws, &f.function_name()).await, Some(old.clone()));
    assert!(has_marker(&aws, &old).await, "the old table keeps its data");
    assert!(!aws.table_exists(&new).await, "no new table");
    assert_eq!(
        aws.state_versions(&f, "dev").await,
        versions,
        "state written"
    );

    // With the flag, the plan says replacement, forced by the name, new table first.
    let output = f.run(&[
        "plan",
        "--env",
        "dev",
        "--detailed-exitcode",
        "--allow-data-loss",
    ]);
    let plan = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{plan}");
    assert!(
        plan.contains(&format!(
            "  -/+ dynamodb_table.playground ({new}) must be replaced\n      # name forces \
             replacement; create before destroy"
        )),
        "{plan}"
    );
    assert!(
        plan.contains(&format!(
            "      ~ name: \"{old}\" -> \"{new}\" # forces replacement"
        )),
        "{plan}"
    );
    let json: Value =
        serde_json::from_str(&f.ok(&["plan", "--env", "dev", "--json", "--allow-data-loss"]))
            .expect("plan --json");
    let table = json_change(&json, "dynamodb_table.playground");
    assert_eq!(table["action"], "replace", "{table:#}");
    assert_eq!(table["create_before_destroy"], true, "{table:#}");

    let output = f.run(&[
        "apply",
        "--env",
        "dev",
        "--auto-approve",
        "--allow-data-loss",
    ]);
    let progress = stderr(&output);
    assert!(output.status.success(), "{progress}");
    // The old table goes last, once the function and its policy use the new one.
    let deposed = line_of(&progress, "dynamodb_table.playground#deposed-0: destroying");
    assert!(line_of(&progress, "dynamodb_table.playground: replaced") < deposed);
    assert!(line_of(&progress, "lambda_function.api: updated") < deposed);
    assert!(line_of(&progress, "iam_role_policy.dynamodb: updated") < deposed);
    assert!(line_of(&progress, "dynamodb_table.playground#deposed-0: destroyed") > deposed);

    assert!(aws.table_exists(&new).await, "the new table exists");
    assert!(!aws.table_exists(&old).await, "the old table was deleted");
    assert_eq!(table_env(&aws, &f.function_name()).await, Some(new.clone()));
    let policy = inline_policy(&aws, &f.role_name(), &format!("{}-dev-dynamodb", f.prefix)).await;
    let resources = policy["Statement"][0]["Resource"].to_string();
    assert!(
        resources.contains(&format!(":table/{new}\"")) && !resources.contains(&old),
        "the inline policy grants the new table only: {resources}"
    );
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "one apply converges: {plan}");

    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
    assert!(
        !aws.table_exists(&new).await,
        "destroy deleted the new table"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_protection_still_refuses_a_table_rename_with_data_loss_allowed() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    f.write_stack("[env.dev.table]\ndeletion_protection = true\n");
    f.apply();
    let (old, new) = (f.table_name(), format!("{}-renamed-playground", f.prefix));
    put_marker(&aws, &old).await;

    f.write_stack(&format!(
        "[env.dev.table]\ndeletion_protection = true\nname = \"{new}\"\n"
    ));
    for args in [
        &["plan", "--env", "dev", "--allow-data-loss"][..],
        &[
            "apply",
            "--env",
            "dev",
            "--auto-approve",
            "--allow-data-loss",
        ][..],
    ] {
        let error = refused(&f, args);
        assert!(error.contains("deletion protection"), "{error}");
        assert!(error.contains(&old), "{error}");
    }
    assert!(has_marker(&aws, &old).await, "the old table keeps its data");
    assert!(!aws.table_exists(&new).await, "no new table");
    assert_eq!(table_env(&aws, &f.function_name()).await, Some(old.clone()));

    // The way out the message gives: protection off under the old name, apply, destroy.
    f.write_stack("[env.dev.table]\ndeletion_protection = false\n");
    f.apply();
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_name_prefix_under_the_same_stack_name_replaces_objects_create_before_destroy() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    f.apply();
    let old = f.prefix.clone();
    let new = format!("{old}r");
    let api_id = aws.api_ids(&f.api_name()).await;
    let versions = aws.state_versions(&f, "dev").await;

    // name_prefix alone names another stack: its state (this one's) is refused by every command.
    f.write_stack(&format!("[env.dev.stack]\nname_prefix = \"{new}\"\n"));
    for args in [
        &["plan", "--env", "dev"][..],
        &["apply", "--env", "dev", "--auto-approve"][..],
        &["destroy", "--env", "dev", "--auto-approve"][..],
        &["state", "list", "--env", "dev"][..],
        &["output", "--env", "dev"][..],
    ] {
        let error = refused(&f, args);
        assert!(
            error.contains(&format!("stack '{old}'")) && error.contains(&format!("stack '{new}'")),
            "names both stacks: {error}"
        );
        assert!(error.contains("hint") || error.contains("Fix"), "{error}");
    }
    assert_eq!(
        aws.state_versions(&f, "dev").await,
        versions,
        "state written"
    );
    assert_eq!(aws.inventory(&f).await, Aws::one_stack(), "AWS changed");

    // With `[stack] name` kept, the new prefix renames: replacements, never in-place updates of
    // what depends on the renamed objects. The table keeps its name (its data would go).
    f.write_stack(&format!(
        "[env.dev.stack]\nname_prefix = \"{new}\"\nname = \"{old}\"\n\n\
         [env.dev.table]\nname = \"{}\"\n",
        f.table_name()
    ));
    let (code, plan) = f.plan();
    assert_eq!(code, 2, "{plan}");
    for (address, name) in [
        ("iam_role.lambda", format!("{new}-dev-lambda")),
        ("lambda_function.api", format!("{new}-dev-api")),
        ("log_group.lambda", format!("/aws/lambda/{new}-dev-api")),
        (
            "lambda_permission.apigw",
            "AllowApiGatewayInvoke".to_string(),
        ),
        ("iam_role_policy.dynamodb", format!("{new}-dev-dynamodb")),
    ] {
        let header = format!("  -/+ {address} ({name}) must be replaced\n");
        let at = plan
            .find(&header)
            .unwrap_or_else(|| panic!("no {header:?} in {plan}"));
        let reason = plan[at + header.len()..].lines().next().unwrap_or_default();
        assert!(
            reason.contains("replacement; create before destroy"),
            "{address}: {reason}"
        );
        assert!(
            !plan.contains(&format!("  ~ {address} ")),
            "{address} updated in place: {plan}"
        );
    }
    assert!(
        plan.contains(&format!(
            "      ~ name: \"{old}-dev-lambda\" -> \"{new}-dev-lambda\" # forces replacement"
        )),
        "{plan}"
    );
    assert!(
        plan.contains(&format!(
            "      ~ name: \"{old}-dev-api\" -> \"{new}-dev-api\" # forces replacement"
        )),
        "{plan}"
    );
    assert!(!plan.contains("dynamodb_table.playground"), "{plan}");
    let json: Value =
        serde_json::from_str(&f.ok(&["plan", "--env", "dev", "--json"])).expect("plan --json");
    for change in json["changes"].as_array().expect("changes") {
        if change["action"] == "replace" {
            assert_eq!(change["create_before_destroy"], true, "{change:#}");
        }
    }

    let output = f.run(&["apply", "--env", "dev", "--auto-approve"]);
    let progress = stderr(&output);
    assert!(output.status.success(), "{progress}");
    // Every old object goes only after the new ones that replace its uses are in place: the old
    // role after the new function (which runs as the new role) and the new policies, the old
    // function after the integration and the permission point at the new one.
    let gone = |address: &str| line_of(&progress, &format!("{address}#deposed-0: destroying"));
    let made = |line: &str| line_of(&progress, line);
    for old_object in [
        "iam_role.lambda",
        "iam_role_policy.dynamodb",
        "iam_role_policy_attachment.basic_execution",
        "lambda_function.api",
        "lambda_permission.apigw",
        "log_group.lambda",
    ] {
        let at = gone(old_object);
        for new_object in [
            "iam_role.lambda: replaced",
            "iam_role_policy.dynamodb: replaced",
            "iam_role_policy_attachment.basic_execution: replaced",
            "lambda_function.api: replaced",
            "apigw_integration.lambda: updated",
            "lambda_permission.apigw: replaced",
        ] {
            assert!(
                made(new_object) < at,
                "{old_object} deleted before {new_object}"
            );
        }
    }

    // AWS: only the new objects, the function as the new role, the API renamed in place.
    let (role, function) = (format!("{new}-dev-lambda"), format!("{new}-dev-api"));
    assert!(!aws.role_exists(&f.role_name()).await, "old role left");
    assert!(
        !aws.function_exists(&f.function_name()).await,
        "old function left"
    );
    assert_eq!(aws.role_count(&old).await, 1, "one role");
    assert_eq!(aws.function_count(&old).await, 1, "one function");
    assert_eq!(aws.log_group_count(&format!("/aws/lambda/{old}")).await, 1);
    assert_eq!(
        aws.log_group_count(&format!("/aws/lambda/{new}-dev-api"))
            .await,
        1
    );
    let tags = aws.role_tags(&role).await;
    assert_eq!(
        tags.get("provisioner:stack"),
        Some(&old),
        "the stack keeps its identity"
    );
    let config = aws.function_configuration(&function).await;
    assert!(
        config
            .role()
            .is_some_and(|r| r.ends_with(&format!("/{role}"))),
        "{config:?}"
    );
    assert_eq!(table_env(&aws, &function).await, Some(f.table_name()));
    assert_eq!(
        aws.api_ids(&format!("{new}-dev-http-api")).await,
        api_id,
        "the API is renamed, not replaced"
    );
    let integrations = aws
        .apigw
        .get_integrations()
        .api_id(&api_id[0])
        .send()
        .await
        .expect("get_integrations");
    let uri = integrations.items()[0]
        .integration_uri()
        .unwrap_or_default();
    assert!(uri.ends_with(&format!(":function:{function}")), "{uri}");
    let policy = aws
        .lambda
        .get_policy()
        .function_name(&function)
        .send()
        .await
        .expect("the new function has its invoke permission");
    assert!(
        policy
            .policy()
            .unwrap_or_default()
            .contains("AllowApiGatewayInvoke")
    );
    let inline = aws
        .iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .expect("list_role_policies");
    assert_eq!(inline.policy_names(), [format!("{new}-dev-dynamodb")]);
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(&role)
        .send()
        .await
        .expect("list_attached_role_policies");
    assert_eq!(attached.attached_policies().len(), 1);
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "one apply converges: {plan}");

    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
    assert_eq!(aws.role_count(&old).await, 0);
    assert_eq!(aws.function_count(&old).await, 0);
    assert!(aws.api_ids(&format!("{new}-dev-http-api")).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_stage_name_replaces_the_stage() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    f.apply();
    let api = aws.api_ids(&f.api_name()).await.remove(0);

    f.write_stack("[env.dev.api]\nstage_name = \"v1\"\n");
    let (code, plan) = f.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains(
            "  -/+ apigw_stage.main (v1) must be replaced\n      # name forces replacement; \
             create before destroy"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("      ~ name: \"dev\" -> \"v1\" # forces replacement"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{plan}"
    );

    let out = f.apply();
    assert!(
        out.contains("/v1\""),
        "the outputs name the new stage: {out}"
    );
    let stages = aws
        .apigw
        .get_stages()
        .api_id(&api)
        .send()
        .await
        .expect("get_stages");
    let names: Vec<&str> = stages
        .items()
        .iter()
        .filter_map(|s| s.stage_name())
        .collect();
    assert_eq!(names, ["v1"]);
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "{plan}");
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

/// What the finding saw change: the tags of dev's tagged objects and the function's table.
async fn dev_identity(aws: &Aws, f: &Fixture) -> (BTreeMap<String, String>, Option<String>) {
    (
        aws.role_tags(&f.role_name()).await,
        table_env(aws, &f.function_name()).await,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_copied_from_another_environment_is_refused_by_every_command() {
    let f = Fixture::on_s3("[env.stage]\n");
    let aws = Aws::new().await;
    f.apply();
    let (dev_key, stage_key) = (f.state_key("dev"), f.state_key("stage"));
    aws.s3
        .copy_object()
        .bucket(f.state_bucket())
        .copy_source(format!("{}/{dev_key}", f.state_bucket()))
        .key(&stage_key)
        .send()
        .await
        .expect("copy dev's state to stage's key");
    let identity = dev_identity(&aws, &f).await;
    assert_eq!(
        identity
            .0
            .get("provisioner:environment")
            .map(String::as_str),
        Some("dev")
    );
    let stage_versions = aws.state_versions(&f, "stage").await;
    let dev_versions = aws.state_versions(&f, "dev").await;

    for args in [
        &["plan", "--env", "stage"][..],
        &["plan", "--env", "stage", "--json"][..],
        &["apply", "--env", "stage", "--auto-approve"][..],
        &["destroy", "--env", "stage", "--auto-approve"][..],
        &["state", "list", "--env", "stage"][..],
        &["state", "show", "--env", "stage", "iam_role.lambda"][..],
        &["output", "--env", "stage"][..],
        &[
            "import",
            "--env",
            "stage",
            "iam_role.lambda",
            &f.role_name(),
        ][..],
    ] {
        let error = refused(&f, args);
        assert!(
            error.contains("environment 'dev'") && error.contains("environment 'stage'"),
            "names both environments: {error}"
        );
        assert!(error.contains("[backend]"), "hints at [backend]: {error}");
        assert!(
            !error.contains("creating") && !error.contains("updating"),
            "{error}"
        );
    }

    // Nothing in AWS changed: dev's objects keep their tags and table, no stage object exists,
    // neither state was written.
    assert_eq!(dev_identity(&aws, &f).await, identity);
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    let stage = |what: &str| format!("{}-stage-{what}", f.prefix);
    assert!(!aws.role_exists(&stage("lambda")).await);
    assert!(!aws.table_exists(&stage("playground")).await);
    assert!(!aws.function_exists(&stage("api")).await);
    assert!(aws.api_ids(&stage("http-api")).await.is_empty());
    assert_eq!(aws.state_versions(&f, "stage").await, stage_versions);
    assert_eq!(aws.state_versions(&f, "dev").await, dev_versions);
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "dev is as it was: {plan}");

    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

/// The state backend of `environment` in the fixture's bucket, as the stack file declares it.
async fn s3_backend(f: &Fixture, environment: &str) -> state::Backend {
    state::Backend::new(
        state::BackendConfig::S3 {
            bucket: f.state_bucket().to_string(),
            prefix: "provisioner".to_string(),
            environment: environment.to_string(),
            lock_table: Some(format!("{}-locks", f.state_bucket())),
            s3_lock: false,
        },
        &testkit::sdk_config().await,
    )
}

/// The second line of defence: dev's state written to stage's key *and* relabelled as stage's
/// (a hand edit the checksum cannot catch, since the document was re-encoded) passes the
/// owner check, but the objects it records carry dev's tags, so plan, apply and destroy of
/// stage are refused before any change.
#[tokio::test(flavor = "multi_thread")]
async fn a_state_relabelled_as_another_environment_is_refused_by_the_objects_tags() {
    let f = Fixture::on_s3("[env.stage]\n");
    let aws = Aws::new().await;
    f.apply();
    let mut document = s3_backend(&f, "dev")
        .await
        .read()
        .await
        .expect("read dev's state")
        .document
        .expect("dev has a state");
    document.environment = "stage".to_string();
    let stage = s3_backend(&f, "stage").await;
    let token = stage.read().await.expect("read stage's state").token;
    stage
        .write(&mut document, &token)
        .await
        .expect("write the relabelled copy");
    let identity = dev_identity(&aws, &f).await;
    let versions = aws.state_versions(&f, "stage").await;

    for args in [
        &["plan", "--env", "stage"][..],
        &["apply", "--env", "stage", "--auto-approve"][..],
        &["destroy", "--env", "stage", "--auto-approve"][..],
    ] {
        let error = refused(&f, args);
        assert!(
            error.contains("tagged as another stack's or environment's")
                && error.contains("provisioner:environment=dev"),
            "{error}"
        );
        assert!(
            !error.contains("destroying") && !error.contains("creating"),
            "{error}"
        );
    }
    assert_eq!(dev_identity(&aws, &f).await, identity);
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    assert!(!aws.role_exists(&format!("{}-stage-lambda", f.prefix)).await);
    assert_eq!(aws.state_versions(&f, "stage").await, versions);
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "dev is as it was: {plan}");
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

/// An edit of a plan file's JSON.
type Edit = fn(&mut Value);

/// Rewrites the plan file `name` in the fixture's directory with `edit` applied to its JSON.
fn edit_plan(f: &Fixture, name: &str, edit: impl FnOnce(&mut Value)) {
    let path = f.dir.path().join(name);
    let mut plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read the plan file"))
            .expect("a JSON plan file");
    edit(&mut plan);
    std::fs::write(&path, serde_json::to_string_pretty(&plan).expect("JSON"))
        .expect("write the plan file");
}

/// The declared `memory_size` of the function in a plan file's JSON.
fn declared_memory(plan: &mut Value) -> &mut Value {
    plan["desired"]
        .as_array_mut()
        .expect("desired")
        .iter_mut()
        .find(|d| d["address"] == "lambda_function.api")
        .map(|d| &mut d["fields"]["memory_size"])
        .expect("the function in the plan's desired")
}

/// The function's `memory_size` change in a plan file's JSON.
fn planned_memory(plan: &mut Value) -> &mut Value {
    plan["changes"]
        .as_array_mut()
        .expect("changes")
        .iter_mut()
        .find(|c| c["address"] == "lambda_function.api")
        .and_then(|c| {
            c["fields"]
                .as_array_mut()?
                .iter_mut()
                .find(|field| field["field"] == "memory_size")
        })
        .map(|field| &mut field["new"])
        .expect("the function's memory change in the plan")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_saved_plan_is_refused_and_changes_nothing() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    f.apply();
    let memory = async || {
        aws.function_configuration(&f.function_name())
            .await
            .memory_size()
    };
    assert_eq!(memory().await, Some(256));

    let versions = aws.state_versions(&f, "dev").await;
    let refused_plan = async |name: &str| {
        let error = refused(&f, &["apply", "--env", "dev", name]);
        assert!(error.contains("plan file"), "{name}: {error}");
        assert!(error.contains("nothing was changed"), "{name}: {error}");
        assert!(!error.contains("updating"), "{name}: {error}");
        assert_eq!(memory().await, Some(256), "{name} was applied");
    };

    // A plan with nothing to do, edited to declare 1024 MB (the stack is unchanged, so only
    // the file's contents can give it away).
    f.ok(&["plan", "--env", "dev", "--out", "noop.plan"]);
    edit_plan(&f, "noop.plan", |plan| {
        assert_eq!(*declared_memory(plan), json!(256));
        *declared_memory(plan) = json!(1024);
    });
    refused_plan("noop.plan").await;

    // A plan that sets 512 MB, edited in three ways: its change, its declaration, both; and a
    // copy with the change removed.
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    f.ok(&["plan", "--env", "dev", "--out", "memory.plan"]);
    let original = std::fs::read(f.dir.path().join("memory.plan")).expect("read");
    let variants: [(&str, Edit); 4] = [
        ("change.plan", |plan| *planned_memory(plan) = json!(1024)),
        ("desired.plan", |plan| *declared_memory(plan) = json!(1024)),
        ("both.plan", |plan| {
            *planned_memory(plan) = json!(1024);
            *declared_memory(plan) = json!(1024);
        }),
        ("dropped.plan", |plan| plan["changes"] = json!([])),
    ];
    for (name, edit) in variants {
        std::fs::write(f.dir.path().join(name), &original).expect("copy");
        edit_plan(&f, name, edit);
    }

    for name in ["change.plan", "desired.plan", "both.plan", "dropped.plan"] {
        refused_plan(name).await;
    }
    assert_eq!(
        aws.state_versions(&f, "dev").await,
        versions,
        "a refused plan wrote the state"
    );

    // The file as plan saved it applies, exactly.
    let out = f.ok(&["apply", "--env", "dev", "memory.plan"]);
    assert!(
        out.contains("Resources: 0 added, 1 changed, 0 destroyed"),
        "{out}"
    );
    assert_eq!(memory().await, Some(512));
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "{plan}");
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untagged_role_with_the_declared_name_is_not_taken_over() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let role = f.role_name();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    aws.iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust.to_string())
        .description("made by hand")
        .send()
        .await
        .expect("create the hand-made role");

    let error = refused(&f, &["apply", "--env", "dev", "--auto-approve"]);
    assert!(
        error.contains(&format!("'{role}'")),
        "names the role: {error}"
    );
    assert!(
        error.contains(&format!(
            "provisioner import --env dev iam_role.lambda {role}"
        )),
        "points to import: {error}"
    );
    assert!(
        !error.contains("iam_role.lambda: created") && !error.contains("iam_role.lambda: adopted"),
        "{error}"
    );
    // The role is as it was: untagged, not in the state, not used by a function.
    let got = aws
        .iam
        .get_role()
        .role_name(&role)
        .send()
        .await
        .expect("get_role");
    let got = got.role().expect("the role");
    assert!(got.tags().is_empty(), "tagged: {:?}", got.tags());
    assert_eq!(got.description(), Some("made by hand"));
    assert_eq!(got.path(), "/");
    let listed = f.ok(&["state", "list", "--env", "dev"]);
    assert!(
        !listed.lines().any(|l| l.starts_with("iam_role.lambda ")),
        "the state records the role: {listed}"
    );
    assert!(!aws.function_exists(&f.function_name()).await);
    let inline = aws
        .iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .expect("list_role_policies");
    assert!(inline.policy_names().is_empty(), "a policy was put on it");

    // Destroy deletes what the failed apply made and leaves the role alone.
    f.destroy();
    assert!(aws.role_tags(&role).await.is_empty());
    assert_eq!(
        aws.leftovers(&f).await,
        vec![format!("IAM role {role}")],
        "destroy deleted the hand-made role, or left something of its own"
    );
    aws.iam
        .delete_role()
        .role_name(&role)
        .send()
        .await
        .expect("delete the hand-made role");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_tagged_for_another_environment_is_not_taken_over() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let table = f.table_name();
    let stage_tags = [
        ("provisioner:stack", f.prefix.as_str()),
        ("provisioner:environment", "stage"),
    ];
    let mut create = aws
        .dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest);
    for (name, key) in [("tableId", "HASH"), ("username", "RANGE")] {
        create = create
            .attribute_definitions(
                aws_sdk_dynamodb::types::AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
            )
            .key_schema(
                aws_sdk_dynamodb::types::KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(key.into())
                    .build()
                    .expect("key"),
            );
    }
    for (key, value) in stage_tags {
        create = create.tags(
            aws_sdk_dynamodb::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .expect("tag"),
        );
    }
    create
        .send()
        .await
        .expect("create the other environment's table");
    put_marker(&aws, &table).await;

    let error = refused(&f, &["apply", "--env", "dev", "--auto-approve"]);
    assert!(
        error.contains(&format!("'{table}'")),
        "names the table: {error}"
    );
    assert!(
        error.contains(&format!(
            "provisioner import --env dev dynamodb_table.playground {table}"
        )),
        "points to import: {error}"
    );
    assert!(
        !error.contains("dynamodb_table.playground: adopted"),
        "{error}"
    );
    assert!(!aws.function_exists(&f.function_name()).await);

    f.destroy();
    assert!(has_marker(&aws, &table).await, "destroy deleted its data");
    let arn = aws
        .dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("the table is still there")
        .table()
        .and_then(|t| t.table_arn())
        .expect("an ARN")
        .to_string();
    let tags = aws
        .dynamodb
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("list_tags_of_resource");
    let tags: BTreeMap<&str, &str> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, BTreeMap::from(stage_tags), "its tags were changed");
    assert_eq!(aws.leftovers(&f).await, vec![format!("table {table}")]);
    aws.dynamodb
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .expect("delete the other environment's table");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_group_lambda_makes_untagged_is_adopted() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let group = format!("/aws/lambda/{}", f.function_name());
    aws.logs
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .expect("create the log group as Lambda does");

    let output = f.run(&["apply", "--env", "dev", "--auto-approve"]);
    let progress = stderr(&output);
    assert!(output.status.success(), "{progress}");
    assert!(progress.contains("log_group.lambda: adopted"), "{progress}");
    assert!(
        !progress.contains("log_group.lambda: created"),
        "{progress}"
    );
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .expect("describe_log_groups");
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(14));
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "{plan}");
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_group_tagged_by_someone_else_is_not_taken_over() {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let group = format!("/aws/lambda/{}", f.function_name());
    aws.logs
        .create_log_group()
        .log_group_name(&group)
        .tags("owner", "another-team")
        .send()
        .await
        .expect("create another team's log group");

    let error = refused(&f, &["apply", "--env", "dev", "--auto-approve"]);
    assert!(error.contains(&format!("'{group}'")), "names it: {error}");
    assert!(
        error.contains(&format!(
            "provisioner import --env dev log_group.lambda {group}"
        )),
        "points to import: {error}"
    );
    assert!(!error.contains("log_group.lambda: adopted"), "{error}");
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .expect("describe_log_groups");
    assert_eq!(
        groups.log_groups()[0].retention_in_days(),
        None,
        "retention set"
    );

    f.destroy();
    assert_eq!(aws.leftovers(&f).await, vec!["log group".to_string()]);
    aws.logs
        .delete_log_group()
        .log_group_name(&group)
        .send()
        .await
        .expect("delete the other team's log group");
}
