//! Progress lines on stderr, one when a step starts and one when it ends, with its time.

use std::time::Duration;

use provisioner::engine::apply::Progress;
use provisioner::plan::{Action, ResourceChange};

pub struct Stderr;

fn verb(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("creating", "created"),
        Action::Update => ("updating", "updated"),
        Action::Replace => ("replacing", "replaced"),
        Action::Delete => ("destroying", "destroyed"),
    }
}

impl Progress for Stderr {
    fn started(&self, change: &ResourceChange) {
        errln!("{}: {}...", change.address, verb(change.action).0);
    }

    fn finished(&self, change: &ResourceChange, elapsed: Duration, id: Option<&str>) {
        let id = id.map(|id| format!(" [id={id}]")).unwrap_or_default();
        errln!(
            "{}: {} after {:.1}s{id}",
            change.address,
            verb(change.action).1,
            elapsed.as_secs_f64()
        );
    }

    fn still_running(&self, change: &ResourceChange, elapsed: Duration) {
        errln!(
            "{}: still {}... [{}s elapsed]",
            change.address,
            verb(change.action).0,
            elapsed.as_secs()
        );
    }

    fn adopted(&self, change: &ResourceChange, elapsed: Duration, id: &str) {
        errln!(
            "{}: adopted this stack's existing {id} (left by an interrupted run) after {:.1}s",
            change.address,
            elapsed.as_secs_f64()
        );
    }

    fn failed(&self, change: &ResourceChange, elapsed: Duration, error: &str) {
        errln!(
            "{}: FAILED after {:.1}s: {error}",
            change.address,
            elapsed.as_secs_f64()
        );
    }
}
