//! The DynamoDB lock in Terraform's item format: `LockID` (S) = `<bucket>/<key>`, `Info` (S) =
//! the lock's JSON. Terraform's `<bucket>/<key>-md5` digest item is another item and is left
//! alone.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{Attempt, Held, LockInfo};
use crate::aws_error;
use crate::error::StateError;

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
        format!("DynamoDB table {} item {}", self.table, self.lock_id)
    }

    /// Creates the lock item if there is none.
    pub async fn try_acquire(&self, info: &LockInfo) -> Result<Attempt, StateError> {
        let info_json = info.to_json();
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("LockID", AttributeValue::S(self.lock_id.clone()))
            .item("Info", AttributeValue::S(info_json.clone()))
            .condition_expression("attribute_not_exists(LockID)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Attempt::Acquired(vec![Held::DynamoDb(Acquired {
                lock: self.clone(),
                info_json,
            })])),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                // Held: say by whom. Gone again by now? Then the next try will take it.
                let current = self.current().await?;
                if let Some((holder, json)) = &current
                    && holder.id == info.id
                {
                    // Our own item: an earlier attempt landed but its answer was lost and the
                    // SDK retried. We hold it.
                    return Ok(Attempt::Acquired(vec![Held::DynamoDb(Acquired {
                        lock: self.clone(),
                        info_json: json.clone(),
                    })]));
                }
                let holder = current.map(|(info, _)| info);
                Ok(Attempt::HeldBy(holder.unwrap_or_else(|| LockInfo {
                    id: "<released meanwhile>".to_string(),
                    ..LockInfo::default()
                })))
            }
            Err(e) => Err(aws_error::aws("PutItem (lock)", &self.target(), e)),
        }
    }

    /// The lock item now, if any: its parsed info and its exact `Info` text.
    pub async fn current(&self) -> Result<Option<(LockInfo, String)>, StateError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("LockID", AttributeValue::S(self.lock_id.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error::aws("GetItem (lock)", &self.target(), e))?;
        Ok(got.item.map(|item| {
            let json = item
                .get("Info")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            (LockInfo::from_json_lossy(&json), json)
        }))
    }

    /// Deletes the lock item if its `Info` is still `info_json`. `Ok(false)`: it was not.
    pub async fn delete_if(&self, info_json: &str) -> Result<bool, StateError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("LockID", AttributeValue::S(self.lock_id.clone()))
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
            Err(e) => Err(aws_error::aws("DeleteItem (lock)", &self.target(), e)),
        }
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
