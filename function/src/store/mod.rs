//! DynamoDB access: every read, conditional write and transaction of the API lives here.
//!
//! One table holds every playground. A playground's own row has the sort key `_metadata`;
//! each user's scores are a row keyed by the username. Correctness under concurrency comes from
//! the conditions, never from reading first:
//! - a new user and the `userCount` increment are one `TransactWriteItems`, conditional on the
//!   user being absent and the playground present, so `userCount` is exact and a missing
//!   playground is never created as a side effect (`users`);
//! - every update is conditional on the row existing, so nothing is resurrected.
//!
//! The [`Store`] is split by concern, each part an `impl Store` of its own: `codec` (rows ↔
//! values), `playgrounds` (the playground's own row), `users` (user rows and `userCount`),
//! `listing` (the two paginated listings and their ordering indexes), `rows` (rows read where
//! the SDK put them), `ownership` (who owns a playground, checked inside each change's
//! condition), `deletion` (a playground and all its rows) and `table` (creating the table for
//! local use). This module holds what they share: the store, its errors, its results.
//!
//! The SDK call of every request that makes one or two is awaited boxed
//! (`Box::pin(request.send())`; a deletion's many calls and the local table's set-up are not):
//! unboxed, its state (5.5 KB for a GetItem, 6.6 KB for a Query) is part of every future that
//! awaits it, up to the handler's, which axum and tower move (copy) several times per request;
//! boxed, only a pointer moves. A page of 50 cost about 2,900 instructions less, a single read
//! about 1,000.

mod codec;
mod deletion;
mod listing;
mod ownership;
mod playgrounds;
mod rows;
mod table;
mod users;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};

pub use codec::timestamp;
pub use ownership::ChangeOutcome;
pub use rows::{Kind, Listing, Playgrounds, Row, Users};
use users::{MAX_WRITE_ROUNDS, NEW_USER_LOCK_SHARDS};

/// A storage failure; its detail is for the log, never for the client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB answered with an error (after the SDK's own retries).
    #[error("DynamoDB {operation} failed: {source}")]
    Dynamo {
        operation: &'static str,
        #[source]
        source: Box<aws_sdk_dynamodb::Error>,
    },
    /// A request could not be built (a bug: every required field is set).
    #[error("building a DynamoDB request failed: {0}")]
    Build(#[from] BuildError),
    /// Transactions on the same playground kept conflicting past the retry budget.
    #[error("gave up after {MAX_WRITE_ROUNDS} rounds of transaction conflicts")]
    Contention,
    /// A transaction was cancelled for a reason this code does not expect.
    #[error("transaction cancelled: {0}")]
    Cancelled(String),
    /// Deletes DynamoDB kept leaving unprocessed past the retry budget.
    #[error("{0} deletes still unprocessed after every resend")]
    Unprocessed(usize),
    /// Creating the table did not reach ACTIVE in time.
    #[error("table {0} did not become ACTIVE")]
    NotActive(String),
}

/// Turns an SDK error of `operation` into a [`StoreError`] (for `map_err`).
fn dynamo<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> StoreError
where
    aws_sdk_dynamodb::Error: From<SdkError<E, HttpResponse>>,
{
    move |source| StoreError::Dynamo {
        operation,
        source: Box::new(source.into()),
    }
}

/// Whether a conditional write was refused by its condition: an expected answer (the row
/// exists, or does not), not a failure.
fn refused_by_condition<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// The wait before retry `round`: `first_ms` doubling each round up to 32 times it, from half
/// of that base to `spread` halves more, at random (so that contenders spread out).
fn backoff(first_ms: u64, round: u32, spread: u64) -> Duration {
    let base = first_ms << round.min(5);
    Duration::from_millis(base / 2 + fastrand::u64(0..=base / 2 * spread))
}

impl Store {
    /// One row of kind `K` by its key, or `None` when there is no such row.
    async fn read_kind<K: Kind>(
        &self,
        table_id: &str,
        username: &str,
    ) -> Result<Option<Row<K>>, StoreError> {
        let row = self.read_row(table_id, username, None).await?;
        Ok(row.map(Row::new))
    }

    /// One row by its key, read consistently (a write just answered must be seen); only the
    /// attributes `projection` names when it is given.
    async fn read_row(
        &self,
        table_id: &str,
        username: &str,
        projection: Option<&str>,
    ) -> Result<Option<codec::Item>, StoreError> {
        let call = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(codec::key(table_id, username)))
            .set_projection_expression(projection.map(str::to_string))
            .consistent_read(true);
        let out = Box::pin(call.send()).await.map_err(dynamo("GetItem"))?;
        Ok(out.item)
    }
}

/// One page of a listing and the cursor of the next one, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

/// Result of `POST /tables`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    AlreadyExists,
}

/// Result of a conditional update of an existing row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated,
    NotFound,
}

/// Result of `PUT .../users/{username}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutUserOutcome {
    /// A new user: `userCount` went up by one.
    Created,
    /// An existing user's scores were replaced.
    Updated,
    /// The playground does not exist; nothing was written.
    PlaygroundNotFound,
}

/// The playground table.
#[derive(Debug)]
pub struct Store {
    client: Client,
    table: String,
    /// Cleared (once, with a warning) when the ordering indexes turn out to be missing.
    ordered_indexes: AtomicBool,
    /// New-user transactions of one playground run one at a time within this process. The
    /// conditional transaction alone keeps `userCount` exact on DynamoDB; this lock only
    /// matters to the local server, whose emulator (moto) does not lock items during a
    /// transaction and loses concurrent `ADD`s. On Lambda a sandbox runs one request at a
    /// time, so it is never contended there.
    new_user_locks: Vec<tokio::sync::Mutex<()>>,
}

impl Store {
    /// A store over table `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            ordered_indexes: AtomicBool::new(true),
            new_user_locks: (0..NEW_USER_LOCK_SHARDS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// The DynamoDB table name.
    pub fn table_name(&self) -> &str {
        &self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for round in 0..20 {
            assert!(backoff(20, round, 1) <= Duration::from_millis(640));
            assert!(backoff(10, round, 2) <= Duration::from_millis(480));
        }
        assert!(backoff(10, 0, 2) >= Duration::from_millis(5));
        assert!(backoff(20, 3, 1) >= Duration::from_millis(80));
    }
}
