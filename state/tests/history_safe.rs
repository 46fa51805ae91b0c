//! What keeps the state's history safe from the deploy roles: apply's backend check only reads
//! the bucket's settings and refuses a bucket whose versioning is off (it never turns it back on
//! itself, which needs s3:PutBucketVersioning), and releasing an S3 lock object removes no
//! object version (which needs s3:DeleteObjectVersion): both are permissions the deploy roles
//! do not hold.

use crate::common;

use common::{ENV, Kind, fixture, lock_options};
use state::StateError;

#[tokio::test(flavor = "multi_thread")]
async fn prepare_backend_refuses_suspended_versioning_and_leaves_it_alone() {
    let f = fixture(Kind::S3DynamoDb).await;
    let sdk = testkit::sdk_config().await;
    state::prepare_backend(&f.config, &sdk)
        .await
        .expect("a versioned, blocked bucket is fine");

    let s3 = testkit::s3_client().await;
    let state::BackendConfig::S3 { bucket, .. } = &f.config else {
        unreachable!("an S3 fixture")
    };
    testkit::suspend_versioning(&s3, bucket).await;
    let error = state::prepare_backend(&f.config, &sdk).await.unwrap_err();
    assert!(
        matches!(&error, StateError::UnsafeBackend { problems, .. } if problems.contains("versioning is off")),
        "{error}"
    );
    assert!(
        error.to_string().contains("provisioner bootstrap"),
        "{error}"
    );
    assert!(
        !state::bootstrap::versioning_enabled(&s3, bucket)
            .await
            .unwrap(),
        "the check changed nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn releasing_an_s3_lock_object_deletes_no_version() {
    let f = fixture(Kind::S3Object).await;
    let guard = f.backend.lock(lock_options("apply", 0)).await.unwrap();
    guard.release().await.unwrap();

    let s3 = testkit::s3_client().await;
    let state::BackendConfig::S3 { bucket, .. } = &f.config else {
        unreachable!("an S3 fixture")
    };
    let key = format!("provisioner/{ENV}/state.json.tflock");
    let listed = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.versions().len(), 1, "the lock's version is kept");
    assert_eq!(
        listed.delete_markers().len(),
        1,
        "the release is a delete marker"
    );

    // The lock can be taken again over the delete marker.
    let again = f.backend.lock(lock_options("apply", 0)).await.unwrap();
    again.release().await.unwrap();
}
