//! One interface over the S3 and local-file backends.
//!
//! [`Backend`] dispatches to the S3 store or the local store and owns the rules both share:
//! how a write's serial and lineage are checked ([`next_version`]) and how a lock is waited
//! for. Each store only knows how to read, compare-and-swap and list its own versions.

use std::path::PathBuf;

use crate::document::{CURRENT_FORMAT_VERSION, Owner, StateDocument};
use crate::error::StateError;
use crate::local::LocalStore;
use crate::lock::{
    self, Attempt, DynamoDbLock, FileLock, LockGuard, LockInfo, LockOptions, S3ObjectLock,
};
use crate::s3::{self as s3_backend, S3Store};

/// Where an environment's state lives (resolved from the stack file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendConfig {
    /// `s3://bucket/<prefix>/<env>/state.json`, locked in DynamoDB and/or by an S3 lock object.
    /// With neither a lock table nor `s3_lock`, the S3 lock object is used anyway: a state
    /// without a lock is never safe.
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

impl BackendConfig {
    /// The environment this state belongs to.
    pub fn environment(&self) -> &str {
        match self {
            Self::S3 { environment, .. } | Self::Local { environment, .. } => environment,
        }
    }
}

/// A stored version named by its content: every write moves the serial up by one within a
/// lineage, so the two name a version whatever its bytes or ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub lineage: String,
    pub serial: u64,
}

impl Version {
    pub fn of(document: &StateDocument) -> Self {
        Self {
            lineage: document.lineage.clone(),
            serial: document.serial,
        }
    }
}

/// Opaque compare-and-swap token: what was read or last written (the store's tag, an ETag or a
/// content hash, and the version it holds), or that nothing was there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteToken {
    pub(crate) tag: Option<String>,
    pub(crate) version: Option<Version>,
}

impl WriteToken {
    /// Nothing was stored.
    pub(crate) fn absent() -> Self {
        Self {
            tag: None,
            version: None,
        }
    }

    /// `document` is stored under `tag`.
    pub(crate) fn of(tag: String, document: &StateDocument) -> Self {
        Self {
            tag: Some(tag),
            version: Some(Version::of(document)),
        }
    }
}

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
    /// The run that wrote it (`None` before runs were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<crate::run::Run>,
}

/// The store and locks of one backend kind.
#[derive(Debug, Clone)]
enum Inner {
    S3 {
        store: S3Store,
        dynamodb_lock: Option<DynamoDbLock>,
        object_lock: Option<S3ObjectLock>,
    },
    Local {
        store: LocalStore,
        lock: FileLock,
    },
}

/// The state backend of one environment.
#[derive(Debug, Clone)]
pub struct Backend {
    config: BackendConfig,
    inner: Inner,
}

/// True when `stored` is the version a run holds in `held` (the one it read or last wrote).
/// Every write moves the serial up by exactly one within a lineage, so lineage and serial name
/// a version whatever its bytes or ETag: the stores' compare-and-swap tokens are checked first,
/// and a token mismatch on the same version (the object re-uploaded unchanged, reformatted) is
/// no conflict.
pub(crate) fn holds_version(stored: &StateDocument, held: &Version) -> bool {
    stored.lineage == held.lineage && stored.serial == held.serial
}

/// The document a write stores: `proposed` with the serial after the `stored` version's, the
/// current format and tool version. Refuses another lineage and a serial below the stored one.
pub(crate) fn next_version(
    proposed: &StateDocument,
    stored: Option<&Version>,
    location: &str,
) -> Result<StateDocument, StateError> {
    let mut next = proposed.clone();
    next.serial = match stored {
        Some(stored) => {
            if proposed.lineage != stored.lineage {
                return Err(StateError::LineageMismatch {
                    location: location.to_string(),
                    stored: stored.lineage.clone(),
                    given: proposed.lineage.clone(),
                });
            }
            if proposed.serial < stored.serial {
                return Err(StateError::SerialRegression {
                    location: location.to_string(),
                    stored: stored.serial,
                    given: proposed.serial,
                });
            }
            stored.serial + 1
        }
        // Nothing stored: 1 for a new document, and never backwards for an imported one.
        None => proposed.serial + 1,
    };
    next.format_version = CURRENT_FORMAT_VERSION;
    next.tool_version = env!("CARGO_PKG_VERSION").to_string();
    Ok(next)
}

impl Backend {
    /// Builds the backend; S3 and DynamoDB clients come from `sdk` (one `aws_config` load).
    pub fn new(config: BackendConfig, sdk: &aws_config::SdkConfig) -> Self {
        let inner = match &config {
            BackendConfig::S3 {
                bucket,
                prefix,
                environment,
                lock_table,
                s3_lock,
            } => {
                let client = s3_backend::s3_client(sdk);
                let key = s3_backend::state_key(prefix, environment);
                let dynamodb_lock = lock_table.as_ref().map(|table| DynamoDbLock {
                    client: aws_sdk_dynamodb::Client::new(sdk),
                    table: table.clone(),
                    lock_id: format!("{bucket}/{key}"),
                });
                let object_lock = (*s3_lock || lock_table.is_none()).then(|| S3ObjectLock {
                    client: client.clone(),
                    bucket: bucket.clone(),
                    key: format!("{key}.tflock"),
                });
                Inner::S3 {
                    store: S3Store {
                        client,
                        bucket: bucket.clone(),
                        key,
                        environment: environment.clone(),
                    },
                    dynamodb_lock,
                    object_lock,
                }
            }
            BackendConfig::Local { dir, environment } => {
                let store = LocalStore::new(dir, environment);
                let lock = store.lock_file();
                Inner::Local { store, lock }
            }
        };
        Self { config, inner }
    }

    /// The configuration this backend was built from.
    pub fn config(&self) -> &BackendConfig {
        &self.config
    }

    /// Human-readable location (`s3://bucket/key` or a path) for messages.
    pub fn location(&self) -> String {
        match &self.inner {
            Inner::S3 { store, .. } => store.location(),
            Inner::Local { store, .. } => store.location(),
        }
    }

    /// The lock's `Path`: `<bucket>/<key>` as Terraform writes it, or the state file's path.
    fn lock_path(&self) -> String {
        match &self.inner {
            Inner::S3 { store, .. } => format!("{}/{}", store.bucket, store.key),
            Inner::Local { store, .. } => store.current_path().display().to_string(),
        }
    }

    /// Where the local state file is (`None` for S3).
    pub fn local_path(&self) -> Option<PathBuf> {
        match &self.inner {
            Inner::S3 { .. } => None,
            Inner::Local { store, .. } => Some(store.current_path()),
        }
    }

    /// Reads the current document, verifying its checksum and format version.
    pub async fn read(&self) -> Result<Stored, StateError> {
        match &self.inner {
            Inner::S3 { store, .. } => store.read().await,
            Inner::Local { store, .. } => store.read().await,
        }
    }

    /// Reads the current document and refuses it when it belongs to another stack, environment,
    /// region or account than `owner` (see [`Owner`]). Every command that acts on AWS reads
    /// through this.
    pub async fn read_owned(&self, owner: &Owner) -> Result<Stored, StateError> {
        let stored = self.read().await?;
        if let Some(document) = &stored.document {
            self.check_owner(document, owner)?;
        }
        Ok(stored)
    }

    /// Refuses `document` when it belongs to someone other than `owner`.
    pub fn check_owner(&self, document: &StateDocument, owner: &Owner) -> Result<(), StateError> {
        if document.belongs_to(owner) {
            return Ok(());
        }
        let only_the_stack_differs = document.stack != owner.stack
            && document.belongs_to(&Owner {
                stack: document.stack.clone(),
                ..owner.clone()
            });
        let hint = if only_the_stack_differs {
            format!(
                "If name_prefix was changed to rename this stack's objects, keep the stack's \
                 identity with `name = \"{}\"` under [stack] in the stack file. Otherwise: ",
                document.stack
            )
        } else {
            String::new()
        };
        Err(StateError::WrongOwner {
            location: self.location(),
            found: document.owner_text(),
            expected: owner.to_string(),
            environment: owner.environment.clone(),
            hint,
        })
    }

    /// Writes `document` if the stored state is still what `token` saw. Sets `serial` to the
    /// stored serial + 1 and the checksum; returns the token for the next write. On any error
    /// `document` is left as it was and nothing is stored.
    pub async fn write(
        &self,
        document: &mut StateDocument,
        token: &WriteToken,
    ) -> Result<WriteToken, StateError> {
        match &self.inner {
            Inner::S3 { store, .. } => store.write(document, token).await,
            Inner::Local { store, .. } => store.write(document, token).await,
        }
    }

    /// One try at every lock this backend uses; all of them or none.
    async fn try_lock(&self, info: &LockInfo) -> Result<Attempt, StateError> {
        match &self.inner {
            Inner::Local { lock, .. } => lock.try_acquire(info),
            Inner::S3 {
                dynamodb_lock,
                object_lock,
                ..
            } => {
                let mut held = Vec::new();
                if let Some(lock) = dynamodb_lock {
                    match lock.try_acquire(info).await? {
                        Attempt::Acquired(parts) => held.extend(parts),
                        holder @ Attempt::HeldBy(_) => return Ok(holder),
                    }
                }
                if let Some(lock) = object_lock {
                    match lock.try_acquire(info).await {
                        Ok(Attempt::Acquired(parts)) => held.extend(parts),
                        other => {
                            // Give back the DynamoDB half before reporting.
                            LockGuard::new(info.clone(), held).release().await?;
                            return other;
                        }
                    }
                }
                Ok(Attempt::Acquired(held))
            }
        }
    }

    /// Takes the environment's lock, waiting up to `options.timeout` with backoff.
    pub async fn lock(&self, options: LockOptions) -> Result<LockGuard, StateError> {
        let info = LockInfo::new(&options.operation, &self.lock_path());
        let outcome = lock::acquire_with_backoff(options.timeout, || self.try_lock(&info)).await?;
        match outcome {
            Ok(held) => {
                tracing::debug!(lock_id = %info.id, location = %self.location(), "state locked");
                Ok(LockGuard::new(info, held))
            }
            Err(holder) => Err(StateError::Locked {
                info: holder,
                location: self.location(),
                environment: self.config.environment().to_string(),
            }),
        }
    }

    fn id_mismatch(&self, given: &str, held: &str) -> StateError {
        StateError::LockIdMismatch {
            location: self.location(),
            environment: self.config.environment().to_string(),
            given: given.to_string(),
            held: held.to_string(),
        }
    }

    fn no_lock(&self) -> StateError {
        StateError::NotLocked {
            location: self.location(),
            environment: self.config.environment().to_string(),
        }
    }

    /// Frees a lock left by a crashed run, only if its ID is `lock_id`; returns what the lock
    /// recorded (who held it, and the CI run that did, if any).
    pub async fn force_unlock(&self, lock_id: &str) -> Result<LockInfo, StateError> {
        match &self.inner {
            Inner::Local { lock, .. } => match lock.inspect()? {
                lock::FileLockState::Held(info) if info.id != lock_id => {
                    Err(self.id_mismatch(lock_id, &info.id))
                }
                lock::FileLockState::Held(info) => Err(StateError::LockHeldByLiveProcess {
                    info,
                    location: self.location(),
                }),
                lock::FileLockState::Free { stale: Some(info) } if info.id == lock_id => {
                    lock.clear_stale().map(|()| info)
                }
                lock::FileLockState::Free { stale: Some(info) } => {
                    Err(self.id_mismatch(lock_id, &info.id))
                }
                lock::FileLockState::Free { stale: None } => Err(self.no_lock()),
            },
            Inner::S3 {
                dynamodb_lock,
                object_lock,
                ..
            } => {
                // Check every part before deleting any, so a wrong ID changes nothing.
                let item = match dynamodb_lock {
                    Some(lock) => lock.current().await?,
                    None => None,
                };
                let object = match object_lock {
                    Some(lock) => lock.current().await?,
                    None => None,
                };
                if item.is_none() && object.is_none() {
                    return Err(self.no_lock());
                }
                if let Some((info, _)) = &item
                    && info.id != lock_id
                {
                    return Err(self.id_mismatch(lock_id, &info.id));
                }
                if let Some(current) = &object
                    && current.info.id != lock_id
                {
                    return Err(self.id_mismatch(lock_id, &current.info.id));
                }
                if let (Some(lock), Some((_, json))) = (dynamodb_lock, &item)
                    && !lock.delete_if(json).await?
                {
                    return Err(StateError::LockChanged {
                        location: self.location(),
                    });
                }
                if let (Some(lock), Some(_)) = (object_lock, &object) {
                    lock.delete().await?;
                }
                tracing::info!(lock_id, location = %self.location(), "lock forcibly released");
                let freed = item.map(|(info, _)| info).or(object.map(|o| o.info));
                Ok(freed.unwrap_or_default())
            }
        }
    }

    /// Every stored version, newest first.
    pub async fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        match &self.inner {
            Inner::S3 { store, .. } => store.history().await,
            Inner::Local { store, .. } => store.history().await,
        }
    }

    /// One stored version.
    pub async fn read_version(&self, version_id: &str) -> Result<StateDocument, StateError> {
        match &self.inner {
            Inner::S3 { store, .. } => store.read_version(version_id).await,
            Inner::Local { store, .. } => store.read_version(version_id).await,
        }
    }

    /// Writes an earlier version back as a new version with a higher serial.
    ///
    /// This also repairs a corrupted current state: the current object is not verified, only
    /// replaced (history keeps it). The version's lineage is taken as it is, so rolling back to
    /// before an accidental overwrite with another stack's state works too.
    pub async fn rollback(&self, version_id: &str) -> Result<StateDocument, StateError> {
        match &self.inner {
            Inner::S3 { store, .. } => store.rollback(version_id).await,
            Inner::Local { store, .. } => store.rollback(version_id).await,
        }
    }
}

#[cfg(test)]
mod tests;
