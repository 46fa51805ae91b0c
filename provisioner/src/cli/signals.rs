//! SIGINT and SIGTERM (Ctrl-C, a cancelled CI job): the first asks the run to stop after the
//! steps in flight, the second to stop waiting for them, the third ends the process at once.
//! A stopped run still writes its state and releases its lock on the way out, so a cancelled
//! deploy never leaves the environment locked.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use provisioner::engine::interrupt::Interrupt;
use tokio::signal::unix::{SignalKind, signal};

static INTERRUPT: LazyLock<Interrupt> = LazyLock::new(Interrupt::default);

/// Set by `serve`, which holds no lock and has no steps: the first signal just stops it.
static SERVING: AtomicBool = AtomicBool::new(false);

/// Marks this run as `serve`: a signal stops the gateway, with no word about steps or locks.
pub fn serving() {
    SERVING.store(true, Ordering::SeqCst);
}

/// The process's stop request, shared with every engine.
pub fn interrupt() -> &'static Interrupt {
    &INTERRUPT
}

/// The exit status of a run stopped by `signal`, as shells report it (130 for SIGINT, 143 for
/// SIGTERM).
pub fn exit_status(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(1)
}

/// Listens for SIGINT and SIGTERM for the rest of the process.
pub fn install() {
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::warn!(
            "cannot listen for SIGINT/SIGTERM; an interrupted run may leave its lock held"
        );
        return;
    };
    tokio::spawn(async move {
        loop {
            let number = tokio::select! {
                _ = int.recv() => libc_number(SignalKind::interrupt()),
                _ = term.recv() => libc_number(SignalKind::terminate()),
            };
            match INTERRUPT.raise(number) {
                1 if SERVING.load(Ordering::SeqCst) => errln!("\nStopping the gateway."),
                1 => errln!(
                    "\nStopping: no new step starts; the steps in flight finish, then the state \
                     is written and the lock released. Interrupt again to stop waiting for them."
                ),
                2 => errln!(
                    "\nStopping now: the steps still in flight are left to the next run (their \
                     pending records are in the state); writing the state and releasing the lock."
                ),
                _ => {
                    errln!(
                        "\nStopped at once: the lock may still be held (force-unlock frees it)."
                    );
                    std::process::exit(i32::from(exit_status(number)));
                }
            }
        }
    });
}

fn libc_number(kind: SignalKind) -> i32 {
    kind.as_raw_value()
}
