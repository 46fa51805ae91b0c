//! The engine driven through the library, as the CLI's plan and apply drive it: shared by
//! `engine.rs` (the real kinds against the emulator) and `engine_fake.rs` (a fake kind).

use provisioner::engine::apply::{Progress, execute};
use provisioner::engine::diff::{PlanInput, make_plan};
use provisioner::engine::refresh::refresh;
use provisioner::engine::writer::StateWriter;
use provisioner::engine::{Engine, adopt};
use provisioner::kind::Desired;
use provisioner::plan::Plan;

/// Plans and applies `desired` (or, with `destroy`, destroys it) as `owner` on the state in
/// `backend`, reporting to `progress`; returns the plan.
pub async fn plan_and_apply(
    engine: &Engine,
    backend: &state::Backend,
    owner: &state::Owner,
    desired: &[Desired],
    destroy: bool,
    progress: &dyn Progress,
) -> Plan {
    let mut writer = StateWriter::open(backend, owner).await.unwrap();
    let mut refreshed = refresh(engine, &writer.document).await.unwrap();
    if destroy {
        adopt::adopt_unrecorded(engine, desired, &mut writer.document, &mut refreshed)
            .await
            .unwrap();
    }
    let plan = make_plan(
        engine,
        &PlanInput {
            desired,
            document: &writer.document,
            state_exists: writer.exists,
            refreshed: &refreshed,
            destroy,
            stack_hash: String::new(),
            allow_data_loss: false,
        },
    )
    .unwrap();
    execute(engine, &plan, &refreshed, &mut writer, progress)
        .await
        .unwrap();
    plan
}
