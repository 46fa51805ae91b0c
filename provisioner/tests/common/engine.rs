//! The engine driven through the library, as the CLI's plan and apply drive it: shared by
//! `engine.rs` (the real kinds against the emulator) and `engine_fake.rs` (a fake kind).

use std::sync::Mutex;
use std::time::Duration;

use provisioner::engine::apply::{Progress, execute};
use provisioner::engine::diff::{PlanInput, make_plan};
use provisioner::engine::refresh::refresh;
use provisioner::engine::writer::StateWriter;
use provisioner::engine::{Engine, adopt};
use provisioner::plan::{Plan, ResourceChange};
use provisioner::resource::Desired;

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
            replace: &[],
        },
    )
    .unwrap();
    execute(engine, &plan, &refreshed, &mut writer, progress)
        .await
        .unwrap();
    plan
}

/// The progress of a test's run: silent, except that a failed step fails the test at once with
/// its address (the error alone would not say which step), and the still-running notices are
/// kept for the test that asks about them. One reporter for both engine test files.
#[derive(Default)]
pub struct Quiet(Mutex<Vec<(String, u64)>>);

impl Quiet {
    /// The still-running notices so far: each step's address and its whole seconds.
    pub fn still_running(self) -> Vec<(String, u64)> {
        self.0.into_inner().unwrap()
    }
}

impl Progress for Quiet {
    fn started(&self, _: &ResourceChange) {}
    fn finished(&self, _: &ResourceChange, _: Duration, _: Option<&str>) {}
    fn adopted(&self, _: &ResourceChange, _: Duration, _: &str) {}
    fn failed(&self, change: &ResourceChange, _: Duration, error: &str) {
        panic!("{} failed: {error}", change.address);
    }
    fn still_running(&self, change: &ResourceChange, elapsed: Duration) {
        let seen = (change.address.clone(), elapsed.as_secs());
        self.0.lock().unwrap().push(seen);
    }
}
