//! A recorded object whose physical name differs from the declared one is replaced, shown as
//! `-/+ ... # name forces replacement`, never an in-place update of its dependents (the real
//! binary against the emulator, state in S3 locked in DynamoDB): a renamed table (refused
//! unless `--allow-data-loss`, then created before the old one is deleted; deletion protection
//! still refuses), a new name prefix under the same `[stack] name` (role, policies, log group,
//! function and permission replaced create-before-destroy, the old ones deleted once the new
//! ones are in use), a new stage name. A new name prefix without `[stack] name` is another
//! stack: its state is refused.

use crate::common;

use common::identity::*;
use common::{Aws, Fixture};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn renaming_the_table_is_refused_unless_data_loss_is_allowed_then_replaces_it_first() {
    let (f, aws) = Fixture::on_s3("").applied().await;
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

    aws.destroy_to_nothing(&f).await;
    assert!(
        !aws.table_exists(&new).await,
        "destroy deleted the new table"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_protection_still_refuses_a_table_rename_with_data_loss_allowed() {
    let (f, aws) = Fixture::on_s3("").applied_protected().await;
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
    aws.unprotect_and_destroy(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_name_prefix_under_the_same_stack_name_replaces_objects_create_before_destroy() {
    let (f, aws) = Fixture::on_s3("").applied().await;
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
    for name in ["lambda", "api"] {
        let line = format!(
            "      ~ name: \"{old}-dev-{name}\" -> \"{new}-dev-{name}\" # forces replacement"
        );
        testkit::assert_contains(&plan, &line);
    }
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
    assert!(
        uri.ends_with(&format!(":function:{function}:live")),
        "{uri}"
    );
    let policy = aws.function_policy(&function).await;
    assert!(
        policy.contains("AllowApiGatewayInvoke"),
        "the new function has its invoke permission: {policy}"
    );
    assert_eq!(
        aws.inline_policy_names(&role).await,
        [format!("{new}-dev-dynamodb")]
    );
    assert_eq!(aws.attached_policy_names(&role).await.len(), 1);
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "one apply converges: {plan}");

    aws.destroy_to_nothing(&f).await;
    assert_eq!(aws.role_count(&old).await, 0);
    assert_eq!(aws.function_count(&old).await, 0);
    assert!(aws.api_ids(&format!("{new}-dev-http-api")).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_stage_name_replaces_the_stage() {
    let (f, aws) = Fixture::on_s3("").applied().await;
    let api = aws.api_ids(&f.api_name()).await.remove(0);

    f.write_stack("[env.dev.api]\nstage_name = \"v1\"\n");
    f.plan_shows(&[
        "  -/+ apigw_stage.main (v1) must be replaced\n      # name forces replacement; \
         create before destroy",
        "      ~ name: \"dev\" -> \"v1\" # forces replacement",
        // The stage's alarms and the dashboard follow it to its new name.
        "          ~ Stage: \"dev\" -> \"v1\"",
        "  ~ cloudwatch_metric_alarm.api_latency (",
        "  ~ cloudwatch_dashboard.main (",
        "Plan: 1 to add, 3 to change, 1 to destroy.",
    ]);

    let out = f.apply();
    assert!(
        out.contains("/v1\""),
        "the outputs name the new stage: {out}"
    );
    assert_eq!(aws.stage_names(&api).await, ["v1"]);
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "{plan}");
    aws.destroy_to_nothing(&f).await;
}
