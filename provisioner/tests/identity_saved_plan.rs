//! A saved plan whose file was edited (its declaration or its changes) is refused and nothing
//! changes; the unedited file still applies.

use crate::common;

use common::Fixture;
use common::identity::*;
use serde_json::{Value, json};

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

/// The function's entry in the plan file's list `list` (`desired` or `changes`).
fn function_entry<'a>(plan: &'a mut Value, list: &str) -> &'a mut Value {
    plan[list]
        .as_array_mut()
        .unwrap_or_else(|| panic!("the plan's {list}"))
        .iter_mut()
        .find(|entry| entry["address"] == "lambda_function.api")
        .unwrap_or_else(|| panic!("the function in the plan's {list}"))
}

/// The declared `memory_size` of the function in a plan file's JSON.
fn declared_memory(plan: &mut Value) -> &mut Value {
    &mut function_entry(plan, "desired")["fields"]["memory_size"]
}

/// The function's `memory_size` change in a plan file's JSON.
fn planned_memory(plan: &mut Value) -> &mut Value {
    function_entry(plan, "changes")["fields"]
        .as_array_mut()
        .and_then(|fields| fields.iter_mut().find(|f| f["field"] == "memory_size"))
        .map(|field| &mut field["new"])
        .expect("the function's memory change in the plan")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_saved_plan_is_refused_and_changes_nothing() {
    let (f, aws) = Fixture::on_s3("").applied().await;
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
        // The function, and the alias moving to the version it publishes.
        out.contains("Resources: 0 added, 2 changed, 0 destroyed"),
        "{out}"
    );
    assert_eq!(memory().await, Some(512));
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "{plan}");
    aws.destroy_to_nothing(&f).await;
}
