//! Creating a missing state bucket and lock table, so the first run against a fresh account
//! (or a fresh emulator) just works.
//!
//! Idempotent: what exists is left as it is, except that bucket versioning is always switched
//! on, because history and rollback depend on it.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, VersioningConfiguration,
};

use crate::aws_error;
use crate::backend::BackendConfig;
use crate::error::StateError;

/// How long to wait for a new lock table to become `ACTIVE`.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// Makes sure the backend's storage exists: for S3 the bucket (versioned, public access
/// blocked) and the lock table (`LockID` string hash key, on demand); for a local backend the
/// `.provisioner` directory.
pub async fn ensure_backend_resources(
    config: &BackendConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<(), StateError> {
    match config {
        BackendConfig::Local { dir, .. } => {
            let root = dir.join(".provisioner");
            std::fs::create_dir_all(&root).map_err(|source| StateError::Io { path: root, source })
        }
        BackendConfig::S3 {
            bucket, lock_table, ..
        } => {
            let s3 = crate::s3::s3_client(sdk);
            ensure_bucket(&s3, bucket, sdk.region().map(|r| r.as_ref())).await?;
            if let Some(table) = lock_table {
                ensure_lock_table(&aws_sdk_dynamodb::Client::new(sdk), table).await?;
            }
            Ok(())
        }
    }
}

async fn ensure_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    region: Option<&str>,
) -> Result<(), StateError> {
    let target = format!("s3://{bucket}");
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e) if aws_error::is_not_found(&e) => {
            let mut create = s3.create_bucket().bucket(bucket);
            if let Some(region) = region.filter(|r| *r != "us-east-1") {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(region))
                        .build(),
                );
            }
            match create.send().await {
                Ok(_) => tracing::info!(bucket, "created the state bucket"),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
                Err(e) => return Err(aws_error::aws("CreateBucket", &target, e)),
            }
        }
        Err(e) => return Err(aws_error::aws("HeadBucket", &target, e)),
    }
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error::aws("PutBucketVersioning", &target, e))?;
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(all_public_access_blocked())
        .send()
        .await
        .map_err(|e| aws_error::aws("PutPublicAccessBlock", &target, e))?;
    Ok(())
}

/// The state bucket's public access settings: every kind blocked. The provisioner's
/// `bootstrap` compares the bucket against this same value.
pub fn all_public_access_blocked() -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build()
}

async fn ensure_lock_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), StateError> {
    let target = format!("DynamoDB table {table}");
    match dynamodb.describe_table().table_name(table).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            let attribute = AttributeDefinition::builder()
                .attribute_name("LockID")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StateError::Invalid(e.to_string()))?;
            let key = KeySchemaElement::builder()
                .attribute_name("LockID")
                .key_type(KeyType::Hash)
                .build()
                .map_err(|e| StateError::Invalid(e.to_string()))?;
            match dynamodb
                .create_table()
                .table_name(table)
                .attribute_definitions(attribute)
                .key_schema(key)
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await
            {
                Ok(_) => tracing::info!(table, "created the lock table"),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception()) => {}
                Err(e) => return Err(aws_error::aws("CreateTable", &target, e)),
            }
        }
        Err(e) => return Err(aws_error::aws("DescribeTable", &target, e)),
    }
    wait_until_active(dynamodb, table, &target).await
}

async fn wait_until_active(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    target: &str,
) -> Result<(), StateError> {
    let deadline = Instant::now() + TABLE_ACTIVE_TIMEOUT;
    loop {
        let described = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| aws_error::aws("DescribeTable", target, e))?;
        let status = described.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(StateError::Aws {
                operation: format!("CreateTable on {target}"),
                message: format!(
                    "the table is still {status:?} after {TABLE_ACTIVE_TIMEOUT:?}; try again later"
                ),
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
