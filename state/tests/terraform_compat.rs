//! Sharing with Terraform and first use: a lock Terraform wrote blocks us (and names its
//! holder), Terraform's digest item does not get in the way, the bucket and lock table are
//! created idempotently, and a missing bucket is an error, never "no state yet".

use crate::common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::{ENV, Kind, fixture, lock_options};
use state::{Backend, BackendConfig, StateError};

const TERRAFORM_INFO: &str = r#"{"ID":"7c1d4a55-2b9e-4c1f-8e6a-0d3f5b2a9c71","Operation":"OperationTypeApply","Info":"","Who":"runner@ci-host","Version":"1.10.5","Created":"2026-11-25T08:00:00.123456789Z","Path":"BUCKET/provisioner/dev/state.json"}"#;
const TERRAFORM_ID: &str = "7c1d4a55-2b9e-4c1f-8e6a-0d3f5b2a9c71";

fn s3_parts(config: &BackendConfig) -> (String, Option<String>) {
    match config {
        BackendConfig::S3 {
            bucket, lock_table, ..
        } => (bucket.clone(), lock_table.clone()),
        BackendConfig::Local { .. } => panic!("an S3 fixture"),
    }
}

#[tokio::test]
async fn a_lock_item_terraform_wrote_blocks_us_and_names_its_holder() {
    let f = fixture(Kind::S3DynamoDb).await;
    let (bucket, table) = s3_parts(&f.config);
    let table = table.unwrap();
    let dynamodb = testkit::dynamodb_client().await;
    let lock_id = format!("{bucket}/provisioner/{ENV}/state.json");
    // Terraform's digest item for the same key must not be mistaken for a lock.
    dynamodb
        .put_item()
        .table_name(&table)
        .item("LockID", AttributeValue::S(format!("{lock_id}-md5")))
        .item(
            "Digest",
            AttributeValue::S("d41d8cd98f00b204e9800998ecf8427e".into()),
        )
        .send()
        .await
        .unwrap();
    f.backend
        .lock(lock_options("plan", 0))
        .await
        .expect("the digest item is not a lock")
        .release()
        .await
        .unwrap();

    dynamodb
        .put_item()
        .table_name(&table)
        .item("LockID", AttributeValue::S(lock_id.clone()))
        .item(
            "Info",
            AttributeValue::S(TERRAFORM_INFO.replace("BUCKET", &bucket)),
        )
        .send()
        .await
        .unwrap();
    let error = f.backend.lock(lock_options("plan", 0)).await.unwrap_err();
    let StateError::Locked { info, .. } = &error else {
        panic!("expected Locked, got {error:?}");
    };
    assert_eq!(info.id, TERRAFORM_ID);
    assert_eq!(info.who, "runner@ci-host");
    assert_eq!(info.operation, "OperationTypeApply");
    assert!(
        error
            .to_string()
            .contains(&format!("force-unlock --env {ENV} {TERRAFORM_ID}"))
    );

    f.backend.force_unlock(TERRAFORM_ID).await.unwrap();
    let guard = f.backend.lock(lock_options("plan", 0)).await.unwrap();

    // Our item is Terraform's format: LockID + Info with Terraform's field names.
    let item = dynamodb
        .get_item()
        .table_name(&table)
        .key("LockID", AttributeValue::S(lock_id))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(item["Info"].as_s().unwrap()).unwrap();
    assert_eq!(info["ID"], guard.id());
    assert_eq!(info["Operation"], "plan");
    assert_eq!(
        info["Path"],
        format!("{bucket}/provisioner/{ENV}/state.json")
    );
    for field in ["Who", "Version", "Created", "Info"] {
        assert!(info.get(field).is_some(), "{field} missing in {info}");
    }
    guard.release().await.unwrap();

    // The digest item is still there, untouched.
    let digest = dynamodb
        .get_item()
        .table_name(&table)
        .key(
            "LockID",
            AttributeValue::S(format!("{bucket}/provisioner/{ENV}/state.json-md5")),
        )
        .send()
        .await
        .unwrap();
    assert!(digest.item.is_some());
}

#[tokio::test]
async fn a_tflock_object_terraform_wrote_blocks_us() {
    let f = fixture(Kind::S3Object).await;
    let (bucket, _) = s3_parts(&f.config);
    let s3 = testkit::s3_client().await;
    let key = format!("provisioner/{ENV}/state.json.tflock");
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .body(
            TERRAFORM_INFO
                .replace("BUCKET", &bucket)
                .into_bytes()
                .into(),
        )
        .send()
        .await
        .unwrap();
    let error = f.backend.lock(lock_options("plan", 0)).await.unwrap_err();
    assert!(
        matches!(&error, StateError::Locked { info, .. } if info.id == TERRAFORM_ID),
        "{error:?}"
    );
    f.backend.force_unlock(TERRAFORM_ID).await.unwrap();
    let guard = f.backend.lock(lock_options("apply", 0)).await.unwrap();
    let body = s3
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["ID"], guard.id());
    guard.release().await.unwrap();
    assert!(
        s3.get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .is_err(),
        "release removes the lock object"
    );
}

#[tokio::test]
async fn backend_resources_are_created_once_and_versioned() {
    let sdk = testkit::sdk_config().await;
    let bucket = testkit::unique_name("state-boot");
    let table = testkit::unique_name("state-boot-locks");
    let config = BackendConfig::S3 {
        bucket: bucket.clone(),
        prefix: "provisioner".into(),
        environment: ENV.into(),
        lock_table: Some(table.clone()),
        s3_lock: false,
    };
    state::ensure_backend_resources(&config, &sdk)
        .await
        .unwrap();
    state::ensure_backend_resources(&config, &sdk)
        .await
        .expect("a second run changes nothing and succeeds");

    let s3 = testkit::s3_client().await;
    // Versioning, checked by behaviour (moto's GetBucketVersioning XML is one the Rust SDK
    // cannot parse): two writes of one key leave two versions.
    for body in ["one", "two"] {
        s3.put_object()
            .bucket(&bucket)
            .key("probe")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let versions = s3
        .list_object_versions()
        .bucket(&bucket)
        .prefix("probe")
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len(),
        2,
        "the bucket keeps every version"
    );
    let described = testkit::dynamodb_client()
        .await
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let key = described.table().unwrap().key_schema();
    assert_eq!(key.len(), 1);
    assert_eq!(key[0].attribute_name(), "LockID");

    let dir = std::env::temp_dir().join(testkit::unique_name("state-boot"));
    let local = BackendConfig::Local {
        dir: dir.clone(),
        environment: ENV.into(),
    };
    state::ensure_backend_resources(&local, &sdk).await.unwrap();
    assert!(dir.join(".provisioner").is_dir());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_missing_bucket_is_an_error_not_an_empty_state() {
    let sdk = testkit::sdk_config().await;
    let backend = Backend::new(
        BackendConfig::S3 {
            bucket: testkit::unique_name("state-missing"),
            prefix: "provisioner".into(),
            environment: ENV.into(),
            lock_table: None,
            s3_lock: true,
        },
        &sdk,
    );
    let error = backend.read().await.unwrap_err();
    assert!(matches!(error, StateError::Aws { .. }), "{error:?}");
    assert!(error.to_string().contains("NoSuchBucket"), "{error}");
}
