//! A playground's own row (sort key `_metadata`): create, read, patch, existence.
//!
//! Every write is conditional: a create only if the id is free (two concurrent creates of one
//! id give one 201 and one 409), an update only if the row exists (a patch never resurrects a
//! playground).

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::codec::{key, n, now, row, s};
use super::ownership::{ChangeOutcome, change_condition, record_owner};
use super::{CreateOutcome, Playgrounds, Row, Store, StoreError, dynamo};
use crate::auth::Identity;
use crate::auth::rules::OwnerCheck;
use crate::domain::{METADATA_USERNAME, NewPlayground, PlaygroundPatch};

impl Store {
    /// Creates the playground row, owned by `owner` when auth is on; `AlreadyExists` when the
    /// id is taken.
    pub async fn create_playground(
        &self,
        playground: &NewPlayground,
        owner: Option<&Identity>,
    ) -> Result<CreateOutcome, StoreError> {
        let mut item = row(&playground.table_id, METADATA_USERNAME, 8);
        if let Some(owner) = owner {
            record_owner(&mut item, owner);
        }
        item.insert("displayName".into(), s(&playground.display_name));
        item.insert("createdAt".into(), s(&now()));
        item.insert("isArchived".into(), AttributeValue::Bool(false));
        item.insert("userCount".into(), n(0));
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(tableId)");
        let result = Box::pin(request.send()).await;
        match result {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e) if super::refused_by_condition(&e) => Ok(CreateOutcome::AlreadyExists),
            Err(e) => Err(dynamo("PutItem")(e)),
        }
    }

    /// The playground's row, or `None` when it does not exist.
    pub async fn get_playground(
        &self,
        table_id: &str,
    ) -> Result<Option<Row<Playgrounds>>, StoreError> {
        self.read_kind(table_id, METADATA_USERNAME).await
    }

    /// Applies a patch to an existing playground, if `check` allows, and stamps `updatedAt`;
    /// never creates one.
    pub async fn update_playground(
        &self,
        table_id: &str,
        patch: &PlaygroundPatch,
        check: OwnerCheck<'_>,
    ) -> Result<ChangeOutcome, StoreError> {
        let (condition, values) = change_condition(check);
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(table_id, METADATA_USERNAME)))
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_values(":now", s(&now()));
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        if let Some(name) = &patch.display_name {
            request = request.expression_attribute_values(":name", s(name));
        }
        if let Some(archived) = patch.is_archived {
            request =
                request.expression_attribute_values(":archived", AttributeValue::Bool(archived));
        }
        let sets = match (patch.display_name.is_some(), patch.is_archived.is_some()) {
            (true, true) => "SET updatedAt = :now, displayName = :name, isArchived = :archived",
            (true, false) => "SET updatedAt = :now, displayName = :name",
            (false, true) => "SET updatedAt = :now, isArchived = :archived",
            (false, false) => "SET updatedAt = :now",
        };
        let result = Box::pin(request.update_expression(sets).send()).await;
        match result {
            Ok(_) => Ok(ChangeOutcome::Done),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    self.refusal(table_id, refused.item()).await
                }
                _ => Err(dynamo("UpdateItem")(e)),
            },
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
