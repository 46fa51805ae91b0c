//! The DynamoDB lock in Terraform's item format: `LockID` (S) = `<bucket>/<key>`, `Info` (S) =
//! the lock's JSON. Terraform's `<bucket>/<key>-md5` digest item is another item and is left
//! alone.
//!
//! The item operations themselves ([`claim`], [`delete_if`]) are public because `migrate` in
//! the provisioner takes Terraform's own lock on *Terraform's* state key (which this crate
//! never names) in the same table and the same format. Sharing them keeps one definition of the
//! item shape, the condition expressions, and what `ConditionalCheckFailed` means, so the two
//! locks cannot drift apart. They return the SDK's errors unmapped: each caller words them in
//! its own error type, as before.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{Attempt, Held, LockInfo};
use crate::aws_error;
use crate::error::StateError;

/// The outcome of [`claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The lock item is ours; `info_json` is its exact `Info`, what [`delete_if`] releases.
    Ours { info_json: String },
    /// Someone else holds it (`None`: its item was gone again by the time it was read, so a
    /// next try may take it).
    HeldBy(Option<LockInfo>),
}

/// A failed call of [`claim`], by the DynamoDB operation that failed.
#[derive(Debug)]
pub enum ClaimError {
    /// The conditional `PutItem` failed for another reason than the lock being held.
    Put(SdkError<PutItemError>),
    /// Reading the holder after a refused `PutItem` failed.
    Get(SdkError<GetItemError>),
}

/// Takes the lock `lock_id` in `table` for `info`: creates the item `LockID` = `lock_id`,
/// `Info` = `info`'s JSON on condition `attribute_not_exists(LockID)`.
///
/// When the item exists, it is read (consistently) to say who holds it. An item carrying
/// `info`'s own ID is ours: an earlier attempt of this same `PutItem` landed but its answer was
/// lost and the SDK retried it.
pub async fn claim(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    lock_id: &str,
    info: &LockInfo,
) -> Result<Claim, ClaimError> {
    let info_json = info.to_json();
    let put = client
        .put_item()
        .table_name(table)
        .item("LockID", AttributeValue::S(lock_id.to_string()))
        .item("Info", AttributeValue::S(info_json.clone()))
        .condition_expression("attribute_not_exists(LockID)")
        .send()
        .await;
    match put {
        Ok(_) => Ok(Claim::Ours { info_json }),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            match read(client, table, lock_id)
                .await
                .map_err(ClaimError::Get)?
            {
                Some((holder, json)) if holder.id == info.id => Ok(Claim::Ours { info_json: json }),
                current => Ok(Claim::HeldBy(current.map(|(holder, _)| holder))),
            }
        }
        Err(e) => Err(ClaimError::Put(e)),
    }
}

/// Deletes the lock item `lock_id` in `table` only if its `Info` is still exactly `info_json`
/// (condition `Info = :info`), so a release never frees a lock someone else took meanwhile.
/// `Ok(false)`: it was not (the item is gone or carries another `Info`); nothing was deleted.
pub async fn delete_if(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    lock_id: &str,
    info_json: &str,
) -> Result<bool, SdkError<DeleteItemError>> {
    let deleted = client
        .delete_item()
        .table_name(table)
        .key("LockID", AttributeValue::S(lock_id.to_string()))
        .condition_expression("Info = :info")
        .expression_attribute_values(":info", AttributeValue::S(info_json.to_string()))
        .send()
        .await;
    match deleted {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// The lock item now, if any: its parsed info and its exact `Info` text.
async fn read(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    lock_id: &str,
) -> Result<Option<(LockInfo, String)>, SdkError<GetItemError>> {
    let got = client
        .get_item()
        .table_name(table)
        .key("LockID", AttributeValue::S(lock_id.to_string()))
        .consistent_read(true)
        .send()
        .await?;
    Ok(got.item.map(|item| {
        let json = item
            .get("Info")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        (LockInfo::from_json_lossy(&json), json)
    }))
}

/// The lock item of one state object.
#[derive(Debug, Clone)]
pub(crate) struct DynamoDbLock {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    /// `<bucket>/<key>`, Terraform's `LockID`.
    pub lock_id: String,
}

/// A lock item we created; released only while its `Info` is still exactly ours.
#[derive(Debug)]
pub(crate) struct Acquired {
    lock: DynamoDbLock,
    info_json: String,
}

impl DynamoDbLock {
    fn target(&self) -> String {
        format!("DynamoDB lock table {} item {}", self.table, self.lock_id)
    }

    /// Creates the lock item if there is none.
    pub async fn try_acquire(&self, info: &LockInfo) -> Result<Attempt, StateError> {
        let claimed = claim(&self.client, &self.table, &self.lock_id, info)
            .await
            .map_err(|e| match e {
                ClaimError::Put(e) => aws_error::aws("PutItem (lock)", &self.target(), e),
                ClaimError::Get(e) => aws_error::aws("GetItem (lock)", &self.target(), e),
            })?;
        Ok(match claimed {
            Claim::Ours { info_json } => Attempt::Acquired(vec![Held::DynamoDb(Acquired {
                lock: self.clone(),
                info_json,
            })]),
            Claim::HeldBy(holder) => Attempt::HeldBy(holder.unwrap_or_else(|| LockInfo {
                id: "<released meanwhile>".to_string(),
                ..LockInfo::default()
            })),
        })
    }

    /// The lock item now, if any: its parsed info and its exact `Info` text.
    pub async fn current(&self) -> Result<Option<(LockInfo, String)>, StateError> {
        read(&self.client, &self.table, &self.lock_id)
            .await
            .map_err(|e| aws_error::aws("GetItem (lock)", &self.target(), e))
    }

    /// Deletes the lock item if its `Info` is still `info_json`. `Ok(false)`: it was not.
    pub async fn delete_if(&self, info_json: &str) -> Result<bool, StateError> {
        delete_if(&self.client, &self.table, &self.lock_id, info_json)
            .await
            .map_err(|e| aws_error::aws("DeleteItem (lock)", &self.target(), e))
    }
}

impl Acquired {
    pub async fn release(self) -> Result<(), StateError> {
        if self.lock.delete_if(&self.info_json).await? {
            Ok(())
        } else {
            Err(StateError::LockLost {
                location: self.lock.target(),
            })
        }
    }
}
