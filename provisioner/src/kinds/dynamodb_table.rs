//! `dynamodb_table`: the playground table (on demand, composite key, GSIs, PITR, protection).
//!
//! Fields: `billing_mode`, `hash_key`, `range_key` (null when none), `attribute_definitions`
//! (sorted list of `{name, type}`), `global_secondary_indexes` (sorted list of `{name, hash_key,
//! range_key, projection_type}`), `point_in_time_recovery`, `deletion_protection`. The keys force
//! replacement (DynamoDB cannot change them); everything else is updated in place, GSIs one
//! at a time as DynamoDB requires. The id is the table name.
//!
//! PITR is a separate call (UpdateContinuousBackups) that AWS rejects until the table is ACTIVE
//! and for a short while after; it is retried with [`is_pitr_not_ready`]. Delete waits until
//! the table is gone, so a replacement can reuse the name at once.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction,
    DeleteGlobalSecondaryIndexAction, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate,
    KeySchemaElement, KeyType, PointInTimeRecoverySpecification, Projection, ProjectionType,
    ScalarAttributeType, TableDescription, TableStatus, Tag,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields::{self, tag_changes};
use crate::aws::AwsClients;
use crate::kind::{
    Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind, diff_fields,
};
use crate::retry::{RetryPolicy, is_pitr_not_ready, is_throttling, poll_until, retry};

const KIND: &str = "dynamodb_table";

/// How long a table (or a GSI backfill) may take to become ACTIVE or to disappear.
const TABLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The `dynamodb_table` kind.
#[derive(Debug, Default)]
pub struct DynamodbTable;

/// One declared attribute definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Attribute {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

/// One declared global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Index {
    name: String,
    hash_key: String,
    #[serde(default)]
    range_key: Option<String>,
    #[serde(default = "default_projection")]
    projection_type: String,
}

fn default_projection() -> String {
    "ALL".to_string()
}

#[async_trait]
impl ResourceKind for DynamodbTable {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn replace_on(&self) -> &'static [&'static str] {
        &["hash_key", "range_key"]
    }

    fn holds_data(&self, old: &Observed, environment: &str) -> Option<String> {
        Some(format!(
            "declare its name: `name = \"{}\"` under [env.{environment}.table]",
            old.id
        ))
    }

    fn refuses_deletion(&self, observed: &Observed, environment: &str) -> Option<String> {
        (observed.fields.get("deletion_protection") == Some(&Value::Bool(true))).then(|| {
            format!(
                "its deletion protection is on. To delete it, set `deletion_protection = false` \
                 under [env.{environment}.table] in the stack file, run `provisioner apply --env \
                 {environment}`, then run this command again"
            )
        })
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let Some(table) = find_table(aws, id).await? else {
            return Ok(None);
        };
        let arn = table.table_arn().unwrap_or_default().to_string();
        // A table deleted between these calls is absent, not an error.
        let Some(pitr) = not_found_as_none(read_pitr(aws, id).await)? else {
            return Ok(None);
        };
        let Some(tags) = not_found_as_none(read_tags(aws, &arn).await)? else {
            return Ok(None);
        };
        Ok(Some(observe(id, &table, pitr, tags)?))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let declared = &desired.fields;
        let billing_mode = billing_mode(declared)?;
        let indexes = indexes(declared)?;
        let gsis = indexes
            .iter()
            .map(global_secondary_index)
            .collect::<Result<Vec<_>, _>>()?;
        let tags = dynamodb_tags(&desired.tags)?;
        retry(&RetryPolicy::default(), is_throttling, || async {
            aws.dynamodb
                .create_table()
                .table_name(&desired.name)
                .billing_mode(billing_mode.clone())
                .set_key_schema(Some(key_schema(
                    fields::string(KIND, declared, "hash_key")?,
                    fields::opt_string(KIND, declared, "range_key")?,
                )?))
                .set_attribute_definitions(Some(attribute_definitions(declared)?))
                .set_global_secondary_indexes((!gsis.is_empty()).then(|| gsis.clone()))
                .deletion_protection_enabled(fields::boolean(
                    KIND,
                    declared,
                    "deletion_protection",
                )?)
                .set_tags((!tags.is_empty()).then(|| tags.clone()))
                .send()
                .await
                .map_err(|e| aws_error("CreateTable", e))
        })
        .await?;
        wait_table_active(aws, &desired.name).await?;
        if fields::boolean(KIND, declared, "point_in_time_recovery")? {
            set_pitr(aws, &desired.name, true).await?;
        }
        self.read_back(aws, &desired.name, &Fields::new()).await
    }

    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        let name = current.id.as_str();
        let declared = &desired.fields;
        for change in changes {
            match change.field.as_str() {
                "billing_mode" => {
                    let mode = billing_mode(declared)?;
                    if mode != BillingMode::PayPerRequest {
                        return Err(ResourceError::Invalid(format!(
                            "{KIND}: only PAY_PER_REQUEST is supported; set billing_mode to \
                             \"PAY_PER_REQUEST\""
                        )));
                    }
                    update_table(aws, name, |u| u.billing_mode(mode.clone())).await?;
                }
                "deletion_protection" => {
                    let on = fields::boolean(KIND, declared, "deletion_protection")?;
                    update_table(aws, name, |u| u.deletion_protection_enabled(on)).await?;
                }
                "point_in_time_recovery" => {
                    let on = fields::boolean(KIND, declared, "point_in_time_recovery")?;
                    set_pitr(aws, name, on).await?;
                }
                "global_secondary_indexes" => {
                    let observed: Vec<Index> = current
                        .fields
                        .get("global_secondary_indexes")
                        .cloned()
                        .map(serde_json::from_value)
                        .transpose()
                        .map_err(|e| ResourceError::Invalid(format!("{KIND}: recorded GSIs: {e}")))?
                        .unwrap_or_default();
                    update_indexes(aws, name, declared, &observed, &indexes(declared)?).await?;
                }
                // Attribute definitions only describe key attributes: they change with the GSIs.
                "attribute_definitions" => {}
                "tags" => {
                    let arn = current.arn.clone().unwrap_or_default();
                    let current_tags = current.tags.clone().unwrap_or_default();
                    update_tags(aws, &arn, &current_tags, &desired.tags).await?;
                }
                other => {
                    return Err(ResourceError::Invalid(format!(
                        "{KIND}: cannot update field `{other}` in place"
                    )));
                }
            }
        }
        self.read_back(aws, name, &Fields::new()).await
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        _recorded: &Fields,
    ) -> Result<(), ResourceError> {
        let deleted = retry(&RetryPolicy::default(), is_throttling, || async {
            aws.dynamodb
                .delete_table()
                .table_name(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("DeleteTable", e))
        })
        .await;
        ignore_not_found(deleted)?;
        wait_table_deleted(aws, id).await
    }

    fn diff(&self, desired: &Desired, observed: &Observed) -> Vec<FieldChange> {
        let mut normalised = desired.clone();
        if let Ok(attributes) = attributes(&desired.fields) {
            normalised
                .fields
                .insert("attribute_definitions".into(), to_json(&attributes));
        }
        if let Ok(indexes) = indexes(&desired.fields) {
            normalised
                .fields
                .insert("global_secondary_indexes".into(), to_json(&indexes));
        }
        diff_fields(self.replace_on(), &normalised, observed)
    }
}

/// Normalises DescribeTable + PITR + tags into the declared shape.
fn observe(
    name: &str,
    table: &TableDescription,
    pitr: bool,
    tags: BTreeMap<String, String>,
) -> Result<Observed, ResourceError> {
    let key = |schema: &[KeySchemaElement], kind: KeyType| {
        schema
            .iter()
            .find(|k| k.key_type() == &kind)
            .map(|k| k.attribute_name().to_string())
    };
    let mut attributes: Vec<Attribute> = table
        .attribute_definitions()
        .iter()
        .map(|a| Attribute {
            name: a.attribute_name().to_string(),
            kind: a.attribute_type().as_str().to_string(),
        })
        .collect();
    attributes.sort();
    let mut indexes: Vec<Index> = table
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
        .collect();
    indexes.sort();
    let billing_mode = table
        .billing_mode_summary()
        .and_then(|s| s.billing_mode())
        .map_or("PROVISIONED", |m| m.as_str());
    let arn = table.table_arn().unwrap_or_default().to_string();
    Ok(Observed {
        id: name.to_string(),
        arn: Some(arn.clone()),
        fields: fields::fields([
            ("billing_mode", Value::String(billing_mode.to_string())),
            (
                "hash_key",
                key(table.key_schema(), KeyType::Hash).map_or(Value::Null, Value::String),
            ),
            (
                "range_key",
                key(table.key_schema(), KeyType::Range).map_or(Value::Null, Value::String),
            ),
            ("attribute_definitions", to_json(&attributes)),
            ("global_secondary_indexes", to_json(&indexes)),
            ("point_in_time_recovery", Value::Bool(pitr)),
            (
                "deletion_protection",
                Value::Bool(table.deletion_protection_enabled().unwrap_or(false)),
            ),
        ]),
        outputs: fields::fields([
            ("arn", Value::String(arn)),
            ("name", Value::String(name.to_string())),
        ]),
        tags: Some(tags),
    })
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// DescribeTable, with not-found as `None`.
pub async fn find_table(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<TableDescription>, ResourceError> {
    let output = not_found_as_none(
        retry(&RetryPolicy::default(), is_throttling, || async {
            aws.dynamodb
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map_err(|e| aws_error("DescribeTable", e))
        })
        .await,
    )?;
    Ok(output.and_then(|o| o.table))
}

async fn read_pitr(aws: &AwsClients, name: &str) -> Result<bool, ResourceError> {
    let output = aws
        .dynamodb
        .describe_continuous_backups()
        .table_name(name)
        .send()
        .await
        .map_err(|e| aws_error("DescribeContinuousBackups", e))?;
    Ok(output
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        .is_some_and(|s| s.as_str() == "ENABLED"))
}

async fn read_tags(aws: &AwsClients, arn: &str) -> Result<BTreeMap<String, String>, ResourceError> {
    let mut tags = BTreeMap::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| aws_error("ListTagsOfResource", e))?;
        tags.extend(
            page.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        match page.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => return Ok(tags),
        }
    }
}

/// Turns PITR on or off, retrying while the table is too new for it.
async fn set_pitr(aws: &AwsClients, name: &str, enabled: bool) -> Result<(), ResourceError> {
    let spec = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(enabled)
        .build()
        .map_err(build_error)?;
    retry(&RetryPolicy::default(), is_pitr_not_ready, || async {
        aws.dynamodb
            .update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(spec.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("UpdateContinuousBackups", e))
    })
    .await
}

/// One UpdateTable call, then a wait until the table is ACTIVE again.
async fn update_table(
    aws: &AwsClients,
    name: &str,
    configure: impl Fn(
        aws_sdk_dynamodb::operation::update_table::builders::UpdateTableFluentBuilder,
    )
        -> aws_sdk_dynamodb::operation::update_table::builders::UpdateTableFluentBuilder,
) -> Result<(), ResourceError> {
    retry(&RetryPolicy::default(), is_pitr_not_ready, || async {
        configure(aws.dynamodb.update_table().table_name(name))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("UpdateTable", e))
    })
    .await?;
    wait_table_active(aws, name).await
}

/// Deletes GSIs no longer declared (or declared differently), then creates the missing ones,
/// one per UpdateTable call, waiting for the table to settle after each.
async fn update_indexes(
    aws: &AwsClients,
    name: &str,
    declared: &Fields,
    observed: &[Index],
    wanted: &[Index],
) -> Result<(), ResourceError> {
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
    let definitions = attribute_definitions(declared)?;
    for index in wanted.iter().filter(|i| !observed.contains(i)) {
        let create = CreateGlobalSecondaryIndexAction::builder()
            .index_name(&index.name)
            .set_key_schema(Some(key_schema(
                &index.hash_key,
                index.range_key.as_deref(),
            )?))
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

async fn update_tags(
    aws: &AwsClients,
    arn: &str,
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Result<(), ResourceError> {
    let (to_set, to_remove) = tag_changes(current, desired);
    if !to_remove.is_empty() {
        aws.dynamodb
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(to_remove))
            .send()
            .await
            .map_err(|e| aws_error("UntagResource", e))?;
    }
    if !to_set.is_empty() {
        aws.dynamodb
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(dynamodb_tags(&to_set)?))
            .send()
            .await
            .map_err(|e| aws_error("TagResource", e))?;
    }
    Ok(())
}

/// Waits until the table and every GSI are ACTIVE.
pub async fn wait_table_active(aws: &AwsClients, name: &str) -> Result<(), ResourceError> {
    poll_until(
        &format!("table {name} becoming ACTIVE"),
        TABLE_TIMEOUT,
        || async {
            let table = find_table(aws, name).await?.ok_or_else(|| {
                ResourceError::Invalid(format!(
                    "{KIND}: table {name} disappeared while waiting for it"
                ))
            })?;
            let indexes_active = table
                .global_secondary_indexes()
                .iter()
                .all(|g| g.index_status().is_none_or(|s| s.as_str() == "ACTIVE"));
            Ok(
                (table.table_status() == Some(&TableStatus::Active) && indexes_active)
                    .then_some(()),
            )
        },
    )
    .await
}

/// Waits until DescribeTable says not found.
pub async fn wait_table_deleted(aws: &AwsClients, name: &str) -> Result<(), ResourceError> {
    poll_until(
        &format!("table {name} being deleted"),
        TABLE_TIMEOUT,
        || async { Ok(find_table(aws, name).await?.is_none().then_some(())) },
    )
    .await
}

fn build_error(error: aws_smithy_types::error::operation::BuildError) -> ResourceError {
    ResourceError::Invalid(format!("{KIND}: {error}"))
}

fn billing_mode(declared: &Fields) -> Result<BillingMode, ResourceError> {
    Ok(BillingMode::from(fields::string(
        KIND,
        declared,
        "billing_mode",
    )?))
}

fn attributes(declared: &Fields) -> Result<Vec<Attribute>, ResourceError> {
    let mut list: Vec<Attribute> = parse_list(declared, "attribute_definitions")?;
    list.sort();
    Ok(list)
}

fn indexes(declared: &Fields) -> Result<Vec<Index>, ResourceError> {
    let mut list: Vec<Index> = parse_list(declared, "global_secondary_indexes")?;
    list.sort();
    Ok(list)
}

fn parse_list<T: for<'de> Deserialize<'de>>(
    declared: &Fields,
    field: &str,
) -> Result<Vec<T>, ResourceError> {
    match declared.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
            ResourceError::Invalid(format!(
                "{KIND}: field `{field}` has the wrong shape ({e}); see the table in kinds/mod.rs"
            ))
        }),
    }
}

fn attribute_definitions(declared: &Fields) -> Result<Vec<AttributeDefinition>, ResourceError> {
    attributes(declared)?
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

fn key_schema(hash: &str, range: Option<&str>) -> Result<Vec<KeySchemaElement>, ResourceError> {
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

fn projection(kind: &str) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(kind))
        .build()
}

fn global_secondary_index(index: &Index) -> Result<GlobalSecondaryIndex, ResourceError> {
    GlobalSecondaryIndex::builder()
        .index_name(&index.name)
        .set_key_schema(Some(key_schema(
            &index.hash_key,
            index.range_key.as_deref(),
        )?))
        .projection(projection(&index.projection_type))
        .build()
        .map_err(build_error)
}

fn dynamodb_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ResourceError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(build_error))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn declared_lists_are_sorted_and_defaults_filled_before_diffing() {
        let declared = fields::fields([
            (
                "global_secondary_indexes",
                json!([{"name": "z", "hash_key": "a"}, {"name": "b", "hash_key": "c", "range_key": "d", "projection_type": "ALL"}]),
            ),
            (
                "attribute_definitions",
                json!([{"name": "b", "type": "S"}, {"name": "a", "type": "S"}]),
            ),
        ]);
        let names: Vec<_> = indexes(&declared)
            .unwrap_or_default()
            .into_iter()
            .map(|i| (i.name, i.range_key, i.projection_type))
            .collect();
        assert_eq!(
            names,
            vec![
                ("b".into(), Some("d".into()), "ALL".into()),
                ("z".into(), None, "ALL".into())
            ]
        );
        let attrs = attributes(&declared).unwrap_or_default();
        assert_eq!(attrs.first().map(|a| a.name.as_str()), Some("a"));
        let bad = fields::fields([("global_secondary_indexes", json!([{"nam": "x"}]))]);
        assert!(
            matches!(indexes(&bad), Err(ResourceError::Invalid(m)) if m.contains("global_secondary_indexes"))
        );
    }
}
