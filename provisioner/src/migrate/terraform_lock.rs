//! Terraform's own DynamoDB lock on its state (`LockID = <bucket>/<key>`, `Info` = Terraform's
//! lock JSON), taken while a migration reads that state so `terraform apply` cannot run at the
//! same time, and released only if it is still ours.
//!
//! The `state` crate's lock guards this tool's state key; this one guards Terraform's key,
//! which that crate never names. The item operations are that crate's own
//! ([`state::lock::dynamodb::claim`] and [`state::lock::dynamodb::delete_if`]: same item format,
//! same conditions); what differs is kept here: no waiting (a held lock fails at once), a lock
//! found no longer ours at release is a warning rather than an error, and the messages.

use state::lock::dynamodb::{self, Claim, ClaimError};

use crate::kinds::errors::aws_error;
use crate::resource::ResourceError;

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
        let claimed = dynamodb::claim(&client, table, &lock_id, &info)
            .await
            .map_err(|e| TerraformLockError::Aws {
                table: table.to_string(),
                source: match e {
                    ClaimError::Put(e) => aws_error("PutItem", e),
                    ClaimError::Get(e) => aws_error("GetItem", e),
                },
            })?;
        match claimed {
            Claim::Ours { info_json } => Ok(Self {
                client,
                table: table.to_string(),
                lock_id,
                info_json,
                info,
            }),
            Claim::HeldBy(holder) => {
                // Gone again by the time it was read: reported as an unreadable holder, as
                // before; running migrate again takes it.
                let holder = holder.unwrap_or_else(|| state::LockInfo::from_json_lossy(""));
                Err(TerraformLockError::Held {
                    path: lock_id,
                    id: holder.id,
                    operation: holder.operation,
                    who: holder.who,
                    created: holder.created,
                })
            }
        }
    }

    /// Releases the lock if it is still ours (a conditional delete on our exact `Info`).
    pub async fn release(self) -> Result<(), TerraformLockError> {
        let deleted =
            dynamodb::delete_if(&self.client, &self.table, &self.lock_id, &self.info_json)
                .await
                .map_err(|e| TerraformLockError::Aws {
                    table: self.table.clone(),
                    source: aws_error("DeleteItem", e),
                })?;
        if !deleted {
            tracing::warn!(lock_id = %self.lock_id, "Terraform's lock was no longer ours; left it alone");
        }
        Ok(())
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
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use aws_smithy_runtime_api::client::http::{
        HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use serde_json::{Value, json};

    use super::*;

    /// A one-item DynamoDB lock table that honours the two conditions, and can lose the answer
    /// of the next `PutItem` after storing its item (a 500, so the SDK retries it).
    #[derive(Debug, Default)]
    struct Table {
        info: Option<String>,
        lose_next_put_answer: bool,
        calls: Vec<String>,
    }

    #[derive(Debug, Clone)]
    struct FakeDynamoDb(Arc<Mutex<Table>>);

    fn answer(status: u16, body: Value) -> HttpResponse {
        let mut response = HttpResponse::new(
            StatusCode::try_from(status).expect("valid status"),
            SdkBody::from(body.to_string()),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        response
    }

    fn conditional_check_failed() -> HttpResponse {
        answer(
            400,
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                   "message": "The conditional request failed"}),
        )
    }

    impl HttpConnector for FakeDynamoDb {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            // `DynamoDB_20120810.PutItem` names PutItem.
            let target = request.headers().get("x-amz-target").unwrap_or_default();
            let target = target.trim_start_matches("DynamoDB_20120810.").to_string();
            let body: Value = serde_json::from_slice(request.body().bytes().unwrap_or_default())
                .unwrap_or_default();
            let mut table = self.0.lock().unwrap();
            table.calls.push(target.clone());
            let response = match target.as_str() {
                "PutItem" if table.info.is_some() => conditional_check_failed(),
                "PutItem" => {
                    table.info = body["Item"]["Info"]["S"].as_str().map(str::to_string);
                    if std::mem::take(&mut table.lose_next_put_answer) {
                        answer(
                            500,
                            json!({"__type": "InternalServerError", "message": "lost"}),
                        )
                    } else {
                        answer(200, json!({}))
                    }
                }
                "GetItem" => match &table.info {
                    Some(info) => answer(
                        200,
                        json!({"Item": {"LockID": body["Key"]["LockID"], "Info": {"S": info}}}),
                    ),
                    None => answer(200, json!({})),
                },
                "DeleteItem" => {
                    let expected = body["ExpressionAttributeValues"][":info"]["S"].as_str();
                    if table.info.is_some() && table.info.as_deref() == expected {
                        table.info = None;
                        answer(200, json!({}))
                    } else {
                        conditional_check_failed()
                    }
                }
                other => panic!("unexpected DynamoDB call {other}"),
            };
            HttpConnectorFuture::ready(Ok(response))
        }
    }

    async fn client(table: &Arc<Mutex<Table>>) -> aws_sdk_dynamodb::Client {
        let fake = FakeDynamoDb(table.clone());
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url("https://dynamodb.us-east-1.amazonaws.com")
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "fake", "fake", None, None, "fake",
            ))
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .http_client(http_client_fn(move |_, _| {
                SharedHttpConnector::new(fake.clone())
            }))
            .load()
            .await;
        aws_sdk_dynamodb::Client::new(&sdk)
    }

    #[tokio::test]
    async fn a_lock_whose_put_answer_was_lost_is_ours_and_released() {
        let table = Arc::new(Mutex::new(Table {
            lose_next_put_answer: true,
            ..Table::default()
        }));
        let lock = TerraformLock::acquire(client(&table).await, "tf-locks", "b", "k")
            .await
            .expect("our own item after a retried PutItem is ours");
        let stored = table.lock().unwrap().info.clone().expect("lock item");
        assert_eq!(state::LockInfo::from_json_lossy(&stored).id, lock.info.id);
        lock.release().await.unwrap();
        let table = table.lock().unwrap();
        assert_eq!(table.info, None, "released");
        assert_eq!(table.calls, ["PutItem", "PutItem", "GetItem", "DeleteItem"]);
    }

    #[tokio::test]
    async fn a_lock_held_by_terraform_is_refused_and_left_alone() {
        let terraform = state::LockInfo::new("OperationTypeApply", "b/k");
        let table = Arc::new(Mutex::new(Table {
            info: Some(terraform.to_json()),
            ..Table::default()
        }));
        let error = TerraformLock::acquire(client(&table).await, "tf-locks", "b", "k")
            .await
            .expect_err("held");
        assert!(
            matches!(&error, TerraformLockError::Held { id, .. } if *id == terraform.id),
            "{error}"
        );
        assert_eq!(table.lock().unwrap().info, Some(terraform.to_json()));
    }

    #[tokio::test]
    async fn a_lock_replaced_meanwhile_is_not_deleted() {
        let table = Arc::new(Mutex::new(Table::default()));
        let lock = TerraformLock::acquire(client(&table).await, "tf-locks", "b", "k")
            .await
            .unwrap();
        let other = state::LockInfo::new("OperationTypeApply", "b/k").to_json();
        table.lock().unwrap().info = Some(other.clone());
        lock.release()
            .await
            .expect("no longer ours: a warning, not an error");
        assert_eq!(
            table.lock().unwrap().info,
            Some(other),
            "someone else's lock stays"
        );
    }

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
