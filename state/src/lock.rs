//! Locks in Terraform's formats (DynamoDB item, S3 `.tflock` object) and the OS file lock.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a caller asks for when locking.
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// `plan`, `apply`, `destroy`, ... (Terraform's `Operation`).
    pub operation: String,
    /// How long to wait for a held lock (0 = fail at once).
    pub timeout: Duration,
}

/// Terraform's lock info (`Info` attribute of the DynamoDB item, body of the `.tflock` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub operation: String,
    pub info: String,
    pub who: String,
    pub version: String,
    pub created: String,
    pub path: String,
}

/// A held lock; release it explicitly with [`LockGuard::release`].
#[derive(Debug)]
pub struct LockGuard {
    pub info: LockInfo,
}

impl LockGuard {
    /// The lock ID (what `force-unlock` takes).
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Releases the lock (only if it is still ours).
    pub async fn release(self) -> Result<(), crate::StateError> {
        unimplemented!()
    }
}

#[allow(dead_code)]
const _UNUSED: Option<Duration> = None;
