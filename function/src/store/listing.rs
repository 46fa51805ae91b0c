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

use super::codec::{
    Item, PLAYGROUND_ATTRIBUTES, USER_ATTRIBUTES, key, n, playground_from, s, user_from,
};
use super::{Page, Store, StoreError, dynamo};
use crate::contract::{BY_CREATED_AT, BY_SUBMISSION_COUNT, BY_USER, HASH_KEY, Index};
use crate::domain::{METADATA_USERNAME, Playground, UserScores};
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

/// What a listing reads of each row: the attributes DynamoDB returns, and the parser that
/// makes a value of them (`None` skips the row).
struct Rows<T> {
    attributes: &'static str,
    parse: fn(Item) -> Option<T>,
}

impl<T> Clone for Rows<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Rows<T> {}

/// A playground listing's rows.
const PLAYGROUNDS: Rows<Playground> = Rows {
    attributes: PLAYGROUND_ATTRIBUTES,
    parse: playground_from,
};

/// A user listing's rows.
const USERS: Rows<UserScores> = Rows {
    attributes: USER_ATTRIBUTES,
    parse: user_from,
};

impl Store {
    /// One page of playgrounds, newest `createdAt` first.
    pub async fn list_playgrounds(
        &self,
        limit: u32,
        cursor: Option<&TablesCursor>,
    ) -> Result<Page<Playground, TablesCursor>, StoreError> {
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
        let (items, more, in_order) = self.list(ordered, fallback, limit, PLAYGROUNDS).await?;
        let mut items = items;
        if !in_order {
            items.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        }
        let next = more
            .then(|| items.last())
            .flatten()
            .map(TablesCursor::after);
        Ok(Page { items, next })
    }

    /// One page of a playground's users, highest `submissionCount` first.
    pub async fn list_users(
        &self,
        table_id: &str,
        limit: u32,
        cursor: Option<&UsersCursor>,
    ) -> Result<Page<UserScores, UsersCursor>, StoreError> {
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
        let (items, more, in_order) = self.list(ordered, fallback, limit, USERS).await?;
        let mut items = items;
        if !in_order {
            items.sort_by_key(|u| std::cmp::Reverse(u.submission_count));
        }
        let next = more.then(|| items.last()).flatten().map(UsersCursor::after);
        Ok(Page { items, next })
    }

    /// Runs a listing on its ordering index, or on the fallback when the table lacks that
    /// index. Returns the items, whether more exist, and whether they came in global order.
    async fn list<T>(
        &self,
        ordered: ListQuery<'_>,
        fallback: ListQuery<'_>,
        limit: u32,
        rows: Rows<T>,
    ) -> Result<(Vec<T>, bool, bool), StoreError> {
        if self.ordered_indexes.load(Ordering::Relaxed) {
            match self.query_page(ordered, limit, rows).await {
                Ok((items, more)) => return Ok((items, more, true)),
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
        let (items, more) = self.query_page(fallback, limit, rows).await?;
        Ok((items, more, false))
    }

    /// Reads up to `limit` items (plus one, to know whether another page exists), following
    /// DynamoDB's own pagination when a response stops early.
    async fn query_page<T>(
        &self,
        query: ListQuery<'_>,
        limit: u32,
        rows: Rows<T>,
    ) -> Result<(Vec<T>, bool), StoreError> {
        let want = limit as usize + 1;
        let mut items = Vec::with_capacity(want);
        let mut start = query.start;
        loop {
            let batch = i32::try_from(want - items.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.map(str::to_string))
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", query.partition_attr)
                .expression_attribute_values(":p", s(query.partition_value))
                .projection_expression(rows.attributes)
                .scan_index_forward(false)
                .limit(batch)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo("Query"))?;
            items.extend(out.items.into_iter().flatten().filter_map(rows.parse));
            match out.last_evaluated_key {
                Some(next) if items.len() < want => start = Some(next),
                _ => break,
            }
        }
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        Ok((items, more))
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
