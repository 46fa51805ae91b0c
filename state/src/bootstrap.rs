//! Creating a missing state bucket and lock table, so the first run against a fresh account
//! (or a fresh emulator) just works, and checking an existing bucket before apply writes to it.
//!
//! [`ensure_backend_resources`] (bootstrap, tests) creates what is missing and always switches
//! bucket versioning on, because history and rollback depend on it. [`prepare_backend`] (apply)
//! only *reads* an existing bucket's settings and refuses to run when versioning or the public
//! access block is off: the deploy roles hold no `s3:PutBucketVersioning`, so a CI token can
//! never suspend versioning, and turning it back on is an administrator's `bootstrap`.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, VersioningConfiguration,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

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

/// What apply needs before it writes: for S3, a missing bucket or lock table is created (the
/// first run against a fresh account or emulator), and an existing bucket must have versioning
/// on and all public access blocked, or [`StateError::UnsafeBackend`] is returned with nothing
/// changed. A local backend gets its `.provisioner` directory.
pub async fn prepare_backend(
    config: &BackendConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<(), StateError> {
    let BackendConfig::S3 {
        bucket, lock_table, ..
    } = config
    else {
        return ensure_backend_resources(config, sdk).await;
    };
    let s3 = crate::s3::s3_client(sdk);
    let target = format!("s3://{bucket}");
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => check_bucket(&s3, bucket).await?,
        Err(e) if aws_error::status(&e) == Some(404) => {
            ensure_bucket(&s3, bucket, sdk.region().map(|r| r.as_ref())).await?;
        }
        Err(e) => return Err(aws_error::aws("HeadBucket", &target, e)),
    }
    if let Some(table) = lock_table {
        ensure_lock_table(&aws_sdk_dynamodb::Client::new(sdk), table).await?;
    }
    Ok(())
}

/// Refuses a bucket whose versioning is off or whose public access is not all blocked.
async fn check_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), StateError> {
    let mut problems = Vec::new();
    if !versioning_enabled(s3, bucket).await? {
        problems.push("versioning is off (every write would erase the previous state)");
    }
    if !public_access_blocked(s3, bucket).await? {
        problems.push("public access is not all blocked");
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(StateError::UnsafeBackend {
        bucket: bucket.to_string(),
        problems: problems.join("; "),
    })
}

/// Whether the bucket's versioning is `Enabled` (never set and `Suspended` are both off).
pub async fn versioning_enabled(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<bool, StateError> {
    match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(current) => Ok(current.status() == Some(&BucketVersioningStatus::Enabled)),
        // Some S3-compatible servers (moto) name the XML root differently, which the SDK
        // refuses to parse; the answer itself is in the body of the successful response.
        Err(e) if e.raw_response().is_some_and(|r| r.status().is_success()) => Ok(e
            .raw_response()
            .and_then(|r| r.body().bytes())
            .is_some_and(|body| {
                String::from_utf8_lossy(body).contains("<Status>Enabled</Status>")
            })),
        Err(e) => Err(aws_error::aws(
            "GetBucketVersioning",
            &format!("s3://{bucket}"),
            e,
        )),
    }
}

/// Turns the bucket's versioning on, so every state write keeps the version before it (the
/// history `state rollback` restores from).
pub async fn enable_versioning(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), StateError> {
    let enabled = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::Enabled)
        .build();
    let call = s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(enabled);
    call.send()
        .await
        .map_err(|e| aws_error::aws("PutBucketVersioning", &format!("s3://{bucket}"), e))?;
    Ok(())
}

/// Whether the bucket's own public access block blocks everything
/// ([`all_public_access_blocked`]); a bucket with none does not.
pub async fn public_access_blocked(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<bool, StateError> {
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => {
            Ok(out.public_access_block_configuration() == Some(&all_public_access_blocked()))
        }
        Err(e) if aws_error::code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => Ok(false),
        Err(e) => Err(aws_error::aws(
            "GetPublicAccessBlock",
            &format!("s3://{bucket}"),
            e,
        )),
    }
}

async fn ensure_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    region: Option<&str>,
) -> Result<(), StateError> {
    let target = format!("s3://{bucket}");
    let head = s3.head_bucket().bucket(bucket).send().await;
    if aws_error::found(head, "HeadBucket", &target)?.is_none() {
        let mut create = s3.create_bucket().bucket(bucket);
        if let Some(region) = region.filter(|r| *r != "us-east-1") {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        let owned = |e: &CreateBucketError| e.is_bucket_already_owned_by_you();
        if created(create.send().await, owned, "CreateBucket", &target)? {
            tracing::info!(bucket, "created the state bucket");
        }
    }
    enable_versioning(s3, bucket).await?;
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
    let described = dynamodb.describe_table().table_name(table).send().await;
    if aws_error::found(described, "DescribeTable", &target)?.is_none() {
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
        let create = dynamodb
            .create_table()
            .table_name(table)
            .attribute_definitions(attribute)
            .key_schema(key)
            .billing_mode(BillingMode::PayPerRequest);
        let in_use = |e: &CreateTableError| e.is_resource_in_use_exception();
        if created(create.send().await, in_use, "CreateTable", &target)? {
            tracing::info!(table, "created the lock table");
        }
    }
    wait_until_active(dynamodb, table, &target).await
}

/// What a create that another writer may have won got: true when this call created the object,
/// false when `already_there` says it exists already (the other writer's, or ours from an
/// earlier run), any other failure as an error.
fn created<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    already_there: impl Fn(&E) -> bool,
    operation: &str,
    target: &str,
) -> Result<bool, StateError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(&already_there) => Ok(false),
        Err(e) => Err(aws_error::aws(operation, target, e)),
    }
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
