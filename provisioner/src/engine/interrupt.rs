//! Asking a run to stop (the CLI raises it on SIGINT or SIGTERM, as a cancelled CI job sends).
//!
//! The apply loop reads it between steps: once raised, no new step starts and the steps in
//! flight finish (each one's result is recorded), within a bounded wait; raised twice, the steps
//! still in flight are abandoned at once (their pending records, written before their AWS
//! calls, let the next run finish them). Either way the run ends by writing the state and
//! releasing the lock, which a killed process could not do.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use tokio::sync::Notify;

/// A stop request shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The first signal's number (0: none yet).
    signal: AtomicI32,
    /// How many times it was raised.
    count: AtomicU32,
    changed: Notify,
}

impl Interrupt {
    /// Records one more request to stop, by `signal`; returns how many there have been.
    pub fn raise(&self, signal: i32) -> u32 {
        let _ = self
            .inner
            .signal
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        let count = self.inner.count.fetch_add(1, Ordering::SeqCst) + 1;
        self.inner.changed.notify_waiters();
        count
    }

    /// The signal that asked to stop, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self.inner.signal.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// True once asked to stop a second time: do not wait for the steps in flight.
    pub fn urgent(&self) -> bool {
        self.inner.count.load(Ordering::SeqCst) >= 2
    }

    /// Waits until it has been raised at least `times` times.
    pub async fn raised(&self, times: u32) {
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.inner.count.load(Ordering::SeqCst) >= times {
                return;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_is_kept_and_the_second_makes_it_urgent() {
        let interrupt = Interrupt::default();
        assert_eq!(interrupt.signal(), None);
        let waiter = {
            let interrupt = interrupt.clone();
            tokio::spawn(async move { interrupt.raised(1).await })
        };
        assert_eq!(interrupt.raise(15), 1);
        waiter.await.unwrap();
        assert_eq!(interrupt.signal(), Some(15));
        assert!(!interrupt.urgent());
        assert_eq!(interrupt.raise(2), 2);
        assert_eq!(
            interrupt.signal(),
            Some(15),
            "the first signal names the exit status"
        );
        assert!(interrupt.urgent());
        interrupt.raised(2).await;
    }
}
