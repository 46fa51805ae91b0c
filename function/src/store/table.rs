//! Creating the table and its indexes, for `function serve --create-table` and the tests.
//!
//! On AWS the provisioner creates the table; here the local server makes one on the emulator.
//! Both read the key schema and the indexes from [`crate::contract`], so a table made either way
//! serves every listing in global order.

use std::time::Duration;

use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus,
};

use super::{Store, StoreError, dynamo};
use crate::contract::{self, AttributeType, HASH_KEY, INDEXES, Index, KeyAttribute, RANGE_KEY};

/// How long [`Store::ensure_table`] waits for ACTIVE: 120 polls, 500 ms apart.
const ACTIVE_POLLS: u32 = 120;
const ACTIVE_POLL_INTERVAL: Duration = Duration::from_millis(500);

fn attribute_definition(attribute: KeyAttribute) -> Result<AttributeDefinition, BuildError> {
    let kind = match attribute.kind {
        AttributeType::S => ScalarAttributeType::S,
        AttributeType::N => ScalarAttributeType::N,
    };
    AttributeDefinition::builder()
        .attribute_name(attribute.name)
        .attribute_type(kind)
        .build()
}

fn key_part(attribute: KeyAttribute, kind: KeyType) -> Result<KeySchemaElement, BuildError> {
    KeySchemaElement::builder()
        .attribute_name(attribute.name)
        .key_type(kind)
        .build()
}

fn global_index(index: &Index) -> Result<GlobalSecondaryIndex, BuildError> {
    GlobalSecondaryIndex::builder()
        .index_name(index.name)
        .key_schema(key_part(index.hash, KeyType::Hash)?)
        .key_schema(key_part(index.range, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
}

impl Store {
    /// Whether the table exists (any status).
    pub async fn table_exists(&self) -> Result<bool, StoreError> {
        let described = self.client.describe_table().table_name(&self.table);
        match described.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(dynamo("DescribeTable")(e)),
        }
    }

    /// Creates the table with its indexes if it does not exist (for local use and tests), and
    /// waits until it is ACTIVE.
    pub async fn ensure_table(&self) -> Result<(), StoreError> {
        if self.table_exists().await? {
            return self.wait_active().await;
        }
        let attributes = contract::attribute_definitions(INDEXES)
            .into_iter()
            .map(attribute_definition)
            .collect::<Result<Vec<_>, _>>()?;
        let indexes = INDEXES
            .iter()
            .map(global_index)
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(attributes))
            .key_schema(key_part(HASH_KEY, KeyType::Hash)?)
            .key_schema(key_part(RANGE_KEY, KeyType::Range)?)
            .set_global_secondary_indexes(Some(indexes))
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
        for _ in 0..ACTIVE_POLLS {
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
            tokio::time::sleep(ACTIVE_POLL_INTERVAL).await;
        }
        Err(StoreError::NotActive(self.table.clone()))
    }
}
