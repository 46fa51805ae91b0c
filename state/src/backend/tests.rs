//! Unit tests of `backend`.

use super::*;

#[test]
fn first_write_gets_serial_one() {
    let document = StateDocument::new("s", "dev");
    let next = next_version(&document, None, "here").unwrap();
    assert_eq!(next.serial, 1);
    assert_eq!(next.lineage, document.lineage);
}

#[test]
fn a_write_goes_one_above_the_stored_serial() {
    let mut stored = StateDocument::new("s", "dev");
    stored.serial = 41;
    let mut proposed = stored.clone();
    proposed.tool_version = "0.0.0".to_string();
    let next = next_version(&proposed, Some(&Version::of(&stored)), "here").unwrap();
    assert_eq!(next.serial, 42);
    assert_eq!(next.tool_version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn another_lineage_is_refused() {
    let stored = StateDocument::new("s", "dev");
    let proposed = StateDocument::new("s", "dev");
    let error = next_version(&proposed, Some(&Version::of(&stored)), "s3://b/k").unwrap_err();
    assert!(matches!(error, StateError::LineageMismatch { .. }));
    assert!(error.to_string().contains("check --env"));
}

#[test]
fn a_document_of_another_owner_is_refused_naming_both() {
    let backend = Backend::new(
        BackendConfig::Local {
            dir: std::env::temp_dir(),
            environment: "stage".into(),
        },
        &aws_config::SdkConfig::builder().build(),
    );
    let owner = |environment: &str, account: &str| Owner {
        stack: "pg".into(),
        environment: environment.into(),
        region: "us-east-1".into(),
        account_id: account.into(),
    };
    let dev = StateDocument::owned_by(&owner("dev", "1"));
    let error = backend.check_owner(&dev, &owner("stage", "1")).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("environment 'dev'") && text.contains("environment 'stage'"),
        "{text}"
    );
    assert!(text.contains("[backend]"), "{text}");
    assert!(
        backend.check_owner(&dev, &owner("dev", "2")).is_err(),
        "another account"
    );
    assert!(backend.check_owner(&dev, &owner("dev", "1")).is_ok());
    let renamed = Owner {
        stack: "pg2".into(),
        ..owner("dev", "1")
    };
    let text = backend.check_owner(&dev, &renamed).unwrap_err().to_string();
    assert!(text.contains("`name = \"pg\"` under [stack]"), "{text}");
    // A format-1 document knows no region or account: only stack and environment count.
    let mut old = StateDocument::new("pg", "dev");
    assert!(backend.check_owner(&old, &owner("dev", "2")).is_ok());
    old.claim(&owner("dev", "2"));
    assert_eq!(old.account_id.as_deref(), Some("2"));
    assert!(backend.check_owner(&old, &owner("dev", "1")).is_err());
}

#[test]
fn a_lower_serial_is_refused() {
    let mut stored = StateDocument::new("s", "dev");
    stored.serial = 5;
    let mut proposed = stored.clone();
    proposed.serial = 4;
    let error = next_version(&proposed, Some(&Version::of(&stored)), "s3://b/k").unwrap_err();
    assert!(matches!(
        error,
        StateError::SerialRegression {
            stored: 5,
            given: 4,
            ..
        }
    ));
}
