//! The state's history on every backend kind (S3 with each lock flavour, and the local files):
//! an edited, truncated or future-format object is detected and nothing is written over it;
//! history lists every version and a rollback is a new, higher version.
//!
//! Each scenario is an `async fn(Kind)`; `common::suite!` at the bottom makes one `#[test]`
//! per scenario and kind.

use crate::common;

use common::{ENV, Kind, fixture, new_document};
use state::StateError;

/// Writes serial 1 and 2 (with distinct outputs); returns the version id of serial 2.
async fn two_versions(f: &common::Fixture) -> String {
    let mut document = new_document();
    document.outputs.insert("v".into(), serde_json::json!(1));
    let token = f.write_over_current(&mut document).await;
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
    f.assert_stored(edited.as_bytes()).await;

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
    f.assert_stored(&future).await;
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

common::suite!(
    edited_object_is_detected_and_rollback_repairs_it,
    truncated_object_is_detected,
    unknown_format_version_is_refused,
    history_and_rollback_round_trip,
);
