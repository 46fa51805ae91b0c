//! The provisioner's state: what it created, where, and what it was doing when it stopped.
//!
//! If this is wrong, resources leak or get destroyed by mistake, so the crate is built around
//! three guarantees:
//! - **No lost update.** Every write is a compare-and-swap on what was read ([`WriteToken`]):
//!   `If-Match` on the ETag in S3, a content hash under the file lock locally. A write whose
//!   serial is not above the stored one, or whose lineage differs, is refused.
//! - **No undetected corruption.** The document carries a checksum of its content, checked on
//!   every read; the error names the S3 version to restore.
//! - **One writer at a time.** [`Backend::lock`] takes a lock in Terraform's formats (a DynamoDB
//!   item and/or an S3 `.tflock` object), so one lock table serves both tools during a migration.
//!
//! The document also records work in flight ([`PendingOperation`]) so a crash between "AWS
//! created it" and "the state says so" is repaired on the next run instead of leaking.
//!
//! Modules: [`document`] (the types), [`codec`] (stored JSON + checksum + format upgrade),
//! [`backend`] (the one interface and the write rules), [`s3`] and [`local`] (the stores),
//! [`lock`] (Terraform-compatible locks and the wait loop), [`bootstrap`] (creating a missing
//! bucket and lock table).

// `StateError::Locked` carries the holder's whole `LockInfo` (the contract the provisioner
// matches on), which makes the error large; errors are rare and never on a hot path.
#![allow(clippy::result_large_err)]

mod aws_error;
pub mod backend;
pub mod bootstrap;
pub mod codec;
pub mod document;
pub mod error;
pub mod explain;
pub mod local;
pub mod lock;
pub mod run;
pub mod s3;

pub use backend::{Backend, BackendConfig, HistoryEntry, Stored, WriteToken};
pub use bootstrap::{ensure_backend_resources, prepare_backend};
pub use document::{
    CURRENT_FORMAT_VERSION, Owner, PendingAction, PendingOperation, ResourceState, StateDocument,
};
pub use error::StateError;
pub use lock::{LockGuard, LockInfo, LockOptions};
