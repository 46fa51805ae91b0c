//! The state bucket: created by the `state` crate if missing, then brought to the hardened
//! settings one by one (each read first, written only when it differs).

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use serde_json::Value;

use super::policies::merge_bucket_policy;
use super::{AwsResult, BootstrapError, On, Report, aws};
use crate::kinds::errors;
use crate::resource::ResourceError;

/// The lifecycle rule this tool owns (other rules are kept).
pub const LIFECYCLE_RULE_ID: &str = "expire-noncurrent-state-versions";

/// Error codes S3 uses for "this bucket has no such configuration".
const NO_CONFIGURATION: &[&str] = &[
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
];

/// A bucket configuration as it is, or `None` when the bucket has none of it: how each
/// setting's read tells "never set" apart from a failure, as `.absent()` does for objects.
fn configuration<T>(got: Result<T, ResourceError>) -> Result<Option<T>, ResourceError> {
    match got {
        Ok(out) => Ok(Some(out)),
        Err(e) if errors::code(&e).is_some_and(|code| NO_CONFIGURATION.contains(&code)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn build_error(what: &str, error: impl std::fmt::Display) -> BootstrapError {
    BootstrapError::Invalid(format!("{what}: {error}"))
}

/// Makes sure the bucket (and lock table, when missing) exist, then every setting.
pub async fn ensure_state_bucket(
    sdk: &aws_config::SdkConfig,
    bucket: &str,
    lock_table: Option<&str>,
    noncurrent_days: i32,
    tls_only_policy: bool,
    report: &mut Report,
) -> Result<(), BootstrapError> {
    let s3 = state::s3::s3_client(sdk);
    let what = format!("state bucket s3://{bucket}");
    let bucket_exists = match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => true,
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => false,
        Err(e) => return Err(aws(&what, "HeadBucket", e)),
    };
    let table_exists = match lock_table {
        None => true,
        Some(table) => {
            super::lock_table::exists(&aws_sdk_dynamodb::Client::new(sdk), table).await?
        }
    };
    if !bucket_exists || !table_exists {
        let config = state::BackendConfig::S3 {
            bucket: bucket.to_string(),
            prefix: String::new(),
            environment: "bootstrap".to_string(),
            lock_table: lock_table.map(str::to_string),
            s3_lock: false,
        };
        state::ensure_backend_resources(&config, sdk).await?;
        if !bucket_exists {
            report.changed(&what, "created (versioning on, public access blocked)");
        }
        if let (false, Some(table)) = (table_exists, lock_table) {
            report.changed(
                format!("lock table {table}"),
                "created (LockID string key, on demand)",
            );
        }
    }

    let settings = StateBucket {
        s3: &s3,
        bucket,
        what: &what,
    };
    settings.versioning(report).await?;
    settings.encryption(report).await?;
    settings.public_access_block(report).await?;
    if tls_only_policy {
        settings.tls_only_policy(report).await?;
    } else {
        report.unchanged(format!(
            "{}: TLS-only policy skipped (the S3 endpoint is plain HTTP, so the policy would \
             deny this tool's own requests; --force-tls-policy puts it anyway)",
            settings.what
        ));
    }
    settings.lifecycle(noncurrent_days, report).await?;
    Ok(())
}

/// The state bucket's settings, each read first and written only when it differs.
#[derive(Clone, Copy)]
struct StateBucket<'a> {
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
    /// How reports and errors name the bucket.
    what: &'a str,
}

impl StateBucket<'_> {
    /// The end of every setting's step: what the write did goes into the report once it
    /// succeeded.
    fn wrote<T>(
        &self,
        report: &mut Report,
        written: Result<T, ResourceError>,
        change: impl Into<String>,
    ) -> Result<(), BootstrapError> {
        written.on(self.what)?;
        report.changed(self.what, change);
        Ok(())
    }

    async fn versioning(&self, report: &mut Report) -> Result<(), BootstrapError> {
        let Self { s3, bucket, what } = *self;
        let enabled = state::bootstrap::versioning_enabled(s3, bucket).await?;
        if enabled {
            report.unchanged(format!("{what}: versioning on"));
            return Ok(());
        }
        state::bootstrap::enable_versioning(s3, bucket).await?;
        report.changed(what, "turned versioning on");
        Ok(())
    }

    async fn encryption(&self, report: &mut Report) -> Result<(), BootstrapError> {
        let Self { s3, bucket, what } = *self;
        let got = s3.get_bucket_encryption().bucket(bucket).send().await;
        let current = configuration(got.aws("GetBucketEncryption")).on(what)?;
        let encrypted = current
            .as_ref()
            .and_then(|out| out.server_side_encryption_configuration())
            .is_some_and(|c| {
                c.rules()
                    .iter()
                    .any(|r| r.apply_server_side_encryption_by_default().is_some())
            });
        if encrypted {
            // Any default encryption (SSE-S3 or a KMS key someone chose) is kept as it is.
            report.unchanged(format!("{what}: default encryption"));
            return Ok(());
        }
        let by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| build_error("encryption settings", e))?;
        let configuration = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(by_default)
                    .build(),
            )
            .build()
            .map_err(|e| build_error("encryption settings", e))?;
        let call = s3
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(configuration);
        self.wrote(
            report,
            call.send().await.aws("PutBucketEncryption"),
            "turned default encryption (SSE-S3, AES256) on",
        )
    }

    async fn public_access_block(&self, report: &mut Report) -> Result<(), BootstrapError> {
        let Self { s3, bucket, what } = *self;
        let wanted = state::bootstrap::all_public_access_blocked();
        let got = s3.get_public_access_block().bucket(bucket).send().await;
        let blocked = configuration(got.aws("GetPublicAccessBlock"))
            .on(what)?
            .is_some_and(|out| out.public_access_block_configuration() == Some(&wanted));
        if blocked {
            report.unchanged(format!("{what}: all public access blocked"));
            return Ok(());
        }
        let call = s3
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(wanted);
        self.wrote(
            report,
            call.send().await.aws("PutPublicAccessBlock"),
            "blocked all public access",
        )
    }

    async fn tls_only_policy(&self, report: &mut Report) -> Result<(), BootstrapError> {
        let Self { s3, bucket, what } = *self;
        let got = s3.get_bucket_policy().bucket(bucket).send().await;
        let current = configuration(got.aws("GetBucketPolicy")).on(what)?;
        let existing: Option<Value> = match current.as_ref().and_then(|out| out.policy()) {
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                BootstrapError::Invalid(format!(
                    "{what}: its bucket policy is not JSON ({e}); fix it in the S3 console and \
                     run bootstrap again"
                ))
            })?),
            None => None,
        };
        let Some(policy) = merge_bucket_policy(existing.as_ref(), bucket) else {
            report.unchanged(format!("{what}: policy denies non-TLS requests"));
            return Ok(());
        };
        let call = s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string());
        self.wrote(
            report,
            call.send().await.aws("PutBucketPolicy"),
            "bucket policy now denies requests not made over TLS",
        )
    }

    async fn lifecycle(
        &self,
        noncurrent_days: i32,
        report: &mut Report,
    ) -> Result<(), BootstrapError> {
        let Self { s3, bucket, what } = *self;
        let got = s3
            .get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
            .await;
        let current = configuration(got.aws("GetBucketLifecycleConfiguration")).on(what)?;
        let rules: Vec<LifecycleRule> = current.map(|out| out.rules().to_vec()).unwrap_or_default();
        let ours = rules.iter().find(|r| r.id() == Some(LIFECYCLE_RULE_ID));
        let current_days = ours
            .filter(|r| r.status() == &ExpirationStatus::Enabled)
            .and_then(|r| r.noncurrent_version_expiration())
            .and_then(NoncurrentVersionExpiration::noncurrent_days);
        if current_days == Some(noncurrent_days) {
            report.unchanged(format!(
                "{what}: old state versions expire after {noncurrent_days} days"
            ));
            return Ok(());
        }
        let rule = LifecycleRule::builder()
            .id(LIFECYCLE_RULE_ID)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(noncurrent_days)
                    .build(),
            )
            .build()
            .map_err(|e| build_error("lifecycle rule", e))?;
        let mut all: Vec<LifecycleRule> = rules
            .into_iter()
            .filter(|r| r.id() != Some(LIFECYCLE_RULE_ID))
            .collect();
        all.push(rule);
        let call = s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(all))
                    .build()
                    .map_err(|e| build_error("lifecycle configuration", e))?,
            );
        let change = format!(
            "old (noncurrent) state versions now expire after {noncurrent_days} days{}",
            current_days.map_or(String::new(), |d| format!(" (was {d})"))
        );
        self.wrote(
            report,
            call.send().await.aws("PutBucketLifecycleConfiguration"),
            change,
        )
    }
}
