//! Rows ↔ values: DynamoDB items to [`Playground`]s and [`UserScores`], and the attribute
//! values and timestamps the writes use.
//!
//! Reading is lenient on purpose: an adopted table holds rows the original Python handler wrote
//! (counts as `"3.0"` or strings, booleans as strings), and they must stay readable as they are.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::contract::{HASH_KEY, RANGE_KEY};
use crate::domain::{METADATA_USERNAME, Playground, UserScores};

/// One DynamoDB item.
pub(super) type Item = HashMap<String, AttributeValue>;

/// Now as ISO-8601 UTC with microseconds (`2026-01-31T12:00:00.123456Z`): fixed width, so the
/// strings sort in time order.
pub fn timestamp(now: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    now.format(&format)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

pub(super) fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

pub(super) fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

pub(super) fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The primary key of a row.
pub(super) fn key(table_id: &str, username: &str) -> Item {
    HashMap::from([
        (HASH_KEY.name.to_string(), s(table_id)),
        (RANGE_KEY.name.to_string(), s(username)),
    ])
}

fn string_attr(item: &Item, name: &str) -> Option<String> {
    match item.get(name)? {
        AttributeValue::S(v) => Some(v.clone()),
        AttributeValue::N(v) => Some(v.clone()),
        _ => None,
    }
}

/// A count as stored; rows written by older code may hold `"3.0"` or a string, read leniently.
fn count_attr(item: &Item, name: &str) -> u64 {
    let raw = match item.get(name) {
        Some(AttributeValue::N(v) | AttributeValue::S(v)) => v.trim(),
        _ => return 0,
    };
    raw.parse::<u64>().unwrap_or_else(|_| {
        raw.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map_or(0, |f| f as u64)
    })
}

fn bool_attr(item: &Item, name: &str) -> bool {
    match item.get(name) {
        Some(AttributeValue::Bool(b)) => *b,
        Some(AttributeValue::S(v)) => v.eq_ignore_ascii_case("true"),
        Some(AttributeValue::N(v)) => v != "0",
        _ => false,
    }
}

/// A playground row, or `None` when the item has no `tableId`.
pub(super) fn playground_from(item: &Item) -> Option<Playground> {
    let table_id = string_attr(item, "tableId")?;
    Some(Playground {
        display_name: string_attr(item, "displayName").unwrap_or_else(|| table_id.clone()),
        created_at: string_attr(item, "createdAt").unwrap_or_default(),
        updated_at: string_attr(item, "updatedAt"),
        is_archived: bool_attr(item, "isArchived"),
        user_count: count_attr(item, "userCount"),
        table_id,
    })
}

/// A user row, or `None` for the playground's own row or an item without `username`.
pub(super) fn user_from(item: &Item) -> Option<UserScores> {
    let username = string_attr(item, "username")?;
    if username == METADATA_USERNAME {
        return None;
    }
    Some(UserScores {
        username,
        submission_count: count_attr(item, "submissionCount"),
        total_count: count_attr(item, "totalCount"),
        last_updated: string_attr(item, "lastUpdated").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_utc() {
        let t = OffsetDateTime::from_unix_timestamp(0).unwrap();
        assert_eq!(timestamp(t), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn old_rows_are_read_leniently() {
        let item: Item = HashMap::from([
            ("tableId".into(), s("t")),
            ("username".into(), s(METADATA_USERNAME)),
            ("userCount".into(), AttributeValue::N("3.0".into())),
            ("isArchived".into(), s("true")),
        ]);
        let p = playground_from(&item).unwrap();
        assert_eq!(p.user_count, 3);
        assert!(p.is_archived);
        assert_eq!(p.display_name, "t");
        assert!(user_from(&item).is_none(), "the metadata row is not a user");
    }
}
