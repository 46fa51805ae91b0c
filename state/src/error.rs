//! Typed errors; each message says what happened and what to do.
//!
//! The provisioner shows these to people who are about to (or must not) touch real AWS
//! resources, so every message names the state's location and the command that gets them out.

use crate::lock::LockInfo;

/// Everything that can go wrong reading, writing or locking the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state document is not valid: {0}")]
    Invalid(String),

    #[error(
        "the state at {location} is locked by {who} since {created} for operation '{operation}' \
         (lock ID {id}{run}). If that run is still going, wait for it (or pass --lock-timeout). \
         If it crashed, free the lock with: provisioner force-unlock --env {environment} {id}",
        who = info.who,
        created = info.created,
        operation = info.operation,
        id = info.id,
        run = info.ci_run().map_or(String::new(), |url| format!(", CI run {url}"))
    )]
    Locked {
        info: LockInfo,
        location: String,
        environment: String,
    },

    #[error(
        "someone else wrote the state at {location} since you read it; nothing was written. \
         Re-run plan to start from the current state"
    )]
    Conflict { location: String },

    #[error(
        "refusing to write the state at {location}: it belongs to lineage {stored}, the document \
         you are writing to lineage {given}. This is another stack's or environment's state; \
         check --env and the backend settings (nothing was written)"
    )]
    LineageMismatch {
        location: String,
        stored: String,
        given: String,
    },

    #[error(
        "the state at {location} belongs to {found}, not to {expected}, which this command works \
         on; nothing was changed. {hint}Was it copied from another environment's or stack's key, \
         or does the stack file's [backend] (bucket, prefix, dir) point at another stack's state? \
         Fix [backend], or put this environment's own state back (`provisioner state history \
         --env {environment}` lists its versions, `provisioner state rollback --env \
         {environment} VERSION` restores one)"
    )]
    WrongOwner {
        location: String,
        found: String,
        expected: String,
        environment: String,
        /// A first guess when only the stack's name differs (a renamed prefix), else empty.
        hint: String,
    },

    #[error(
        "refusing to write the state at {location}: the stored serial is {stored}, the document \
         you are writing has serial {given}, which is older. Re-run plan from the current state \
         (nothing was written)"
    )]
    SerialRegression {
        location: String,
        stored: u64,
        given: u64,
    },

    #[error("the state at {location} is corrupted ({reason}). {restore_hint}")]
    Corrupted {
        location: String,
        /// The last version that still verifies, if any.
        version_id: Option<String>,
        restore_hint: String,
        reason: String,
    },

    #[error(
        "the state at {location} has format version {found}, but this provisioner understands \
         versions up to {supported}: it was written by a newer provisioner; upgrade the \
         provisioner (nothing was read or written)"
    )]
    UnsupportedFormat {
        location: String,
        found: u32,
        supported: u32,
    },

    #[error(
        "the lock on {location} has ID {held}, not {given}; nothing was unlocked. Check the ID \
         in the lock error and run: provisioner force-unlock --env {environment} {held}"
    )]
    LockIdMismatch {
        location: String,
        environment: String,
        given: String,
        held: String,
    },

    #[error(
        "the lock on {location} was removed or replaced while this run held it (someone ran \
         force-unlock?); check the state before running again"
    )]
    LockLost { location: String },

    #[error(
        "the lock on {location} (ID {id}) is held by a running process ({pid}, {who}, since \
         {created}, operation '{operation}'); a local file lock is freed when its process exits: \
         stop that process instead of forcing the lock",
        id = info.id,
        pid = info.info,
        who = info.who,
        created = info.created,
        operation = info.operation
    )]
    LockHeldByLiveProcess { info: LockInfo, location: String },

    #[error(
        "the lock on {location} changed while force-unlock was running (someone took or freed \
         it); nothing was unlocked. Look at the lock error again and retry"
    )]
    LockChanged { location: String },

    #[error(
        "refusing to run: on the state bucket s3://{bucket}, {problems}. The state's history is \
         not safe like this; run `provisioner bootstrap` with administrator credentials to fix \
         the bucket (the deploy roles may not change its settings). Nothing was changed"
    )]
    UnsafeBackend { bucket: String, problems: String },

    #[error("{what} was not found at {location}")]
    NotFound { what: String, location: String },

    #[error(
        "the {environment} state at {location} is not locked: there is nothing to unlock (the run \
         that held the lock has released it, or it never existed)"
    )]
    NotLocked {
        location: String,
        environment: String,
    },

    #[error("AWS {operation} failed: {message}")]
    Aws { operation: String, message: String },

    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}
