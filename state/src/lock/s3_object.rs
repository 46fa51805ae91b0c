//! The S3 lock object, as Terraform 1.10+ writes it: `<state key>.tflock`, created with
//! `If-None-Match: *`, body = the lock's JSON.
//!
//! Release deletes exactly the object version this lock created (the bucket is versioned), so
//! it can never remove a lock someone else took after ours was broken by hand.

use super::{Attempt, Held, LockInfo};
use crate::aws_error;
use crate::error::StateError;

/// The lock object of one state object.
#[derive(Debug, Clone)]
pub(crate) struct S3ObjectLock {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    /// `<state key>.tflock`.
    pub key: String,
}

/// A lock object we created.
#[derive(Debug)]
pub(crate) struct Acquired {
    lock: S3ObjectLock,
    lock_id: String,
    version_id: Option<String>,
}

/// The lock object now: its info and the version that holds it.
pub(crate) struct Current {
    pub info: LockInfo,
    pub version_id: Option<String>,
}

impl S3ObjectLock {
    fn target(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// Creates the lock object if there is none.
    pub async fn try_acquire(&self, info: &LockInfo) -> Result<Attempt, StateError> {
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .if_none_match("*")
            .content_type("application/json")
            .body(info.to_json().into_bytes().into())
            .send()
            .await;
        match put {
            Ok(out) => Ok(Attempt::Acquired(vec![Held::S3Object(Acquired {
                lock: self.clone(),
                lock_id: info.id.clone(),
                version_id: out.version_id,
            })])),
            Err(e) if aws_error::is_precondition_failed(&e) => {
                let current = self.current().await?;
                if let Some(mine) = current.as_ref().filter(|c| c.info.id == info.id) {
                    // Our own object: an earlier attempt landed but its answer was lost and
                    // the SDK retried. We hold it.
                    return Ok(Attempt::Acquired(vec![Held::S3Object(Acquired {
                        lock: self.clone(),
                        lock_id: info.id.clone(),
                        version_id: mine.version_id.clone(),
                    })]));
                }
                let holder = current.map(|c| c.info);
                Ok(Attempt::HeldBy(holder.unwrap_or_else(|| LockInfo {
                    id: "<released meanwhile>".to_string(),
                    ..LockInfo::default()
                })))
            }
            Err(e) => Err(aws_error::aws("PutObject (lock)", &self.target(), e)),
        }
    }

    /// The lock object now, if any.
    pub async fn current(&self) -> Result<Option<Current>, StateError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await;
        let out = match got {
            Ok(out) => out,
            Err(e) if aws_error::is_not_found(&e) => return Ok(None),
            Err(e) => return Err(aws_error::aws("GetObject (lock)", &self.target(), e)),
        };
        let version_id = out.version_id.clone();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StateError::Aws {
                operation: format!("GetObject (lock) on {}", self.target()),
                message: e.to_string(),
            })?
            .into_bytes();
        Ok(Some(Current {
            info: LockInfo::from_json_lossy(&String::from_utf8_lossy(&bytes)),
            version_id,
        }))
    }

    /// Deletes one version of the lock object (or the object, in an unversioned bucket).
    pub async fn delete(&self, version_id: Option<&str>) -> Result<(), StateError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_version_id(version_id.map(str::to_string))
            .send()
            .await
            .map_err(|e| aws_error::aws("DeleteObject (lock)", &self.target(), e))?;
        Ok(())
    }
}

impl Acquired {
    pub async fn release(self) -> Result<(), StateError> {
        match &self.version_id {
            Some(version) => self.lock.delete(Some(version)).await,
            None => {
                // Unversioned bucket: check it is still ours, then delete.
                match self.lock.current().await? {
                    Some(current) if current.info.id == self.lock_id => {
                        self.lock.delete(None).await
                    }
                    _ => Err(StateError::LockLost {
                        location: self.lock.target(),
                    }),
                }
            }
        }
    }
}
