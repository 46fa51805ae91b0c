//! Local-file backend: for trying the tool without a bucket.
//!
//! Layout, next to the stack file:
//! ```text
//! .provisioner/<env>.json               the current state
//! .provisioner/<env>.history/<N>.json   every version ever written, N = its serial
//! .provisioner/<env>.lock               the operation lock (OS file lock; holder's info inside)
//! .provisioner/<env>.write-lock         held only while one write swaps the file
//! ```
//! The current file is replaced atomically (temp file, fsync, rename, fsync of the directory),
//! so a crash leaves the old or the new state, never half of one. A write is a compare-and-swap
//! on the SHA-256 of the bytes that were read, checked under the write lock, so two processes
//! can never both write from the same read. Version IDs are serials.
//!
//! All file work runs on tokio's blocking pool: the write lock waits in the kernel.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::backend::{HistoryEntry, Stored, Version, WriteToken, holds_version, next_version};
use crate::codec::{self, Decoded};
use crate::document::{CURRENT_FORMAT_VERSION, StateDocument};
use crate::error::StateError;
use crate::lock::{FileLock, who};

/// One environment's local state files.
#[derive(Debug, Clone)]
pub(crate) struct LocalStore {
    /// `<dir>/.provisioner`.
    pub root: PathBuf,
    pub environment: String,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Runs blocking file work off the async threads.
async fn blocking<T, F>(work: F) -> Result<T, StateError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StateError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StateError::Io {
            path: PathBuf::from("<blocking task>"),
            source: std::io::Error::other(e),
        })?
}

impl LocalStore {
    pub fn new(dir: &Path, environment: &str) -> Self {
        Self {
            root: dir.join(".provisioner"),
            environment: environment.to_string(),
        }
    }

    pub fn current_path(&self) -> PathBuf {
        self.root.join(format!("{}.json", self.environment))
    }

    fn history_dir(&self) -> PathBuf {
        self.root.join(format!("{}.history", self.environment))
    }

    fn history_path(&self, serial: u64) -> PathBuf {
        self.history_dir().join(format!("{serial}.json"))
    }

    pub fn lock_file(&self) -> FileLock {
        FileLock {
            path: self.root.join(format!("{}.lock", self.environment)),
        }
    }

    pub fn location(&self) -> String {
        self.current_path().display().to_string()
    }

    fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(path)(e)),
        }
    }

    /// Serials that have a history file, newest first.
    fn history_serials(&self) -> Result<Vec<u64>, StateError> {
        let dir = self.history_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&dir)(e)),
        };
        let mut serials = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error(&dir))?;
            let name = entry.file_name();
            if let Some(serial) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                serials.push(serial);
            }
        }
        serials.sort_unstable_by(|a, b| b.cmp(a));
        Ok(serials)
    }

    /// Verifies and upgrades stored bytes, or says which version to restore.
    fn decode(&self, bytes: &[u8], below: Option<u64>) -> Result<Decoded, StateError> {
        let reason = match codec::decode(bytes) {
            Ok(decoded) => return Ok(decoded),
            Err(error) => error.corrupt_reason(self.location())?,
        };
        let good = self.last_good_version(below);
        let restore_hint = match good {
            Some(serial) => format!(
                "The last version that verifies is {serial} ({}). Restore it with: \
                 provisioner state rollback --env {} {serial}",
                self.history_path(serial).display(),
                self.environment
            ),
            None => format!(
                "No version in {} verifies; restore a known-good copy by hand",
                self.history_dir().display()
            ),
        };
        Err(StateError::Corrupted {
            location: self.location(),
            version_id: good.map(|s| s.to_string()),
            restore_hint,
            reason,
        })
    }

    /// The newest history version (below `below`, if given) whose content verifies.
    fn last_good_version(&self, below: Option<u64>) -> Option<u64> {
        self.history_serials()
            .ok()?
            .into_iter()
            .filter(|serial| below.is_none_or(|below| *serial < below))
            .find(|serial| {
                std::fs::read(self.history_path(*serial))
                    .ok()
                    .is_some_and(|bytes| codec::decode(&bytes).is_ok())
            })
    }

    /// Takes the write lock: one swap of the current file at a time, across processes.
    fn write_lock(&self) -> Result<File, StateError> {
        std::fs::create_dir_all(&self.root).map_err(io_error(&self.root))?;
        let path = self.root.join(format!("{}.write-lock", self.environment));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error(&path))?;
        file.lock().map_err(io_error(&path))?;
        Ok(file)
    }

    /// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync of the directory.
    fn replace_atomically(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4().simple()));
        let written = (|| {
            let mut file = File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&temp, path)?;
            File::open(dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written.map_err(io_error(path))
    }

    /// Stores `document` as its history version and as the current file; returns the token.
    fn commit(&self, document: &StateDocument) -> Result<WriteToken, StateError> {
        let bytes = codec::encode(document, &who());
        Self::replace_atomically(&self.history_path(document.serial), &bytes)?;
        Self::replace_atomically(&self.current_path(), &bytes)?;
        Ok(WriteToken::of(sha256_hex(&bytes), document))
    }

    pub async fn read(&self) -> Result<Stored, StateError> {
        let store = self.clone();
        blocking(move || match Self::read_optional(&store.current_path())? {
            None => Ok(Stored {
                document: None,
                token: WriteToken::absent(),
            }),
            Some(bytes) => {
                let decoded = store.decode(&bytes, None)?;
                let token = WriteToken::of(sha256_hex(&bytes), &decoded.document);
                Ok(Stored {
                    document: Some(decoded.document),
                    token,
                })
            }
        })
        .await
    }

    pub async fn write(
        &self,
        document: &mut StateDocument,
        token: &WriteToken,
    ) -> Result<WriteToken, StateError> {
        let store = self.clone();
        let proposed = document.clone();
        let token = token.clone();
        let (next, token) = blocking(move || {
            let _write_lock = store.write_lock()?;
            let current = Self::read_optional(&store.current_path())?;
            let conflict = || StateError::Conflict {
                location: store.location(),
            };
            let stored = match (&current, &token.tag) {
                (None, None) => None,
                (Some(bytes), Some(hash)) => {
                    let stored = store.decode(bytes, None)?.document;
                    if sha256_hex(bytes) != *hash
                        && !holds_version(&stored, &Version::of(&proposed))
                    {
                        return Err(conflict());
                    }
                    Some(stored)
                }
                _ => return Err(conflict()),
            };
            let stored = stored.as_ref().map(Version::of);
            let next = next_version(&proposed, stored.as_ref(), &store.location())?;
            let token = store.commit(&next)?;
            Ok((next, token))
        })
        .await?;
        *document = next;
        Ok(token)
    }

    pub async fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        let store = self.clone();
        blocking(move || {
            let serials = store.history_serials()?;
            let latest = serials.first().copied();
            serials
                .into_iter()
                .map(|serial| {
                    let path = store.history_path(serial);
                    let bytes = std::fs::read(&path).map_err(io_error(&path))?;
                    let decoded = codec::decode(&bytes).ok();
                    let (writer, run) =
                        decoded.map_or((None, None), |d| (d.written_by, d.written_in));
                    let last_modified = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| {
                            time::OffsetDateTime::from(t)
                                .format(&time::format_description::well_known::Rfc3339)
                                .ok()
                        })
                        .unwrap_or_default();
                    Ok(HistoryEntry {
                        version_id: serial.to_string(),
                        serial: Some(serial),
                        last_modified,
                        writer,
                        is_latest: Some(serial) == latest,
                        run,
                    })
                })
                .collect()
        })
        .await
    }

    fn read_version_blocking(&self, version_id: &str) -> Result<StateDocument, StateError> {
        let not_found = || StateError::NotFound {
            what: format!(
                "version {version_id} (local version IDs are serials; list them with \
                 `provisioner state history --env {}`)",
                self.environment
            ),
            location: self.history_dir().display().to_string(),
        };
        let serial: u64 = version_id.parse().map_err(|_| not_found())?;
        let bytes = Self::read_optional(&self.history_path(serial))?.ok_or_else(not_found)?;
        Ok(self.decode(&bytes, Some(serial))?.document)
    }

    pub async fn read_version(&self, version_id: &str) -> Result<StateDocument, StateError> {
        let store = self.clone();
        let version_id = version_id.to_string();
        blocking(move || store.read_version_blocking(&version_id)).await
    }

    pub async fn rollback(&self, version_id: &str) -> Result<StateDocument, StateError> {
        let store = self.clone();
        let version_id = version_id.to_string();
        blocking(move || {
            let _write_lock = store.write_lock()?;
            let mut document = store.read_version_blocking(&version_id)?;
            // Above every serial ever written, even if the current file is corrupted.
            let current_serial = Self::read_optional(&store.current_path())?
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .and_then(|value| value.get("serial").and_then(serde_json::Value::as_u64))
                .unwrap_or(0);
            let highest = store.history_serials()?.first().copied().unwrap_or(0);
            document.serial = highest.max(current_serial) + 1;
            document.format_version = CURRENT_FORMAT_VERSION;
            document.tool_version = env!("CARGO_PKG_VERSION").to_string();
            store.commit(&document)?;
            tracing::info!(location = %store.location(), from = %version_id, serial = document.serial, "state rolled back");
            Ok(document)
        })
        .await
    }
}
