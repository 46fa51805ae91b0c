//! Terraform's own DynamoDB lock on its state (`LockID = <bucket>/<key>`, `Info` = Terraform's
//! lock JSON), taken while a migration reads that state so `terraform apply` cannot run at the
//! same time, and released only if it is still ours.
//!
//! The `state` crate's lock guards this tool's state key; this one guards Terraform's key,
//! which that crate never names, so it is a separate small lock in the same item format.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::resource::ResourceError;
use crate::resources::errors::aws_error;

/// A held Terraform lock.
#[derive(Debug)]
pub struct TerraformLock {
    client: aws_sdk_dynamodb::Client,
    table: String,
    lock_id: String,
    info_json: String,
    pub info: state::LockInfo,
}

/// Errors taking or releasing the lock.
#[derive(Debug, thiserror::Error)]
pub enum TerraformLockError {
    #[error(
        "Terraform's state {path} is locked (ID {id}, {operation} by {who} since {created}): a \
         terraform run is in progress. Wait for it to finish, then run migrate again; nothing \
         was changed"
    )]
    Held {
        path: String,
        id: String,
        operation: String,
        who: String,
        created: String,
    },
    #[error("Terraform's lock table {table}: {source}")]
    Aws {
        table: String,
        #[source]
        source: ResourceError,
    },
}

impl TerraformLock {
    /// Takes the lock on `s3://bucket/key` in `table`, failing at once if someone holds it.
    pub async fn acquire(
        client: aws_sdk_dynamodb::Client,
        table: &str,
        bucket: &str,
        key: &str,
    ) -> Result<Self, TerraformLockError> {
        let lock_id = format!("{bucket}/{key}");
        let info = state::LockInfo::new("OperationTypeMigrate", &lock_id);
        let info_json = info.to_json();
        let put = client
            .put_item()
            .table_name(table)
            .item("LockID", AttributeValue::S(lock_id.clone()))
            .item("Info", AttributeValue::S(info_json.clone()))
            .condition_expression("attribute_not_exists(LockID)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Self {
                client,
                table: table.to_string(),
                lock_id,
                info_json,
                info,
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let holder = Self::holder(&client, table, &lock_id).await?;
                Err(TerraformLockError::Held {
                    path: lock_id,
                    id: holder.id,
                    operation: holder.operation,
                    who: holder.who,
                    created: holder.created,
                })
            }
            Err(e) => Err(TerraformLockError::Aws {
                table: table.to_string(),
                source: aws_error("PutItem", e),
            }),
        }
    }

    async fn holder(
        client: &aws_sdk_dynamodb::Client,
        table: &str,
        lock_id: &str,
    ) -> Result<state::LockInfo, TerraformLockError> {
        let item = client
            .get_item()
            .table_name(table)
            .key("LockID", AttributeValue::S(lock_id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TerraformLockError::Aws {
                table: table.to_string(),
                source: aws_error("GetItem", e),
            })?;
        let json = item
            .item()
            .and_then(|i| i.get("Info"))
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        Ok(state::LockInfo::from_json_lossy(&json))
    }

    /// Releases the lock if it is still ours (a conditional delete on our exact `Info`).
    pub async fn release(self) -> Result<(), TerraformLockError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("LockID", AttributeValue::S(self.lock_id.clone()))
            .condition_expression("Info = :info")
            .expression_attribute_values(":info", AttributeValue::S(self.info_json.clone()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                tracing::warn!(lock_id = %self.lock_id, "Terraform's lock was no longer ours; left it alone");
                Ok(())
            }
            Err(e) => Err(TerraformLockError::Aws {
                table: self.table.clone(),
                source: aws_error("DeleteItem", e),
            }),
        }
    }
}

/// Terraform's S3 key of `key` in workspace `workspace` (`env:/<ws>/<key>` unless default).
pub fn workspace_key(key: &str, workspace: &str) -> String {
    if workspace == "default" {
        key.to_string()
    } else {
        format!("env:/{workspace}/{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_other_than_default_live_under_env() {
        let key = "aimodelshare/infra/terraform.tfstate";
        assert_eq!(workspace_key(key, "default"), key);
        assert_eq!(
            workspace_key(key, "prod"),
            "env:/prod/aimodelshare/infra/terraform.tfstate"
        );
    }
}
