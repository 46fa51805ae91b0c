//! The S3 lock object, as Terraform 1.10+ writes it: `<state key>.tflock`, created with
//! `If-None-Match: *`, body = the lock's JSON.
//!
//! Release first reads the lock object and deletes it only while it still holds our lock ID, so
//! it does not remove a lock someone else took after ours was broken by hand (short of a
//! force-unlock and a new lock landing between that read and the delete). The delete names no
//! version: in the versioned bucket it adds a delete marker, which needs only `s3:DeleteObject`.
//! The deploy roles hold no `s3:DeleteObjectVersion`, so nothing run from CI can erase history.

use super::{Attempt, Held, LockInfo};
use crate::aws_error;
use crate::error::StateError;
use crate::s3::get_object;

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
}

/// The lock object now.
pub(crate) struct Current {
    pub info: LockInfo,
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
            Ok(_) => Ok(Attempt::Acquired(vec![Held::S3Object(Acquired {
                lock: self.clone(),
                lock_id: info.id.clone(),
            })])),
            Err(e) if aws_error::is_precondition_failed(&e) => {
                let current = self.current().await?;
                if current.as_ref().is_some_and(|c| c.info.id == info.id) {
                    // Our own object: an earlier attempt landed but its answer was lost and
                    // the SDK retried. We hold it.
                    return Ok(Attempt::Acquired(vec![Held::S3Object(Acquired {
                        lock: self.clone(),
                        lock_id: info.id.clone(),
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
        let target = self.target();
        let what = ("GetObject (lock)", target.as_str());
        let got = get_object(&self.client, &self.bucket, &self.key, None, what).await?;
        Ok(got.map(|raw| Current {
            info: LockInfo::from_json_lossy(&String::from_utf8_lossy(&raw.bytes)),
        }))
    }

    /// Deletes the lock object (a delete marker in a versioned bucket: no version is removed).
    pub async fn delete(&self) -> Result<(), StateError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
            .map_err(|e| aws_error::aws("DeleteObject (lock)", &self.target(), e))?;
        Ok(())
    }
}

impl Acquired {
    pub async fn release(self) -> Result<(), StateError> {
        match self.lock.current().await? {
            Some(current) if current.info.id == self.lock_id => self.lock.delete().await,
            _ => Err(StateError::LockLost {
                location: self.lock.target(),
            }),
        }
    }
}
