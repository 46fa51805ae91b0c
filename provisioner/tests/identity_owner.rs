//! A state document of another environment (dev's copied to stage's key) is refused by every
//! command, naming both environments, and nothing in AWS changes; one relabelled as stage's is
//! refused by the tags of the objects it records.

use crate::common;

use common::identity::*;
use common::{Aws, Fixture};
use std::collections::BTreeMap;

/// What the finding saw change: the tags of dev's tagged objects and the function's table.
async fn dev_identity(aws: &Aws, f: &Fixture) -> (BTreeMap<String, String>, Option<String>) {
    (
        aws.role_tags(&f.role_name()).await,
        table_env(aws, &f.function_name()).await,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_copied_from_another_environment_is_refused_by_every_command() {
    let (f, aws) = Fixture::on_s3("[env.stage]\n").applied().await;
    let (dev_key, stage_key) = (f.state_key("dev"), f.state_key("stage"));
    aws.s3
        .copy_object()
        .bucket(f.state_bucket())
        .copy_source(format!("{}/{dev_key}", f.state_bucket()))
        .key(&stage_key)
        .send()
        .await
        .expect("copy dev's state to stage's key");
    let identity = dev_identity(&aws, &f).await;
    assert_eq!(
        identity
            .0
            .get("provisioner:environment")
            .map(String::as_str),
        Some("dev")
    );
    let stage_versions = aws.state_versions(&f, "stage").await;
    let dev_versions = aws.state_versions(&f, "dev").await;

    for args in [
        &["plan", "--env", "stage"][..],
        &["plan", "--env", "stage", "--json"][..],
        &["apply", "--env", "stage", "--auto-approve"][..],
        &["destroy", "--env", "stage", "--auto-approve"][..],
        &["state", "list", "--env", "stage"][..],
        &["state", "show", "--env", "stage", "iam_role.lambda"][..],
        &["output", "--env", "stage"][..],
        &[
            "import",
            "--env",
            "stage",
            "iam_role.lambda",
            &f.role_name(),
        ][..],
    ] {
        let error = refused(&f, args);
        assert!(
            error.contains("environment 'dev'") && error.contains("environment 'stage'"),
            "names both environments: {error}"
        );
        assert!(error.contains("[backend]"), "hints at [backend]: {error}");
        assert!(
            !error.contains("creating") && !error.contains("updating"),
            "{error}"
        );
    }

    // Nothing in AWS changed: dev's objects keep their tags and table, no stage object exists,
    // neither state was written.
    assert_eq!(dev_identity(&aws, &f).await, identity);
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    let stage = |what: &str| format!("{}-stage-{what}", f.prefix);
    assert!(!aws.role_exists(&stage("lambda")).await);
    assert!(!aws.table_exists(&stage("playground")).await);
    assert!(!aws.function_exists(&stage("api")).await);
    assert!(aws.api_ids(&stage("http-api")).await.is_empty());
    assert_eq!(aws.state_versions(&f, "stage").await, stage_versions);
    assert_eq!(aws.state_versions(&f, "dev").await, dev_versions);
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "dev is as it was: {plan}");

    aws.destroy_to_nothing(&f).await;
}

/// The state backend of `environment` in the fixture's bucket, as the stack file declares it.
async fn s3_backend(f: &Fixture, environment: &str) -> state::Backend {
    state::Backend::new(
        state::BackendConfig::S3 {
            bucket: f.state_bucket().to_string(),
            prefix: "provisioner".to_string(),
            environment: environment.to_string(),
            lock_table: Some(format!("{}-locks", f.state_bucket())),
            s3_lock: false,
        },
        &testkit::sdk_config().await,
    )
}

/// The second line of defence: dev's state written to stage's key *and* relabelled as stage's
/// (a hand edit the checksum cannot catch, since the document was re-encoded) passes the
/// owner check, but the objects it records carry dev's tags, so plan, apply and destroy of
/// stage are refused before any change.
#[tokio::test(flavor = "multi_thread")]
async fn a_state_relabelled_as_another_environment_is_refused_by_the_objects_tags() {
    let (f, aws) = Fixture::on_s3("[env.stage]\n").applied().await;
    let mut document = s3_backend(&f, "dev")
        .await
        .read()
        .await
        .expect("read dev's state")
        .document
        .expect("dev has a state");
    document.environment = "stage".to_string();
    let stage = s3_backend(&f, "stage").await;
    let token = stage.read().await.expect("read stage's state").token;
    stage
        .write(&mut document, &token)
        .await
        .expect("write the relabelled copy");
    let identity = dev_identity(&aws, &f).await;
    let versions = aws.state_versions(&f, "stage").await;

    for args in [
        &["plan", "--env", "stage"][..],
        &["apply", "--env", "stage", "--auto-approve"][..],
        &["destroy", "--env", "stage", "--auto-approve"][..],
    ] {
        let error = refused(&f, args);
        assert!(
            error.contains("tagged as another stack's or environment's")
                && error.contains("provisioner:environment=dev"),
            "{error}"
        );
        assert!(
            !error.contains("destroying") && !error.contains("creating"),
            "{error}"
        );
    }
    assert_eq!(dev_identity(&aws, &f).await, identity);
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    assert!(!aws.role_exists(&format!("{}-stage-lambda", f.prefix)).await);
    assert_eq!(aws.state_versions(&f, "stage").await, versions);
    let (code, plan) = f.plan();
    assert_eq!(code, 0, "dev is as it was: {plan}");
    aws.destroy_to_nothing(&f).await;
}
