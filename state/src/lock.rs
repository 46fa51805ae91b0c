//! Locks in Terraform's formats (DynamoDB item, S3 `.tflock` object) and the OS file lock.
//!
//! One lock table can serve Terraform and the provisioner at once during a migration, so the
//! DynamoDB item and the S3 lock object carry Terraform's own [`LockInfo`] JSON. A lock is taken
//! by a conditional create (`attribute_not_exists(LockID)`, `If-None-Match: *`) and released
//! only if it is still ours (conditional delete on the exact `Info`, delete of the exact S3
//! object version we created), so a release can never free someone else's lock.
//!
//! Waiting for a held lock polls with exponential backoff and jitter ([`Backoff`]) up to the
//! caller's timeout; a timeout of zero fails at once with the holder's details.
//!
//! [`dynamodb`] is public for its item operations ([`dynamodb::claim`], [`dynamodb::delete_if`]):
//! the provisioner's `migrate` takes Terraform's own lock on Terraform's state key with them.

pub mod dynamodb;
mod file;
mod s3_object;

use std::future::Future;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub(crate) use dynamodb::DynamoDbLock;
pub(crate) use file::{FileLock, FileLockState};
pub(crate) use s3_object::S3ObjectLock;

use crate::error::StateError;

/// What a caller asks for when locking.
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// `plan`, `apply`, `destroy`, ... (Terraform's `Operation`).
    pub operation: String,
    /// How long to wait for a held lock (0 = fail at once).
    pub timeout: Duration,
}

/// Terraform's lock info (`Info` attribute of the DynamoDB item, body of the `.tflock` object).
///
/// Field names are Terraform's exactly (`ID`, `Operation`, `Info`, `Who`, `Version`, `Created`,
/// `Path`); a field Terraform leaves out reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
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

impl LockInfo {
    /// A fresh lock info for `operation` on `path` (`<bucket>/<key>` or a file path), with a
    /// new UUID v4 as its ID, `user@host` as `Who`, the current time, and as `Info` the CI run
    /// this process belongs to ([`ci_run_url`]), so whoever finds the lock held can look at the
    /// run that took it (a cancelled job's, say) before forcing it.
    pub fn new(operation: &str, path: &str) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            info: ci_run_url().unwrap_or_default(),
            who: who(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: now_rfc3339(),
            path: path.to_string(),
        }
    }

    /// The JSON Terraform stores (`Info` attribute / lock object body).
    pub fn to_json(&self) -> String {
        // A struct of strings always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses Terraform's lock JSON; something unreadable becomes a placeholder that still
    /// shows up in messages instead of hiding the lock.
    pub fn from_json_lossy(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_else(|_| Self {
            id: "<unreadable>".to_string(),
            info: format!("unreadable lock info: {json}"),
            who: "<unknown>".to_string(),
            created: "<unknown>".to_string(),
            operation: "<unknown>".to_string(),
            ..Self::default()
        })
    }
}

impl LockInfo {
    /// The CI run that took the lock, when the lock recorded one.
    pub fn ci_run(&self) -> Option<&str> {
        Some(self.info.as_str()).filter(|info| info.contains("/actions/runs/"))
    }

    /// Who holds (or held) the lock, for messages: `who, operation 'apply' since T`, plus
    /// `, CI run URL` when there is one.
    pub fn holder(&self) -> String {
        let run = self
            .ci_run()
            .map_or(String::new(), |url| format!(", CI run {url}"));
        format!(
            "{}, operation '{}' since {}{run}",
            self.who, self.operation, self.created
        )
    }
}

/// The GitHub Actions run this process belongs to,
/// `GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`, when all three are set
/// (GitHub sets them in every job).
pub fn ci_run_url() -> Option<String> {
    ci_run_url_from(|name| std::env::var(name).ok())
}

fn ci_run_url_from(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let server = var("GITHUB_SERVER_URL").filter(|v| !v.is_empty())?;
    let repository = var("GITHUB_REPOSITORY").filter(|v| !v.is_empty())?;
    let run = var("GITHUB_RUN_ID").filter(|v| !v.is_empty())?;
    Some(format!(
        "{}/{repository}/actions/runs/{run}",
        server.trim_end_matches('/')
    ))
}

/// `user@host` for the lock's `Who` and the state's `written_by`.
pub fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_string());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_string());
    format!("{user}@{host}")
}

/// The current time, RFC 3339 UTC.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One lock this guard holds and how to give it back.
#[derive(Debug)]
pub(crate) enum Held {
    DynamoDb(dynamodb::Acquired),
    S3Object(s3_object::Acquired),
    File(file::Acquired),
}

/// A held lock; release it explicitly with [`LockGuard::release`].
///
/// Dropping it without releasing frees a local file lock but leaves a DynamoDB or S3 lock in
/// place (a warning is logged); `force-unlock` with its ID frees that.
#[derive(Debug)]
pub struct LockGuard {
    pub info: LockInfo,
    held: Vec<Held>,
}

impl LockGuard {
    pub(crate) fn new(info: LockInfo, held: Vec<Held>) -> Self {
        Self { info, held }
    }

    /// The lock ID (what `force-unlock` takes).
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Releases the lock (only if it is still ours). Every part is released even when one
    /// fails; the first failure is returned.
    pub async fn release(mut self) -> Result<(), StateError> {
        let held = std::mem::take(&mut self.held);
        let mut first_error = None;
        for part in held.into_iter().rev() {
            let result = match part {
                Held::DynamoDb(lock) => lock.release().await,
                Held::S3Object(lock) => lock.release().await,
                Held::File(lock) => lock.release(),
            };
            if let Err(error) = result {
                tracing::warn!(%error, lock_id = %self.info.id, "releasing a lock failed");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let remote = self
            .held
            .iter()
            .any(|h| matches!(h, Held::DynamoDb(_) | Held::S3Object(_)));
        if remote {
            tracing::warn!(
                lock_id = %self.info.id,
                path = %self.info.path,
                "a state lock was dropped without release; free it with force-unlock and this ID"
            );
        }
    }
}

/// The outcome of one try at taking a lock.
pub(crate) enum Attempt {
    Acquired(Vec<Held>),
    HeldBy(LockInfo),
}

/// Exponential backoff with jitter: 50 ms doubling to a 2 s cap, each delay drawn between
/// half and all of the nominal value so many waiters spread out.
#[derive(Debug, Clone)]
pub struct Backoff {
    nominal: Duration,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_millis(50);
    pub const CAP: Duration = Duration::from_secs(2);

    pub fn new() -> Self {
        Self {
            nominal: Self::FIRST,
        }
    }

    /// The next delay to sleep.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self.nominal;
        self.nominal = (self.nominal * 2).min(Self::CAP);
        let per_mille = 500 + (uuid::Uuid::new_v4().as_u128() % 501) as u32;
        nominal * per_mille / 1000
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// Tries `attempt` until it acquires or `timeout` has passed. `Ok(Err(info))` is "still held
/// by `info` at the deadline"; `Err` is a failure that waiting would not fix.
pub(crate) async fn acquire_with_backoff<F, Fut>(
    timeout: Duration,
    mut attempt: F,
) -> Result<Result<Vec<Held>, LockInfo>, StateError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt, StateError>>,
{
    let deadline = Instant::now() + timeout;
    let mut backoff = Backoff::new();
    loop {
        match attempt().await? {
            Attempt::Acquired(held) => return Ok(Ok(held)),
            Attempt::HeldBy(info) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(Err(info));
                }
                let delay = backoff.next_delay().min(deadline - now);
                tracing::debug!(holder = %info.who, lock_id = %info.id, ?delay, "state lock held; waiting");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_info_json_uses_terraforms_field_names() {
        let info = LockInfo {
            id: "a8a6d5f0-0000-4000-8000-000000000000".to_string(),
            operation: "OperationTypeApply".to_string(),
            info: String::new(),
            who: "ana@laptop".to_string(),
            version: "1.9.8".to_string(),
            created: "2026-01-02T03:04:05.123456789Z".to_string(),
            path: "bucket/env:/dev/terraform.tfstate".to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(&info.to_json()).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "Created",
                "ID",
                "Info",
                "Operation",
                "Path",
                "Version",
                "Who"
            ]
        );
        assert_eq!(value["ID"], "a8a6d5f0-0000-4000-8000-000000000000");
        assert_eq!(value["Who"], "ana@laptop");
    }

    #[test]
    fn lock_info_reads_what_terraform_writes() {
        let terraform = r#"{"ID":"0e1f2c3d-aaaa-bbbb-cccc-111122223333","Operation":"OperationTypePlan","Info":"","Who":"runner@ci","Version":"1.10.0","Created":"2026-03-01T10:00:00.5Z","Path":"my-bucket/prod/terraform.tfstate"}"#;
        let info = LockInfo::from_json_lossy(terraform);
        assert_eq!(info.id, "0e1f2c3d-aaaa-bbbb-cccc-111122223333");
        assert_eq!(info.operation, "OperationTypePlan");
        assert_eq!(info.who, "runner@ci");
        assert_eq!(info.path, "my-bucket/prod/terraform.tfstate");
    }

    #[test]
    fn unreadable_lock_info_still_shows_up() {
        let info = LockInfo::from_json_lossy("{not json");
        assert_eq!(info.id, "<unreadable>");
        assert!(info.info.contains("{not json"));
    }

    #[test]
    fn new_lock_info_has_a_uuid_and_rfc3339_time() {
        let info = LockInfo::new("apply", "b/k");
        assert!(uuid::Uuid::parse_str(&info.id).is_ok());
        assert!(
            time::OffsetDateTime::parse(
                &info.created,
                &time::format_description::well_known::Rfc3339
            )
            .is_ok()
        );
        assert!(info.who.contains('@'));
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn the_ci_run_is_built_from_githubs_variables() {
        let vars = |name: &str| match name {
            "GITHUB_SERVER_URL" => Some("https://github.com/".to_string()),
            "GITHUB_REPOSITORY" => Some("octo/playground".to_string()),
            "GITHUB_RUN_ID" => Some("4242".to_string()),
            _ => None,
        };
        assert_eq!(
            ci_run_url_from(vars).as_deref(),
            Some("https://github.com/octo/playground/actions/runs/4242")
        );
        assert_eq!(ci_run_url_from(|_| None), None);
        let info = LockInfo {
            info: "https://github.com/octo/playground/actions/runs/4242".into(),
            who: "runner@ci".into(),
            operation: "apply".into(),
            created: "T".into(),
            ..LockInfo::default()
        };
        assert_eq!(
            info.holder(),
            "runner@ci, operation 'apply' since T, CI run https://github.com/octo/playground/actions/runs/4242"
        );
        let local = LockInfo {
            info: "pid 12".into(),
            ..info
        };
        assert_eq!(local.ci_run(), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut backoff = Backoff::new();
        let delays: Vec<Duration> = (0..10).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(25) && delays[0] <= Duration::from_millis(50));
        assert!(delays[1] >= Duration::from_millis(50) && delays[1] <= Duration::from_millis(100));
        for delay in &delays[6..] {
            assert!(
                *delay >= Backoff::CAP / 2 && *delay <= Backoff::CAP,
                "{delay:?}"
            );
        }
    }

    #[tokio::test]
    async fn zero_timeout_tries_once_and_reports_the_holder() {
        let mut tries = 0;
        let holder = LockInfo::new("apply", "p");
        let outcome = acquire_with_backoff(Duration::ZERO, || {
            tries += 1;
            let holder = holder.clone();
            async move { Ok(Attempt::HeldBy(holder)) }
        })
        .await
        .unwrap();
        assert_eq!(tries, 1);
        assert_eq!(outcome.err(), Some(holder));
    }
}
