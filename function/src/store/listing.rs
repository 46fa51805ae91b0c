//! The two listings, `GET /tables` and `GET /tables/{tableId}/users`, one page at a time.
//!
//! Each listing reads a sparse index over attributes the rows already have (`byCreatedAt`:
//! `username`/`createdAt`, holding only playground rows; `bySubmissionCount`:
//! `tableId`/`submissionCount`, holding only user rows), which gives a global order across
//! pages and indexes an adopted table's existing rows too. If a table lacks them, listings fall
//! back to `byUser` / the base table, sorted within each page (the original's behaviour); the
//! store remembers that, so the fallback costs one failed query per process, not per request.

use std::sync::atomic::Ordering;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;

use super::codec::{Item, key, n, s};
use super::{Kind, Listing, Playgrounds, Store, StoreError, Users, dynamo};
use crate::contract::{BY_CREATED_AT, BY_SUBMISSION_COUNT, BY_USER, HASH_KEY, Index};
use crate::domain::METADATA_USERNAME;
use crate::pagination::{TablesCursor, UsersCursor};

/// Whether DynamoDB refused a query because the table lacks the index it names. DynamoDB
/// answers `ValidationException` ("The table does not have the specified index"); moto
/// answers `ResourceNotFoundException` ("Invalid index"). A missing *table* is also a
/// `ResourceNotFoundException`, but its message names no index, so it stays an error.
fn names_a_missing_index(error: &aws_sdk_dynamodb::Error) -> bool {
    matches!(
        error.code(),
        Some("ValidationException" | "ResourceNotFoundException")
    ) && error
        .message()
        .is_some_and(|m| m.to_ascii_lowercase().contains("index"))
}

/// `read` after `items`: the first response's vector is kept as it is, not copied.
fn append(items: &mut Vec<Item>, read: Vec<Item>) {
    if items.is_empty() {
        *items = read;
    } else {
        items.extend(read);
    }
}

/// How a listing query is aimed: which index, which partition, and the cursor key.
struct ListQuery<'a> {
    index: Option<&'static str>,
    partition_attr: &'static str,
    partition_value: &'a str,
    start: Option<Item>,
}

impl<'a> ListQuery<'a> {
    /// The partition `value` of `index`, from `start`.
    fn on(index: &Index, value: &'a str, start: Option<Item>) -> Self {
        Self {
            index: Some(index.name),
            partition_attr: index.hash.name,
            partition_value: value,
            start,
        }
    }
}

impl Store {
    /// One page of playgrounds, newest `createdAt` first.
    pub async fn list_playgrounds(
        &self,
        limit: u32,
        cursor: Option<&TablesCursor>,
    ) -> Result<Listing<Playgrounds>, StoreError> {
        let start = |created: bool| {
            cursor.map(|c| {
                let mut k = key(&c.table_id, METADATA_USERNAME);
                if created {
                    k.insert(BY_CREATED_AT.range.name.into(), s(&c.created_at));
                }
                k
            })
        };
        let ordered = ListQuery::on(&BY_CREATED_AT, METADATA_USERNAME, start(true));
        let fallback = ListQuery::on(&BY_USER, METADATA_USERNAME, start(false));
        self.list(ordered, fallback, limit).await
    }

    /// One page of a playground's users, highest `submissionCount` first.
    pub async fn list_users(
        &self,
        table_id: &str,
        limit: u32,
        cursor: Option<&UsersCursor>,
    ) -> Result<Listing<Users>, StoreError> {
        let start = |scored: bool| {
            cursor.map(|c| {
                let mut k = key(table_id, &c.username);
                if scored {
                    k.insert(BY_SUBMISSION_COUNT.range.name.into(), n(c.submission_count));
                }
                k
            })
        };
        let ordered = ListQuery::on(&BY_SUBMISSION_COUNT, table_id, start(true));
        let fallback = ListQuery {
            index: None,
            partition_attr: HASH_KEY.name,
            partition_value: table_id,
            start: start(false),
        };
        self.list(ordered, fallback, limit).await
    }

    /// Runs a listing on its ordering index, or on the fallback when the table lacks that
    /// index (then the page is sorted within itself).
    async fn list<K: Kind>(
        &self,
        ordered: ListQuery<'_>,
        fallback: ListQuery<'_>,
        limit: u32,
    ) -> Result<Listing<K>, StoreError> {
        if self.ordered_indexes.load(Ordering::Relaxed) {
            match self.query_page::<K>(ordered, limit).await {
                Ok(items) => return Ok(Listing::new(items, limit as usize, true)),
                Err(StoreError::Dynamo { source, .. }) if names_a_missing_index(&source) => {
                    tracing::warn!(
                        table = %self.table,
                        error = %source,
                        "ordering index missing: listings are sorted within each page only; \
                         add the {} and {} indexes",
                        BY_CREATED_AT.name,
                        BY_SUBMISSION_COUNT.name,
                    );
                    self.ordered_indexes.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        let items = self.query_page::<K>(fallback, limit).await?;
        Ok(Listing::new(items, limit as usize, false))
    }

    /// Reads up to `limit` rows of kind `K` (plus one, to know whether another page exists),
    /// following DynamoDB's own pagination when a response stops early. The items are kept as
    /// the SDK returned them ([`Listing`] reads them): rows are only counted (read once more)
    /// when DynamoDB says more exist, to know whether another query is needed.
    async fn query_page<K: Kind>(
        &self,
        query: ListQuery<'_>,
        limit: u32,
    ) -> Result<Vec<Item>, StoreError> {
        let want = limit as usize + 1;
        let mut items: Vec<Item> = Vec::new();
        let mut rows = 0;
        let mut start = query.start;
        loop {
            let batch = i32::try_from(want - rows).unwrap_or(i32::MAX);
            let request = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.map(str::to_string))
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", query.partition_attr)
                .expression_attribute_values(":p", s(query.partition_value))
                .projection_expression(K::ATTRIBUTES)
                .scan_index_forward(false)
                .limit(batch)
                .set_exclusive_start_key(start);
            let out = Box::pin(request.send()).await.map_err(dynamo("Query"))?;
            let read = out.items.unwrap_or_default();
            let Some(next) = out.last_evaluated_key else {
                append(&mut items, read);
                break;
            };
            rows += read.iter().filter(|item| K::read(item).is_some()).count();
            append(&mut items, read);
            if rows >= want {
                break;
            }
            start = Some(next);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dynamo_error(code: &str, message: &str) -> aws_sdk_dynamodb::Error {
        let meta = aws_sdk_dynamodb::error::ErrorMetadata::builder()
            .code(code)
            .message(message)
            .build();
        aws_sdk_dynamodb::operation::query::QueryError::generic(meta).into()
    }

    #[test]
    fn a_missing_index_is_told_from_a_missing_table() {
        let aws = dynamo_error(
            "ValidationException",
            "The table does not have the specified index: byCreatedAt",
        );
        let moto = dynamo_error(
            "ResourceNotFoundException",
            "Invalid index: byCreatedAt for table: t. Available indexes are: ",
        );
        let no_table = dynamo_error("ResourceNotFoundException", "Requested resource not found");
        let other = dynamo_error("ValidationException", "1 validation error detected");
        assert!(names_a_missing_index(&aws));
        assert!(names_a_missing_index(&moto));
        assert!(!names_a_missing_index(&no_table));
        assert!(!names_a_missing_index(&other));
    }
}
