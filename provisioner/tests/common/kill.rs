//! Killing a run on purpose and checking the next one converges: SIGKILL at a progress line,
//! the re-apply that must leave one of everything and an empty plan, the destroy that must
//! leave nothing. Shared by the crash tests (`crash*.rs`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};

use super::{Aws, Fixture};

pub const APPLY: [&str; 4] = ["apply", "--env", "dev", "--auto-approve"];
pub const DESTROY: [&str; 4] = ["destroy", "--env", "dev", "--auto-approve"];

/// Starts `command` with stderr piped (stdout dropped) and hands each stderr line, echoed as
/// `[child] ...`, to `on_line` with the child, until `on_line` returns true (stop reading) or
/// stderr ends. Returns the child, still to be waited for, and whether `on_line` stopped.
pub fn watch_stderr(
    mut command: Command,
    mut on_line: impl FnMut(&str, &mut Child) -> bool,
) -> (Child, bool) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start provisioner");
    let stderr = child.stderr.take().expect("piped stderr");
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        eprintln!("[child] {line}");
        if on_line(&line, &mut child) {
            return (child, true);
        }
    }
    (child, false)
}

/// Runs `command` and SIGKILLs it as soon as a stderr line contains `trigger`; returns the
/// child (to wait for) and whether the trigger was seen.
pub fn kill_at(command: Command, trigger: &str) -> (Child, bool) {
    watch_stderr(command, |line, child| {
        let seen = line.contains(trigger);
        if seen {
            // Child::kill sends SIGKILL on Unix.
            child.kill().expect("SIGKILL");
        }
        seen
    })
}

/// Runs `args`, SIGKILLs it as soon as a stderr line contains `trigger`, and asserts that it
/// was the kill that ended the run (not the run finishing before the trigger or the signal).
pub fn kill_when(f: &Fixture, args: &[&str], trigger: &str) {
    let (mut child, seen) = kill_at(f.command(args), trigger);
    let status = child.wait().expect("wait");
    eprintln!("killed at {trigger:?}: seen={seen}, status={status:?}");
    assert!(seen, "`provisioner {args:?}` never printed {trigger:?}");
    assert_eq!(
        status.signal(),
        Some(9),
        "`provisioner {args:?}` ended before the SIGKILL at {trigger:?} ({status:?})"
    );
}

/// After a killed apply: apply again, then one of everything and an empty plan.
pub async fn reapply_converges(f: &Fixture, aws: &Aws, point: &str) {
    f.apply();
    assert_eq!(
        aws.inventory(f).await,
        Aws::one_stack(),
        "duplicates or gaps after the re-apply that followed a kill at {point:?}"
    );
    assert_eq!(
        f.plan().0,
        0,
        "the plan after re-applying (kill at {point:?}) is not empty"
    );
}

/// The whole recovery from a kill at `point`: the re-apply converges, then destroy leaves
/// nothing.
pub async fn recovers(f: &Fixture, aws: &Aws, point: &str) {
    reapply_converges(f, aws, point).await;
    destroys_to_nothing(f, aws, point).await;
}

/// Destroy leaves nothing of the stack in any service.
pub async fn destroys_to_nothing(f: &Fixture, aws: &Aws, point: &str) {
    f.destroy();
    assert_eq!(
        aws.leftovers(f).await,
        Vec::<String>::new(),
        "left behind after a kill at {point:?}"
    );
}
