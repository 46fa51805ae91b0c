//! DynamoDB access: every read, conditional write and transaction of the API lives here.
//!
//! One table holds every playground. A playground's own row has the sort key `_metadata`;
//! each user's scores are a row keyed by the username. Correctness under concurrency comes from
//! the conditions, never from reading first:
//! - a new user and the `userCount` increment are one `TransactWriteItems`, conditional on the
//!   user being absent and the playground present, so `userCount` is exact and a missing
//!   playground is never created as a side effect;
//! - every update is conditional on the row existing, so nothing is resurrected.
//!
//! Listings use two sparse indexes over attributes the rows already have (`byCreatedAt`:
//! `username`/`createdAt`, holding only playground rows; `bySubmissionCount`:
//! `tableId`/`submissionCount`, holding only user rows), which gives a global order across
//! pages and indexes an adopted table's existing rows too. If a table lacks them, listings fall
//! back to `byUser` / the base table, sorted within each page (the original's behaviour).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ScalarAttributeType, TableStatus, TransactWriteItem,
    Update,
};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::pagination::{TablesCursor, UsersCursor};
use crate::validate::{METADATA_USERNAME, NewPlayground, PlaygroundPatch, Scores};

/// GSI of the contract: partition `username`, sort `tableId`.
pub const BY_USER_INDEX: &str = "byUser";
/// Sparse GSI for newest-first playgrounds: partition `username`, sort `createdAt`.
pub const BY_CREATED_AT_INDEX: &str = "byCreatedAt";
/// Sparse GSI for the leaderboard: partition `tableId`, sort `submissionCount` (N).
pub const BY_SUBMISSION_COUNT_INDEX: &str = "bySubmissionCount";

/// Rounds of "update, else create" before a contended user write gives up.
const MAX_WRITE_ROUNDS: u32 = 8;

/// Shards of the in-process lock that serialises new-user transactions per playground.
const NEW_USER_LOCK_SHARDS: usize = 64;

type Item = HashMap<String, AttributeValue>;

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
    /// Creating the table did not reach ACTIVE in time.
    #[error("table {0} did not become ACTIVE")]
    NotActive(String),
}

fn dynamo<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> StoreError
where
    aws_sdk_dynamodb::Error: From<SdkError<E, HttpResponse>>,
{
    move |source| StoreError::Dynamo {
        operation,
        source: Box::new(source.into()),
    }
}

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

/// A playground as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playground {
    pub table_id: String,
    pub display_name: String,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub is_archived: bool,
    pub user_count: u64,
}

/// One user's scores in a playground.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserScores {
    pub username: String,
    pub submission_count: u64,
    pub total_count: u64,
    pub last_updated: String,
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

enum CreateUserOutcome {
    Created,
    UserExists,
    PlaygroundNotFound,
    Conflict,
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

/// Now as ISO-8601 UTC with microseconds (`2026-01-31T12:00:00.123456Z`): fixed width, so the
/// strings sort in time order.
pub fn timestamp(now: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    now.format(&format)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(table_id: &str, username: &str) -> Item {
    HashMap::from([
        ("tableId".to_string(), s(table_id)),
        ("username".to_string(), s(username)),
    ])
}

fn string_attr(item: &Item, name: &str) -> Option<String> {
    match item.get(name)? {
        AttributeValue::S(v) => Some(v.clone()),
        AttributeValue::N(v) => Some(v.clone()),
        _ => None,
    }
}

/// A count as stored; rows written by older code may hold `"3.0"` or a string, read leniently.
fn count_attr(item: &Item, name: &str) -> u64 {
    let raw = match item.get(name) {
        Some(AttributeValue::N(v) | AttributeValue::S(v)) => v.trim(),
        _ => return 0,
    };
    raw.parse::<u64>().unwrap_or_else(|_| {
        raw.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map_or(0, |f| f as u64)
    })
}

fn bool_attr(item: &Item, name: &str) -> bool {
    match item.get(name) {
        Some(AttributeValue::Bool(b)) => *b,
        Some(AttributeValue::S(v)) => v.eq_ignore_ascii_case("true"),
        Some(AttributeValue::N(v)) => v != "0",
        _ => false,
    }
}

fn playground_from(item: &Item) -> Option<Playground> {
    let table_id = string_attr(item, "tableId")?;
    Some(Playground {
        display_name: string_attr(item, "displayName").unwrap_or_else(|| table_id.clone()),
        created_at: string_attr(item, "createdAt").unwrap_or_default(),
        updated_at: string_attr(item, "updatedAt"),
        is_archived: bool_attr(item, "isArchived"),
        user_count: count_attr(item, "userCount"),
        table_id,
    })
}

fn user_from(item: &Item) -> Option<UserScores> {
    let username = string_attr(item, "username")?;
    if username == METADATA_USERNAME {
        return None;
    }
    Some(UserScores {
        username,
        submission_count: count_attr(item, "submissionCount"),
        total_count: count_attr(item, "totalCount"),
        last_updated: string_attr(item, "lastUpdated").unwrap_or_default(),
    })
}

/// Backoff before retry `round` of a contended write: 10 ms doubling, capped, with jitter.
fn backoff(round: u32) -> Duration {
    let base = 10u64 << round.min(5);
    Duration::from_millis(base / 2 + fastrand::u64(0..=base))
}

/// How a listing query is aimed: which index, which partition, and the cursor key.
struct ListQuery<'a> {
    index: Option<&'static str>,
    partition_attr: &'static str,
    partition_value: &'a str,
    start: Option<Item>,
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

    fn new_user_lock(&self, table_id: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        table_id.hash(&mut hasher);
        &self.new_user_locks[(hasher.finish() as usize) % NEW_USER_LOCK_SHARDS]
    }

    /// The DynamoDB table name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Creates the playground row; `AlreadyExists` when the id is taken.
    pub async fn create_playground(
        &self,
        playground: &NewPlayground,
    ) -> Result<CreateOutcome, StoreError> {
        let mut item = key(&playground.table_id, METADATA_USERNAME);
        item.insert("displayName".into(), s(&playground.display_name));
        item.insert("createdAt".into(), s(&now()));
        item.insert("isArchived".into(), AttributeValue::Bool(false));
        item.insert("userCount".into(), n(0));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(tableId)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(CreateOutcome::AlreadyExists)
            }
            Err(e) => Err(dynamo("PutItem")(e)),
        }
    }

    /// The playground, or `None` when it does not exist.
    pub async fn get_playground(&self, table_id: &str) -> Result<Option<Playground>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(table_id, METADATA_USERNAME)))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        Ok(out.item.as_ref().and_then(playground_from))
    }

    /// Applies a patch to an existing playground and stamps `updatedAt`; never creates one.
    pub async fn update_playground(
        &self,
        table_id: &str,
        patch: &PlaygroundPatch,
    ) -> Result<UpdateOutcome, StoreError> {
        let mut sets = vec!["updatedAt = :now"];
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(table_id, METADATA_USERNAME)))
            .condition_expression("attribute_exists(tableId)")
            .expression_attribute_values(":now", s(&now()));
        if let Some(name) = &patch.display_name {
            sets.push("displayName = :name");
            request = request.expression_attribute_values(":name", s(name));
        }
        if let Some(archived) = patch.is_archived {
            sets.push("isArchived = :archived");
            request =
                request.expression_attribute_values(":archived", AttributeValue::Bool(archived));
        }
        let result = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await;
        match result {
            Ok(_) => Ok(UpdateOutcome::Updated),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(UpdateOutcome::NotFound)
            }
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
    }

    /// One user's scores, or `None`.
    pub async fn get_user(
        &self,
        table_id: &str,
        username: &str,
    ) -> Result<Option<UserScores>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(table_id, username)))
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        Ok(out.item.as_ref().and_then(user_from))
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
                tokio::time::sleep(backoff(round)).await;
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
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(table_id, username)))
            .condition_expression("attribute_exists(username)")
            .update_expression("SET submissionCount = :s, totalCount = :t, lastUpdated = :now")
            .expression_attribute_values(":s", n(scores.submission_count))
            .expression_attribute_values(":t", n(scores.total_count))
            .expression_attribute_values(":now", s(stamp))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Some(UpdateOutcome::Updated)),
            Err(e) => match e.as_service_error() {
                Some(se) if se.is_conditional_check_failed_exception() => {
                    Ok(Some(UpdateOutcome::NotFound))
                }
                Some(se) if se.is_transaction_conflict_exception() => Ok(None),
                _ => Err(dynamo("UpdateItem")(e)),
            },
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
        let mut item = key(table_id, username);
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
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_user).build())
            .transact_items(TransactWriteItem::builder().update(count_user).build())
            .send()
            .await;
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

    /// Whether the playground exists (a key-only consistent read).
    pub async fn playground_exists(&self, table_id: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(table_id, METADATA_USERNAME)))
            .projection_expression("tableId")
            .consistent_read(true)
            .send()
            .await
            .map_err(dynamo("GetItem"))?;
        Ok(out.item.is_some())
    }

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
                    k.insert("createdAt".into(), s(&c.created_at));
                }
                k
            })
        };
        let ordered = ListQuery {
            index: Some(BY_CREATED_AT_INDEX),
            partition_attr: "username",
            partition_value: METADATA_USERNAME,
            start: start(true),
        };
        let fallback = ListQuery {
            index: Some(BY_USER_INDEX),
            partition_attr: "username",
            partition_value: METADATA_USERNAME,
            start: start(false),
        };
        let (items, more, in_order) = self.list(ordered, fallback, limit, playground_from).await?;
        let mut items = items;
        if !in_order {
            items.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        }
        let next = more.then(|| items.last()).flatten().map(|p| TablesCursor {
            table_id: p.table_id.clone(),
            created_at: p.created_at.clone(),
        });
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
                    k.insert("submissionCount".into(), n(c.submission_count));
                }
                k
            })
        };
        let ordered = ListQuery {
            index: Some(BY_SUBMISSION_COUNT_INDEX),
            partition_attr: "tableId",
            partition_value: table_id,
            start: start(true),
        };
        let fallback = ListQuery {
            index: None,
            partition_attr: "tableId",
            partition_value: table_id,
            start: start(false),
        };
        let (items, more, in_order) = self.list(ordered, fallback, limit, user_from).await?;
        let mut items = items;
        if !in_order {
            items.sort_by_key(|u| std::cmp::Reverse(u.submission_count));
        }
        let next = more.then(|| items.last()).flatten().map(|u| UsersCursor {
            username: u.username.clone(),
            submission_count: u.submission_count,
        });
        Ok(Page { items, next })
    }

    /// Runs a listing on its ordering index, or on the fallback when the table lacks that
    /// index. Returns the items, whether more exist, and whether they came in global order.
    async fn list<T>(
        &self,
        ordered: ListQuery<'_>,
        fallback: ListQuery<'_>,
        limit: u32,
        parse: fn(&Item) -> Option<T>,
    ) -> Result<(Vec<T>, bool, bool), StoreError> {
        if self.ordered_indexes.load(Ordering::Relaxed) {
            match self.query_page(ordered, limit, parse).await {
                Ok((items, more)) => return Ok((items, more, true)),
                Err(StoreError::Dynamo { source, .. }) if names_a_missing_index(&source) => {
                    tracing::warn!(
                        table = %self.table,
                        error = %source,
                        "ordering index missing: listings are sorted within each page only; \
                         add the {BY_CREATED_AT_INDEX} and {BY_SUBMISSION_COUNT_INDEX} indexes"
                    );
                    self.ordered_indexes.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        let (items, more) = self.query_page(fallback, limit, parse).await?;
        Ok((items, more, false))
    }

    /// Reads up to `limit` items (plus one, to know whether another page exists), following
    /// DynamoDB's own pagination when a response stops early.
    async fn query_page<T>(
        &self,
        query: ListQuery<'_>,
        limit: u32,
        parse: fn(&Item) -> Option<T>,
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
                .scan_index_forward(false)
                .limit(batch)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo("Query"))?;
            items.extend(out.items().iter().filter_map(parse));
            match out.last_evaluated_key {
                Some(next) if items.len() < want => start = Some(next),
                _ => break,
            }
        }
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        Ok((items, more))
    }

    /// Creates the table with its indexes if it does not exist (for local use and tests), and
    /// waits until it is ACTIVE.
    pub async fn ensure_table(&self) -> Result<(), StoreError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(_) => return self.wait_active().await,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(e) => return Err(dynamo("DescribeTable")(e)),
        }
        let attribute = |name: &str, kind: ScalarAttributeType| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(kind)
                .build()
        };
        let key_part = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let index = |name: &str, hash: &str, range: &str| -> Result<_, BuildError> {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key_part(hash, KeyType::Hash)?)
                .key_schema(key_part(range, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
        };
        let result = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("tableId", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("username", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("createdAt", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("submissionCount", ScalarAttributeType::N)?)
            .key_schema(key_part("tableId", KeyType::Hash)?)
            .key_schema(key_part("username", KeyType::Range)?)
            .global_secondary_indexes(index(BY_USER_INDEX, "username", "tableId")?)
            .global_secondary_indexes(index(BY_CREATED_AT_INDEX, "username", "createdAt")?)
            .global_secondary_indexes(index(
                BY_SUBMISSION_COUNT_INDEX,
                "tableId",
                "submissionCount",
            )?)
            .send()
            .await;
        match result {
            Ok(_) => tracing::info!(table = %self.table, "created table"),
            // Someone else created it in between: fine, wait for it like ours.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(dynamo("CreateTable")(e)),
        }
        self.wait_active().await
    }

    async fn wait_active(&self) -> Result<(), StoreError> {
        for _ in 0..120 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(dynamo("DescribeTable"))?;
            if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(StoreError::NotActive(self.table.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_utc() {
        let t = OffsetDateTime::from_unix_timestamp(0).unwrap();
        assert_eq!(timestamp(t), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn old_rows_are_read_leniently() {
        let item: Item = HashMap::from([
            ("tableId".into(), s("t")),
            ("username".into(), s(METADATA_USERNAME)),
            ("userCount".into(), AttributeValue::N("3.0".into())),
            ("isArchived".into(), s("true")),
        ]);
        let p = playground_from(&item).unwrap();
        assert_eq!(p.user_count, 3);
        assert!(p.is_archived);
        assert_eq!(p.display_name, "t");
        assert!(user_from(&item).is_none(), "the metadata row is not a user");
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for round in 0..20 {
            assert!(backoff(round) <= Duration::from_millis(480));
        }
        assert!(backoff(0) >= Duration::from_millis(5));
    }

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
