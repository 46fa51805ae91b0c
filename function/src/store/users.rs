//! A user's row and the playground's `userCount`, kept exact under any concurrency.
//!
//! A new user and the `userCount` increment are one `TransactWriteItems`, conditional on the
//! user being absent and the playground present, so the count is exact and a missing playground
//! is never created as a side effect. An existing user is updated on condition that the row
//! exists. The two can race (a user created between the update and the create), so the pair is
//! retried, boundedly, with backoff.

use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

use super::codec::{key, n, now, row, s};
use super::{
    PutUserOutcome, Row, Store, StoreError, UpdateOutcome, Users, backoff, dynamo,
    refused_by_condition,
};
use crate::domain::{METADATA_USERNAME, Scores};

/// Rounds of "update, else create" before a contended user write gives up.
pub(super) const MAX_WRITE_ROUNDS: u32 = 8;

/// Shards of the in-process lock that serialises new-user transactions per playground.
pub(super) const NEW_USER_LOCK_SHARDS: usize = 64;

enum CreateUserOutcome {
    Created,
    UserExists,
    PlaygroundNotFound,
    Conflict,
}

/// Backoff before retry `round` of a contended write: 10 ms doubling up to 320 ms, from half
/// that to half as much again.
fn retry_backoff(round: u32) -> Duration {
    backoff(10, round, 2)
}

impl Store {
    fn new_user_lock(&self, table_id: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        table_id.hash(&mut hasher);
        &self.new_user_locks[(hasher.finish() as usize) % NEW_USER_LOCK_SHARDS]
    }

    /// One user's row, or `None`.
    pub async fn get_user(
        &self,
        table_id: &str,
        username: &str,
    ) -> Result<Option<Row<Users>>, StoreError> {
        self.read_kind(table_id, username).await
    }

    /// Writes a user's scores. A new user is created together with the `userCount` increment in
    /// one transaction; an existing user is updated in place. The two can race (a user created
    /// between our update and our create), so the pair is retried, boundedly.
    pub async fn put_user(
        &self,
        table_id: &str,
        username: &str,
        scores: Scores,
    ) -> Result<PutUserOutcome, StoreError> {
        for round in 0..MAX_WRITE_ROUNDS {
            if round > 0 {
                tokio::time::sleep(retry_backoff(round)).await;
            }
            let stamp = now();
            match self.update_user(table_id, username, scores, &stamp).await? {
                Some(UpdateOutcome::Updated) => return Ok(PutUserOutcome::Updated),
                Some(UpdateOutcome::NotFound) => {}
                None => continue,
            }
            let created = {
                let _one_at_a_time = self.new_user_lock(table_id).lock().await;
                self.create_user(table_id, username, scores, &stamp).await?
            };
            match created {
                CreateUserOutcome::Created => return Ok(PutUserOutcome::Created),
                CreateUserOutcome::PlaygroundNotFound => {
                    return Ok(PutUserOutcome::PlaygroundNotFound);
                }
                CreateUserOutcome::UserExists | CreateUserOutcome::Conflict => {
                    tracing::debug!(table_id, username, round, "user write contended, retrying");
                }
            }
        }
        Err(StoreError::Contention)
    }

    /// Replaces an existing user's scores; `None` when a transaction held the row (retry).
    async fn update_user(
        &self,
        table_id: &str,
        username: &str,
        scores: Scores,
        stamp: &str,
    ) -> Result<Option<UpdateOutcome>, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(table_id, username)))
            .condition_expression("attribute_exists(username)")
            .update_expression("SET submissionCount = :s, totalCount = :t, lastUpdated = :now")
            .expression_attribute_values(":s", n(scores.submission_count))
            .expression_attribute_values(":t", n(scores.total_count))
            .expression_attribute_values(":now", s(stamp));
        let result = Box::pin(request.send()).await;
        match result {
            Ok(_) => Ok(Some(UpdateOutcome::Updated)),
            Err(e) if refused_by_condition(&e) => Ok(Some(UpdateOutcome::NotFound)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_transaction_conflict_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
    }

    /// Creates the user row and increments `userCount`, atomically and only if the user is new
    /// and the playground exists.
    async fn create_user(
        &self,
        table_id: &str,
        username: &str,
        scores: Scores,
        stamp: &str,
    ) -> Result<CreateUserOutcome, StoreError> {
        let mut item = row(table_id, username, 5);
        item.insert("submissionCount".into(), n(scores.submission_count));
        item.insert("totalCount".into(), n(scores.total_count));
        item.insert("lastUpdated".into(), s(stamp));
        let put_user = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(username)")
            .build()?;
        let count_user = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(table_id, METADATA_USERNAME)))
            .update_expression("ADD userCount :one")
            .condition_expression("attribute_exists(tableId)")
            .expression_attribute_values(":one", n(1))
            .build()?;
        let request = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_user).build())
            .transact_items(TransactWriteItem::builder().update(count_user).build());
        let result = Box::pin(request.send()).await;
        let error = match result {
            Ok(_) => return Ok(CreateUserOutcome::Created),
            Err(error) => error,
        };
        let cancelled = match error.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(c)) => c,
            Some(TransactWriteItemsError::TransactionInProgressException(_)) => {
                return Ok(CreateUserOutcome::Conflict);
            }
            _ => return Err(dynamo("TransactWriteItems")(error)),
        };
        let codes: Vec<&str> = cancelled
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None"))
            .collect();
        match codes.as_slice() {
            [_, "ConditionalCheckFailed"] => Ok(CreateUserOutcome::PlaygroundNotFound),
            ["ConditionalCheckFailed", _] => Ok(CreateUserOutcome::UserExists),
            reasons
                if reasons
                    .iter()
                    .any(|r| matches!(*r, "TransactionConflict" | "ThrottlingError")) =>
            {
                Ok(CreateUserOutcome::Conflict)
            }
            reasons => Err(StoreError::Cancelled(reasons.join(","))),
        }
    }
}
