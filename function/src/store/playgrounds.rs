//! A playground's own row (sort key `_metadata`): create, read, patch, existence.
//!
//! Every write is conditional: a create only if the id is free (two concurrent creates of one
//! id give one 201 and one 409), an update only if the row exists (a patch never resurrects a
//! playground).

use aws_sdk_dynamodb::types::AttributeValue;

use super::codec::{key, n, now, playground_from, s};
use super::{CreateOutcome, Store, StoreError, UpdateOutcome, dynamo, refused_by_condition};
use crate::domain::{METADATA_USERNAME, NewPlayground, Playground, PlaygroundPatch};

impl Store {
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
            Err(e) if refused_by_condition(&e) => Ok(CreateOutcome::AlreadyExists),
            Err(e) => Err(dynamo("PutItem")(e)),
        }
    }

    /// The playground, or `None` when it does not exist.
    pub async fn get_playground(&self, table_id: &str) -> Result<Option<Playground>, StoreError> {
        let row = self.read_row(table_id, METADATA_USERNAME, None).await?;
        Ok(row.as_ref().and_then(playground_from))
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
            Err(e) if refused_by_condition(&e) => Ok(UpdateOutcome::NotFound),
            Err(e) => Err(dynamo("UpdateItem")(e)),
        }
    }

    /// Whether the playground exists (a key-only consistent read).
    pub async fn playground_exists(&self, table_id: &str) -> Result<bool, StoreError> {
        let row = self
            .read_row(table_id, METADATA_USERNAME, Some("tableId"))
            .await?;
        Ok(row.is_some())
    }
}
