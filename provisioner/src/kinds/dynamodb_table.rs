//! `dynamodb_table`: the playground table (on demand, composite key, GSIs, PITR, protection).
//!
//! Fields: `billing_mode`, `hash_key`, `range_key` (null when none), `attribute_definitions`
//! (sorted list of `{name, type}`), `global_secondary_indexes` (sorted list of `{name, hash_key,
//! range_key, projection_type}`), `point_in_time_recovery`, `deletion_protection`. The keys force
//! replacement (DynamoDB cannot change them); everything else is updated in place, GSIs one
//! at a time as DynamoDB requires (`dynamodb_table/schema.rs`). The id is the table name.
//!
//! The table holds the stack's only data: a plan that would replace it is refused unless data
//! loss is allowed ([`Kind::holds_data`]), and with deletion protection on it is never planned
//! for deletion ([`Kind::refuses_deletion`]).
//!
//! PITR is a separate call (UpdateContinuousBackups) that AWS rejects until the table is ACTIVE
//! and for a short while after; it is retried with [`table_still_settling`], as is an
//! UpdateTable that meets the table still busy. Delete waits until the table is gone, so a
//! replacement can reuse the name at once.

mod schema;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_table::builders::UpdateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    BillingMode, KeyType, PointInTimeRecoverySpecification, TableDescription, TableStatus,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::early_read;
use super::errors::{self, AwsResult, NotFound};
use super::tags;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};
use crate::retry::{RetryPolicy, poll_until, retry};
pub use schema::{Attribute, Index};

/// How long a table (or a GSI backfill) may take to become ACTIVE or to disappear.
const TABLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Fields an update can change; the others force replacement.
const UPDATABLE: &[&str] = &[
    "attribute_definitions",
    "billing_mode",
    "deletion_protection",
    "global_secondary_indexes",
    "point_in_time_recovery",
    "tags",
];

/// The `dynamodb_table` kind.
pub struct DynamodbTable;

/// A table's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `PAY_PER_REQUEST` (the only mode an update can switch to) or `PROVISIONED`.
    pub billing_mode: String,
    pub hash_key: String,
    #[serde(default)]
    pub range_key: Option<String>,
    /// The key attributes of the table and its indexes.
    #[serde(default)]
    pub attribute_definitions: Vec<Attribute>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<Index>,
    pub point_in_time_recovery: bool,
    pub deletion_protection: bool,
}

#[async_trait]
impl Kind for DynamodbTable {
    const ABOUT: About = About::kind("dynamodb_table", "the table name")
        .terraform("aws_dynamodb_table", TerraformId::Attribute("name"))
        .replace_on(&["hash_key", "range_key"]);
    type Spec = Spec;

    /// Lists in one order, whatever order they are declared or reported in.
    fn normalise(mut spec: Spec) -> Spec {
        spec.attribute_definitions.sort();
        spec.global_secondary_indexes.sort();
        spec
    }

    fn holds_data(old_id: &str, environment: &str) -> Option<String> {
        Some(format!(
            "declare its name: `name = \"{old_id}\"` under [env.{environment}.table]"
        ))
    }

    fn refuses_deletion(current: &Spec, environment: &str) -> Option<String> {
        current.deletion_protection.then(|| {
            format!(
                "its deletion protection is on. To delete it, set `deletion_protection = false` \
                 under [env.{environment}.table] in the stack file, run `provisioner apply --env \
                 {environment}`, then run this command again"
            )
        })
    }

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        let table = scope.arn("dynamodb", &format!("table/{}", scope.env.table_name));
        vec![json!({
            "Sid": "PlaygroundTable",
            "Effect": "Allow",
            "Action": [
                "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive",
                "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
                "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable"
            ],
            "Resource": [table.clone(), format!("{table}/index/*")],
        })]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        read_table(aws, id, false).await
    }

    /// The tables the state records, expected to exist: each one's point-in-time recovery and
    /// tags read beside it.
    async fn read_many(aws: &AwsClients, objects: &[(String, Fields)]) -> Vec<Read<Spec>> {
        early_read::each(objects, |id| read_table(aws, id, true)).await
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, tags: &Tags) -> Made<Spec> {
        let spec = Self::normalise(spec.clone());
        let gsis = spec
            .global_secondary_indexes
            .iter()
            .map(schema::global_secondary_index)
            .collect::<Result<Vec<_>, _>>()?;
        let tags = tags::dynamodb_tags(tags)?;
        let call = aws
            .dynamodb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::from(spec.billing_mode.as_str()))
            .set_key_schema(Some(schema::key_schema(
                &spec.hash_key,
                spec.range_key.as_deref(),
            )?))
            .set_attribute_definitions(Some(schema::attribute_definitions(
                &spec.attribute_definitions,
            )?))
            .set_global_secondary_indexes((!gsis.is_empty()).then_some(gsis))
            .deletion_protection_enabled(spec.deletion_protection)
            .set_tags((!tags.is_empty()).then_some(tags));
        call.send().await.aws("CreateTable")?;
        wait_table_active(aws, name).await?;
        if spec.point_in_time_recovery {
            set_pitr(aws, name, true).await?;
        }
        Self::read_back(aws, name, &Fields::new()).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        let name = change.id;
        let spec = Self::normalise(change.spec.clone());
        if let Some(field) = change
            .changed
            .iter()
            .find(|f| !UPDATABLE.contains(&f.as_str()))
        {
            return Err(ResourceError::Invalid(format!(
                "{}: cannot update field `{field}` in place",
                Self::NAME
            )));
        }
        // Attribute definitions only describe key attributes: they change with the GSIs.
        if change.has("billing_mode") {
            let mode = BillingMode::from(spec.billing_mode.as_str());
            if mode != BillingMode::PayPerRequest {
                return Err(ResourceError::Invalid(format!(
                    "{}: only PAY_PER_REQUEST is supported; set billing_mode to \
                     \"PAY_PER_REQUEST\"",
                    Self::NAME
                )));
            }
            update_table(aws, name, |u| u.billing_mode(mode.clone())).await?;
        }
        if change.has("deletion_protection") {
            let on = spec.deletion_protection;
            update_table(aws, name, |u| u.deletion_protection_enabled(on)).await?;
        }
        if change.has("global_secondary_indexes") {
            let observed = Self::normalise(change.current.spec.clone()).global_secondary_indexes;
            schema::update_indexes(aws, name, &spec, &observed).await?;
        }
        if change.has("point_in_time_recovery") {
            set_pitr(aws, name, spec.point_in_time_recovery).await?;
        }
        tags::dynamodb(aws, change.arn(), change).await?;
        Self::read_back(aws, name, &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let call = aws.dynamodb.delete_table().table_name(id);
        call.send().await.aws("DeleteTable").gone()?;
        wait_table_deleted(aws, id).await
    }
}

/// DescribeTable + PITR + tags in the declared shape.
fn observe(name: &str, table: &TableDescription, pitr: bool, tags: Tags) -> Found<Spec> {
    let billing_mode = table
        .billing_mode_summary()
        .and_then(|s| s.billing_mode())
        .map_or("PROVISIONED", |m| m.as_str());
    let arn = table.table_arn().unwrap_or_default().to_string();
    let spec = DynamodbTable::normalise(Spec {
        billing_mode: billing_mode.to_string(),
        hash_key: schema::key(table.key_schema(), KeyType::Hash).unwrap_or_default(),
        range_key: schema::key(table.key_schema(), KeyType::Range),
        attribute_definitions: schema::attributes_of(table),
        global_secondary_indexes: schema::indexes_of(table),
        point_in_time_recovery: pitr,
        deletion_protection: table.deletion_protection_enabled().unwrap_or(false),
    });
    Found::new(name, spec)
        .with_arn(arn.as_str())
        .with_output("arn", arn)
        .with_output("name", name)
        .with_tags(tags)
}

/// DescribeTable, with not-found as `None`.
pub async fn find_table(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<TableDescription>, ResourceError> {
    let call = aws.dynamodb.describe_table().table_name(name);
    let output = call.send().await.aws("DescribeTable").absent()?;
    Ok(output.and_then(|o| o.table))
}

/// The table named `id`, its point-in-time recovery and its tags; `early` (a refresh, the table
/// recorded as existing): all three at once, the tags by the ARN the table's name gives it
/// ([`early_read`]). A table deleted between these calls is absent, not an error.
async fn read_table(aws: &AwsClients, id: &str, early: bool) -> Read<Spec> {
    let resource = format!("table/{id}");
    let tags_early =
        early_read::start(aws, early, "dynamodb", &resource, |arn| read_tags(aws, arn));
    let pitr_early = early_read::when(early, read_pitr(aws, id));
    let (table, tags_early, pitr_early) = tokio::join!(find_table(aws, id), tags_early, pitr_early);
    let Some(table) = table? else {
        return Ok(None);
    };
    let pitr = match pitr_early {
        Some(pitr) => pitr,
        None => read_pitr(aws, id).await,
    };
    let Some(pitr) = pitr.absent()? else {
        return Ok(None);
    };
    let arn = table.table_arn().unwrap_or_default();
    let tags = early_read::confirm(tags_early, arn, |arn| read_tags(aws, arn)).await;
    let Some(tags) = tags.absent()? else {
        return Ok(None);
    };
    Ok(Some(observe(id, &table, pitr, tags)))
}

async fn read_pitr(aws: &AwsClients, name: &str) -> Result<bool, ResourceError> {
    let call = aws.dynamodb.describe_continuous_backups().table_name(name);
    let output = call.send().await.aws("DescribeContinuousBackups")?;
    Ok(output
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        .is_some_and(|s| s.as_str() == "ENABLED"))
}

async fn read_tags(aws: &AwsClients, arn: String) -> Result<Tags, ResourceError> {
    let mut tags = Tags::new();
    let mut next: Option<String> = None;
    loop {
        let call = aws
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(&arn)
            .set_next_token(next.take());
        let page = call.send().await.aws("ListTagsOfResource")?;
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
        .map_err(schema::build_error)?;
    retry(&RetryPolicy::default(), table_still_settling, || async {
        let call = aws
            .dynamodb
            .update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(spec.clone());
        call.send().await.aws("UpdateContinuousBackups").map(drop)
    })
    .await
}

/// One UpdateTable call, then a wait until the table is ACTIVE again.
async fn update_table(
    aws: &AwsClients,
    name: &str,
    configure: impl Fn(UpdateTableFluentBuilder) -> UpdateTableFluentBuilder,
) -> Result<(), ResourceError> {
    retry(&RetryPolicy::default(), table_still_settling, || async {
        let call = configure(aws.dynamodb.update_table().table_name(name));
        call.send().await.aws("UpdateTable").map(drop)
    })
    .await?;
    wait_table_active(aws, name).await
}

/// Waits until the table and every GSI are ACTIVE.
pub async fn wait_table_active(aws: &AwsClients, name: &str) -> Result<(), ResourceError> {
    poll_until(
        &format!("table {name} becoming ACTIVE"),
        TABLE_TIMEOUT,
        || async {
            let table = find_table(aws, name).await?.ok_or_else(|| {
                ResourceError::Invalid(format!(
                    "{}: table {name} disappeared while waiting for it",
                    DynamodbTable::NAME
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

/// A table write DynamoDB refused only because the table is not ready for it yet: still being
/// created or updated (`ResourceInUseException`), or, right after creation, its continuous
/// backups not yet available to turn PITR on ("Backups are being enabled").
pub fn table_still_settling(error: &ResourceError) -> bool {
    matches!(
        errors::code(error),
        Some("ResourceInUseException" | "ContinuousBackupsUnavailableException")
    ) || errors::says(error, "Backups are being enabled")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::errors::testing::{assert_retries, aws};

    #[test]
    fn declared_lists_are_sorted_and_defaults_filled_before_diffing() {
        let declared: Result<Spec, _> = serde_json::from_value(json!({
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": "tableId",
            "global_secondary_indexes": [
                {"name": "z", "hash_key": "a"},
                {"name": "b", "hash_key": "c", "range_key": "d", "projection_type": "ALL"}
            ],
            "attribute_definitions": [{"name": "b", "type": "S"}, {"name": "a", "type": "S"}],
            "point_in_time_recovery": false,
            "deletion_protection": false
        }));
        let spec = DynamodbTable::normalise(declared.expect("a table declaration"));
        let names: Vec<_> = spec
            .global_secondary_indexes
            .iter()
            .map(|i| {
                (
                    i.name.as_str(),
                    i.range_key.as_deref(),
                    i.projection_type.as_str(),
                )
            })
            .collect();
        assert_eq!(names, vec![("b", Some("d"), "ALL"), ("z", None, "ALL")]);
        assert_eq!(
            spec.attribute_definitions.first().map(|a| a.name.as_str()),
            Some("a")
        );
        assert_eq!(spec.range_key, None);
        let fields = crate::kinds::typed::to_fields(&spec);
        assert_eq!(fields["range_key"], Value::Null);
        assert_eq!(
            fields["global_secondary_indexes"][1]["range_key"],
            Value::Null
        );
        let bad: Result<Index, _> = serde_json::from_value(json!({"nam": "x", "hash_key": "a"}));
        assert!(bad.is_err());
    }

    #[test]
    fn pitr_and_updates_wait_only_for_the_table_to_settle() {
        assert_retries(
            table_still_settling,
            &[
                aws("ResourceInUseException", "table being created"),
                aws(
                    "ContinuousBackupsUnavailableException",
                    "Backups are being enabled for the table",
                ),
            ],
            &[
                aws("ThrottlingException", "slow down"),
                aws("ValidationException", "bad"),
                aws("ResourceNotFoundException", "gone"),
                ResourceError::Timeout("t".into()),
            ],
        );
    }

    #[test]
    fn only_a_protected_table_refuses_deletion_and_any_table_holds_data() {
        let mut spec: Spec = serde_json::from_value(json!({
            "billing_mode": "PAY_PER_REQUEST", "hash_key": "k",
            "point_in_time_recovery": false, "deletion_protection": true
        }))
        .expect("a table declaration");
        let refusal = DynamodbTable::refuses_deletion(&spec, "prod").unwrap_or_default();
        assert!(refusal.contains("[env.prod.table]"), "{refusal}");
        spec.deletion_protection = false;
        assert_eq!(DynamodbTable::refuses_deletion(&spec, "prod"), None);
        assert_eq!(
            DynamodbTable::holds_data("t-1", "dev").as_deref(),
            Some("declare its name: `name = \"t-1\"` under [env.dev.table]")
        );
    }
}
