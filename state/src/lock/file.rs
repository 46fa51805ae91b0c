//! The local backend's lock: an OS file lock (`flock`) on `.provisioner/<env>.lock`.
//!
//! The kernel frees it when its process dies, so a crashed run never leaves it behind. While
//! held, the file holds the holder's [`LockInfo`] (with its process id in `Info`) so a waiter
//! can say who has it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use super::{Attempt, Held, LockInfo};
use crate::error::StateError;

/// The lock file of one environment.
#[derive(Debug, Clone)]
pub(crate) struct FileLock {
    pub path: PathBuf,
}

/// A held file lock: the open file whose `flock` we hold.
#[derive(Debug)]
pub(crate) struct Acquired {
    file: File,
    path: PathBuf,
}

/// What [`FileLock::inspect`] found.
pub(crate) enum FileLockState {
    /// Held by a live process.
    Held(LockInfo),
    /// Free; the file may still name a holder that released it badly.
    Free { stale: Option<LockInfo> },
}

fn io_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl FileLock {
    fn open(&self) -> Result<File, StateError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .map_err(io_error(&self.path))
    }

    fn read_info(file: &mut File) -> Option<LockInfo> {
        let mut text = String::new();
        file.seek(SeekFrom::Start(0)).ok()?;
        file.read_to_string(&mut text).ok()?;
        let text = text.trim();
        (!text.is_empty()).then(|| LockInfo::from_json_lossy(text))
    }

    /// Takes the lock if no live process holds it.
    pub fn try_acquire(&self, info: &LockInfo) -> Result<Attempt, StateError> {
        let mut file = self.open()?;
        match file.try_lock() {
            Ok(()) => {
                let mut info = info.clone();
                info.info = format!("pid {}", std::process::id());
                let write = file
                    .set_len(0)
                    .and_then(|()| file.seek(SeekFrom::Start(0)))
                    .and_then(|_| file.write_all(info.to_json().as_bytes()))
                    .and_then(|()| file.sync_data());
                write.map_err(io_error(&self.path))?;
                Ok(Attempt::Acquired(vec![Held::File(Acquired {
                    file,
                    path: self.path.clone(),
                })]))
            }
            Err(TryLockError::WouldBlock) => {
                let holder = Self::read_info(&mut file).unwrap_or_else(|| LockInfo {
                    id: "<being written>".to_string(),
                    ..LockInfo::default()
                });
                Ok(Attempt::HeldBy(holder))
            }
            Err(TryLockError::Error(source)) => Err(StateError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Whether a live process holds the lock, and what the file says.
    pub fn inspect(&self) -> Result<FileLockState, StateError> {
        let mut file = self.open()?;
        match file.try_lock() {
            Ok(()) => {
                let stale = Self::read_info(&mut file);
                Ok(FileLockState::Free { stale })
            }
            Err(TryLockError::WouldBlock) => Ok(FileLockState::Held(
                Self::read_info(&mut file).unwrap_or_default(),
            )),
            Err(TryLockError::Error(source)) => Err(StateError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Empties a lock file left with a holder's info by a run that did not release it.
    pub fn clear_stale(&self) -> Result<(), StateError> {
        let file = self.open()?;
        match file.try_lock() {
            Ok(()) => file.set_len(0).map_err(io_error(&self.path)),
            Err(_) => Ok(()),
        }
    }
}

impl Acquired {
    pub fn release(self) -> Result<(), StateError> {
        // Empty the info first so no one reads a holder that is gone, then unlock.
        self.file.set_len(0).map_err(io_error(&self.path))?;
        self.file.unlock().map_err(io_error(&self.path))
    }
}
