//! The table's key schema, attribute definitions and global secondary indexes: their declared
//! shapes, the SDK shapes they become, what DescribeTable reports as them, and the in-place
//! change of the indexes (DynamoDB takes one index per UpdateTable call, and only once the
//! table is ACTIVE again).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableDescription,
};
use serde::{Deserialize, Serialize};

use super::{DynamodbTable, Spec, update_table};
use crate::aws::AwsClients;
use crate::kinds::typed::Kind;
use crate::resource::ResourceError;

/// One declared attribute definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    pub name: String,
    /// `S`, `N` or `B`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One declared global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub name: String,
    pub hash_key: String,
    #[serde(default)]
    pub range_key: Option<String>,
    /// `ALL` when not declared.
    #[serde(default = "default_projection")]
    pub projection_type: String,
}

fn default_projection() -> String {
    "ALL".to_string()
}

/// The attribute of `kind` in a key schema.
pub fn key(schema: &[KeySchemaElement], kind: KeyType) -> Option<String> {
    schema
        .iter()
        .find(|k| k.key_type() == &kind)
        .map(|k| k.attribute_name().to_string())
}

/// The table's attribute definitions as declared.
pub fn attributes_of(table: &TableDescription) -> Vec<Attribute> {
    table
        .attribute_definitions()
        .iter()
        .map(|a| Attribute {
            name: a.attribute_name().to_string(),
            kind: a.attribute_type().as_str().to_string(),
        })
        .collect()
}

/// The table's global secondary indexes as declared.
pub fn indexes_of(table: &TableDescription) -> Vec<Index> {
    table
        .global_secondary_indexes()
        .iter()
        .map(|g| Index {
            name: g.index_name().unwrap_or_default().to_string(),
            hash_key: key(g.key_schema(), KeyType::Hash).unwrap_or_default(),
            range_key: key(g.key_schema(), KeyType::Range),
            projection_type: g
                .projection()
                .and_then(|p| p.projection_type())
                .map_or_else(default_projection, |p| p.as_str().to_string()),
        })
        .collect()
}

/// Deletes GSIs no longer declared (or declared differently), then creates the missing ones,
/// one per UpdateTable call, waiting for the table to settle after each.
pub async fn update_indexes(
    aws: &AwsClients,
    name: &str,
    spec: &Spec,
    observed: &[Index],
) -> Result<(), ResourceError> {
    let wanted = &spec.global_secondary_indexes;
    for index in observed.iter().filter(|i| !wanted.contains(i)) {
        let delete = DeleteGlobalSecondaryIndexAction::builder()
            .index_name(&index.name)
            .build()
            .map_err(build_error)?;
        let update = GlobalSecondaryIndexUpdate::builder().delete(delete).build();
        update_table(aws, name, |u| {
            u.global_secondary_index_updates(update.clone())
        })
        .await?;
    }
    let definitions = attribute_definitions(&spec.attribute_definitions)?;
    for index in wanted.iter().filter(|i| !observed.contains(i)) {
        let create = CreateGlobalSecondaryIndexAction::builder()
            .index_name(&index.name)
            .set_key_schema(Some(index_keys(index)?))
            .projection(projection(&index.projection_type))
            .build()
            .map_err(build_error)?;
        let update = GlobalSecondaryIndexUpdate::builder().create(create).build();
        update_table(aws, name, |u| {
            u.set_attribute_definitions(Some(definitions.clone()))
                .global_secondary_index_updates(update.clone())
        })
        .await?;
    }
    Ok(())
}

pub fn build_error(error: aws_smithy_types::error::operation::BuildError) -> ResourceError {
    ResourceError::Invalid(format!("{}: {error}", DynamodbTable::NAME))
}

pub fn attribute_definitions(
    attributes: &[Attribute],
) -> Result<Vec<AttributeDefinition>, ResourceError> {
    attributes
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.name)
                .attribute_type(ScalarAttributeType::from(a.kind.as_str()))
                .build()
                .map_err(build_error)
        })
        .collect()
}

pub fn key_schema(hash: &str, range: Option<&str>) -> Result<Vec<KeySchemaElement>, ResourceError> {
    std::iter::once((hash, KeyType::Hash))
        .chain(range.map(|r| (r, KeyType::Range)))
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(build_error)
        })
        .collect()
}

/// An index's key schema.
fn index_keys(index: &Index) -> Result<Vec<KeySchemaElement>, ResourceError> {
    key_schema(&index.hash_key, index.range_key.as_deref())
}

fn projection(kind: &str) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(kind))
        .build()
}

pub fn global_secondary_index(index: &Index) -> Result<GlobalSecondaryIndex, ResourceError> {
    GlobalSecondaryIndex::builder()
        .index_name(&index.name)
        .set_key_schema(Some(index_keys(index)?))
        .projection(projection(&index.projection_type))
        .build()
        .map_err(build_error)
}
