//! The operation lock on every backend kind (S3 with each lock flavour, and the local files):
//! one holder at a time under a race, a held lock names its holder and the way out, and the
//! holder can write the state.
//!
//! Each scenario is an `async fn(Kind)`; `common::suite!` at the bottom makes one `#[test]`
//! per scenario and kind.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{ENV, Kind, assert_locked, fixture, lock_and_release, lock_options, new_document};
use state::StateError;

async fn sixteen_tasks_race_for_one_lock(kind: Kind) {
    const TASKS: usize = 16;
    const ROUNDS: usize = 3;
    let f = fixture(kind).await;
    let holders = Arc::new(AtomicUsize::new(0));
    let acquisitions = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let backend = f.another_backend().await;
        let holders = holders.clone();
        let acquisitions = acquisitions.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let guard = backend
                    .lock(lock_options("apply", 120_000))
                    .await
                    .expect("every task gets the lock within the timeout");
                let before = holders.fetch_add(1, Ordering::SeqCst);
                assert_eq!(before, 0, "two holders at once");
                tokio::time::sleep(Duration::from_millis(5)).await;
                holders.fetch_sub(1, Ordering::SeqCst);
                acquisitions.fetch_add(1, Ordering::SeqCst);
                guard.release().await.expect("release");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(acquisitions.load(Ordering::SeqCst), TASKS * ROUNDS);

    // None without: while one holds it, a zero-timeout try fails at once.
    let guard = f.backend.lock(lock_options("apply", 0)).await.unwrap();
    let other = f.another_backend().await;
    assert_locked(&other).await;
    guard.release().await.unwrap();
    lock_and_release(&other).await;
}

async fn held_lock_names_its_holder_and_the_way_out(kind: Kind) {
    let f = fixture(kind).await;
    let guard = f.backend.lock(lock_options("apply", 0)).await.unwrap();
    assert!(uuid::Uuid::parse_str(guard.id()).is_ok());
    let other = f.another_backend().await;

    let started = std::time::Instant::now();
    let error = other.lock(lock_options("destroy", 300)).await.unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it waited for the timeout"
    );
    let StateError::Locked { info, .. } = &error else {
        panic!("expected Locked, got {error:?}");
    };
    assert_eq!(info.id, guard.id());
    assert_eq!(info.operation, "apply");
    let message = error.to_string();
    assert!(message.contains(&guard.info.who), "{message}");
    assert!(message.contains(&guard.info.created), "{message}");
    assert!(message.contains("'apply'"), "{message}");
    assert!(
        message.contains(&format!(
            "provisioner force-unlock --env {ENV} {}",
            guard.id()
        )),
        "{message}"
    );

    // A wrong ID frees nothing: the holder still releases its own lock cleanly.
    let mismatch = other.force_unlock("not-the-lock-id").await.unwrap_err();
    assert!(
        matches!(mismatch, StateError::LockIdMismatch { .. }),
        "{mismatch:?}"
    );
    assert!(mismatch.to_string().contains(guard.id()));
    assert_locked(&other).await;
    guard.release().await.unwrap();

    let free = other.force_unlock("anything").await.unwrap_err();
    assert!(matches!(free, StateError::NotLocked { .. }), "{free:?}");
    lock_and_release(&other).await;
}

async fn a_lock_can_be_taken_while_the_state_is_written(kind: Kind) {
    // The operation lock and the write path are independent: a holder can write.
    let f = fixture(kind).await;
    let guard = f.backend.lock(lock_options("apply", 0)).await.unwrap();
    let mut document = new_document();
    f.write_over_current(&mut document).await;
    assert_eq!(document.serial, 1);
    guard.release().await.unwrap();
}

common::suite!(
    sixteen_tasks_race_for_one_lock,
    held_lock_names_its_holder_and_the_way_out,
    a_lock_can_be_taken_while_the_state_is_written,
);
