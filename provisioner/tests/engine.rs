//! The engine through the library, on a slice of the stack (role, table, log group) against
//! the emulator: plan, apply, empty re-plan, adoption of an object the state lost, destroy.

use crate::common;

use provisioner::aws::AwsClients;
use provisioner::desired::{Artifact, Artifacts, desired_resources};
use provisioner::engine::Engine;
use provisioner::plan::{Action, Plan};
use provisioner::resource::Desired;
use provisioner::stack::Stack;

use common::engine::Quiet;

const SLICE: [&str; 3] = [
    "iam_role.lambda",
    "dynamodb_table.playground",
    "log_group.lambda",
];

fn slice(prefix: &str, dir: &std::path::Path) -> (provisioner::stack::ResolvedStack, Vec<Desired>) {
    let text = format!("[stack]\nname_prefix = \"{prefix}\"\n[env.dev]\n");
    let stack = Stack::parse(&dir.join("stack.toml"), text)
        .unwrap()
        .resolve("dev")
        .unwrap();
    let artifacts = Artifacts {
        function: Artifact {
            path: dir.join("none.zip"),
            sha256: String::new(),
        },
        layer: None,
    };
    let desired = desired_resources(&stack, &artifacts)
        .into_iter()
        .filter(|d| SLICE.contains(&d.address.as_str()))
        .map(|mut d| {
            d.depends_on.retain(|a| SLICE.contains(&a.as_str()));
            d
        })
        .collect();
    (stack, desired)
}

async fn plan_and_apply(
    engine: &Engine,
    backend: &state::Backend,
    desired: &[Desired],
    destroy: bool,
) -> Plan {
    let owner = engine.owner().await.unwrap();
    common::engine::plan_and_apply(engine, backend, &owner, desired, destroy, &Quiet::default())
        .await
}

/// Deletes the local state under `dir`, leaving a fresh, empty backend.
async fn lose_the_state(
    dir: &std::path::Path,
    backend: &state::BackendConfig,
    sdk: &aws_config::SdkConfig,
) {
    std::fs::remove_dir_all(dir.join(".provisioner")).unwrap();
    state::ensure_backend_resources(backend, sdk).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_creates_converges_adopts_and_destroys() {
    testkit::endpoint();
    let dir = tempfile::tempdir().unwrap();
    let prefix = testkit::unique_name("pe");
    let (stack, desired) = slice(&prefix, dir.path());
    let sdk = testkit::sdk_config().await;
    let backend = state::Backend::new(stack.backend_config(), &sdk);
    state::ensure_backend_resources(&stack.backend_config(), &sdk)
        .await
        .unwrap();
    let engine = Engine {
        aws: AwsClients::new(sdk.clone()),
        registry: provisioner::kinds::lookup,
        stack_name: stack.stack_name.clone(),
        environment: "dev".into(),
        stack_tags: stack.tags.clone(),
        interrupt: Default::default(),
    };

    let first = plan_and_apply(&engine, &backend, &desired, false).await;
    assert_eq!(first.changes.len(), 3);
    assert!(first.changes.iter().all(|c| c.action == Action::Create));
    let second = plan_and_apply(&engine, &backend, &desired, false).await;
    assert!(second.is_empty(), "no surprise changes: {second}");

    // Lose the state: the next apply adopts the tagged objects instead of duplicating them.
    lose_the_state(dir.path(), &stack.backend_config(), &sdk).await;
    let adopted = plan_and_apply(&engine, &backend, &desired, false).await;
    assert_eq!(adopted.summary().add, 3, "planned as creates: {adopted}");
    let after = plan_and_apply(&engine, &backend, &desired, false).await;
    assert!(after.is_empty(), "{after}");

    // Lose it again: destroy still finds everything.
    lose_the_state(dir.path(), &stack.backend_config(), &sdk).await;
    let destroyed = plan_and_apply(&engine, &backend, &desired, true).await;
    assert_eq!(destroyed.summary().destroy, 3, "{destroyed}");
    let iam = aws_sdk_iam::Client::new(&sdk);
    assert!(
        iam.get_role()
            .role_name(&stack.lambda.role_name)
            .send()
            .await
            .is_err()
    );
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    assert!(
        dynamodb
            .describe_table()
            .table_name(&stack.table.name)
            .send()
            .await
            .is_err()
    );
}
