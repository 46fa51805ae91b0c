//! One interface over the S3 and local-file backends.

use std::time::Duration;

use crate::document::StateDocument;
use crate::error::StateError;
use crate::lock::{LockGuard, LockOptions};

/// Where an environment's state lives (resolved from the stack file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendConfig {
    /// `s3://bucket/<prefix>/<env>/state.json`, locked in DynamoDB and/or by an S3 lock object.
    S3 {
        bucket: String,
        /// Key prefix, default `provisioner`.
        prefix: String,
        environment: String,
        /// DynamoDB lock table (Terraform's item format), if any.
        lock_table: Option<String>,
        /// Also (or only) lock with a `<key>.tflock` object.
        s3_lock: bool,
    },
    /// `<dir>/.provisioner/<env>.json`, locked with an OS file lock.
    Local {
        dir: std::path::PathBuf,
        environment: String,
    },
}

/// Opaque compare-and-swap token: what was read (ETag, or absence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteToken(pub(crate) Option<String>);

/// A read: the document (absent before the first write) and the token to write it back.
#[derive(Debug, Clone)]
pub struct Stored {
    pub document: Option<StateDocument>,
    pub token: WriteToken,
}

/// One stored version of an environment's state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    pub version_id: String,
    pub serial: Option<u64>,
    /// RFC 3339.
    pub last_modified: String,
    pub writer: Option<String>,
    pub is_latest: bool,
}

/// The state backend of one environment.
#[derive(Debug, Clone)]
pub struct Backend {
    config: BackendConfig,
    #[allow(dead_code)]
    s3: Option<aws_sdk_s3::Client>,
    #[allow(dead_code)]
    dynamodb: Option<aws_sdk_dynamodb::Client>,
}

impl Backend {
    /// Builds the backend; S3 and DynamoDB clients come from `sdk` (one `aws_config` load).
    pub fn new(config: BackendConfig, sdk: &aws_config::SdkConfig) -> Self {
        let (s3, dynamodb) = match &config {
            BackendConfig::S3 { .. } => {
                let mut builder = aws_sdk_s3::config::Builder::from(sdk);
                if sdk.endpoint_url().is_some() {
                    builder = builder.force_path_style(true);
                }
                (
                    Some(aws_sdk_s3::Client::from_conf(builder.build())),
                    Some(aws_sdk_dynamodb::Client::new(sdk)),
                )
            }
            BackendConfig::Local { .. } => (None, None),
        };
        Self {
            config,
            s3,
            dynamodb,
        }
    }

    /// Human-readable location (`s3://bucket/key` or a path) for messages.
    pub fn location(&self) -> String {
        match &self.config {
            BackendConfig::S3 {
                bucket,
                prefix,
                environment,
                ..
            } => format!("s3://{bucket}/{prefix}/{environment}/state.json"),
            BackendConfig::Local { dir, environment } => dir
                .join(".provisioner")
                .join(format!("{environment}.json"))
                .display()
                .to_string(),
        }
    }

    /// Reads the current document, verifying its checksum and format version.
    pub async fn read(&self) -> Result<Stored, StateError> {
        unimplemented!()
    }

    /// Writes `document` if the stored state is still what `token` saw. Sets `serial` to the
    /// stored serial + 1 and the checksum; returns the token for the next write.
    pub async fn write(
        &self,
        _document: &mut StateDocument,
        _token: &WriteToken,
    ) -> Result<WriteToken, StateError> {
        unimplemented!()
    }

    /// Takes the environment's lock, waiting up to `options.timeout` with backoff.
    pub async fn lock(&self, _options: LockOptions) -> Result<LockGuard, StateError> {
        unimplemented!()
    }

    /// Frees a lock left by a crashed run, only if its ID is `lock_id`.
    pub async fn force_unlock(&self, _lock_id: &str) -> Result<(), StateError> {
        unimplemented!()
    }

    /// Every stored version, newest first.
    pub async fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        unimplemented!()
    }

    /// One stored version.
    pub async fn read_version(&self, _version_id: &str) -> Result<StateDocument, StateError> {
        unimplemented!()
    }

    /// Writes an earlier version back as a new version with a higher serial.
    pub async fn rollback(&self, _version_id: &str) -> Result<StateDocument, StateError> {
        unimplemented!()
    }
}

#[allow(dead_code)]
const _UNUSED: Option<Duration> = None;
