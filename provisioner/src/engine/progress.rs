//! What a run tells the operator while it works: each step's start and end, what it found, and
//! every so often which steps are still running, so a wait of minutes (a table's index, IAM
//! propagation) is never silence.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::plan::ResourceChange;

/// How often a step that is still running is reported (Terraform's rhythm).
pub const STILL_RUNNING_EVERY: Duration = Duration::from_secs(10);

/// Where progress lines go (stderr in the CLI).
pub trait Progress: Send + Sync {
    fn started(&self, change: &ResourceChange);
    fn finished(&self, change: &ResourceChange, elapsed: Duration, id: Option<&str>);
    /// A create found this stack's own object under the declared name (a crashed run made it)
    /// and took it over instead of creating another.
    fn adopted(&self, change: &ResourceChange, elapsed: Duration, id: &str);
    fn failed(&self, change: &ResourceChange, elapsed: Duration, error: &str);
    /// The step has been running for `elapsed` and is not done yet.
    fn still_running(&self, _change: &ResourceChange, _elapsed: Duration) {}
    /// Something the operator should know about the run (what an interrupted run left).
    fn note(&self, _text: &str) {}
}

/// The steps running now and when each started, to say every [`STILL_RUNNING_EVERY`] which are
/// still at it.
#[derive(Debug)]
pub struct Heartbeat {
    running: BTreeMap<usize, Instant>,
    next: Instant,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            running: BTreeMap::new(),
            next: Instant::now() + STILL_RUNNING_EVERY,
        }
    }
}

impl Heartbeat {
    pub fn started(&mut self, step: usize) {
        self.running.insert(step, Instant::now());
    }

    pub fn ended(&mut self, step: usize) {
        self.running.remove(&step);
    }

    /// Waits for the next beat, then returns each running step with how long it has run.
    pub async fn beat(&mut self) -> Vec<(usize, Duration)> {
        tokio::time::sleep_until(self.next).await;
        self.next += STILL_RUNNING_EVERY;
        let now = Instant::now();
        let running = self.running.iter();
        running.map(|(&step, &since)| (step, now - since)).collect()
    }
}
