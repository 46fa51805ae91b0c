//! One behavioural suite, run against every backend kind (S3 with each lock flavour, and the
//! local files), all through real SDK calls to the emulator.
//!
//! Each scenario is an `async fn(Kind)`; the `suite!` macro at the bottom makes one `#[test]`
//! per scenario and kind.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{ENV, Kind, fixture, lock_options, new_document};
use state::StateError;

async fn first_read_is_absent_then_writes_read_back(kind: Kind) {
    let f = fixture(kind).await;
    let stored = f.backend.read().await.unwrap();
    assert!(stored.document.is_none(), "a fresh backend has no state");

    let mut document = new_document();
    document
        .outputs
        .insert("api_url".into(), serde_json::json!("https://a.example"));
    let token = f.backend.write(&mut document, &stored.token).await.unwrap();
    assert_eq!(document.serial, 1);

    let read = f.backend.read().await.unwrap();
    assert_eq!(read.document.as_ref(), Some(&document));
    assert_eq!(read.token, token);

    let mut second = document.clone();
    f.backend.write(&mut second, &token).await.unwrap();
    assert_eq!(second.serial, 2);
    assert_eq!(f.backend.read().await.unwrap().document.unwrap().serial, 2);
}

async fn two_writers_from_one_read_exactly_one_lands(kind: Kind) {
    let f = fixture(kind).await;
    let mut document = new_document();
    f.backend
        .write(&mut document, &f.backend.read().await.unwrap().token)
        .await
        .unwrap();

    let other = f.another_backend().await;
    let read = f.backend.read().await.unwrap();
    let mut a = read.document.clone().unwrap();
    a.outputs.insert("writer".into(), serde_json::json!("a"));
    let mut b = read.document.clone().unwrap();
    b.outputs.insert("writer".into(), serde_json::json!("b"));
    let (ra, rb) = tokio::join!(
        f.backend.write(&mut a, &read.token),
        other.write(&mut b, &read.token)
    );
    let landed = [ra.is_ok(), rb.is_ok()];
    assert_eq!(
        landed.iter().filter(|ok| **ok).count(),
        1,
        "exactly one write lands: {ra:?} {rb:?}"
    );
    let error = ra.err().or(rb.err()).unwrap();
    assert!(
        matches!(error, StateError::Conflict { .. }),
        "the loser gets a conflict, got {error:?}"
    );
    assert!(error.to_string().contains("someone else wrote the state"));
    assert!(error.to_string().contains("Re-run plan"));

    let stored = f.backend.read().await.unwrap().document.unwrap();
    assert_eq!(stored.serial, 2);
    let winner = if landed[0] { "a" } else { "b" };
    assert_eq!(stored.outputs["writer"], serde_json::json!(winner));
    // The loser's document is left as it was.
    let loser_serial = if landed[0] { b.serial } else { a.serial };
    assert_eq!(loser_serial, 1);
}

/// The stored object re-uploaded unchanged but reformatted (new bytes, new ETag, same lineage,
/// serial and checksum) is still the version the writer holds: its next write lands.
async fn an_unchanged_reupload_is_no_conflict(kind: Kind) {
    let f = fixture(kind).await;
    let mut document = new_document();
    let token = f
        .backend
        .write(&mut document, &f.backend.read().await.unwrap().token)
        .await
        .unwrap();
    let pretty = f.raw_get().await.unwrap();
    let value: serde_json::Value = serde_json::from_slice(&pretty).unwrap();
    let compact = serde_json::to_vec(&value).unwrap();
    assert_ne!(compact, pretty);
    f.raw_put(compact).await;
    assert_eq!(
        f.backend.read().await.unwrap().document.as_ref(),
        Some(&document)
    );

    document
        .outputs
        .insert("after".into(), serde_json::json!(true));
    f.backend.write(&mut document, &token).await.unwrap();
    assert_eq!(document.serial, 2);
    assert_eq!(f.backend.read().await.unwrap().document.unwrap().serial, 2);

    // A version written by someone else in between is still a conflict.
    let other = f.another_backend().await;
    let mut theirs = other.read().await.unwrap().document.unwrap();
    let their_token = other.read().await.unwrap().token;
    other.write(&mut theirs, &their_token).await.unwrap();
    let mut stale = document.clone();
    let error = f.backend.write(&mut stale, &token).await.unwrap_err();
    assert!(matches!(error, StateError::Conflict { .. }), "{error:?}");
}

async fn serial_strictly_increases_across_100_mixed_writes(kind: Kind) {
    // Two clients (as two processes would be) interleave: fresh writes land, writes from a
    // read that someone else has since overtaken are refused and retried from a new read.
    // The concurrent race itself is `two_writers_from_one_read_exactly_one_lands`: the
    // emulator's conditional checks are not atomic under heavy parallel load (real S3's are),
    // so a many-task race here would test moto, not this crate.
    const LANDED: u64 = 100;
    let f = fixture(kind).await;
    let clients = [f.another_backend().await, f.another_backend().await];
    let mut serials = Vec::new();
    let mut refused = 0;
    let mut step = 0usize;
    while (serials.len() as u64) < LANDED {
        step += 1;
        let (me, other) = (&clients[step % 2], &clients[(step + 1) % 2]);
        let mine = me.read().await.unwrap();
        let mut document = mine.document.clone().unwrap_or_else(new_document);
        document
            .outputs
            .insert("step".into(), serde_json::json!(step));
        if step.is_multiple_of(3) && serials.len() as u64 + 1 < LANDED {
            // Mixed: the other client writes in between, so my token is stale.
            let theirs = other.read().await.unwrap();
            let mut overtaking = theirs.document.clone().unwrap_or_else(new_document);
            other.write(&mut overtaking, &theirs.token).await.unwrap();
            serials.push(overtaking.serial);
            let before = document.clone();
            let stale = me.write(&mut document, &mine.token).await;
            assert!(
                matches!(stale, Err(StateError::Conflict { .. })),
                "a stale token must be refused, got {stale:?}"
            );
            assert_eq!(document, before, "a refused document is left as it was");
            refused += 1;
            continue;
        }
        me.write(&mut document, &mine.token).await.unwrap();
        serials.push(document.serial);
    }
    let expected: Vec<u64> = (1..=LANDED).collect();
    assert_eq!(
        serials, expected,
        "every landed write got the next serial, in order"
    );
    assert!(refused >= 30, "the stale path ran ({refused} times)");

    let stored = f.backend.read().await.unwrap().document.unwrap();
    assert_eq!(stored.serial, LANDED);
    let history = f.backend.history().await.unwrap();
    let history_serials: Vec<u64> = history.iter().rev().map(|e| e.serial.unwrap()).collect();
    assert_eq!(
        history_serials, expected,
        "history serials strictly increase, oldest first"
    );
    assert!(history[0].is_latest);
}

async fn lineage_mismatch_is_refused_and_nothing_overwritten(kind: Kind) {
    let f = fixture(kind).await;
    let mut document = new_document();
    f.backend
        .write(&mut document, &f.backend.read().await.unwrap().token)
        .await
        .unwrap();
    let before = f.raw_get().await.unwrap();

    let read = f.backend.read().await.unwrap();
    let mut foreign = new_document();
    foreign.serial = 5;
    let error = f
        .backend
        .write(&mut foreign, &read.token)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StateError::LineageMismatch { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&document.lineage) && message.contains(&foreign.lineage));
    assert!(message.contains("check --env"), "{message}");
    assert_eq!(foreign.serial, 5, "the refused document is left as it was");
    assert_eq!(
        f.raw_get().await.unwrap(),
        before,
        "nothing was overwritten"
    );
}

async fn lower_serial_is_refused_and_nothing_overwritten(kind: Kind) {
    let f = fixture(kind).await;
    let mut document = new_document();
    let token = f
        .backend
        .write(&mut document, &f.backend.read().await.unwrap().token)
        .await
        .unwrap();
    let mut old = document.clone();
    f.backend.write(&mut document, &token).await.unwrap();
    let before = f.raw_get().await.unwrap();

    let read = f.backend.read().await.unwrap();
    old.serial = 1;
    let error = f.backend.write(&mut old, &read.token).await.unwrap_err();
    assert!(
        matches!(
            error,
            StateError::SerialRegression {
                stored: 2,
                given: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("Re-run plan"));
    assert_eq!(
        f.raw_get().await.unwrap(),
        before,
        "nothing was overwritten"
    );
}

/// Writes serial 1 and 2 (with distinct outputs); returns the version id of serial 2.
async fn two_versions(f: &common::Fixture) -> String {
    let mut document = new_document();
    document.outputs.insert("v".into(), serde_json::json!(1));
    let token = f
        .backend
        .write(&mut document, &f.backend.read().await.unwrap().token)
        .await
        .unwrap();
    document.outputs.insert("v".into(), serde_json::json!(2));
    f.backend.write(&mut document, &token).await.unwrap();
    let history = f.backend.history().await.unwrap();
    assert_eq!(history[0].serial, Some(2));
    history[0].version_id.clone()
}

async fn edited_object_is_detected_and_rollback_repairs_it(kind: Kind) {
    let f = fixture(kind).await;
    let good = two_versions(&f).await;
    let token = f.backend.read().await.unwrap().token;
    let text = String::from_utf8(f.raw_get().await.unwrap()).unwrap();
    let edited = text.replace("\"playground\"", "\"playgrounX\"");
    assert_ne!(edited, text);
    f.raw_put(edited.clone().into_bytes()).await;

    let error = f.backend.read().await.unwrap_err();
    let StateError::Corrupted { version_id, .. } = &error else {
        panic!("expected Corrupted, got {error:?}");
    };
    assert_eq!(version_id.as_deref(), Some(good.as_str()));
    let message = error.to_string();
    assert!(message.contains(&f.backend.location()), "{message}");
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(
        message.contains(&format!("provisioner state rollback --env {ENV} {good}")),
        "{message}"
    );

    // A write from before the edit is refused and leaves the edited object alone.
    let mut document = new_document();
    assert!(f.backend.write(&mut document, &token).await.is_err());
    assert_eq!(f.raw_get().await.unwrap(), edited.into_bytes());

    // Rolling back to the named version repairs it, as a new, higher serial.
    let restored = f.backend.rollback(&good).await.unwrap();
    assert_eq!(restored.serial, 3);
    let read = f.backend.read().await.unwrap().document.unwrap();
    assert_eq!(read, restored);
    assert_eq!(read.outputs["v"], serde_json::json!(2));
    assert_eq!(read.stack, "playground");
}

async fn truncated_object_is_detected(kind: Kind) {
    let f = fixture(kind).await;
    let good = two_versions(&f).await;
    let bytes = f.raw_get().await.unwrap();
    f.raw_put(bytes[..bytes.len() / 2].to_vec()).await;
    let error = f.backend.read().await.unwrap_err();
    assert!(
        matches!(&error, StateError::Corrupted { version_id: Some(v), reason, .. }
            if *v == good && reason.contains("not valid JSON")),
        "{error:?}"
    );
}

async fn unknown_format_version_is_refused(kind: Kind) {
    let f = fixture(kind).await;
    two_versions(&f).await;
    let token = f.backend.read().await.unwrap().token;
    let mut value: serde_json::Value = serde_json::from_slice(&f.raw_get().await.unwrap()).unwrap();
    value["format_version"] = serde_json::json!(99);
    let future = serde_json::to_vec(&value).unwrap();
    f.raw_put(future.clone()).await;

    let error = f.backend.read().await.unwrap_err();
    assert!(
        matches!(
            error,
            StateError::UnsupportedFormat {
                found: 99,
                supported: state::CURRENT_FORMAT_VERSION,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("newer provisioner") && message.contains("upgrade"),
        "{message}"
    );

    let mut document = new_document();
    assert!(f.backend.write(&mut document, &token).await.is_err());
    assert_eq!(
        f.raw_get().await.unwrap(),
        future,
        "nothing was overwritten"
    );
}

async fn history_and_rollback_round_trip(kind: Kind) {
    let f = fixture(kind).await;
    let mut document = new_document();
    let mut token = f.backend.read().await.unwrap().token;
    for v in 1..=3 {
        document.outputs.insert("v".into(), serde_json::json!(v));
        token = f.backend.write(&mut document, &token).await.unwrap();
    }
    let history = f.backend.history().await.unwrap();
    let serials: Vec<Option<u64>> = history.iter().map(|e| e.serial).collect();
    assert_eq!(serials, [Some(3), Some(2), Some(1)], "newest first");
    assert_eq!(
        history.iter().map(|e| e.is_latest).collect::<Vec<_>>(),
        [true, false, false]
    );
    for entry in &history {
        assert!(
            entry.writer.as_deref().is_some_and(|w| w.contains('@')),
            "{entry:?}"
        );
        time::OffsetDateTime::parse(
            &entry.last_modified,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or_else(|e| panic!("{entry:?}: {e}"));
    }

    let first = &history[2];
    let old = f.backend.read_version(&first.version_id).await.unwrap();
    assert_eq!(old.serial, 1);
    assert_eq!(old.outputs["v"], serde_json::json!(1));

    let rolled = f.backend.rollback(&first.version_id).await.unwrap();
    assert_eq!(
        rolled.serial, 4,
        "a rollback is a new version with a higher serial"
    );
    assert_eq!(rolled.outputs["v"], serde_json::json!(1));
    assert_eq!(rolled.lineage, document.lineage);
    let current = f.backend.read().await.unwrap();
    assert_eq!(current.document.as_ref(), Some(&rolled));

    let history = f.backend.history().await.unwrap();
    assert_eq!(history.len(), 4, "history is kept, never deleted");
    assert_eq!(history[0].serial, Some(4));
    assert_eq!(
        f.backend
            .read_version(&history[1].version_id)
            .await
            .unwrap()
            .outputs["v"],
        serde_json::json!(3)
    );

    // A writer still holding the version from before the rollback is refused; the rollback's
    // version and token are what a next write uses.
    let mut stale = document.clone();
    assert!(matches!(
        f.backend.write(&mut stale, &token).await,
        Err(StateError::Conflict { .. })
    ));
    let mut next = rolled.clone();
    f.backend.write(&mut next, &current.token).await.unwrap();
    assert_eq!(next.serial, 5);

    let missing = f.backend.read_version("12345").await.unwrap_err();
    assert!(
        matches!(missing, StateError::NotFound { .. }),
        "{missing:?}"
    );
    assert!(
        missing.to_string().contains("state history --env"),
        "{missing}"
    );
}

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
    assert!(matches!(
        other.lock(lock_options("plan", 0)).await,
        Err(StateError::Locked { .. })
    ));
    guard.release().await.unwrap();
    other
        .lock(lock_options("plan", 0))
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
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
    assert!(matches!(
        other.lock(lock_options("plan", 0)).await,
        Err(StateError::Locked { .. })
    ));
    guard.release().await.unwrap();

    let free = other.force_unlock("anything").await.unwrap_err();
    assert!(matches!(free, StateError::NotFound { .. }), "{free:?}");
    other
        .lock(lock_options("plan", 0))
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
}

async fn a_lock_can_be_taken_while_the_state_is_written(kind: Kind) {
    // The operation lock and the write path are independent: a holder can write.
    let f = fixture(kind).await;
    let guard = f.backend.lock(lock_options("apply", 0)).await.unwrap();
    let mut document = new_document();
    f.backend
        .write(&mut document, &f.backend.read().await.unwrap().token)
        .await
        .unwrap();
    assert_eq!(document.serial, 1);
    guard.release().await.unwrap();
}

macro_rules! suite {
    ($($kind_mod:ident => $kind:expr),+ $(,)?) => {
        $(
            mod $kind_mod {
                use super::*;
                suite!(@tests $kind;
                    first_read_is_absent_then_writes_read_back,
                    two_writers_from_one_read_exactly_one_lands,
                    serial_strictly_increases_across_100_mixed_writes,
                    lineage_mismatch_is_refused_and_nothing_overwritten,
                    lower_serial_is_refused_and_nothing_overwritten,
                    edited_object_is_detected_and_rollback_repairs_it,
                    truncated_object_is_detected,
                    an_unchanged_reupload_is_no_conflict,
                    unknown_format_version_is_refused,
                    history_and_rollback_round_trip,
                    sixteen_tasks_race_for_one_lock,
                    held_lock_names_its_holder_and_the_way_out,
                    a_lock_can_be_taken_while_the_state_is_written,
                );
            }
        )+
    };
    (@tests $kind:expr; $($test:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                super::$test($kind).await;
            }
        )+
    };
}

suite! {
    s3_dynamodb_lock => Kind::S3DynamoDb,
    s3_object_lock => Kind::S3Object,
    s3_both_locks => Kind::S3Both,
    local => Kind::Local,
}
