//! Which run wrote a version: one apply writes the state after every step (dozens of versions),
//! so `state history` groups versions by the run that wrote them, with its command. Each
//! process is one run: an id made once, and the command line the tool gives ([`set_command`]).
//! It is stored beside the writer's name: in the document (`written_in`) and, on S3, in the
//! object's metadata too, so the history reads it without downloading every version.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// One run of the tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    /// The command line after the program's name (`apply --env dev --auto-approve`).
    pub command: String,
}

static COMMAND: OnceLock<String> = OnceLock::new();
static RUN: OnceLock<Run> = OnceLock::new();

/// Names this process's command for every version it writes (first call wins).
pub fn set_command(command: &str) {
    let _ = COMMAND.set(command.to_string());
}

/// This process's run.
pub fn current() -> &'static Run {
    RUN.get_or_init(|| Run {
        id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
        command: COMMAND.get().cloned().unwrap_or_default(),
    })
}
