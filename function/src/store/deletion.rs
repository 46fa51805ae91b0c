//! `DELETE /tables/{tableId}`: every user row, then the playground's own row, last.
//!
//! The playground row goes last so that a call cut short (a timeout, a crash) leaves a
//! playground that still exists and still names its owner: calling again finds the users that
//! are left and finishes. Users are read a page at a time (keys only) and deleted 25 per
//! `BatchWriteItem`; the items DynamoDB leaves unprocessed (throttling) are sent again with
//! backoff. Once the playground row is gone, no new user can be written (a new user's
//! transaction requires it).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};

use super::codec::{Item, key, s};
use super::ownership::{ChangeOutcome, OWNER_ISSUER, OWNER_SUBJECT, owned_by};
use super::{Store, StoreError, backoff, dynamo};
use crate::auth::rules::OwnerCheck;
use crate::contract::{HASH_KEY, RANGE_KEY};
use crate::domain::METADATA_USERNAME;

/// Most writes in one `BatchWriteItem` (DynamoDB's limit).
const BATCH: usize = 25;
/// Rounds of resending unprocessed deletes before giving up (the next call finishes).
const MAX_BATCH_ROUNDS: u32 = 8;

/// Backoff before resend `round`: 20 ms doubling up to 640 ms, from half that to all of it.
fn resend_backoff(round: u32) -> Duration {
    backoff(20, round, 1)
}

impl Store {
    /// Deletes playground `table_id` and all its users if `check` allows it.
    pub async fn delete_playground(
        &self,
        table_id: &str,
        check: OwnerCheck<'_>,
    ) -> Result<ChangeOutcome, StoreError> {
        let projection = format!("tableId, {OWNER_ISSUER}, {OWNER_SUBJECT}");
        let Some(row) = self
            .read_row(table_id, METADATA_USERNAME, Some(&projection))
            .await?
        else {
            return Ok(ChangeOutcome::NotFound);
        };
        if let OwnerCheck::OwnedBy(identity) = check
            && !owned_by(&row, identity)
        {
            return Ok(ChangeOutcome::Forbidden);
        }
        self.delete_users(table_id).await?;
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(table_id, METADATA_USERNAME)))
            .send()
            .await
            .map_err(dynamo("DeleteItem"))?;
        Ok(ChangeOutcome::Done)
    }

    /// Deletes every user row of `table_id`, one page of keys at a time.
    async fn delete_users(&self, table_id: &str) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", HASH_KEY.name)
                .expression_attribute_names("#s", RANGE_KEY.name)
                .expression_attribute_values(":p", s(table_id))
                .projection_expression("#p, #s")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo("Query"))?;
            let users: Vec<Item> = page
                .items()
                .iter()
                .filter(|item| {
                    item.get(RANGE_KEY.name).and_then(|v| v.as_s().ok())
                        != Some(&METADATA_USERNAME.to_string())
                })
                .cloned()
                .collect();
            for chunk in users.chunks(BATCH) {
                self.delete_batch(chunk).await?;
            }
            match page.last_evaluated_key {
                Some(next) => start = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Deletes up to 25 rows by key, resending what DynamoDB leaves unprocessed.
    async fn delete_batch(&self, keys: &[Item]) -> Result<(), StoreError> {
        let mut pending: Vec<WriteRequest> = keys
            .iter()
            .map(|k| {
                let delete = DeleteRequest::builder().set_key(Some(k.clone())).build()?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<_, StoreError>>()?;
        for round in 0..MAX_BATCH_ROUNDS {
            if round > 0 {
                tokio::time::sleep(resend_backoff(round)).await;
            }
            let out = self
                .client
                .batch_write_item()
                .set_request_items(Some(HashMap::from([(self.table.clone(), pending)])))
                .send()
                .await
                .map_err(dynamo("BatchWriteItem"))?;
            pending = out
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.table))
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(());
            }
        }
        Err(StoreError::Unprocessed(pending.len()))
    }
}
