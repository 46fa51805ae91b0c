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
/// strings sort in time order. Written digit by digit: `time`'s general formatter, which it
/// matches byte for byte (it remains for years outside 0-9999), cost a write a microsecond.
pub fn timestamp(now: OffsetDateTime) -> String {
    let (year, month, day) = now.to_calendar_date();
    let Ok(year) = u32::try_from(year) else {
        return formatted(now);
    };
    if year > 9999 {
        return formatted(now);
    }
    let (hour, minute, second, micro) = now.to_hms_micro();
    let mut out = String::with_capacity(27);
    let fields = [
        (year, 4, '-'),
        (u32::from(u8::from(month)), 2, '-'),
        (u32::from(day), 2, 'T'),
        (u32::from(hour), 2, ':'),
        (u32::from(minute), 2, ':'),
        (u32::from(second), 2, '.'),
        (micro, 6, 'Z'),
    ];
    for (value, width, then) in fields {
        push_digits(&mut out, value, width);
        out.push(then);
    }
    out
}

/// `value`'s last `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place) % 10) as u8;
        out.push(char::from(b'0' + digit));
    }
}

/// [`timestamp`] by `time`'s formatter.
fn formatted(now: OffsetDateTime) -> String {
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
    row(table_id, username, 2)
}

/// A row with its primary key, room made for `attributes` attributes in all (a map grown
/// from two to eight rehashes twice).
pub(super) fn row(table_id: &str, username: &str, attributes: usize) -> Item {
    let mut item = HashMap::with_capacity(attributes);
    item.insert(HASH_KEY.name.to_string(), s(table_id));
    item.insert(RANGE_KEY.name.to_string(), s(username));
    item
}

/// A string as stored (a number's digits count as its text).
fn text(value: &AttributeValue) -> Option<&str> {
    match value {
        AttributeValue::S(v) | AttributeValue::N(v) => Some(v),
        _ => None,
    }
}

/// A count as stored; rows written by older code may hold `"3.0"` or a string, read leniently.
fn count(value: &AttributeValue) -> u64 {
    let raw = match value {
        AttributeValue::N(v) | AttributeValue::S(v) => v.as_str(),
        _ => return 0,
    };
    plain_count(raw).unwrap_or_else(|| lenient_count(raw))
}

/// The value of 1 to 19 ASCII digits (what this code writes), or `None` for anything else.
/// Every such string fits a `u64` and `str::parse` reads it the same; digit by digit, a count
/// costs about 40 instructions instead of 110 (a page of users reads 100 of them).
fn plain_count(raw: &str) -> Option<u64> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    bytes.iter().try_fold(0u64, |total, &b| {
        b.is_ascii_digit().then(|| total * 10 + u64::from(b - b'0'))
    })
}

/// Any other count: trimmed, as an integer, else as a finite non-negative number truncated,
/// else 0.
fn lenient_count(raw: &str) -> u64 {
    let raw = raw.trim();
    raw.parse::<u64>().unwrap_or_else(|_| {
        raw.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map_or(0, |f| f as u64)
    })
}

fn flag(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::Bool(b) => *b,
        AttributeValue::S(v) => v.eq_ignore_ascii_case("true"),
        AttributeValue::N(v) => v != "0",
        _ => false,
    }
}

/// The attributes of a playground row that [`playground_of`] reads, as the listing's
/// `ProjectionExpression`: DynamoDB leaves out the sort key and the owner's two attributes,
/// which a page never shows, so the SDK does not allocate their names and values for the
/// handler to free (150 of them in a page of 50). None of these names is a DynamoDB reserved
/// word, so they need no `#name` placeholders.
pub(super) const PLAYGROUND_ATTRIBUTES: &str =
    "tableId, displayName, createdAt, updatedAt, isArchived, userCount";

/// The attributes of a user row that [`user_of`] reads, as the listing's
/// `ProjectionExpression` (the partition key, the same on every row of the page, left out).
pub(super) const USER_ATTRIBUTES: &str = "username, submissionCount, totalCount, lastUpdated";

/// A playground row, or `None` when the item has no `tableId`.
///
/// The item is walked once, its strings borrowed where they are (a listing reads 50 rows per
/// request): not looked up by hashed names, and not moved out into strings of their own. It is
/// walked by `for_each`, hashbrown's own loop over the table, where a `for` loop called its
/// iterator's `next` for each attribute (not inlined in the Lambda profile's opt-level "s").
pub(super) fn playground_of(item: &Item) -> Option<Playground<'_>> {
    let (mut table_id, mut display_name, mut created_at, mut updated_at) = (None, None, None, None);
    let (mut is_archived, mut user_count) = (false, 0);
    item.iter().for_each(|(name, value)| match name.as_str() {
        "tableId" => table_id = text(value),
        "displayName" => display_name = text(value),
        "createdAt" => created_at = text(value),
        "updatedAt" => updated_at = text(value),
        "isArchived" => is_archived = flag(value),
        "userCount" => user_count = count(value),
        _ => {}
    });
    let table_id = table_id?;
    Some(Playground {
        table_id,
        display_name: display_name.unwrap_or(table_id),
        created_at: created_at.unwrap_or_default(),
        updated_at,
        is_archived,
        user_count,
    })
}

/// A user row, or `None` for the playground's own row or an item without `username`; read like
/// [`playground_of`].
pub(super) fn user_of(item: &Item) -> Option<UserScores<'_>> {
    let (mut username, mut last_updated) = (None, None);
    let (mut submission_count, mut total_count) = (0, 0);
    item.iter().for_each(|(name, value)| match name.as_str() {
        "username" => username = text(value),
        "submissionCount" => submission_count = count(value),
        "totalCount" => total_count = count(value),
        "lastUpdated" => last_updated = text(value),
        _ => {}
    });
    let username = username.filter(|name| *name != METADATA_USERNAME)?;
    Some(UserScores {
        username,
        submission_count,
        total_count,
        last_updated: last_updated.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_utc() {
        let t = OffsetDateTime::from_unix_timestamp(0).unwrap();
        assert_eq!(timestamp(t), "1970-01-01T00:00:00.000000Z");
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_785_000_000_123_456_789).unwrap();
        assert_eq!(timestamp(t), "2026-07-25T17:20:00.123456Z");
    }

    proptest::proptest! {
        #[test]
        fn timestamps_are_what_time_formats(nanos in -300_000_000_000_000_000_000i128..253_402_300_800_000_000_000) {
            let t = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap();
            proptest::prop_assert_eq!(timestamp(t), formatted(t));
        }
    }

    proptest::proptest! {
        #[test]
        fn counts_read_plain_digits_as_the_lenient_reader_does(raw in "[0-9]{0,21}|[ +.e0-9-]{0,8}|.*") {
            let value = AttributeValue::N(raw.clone());
            proptest::prop_assert_eq!(count(&value), lenient_count(&raw));
        }
    }

    /// `item` with only the attributes a projection expression names, as DynamoDB answers.
    fn projected(item: &Item, attributes: &str) -> Item {
        let names: Vec<&str> = attributes.split(", ").collect();
        item.iter()
            .filter(|(name, _)| names.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    #[test]
    fn projected_rows_read_as_whole_rows() {
        let playground: Item = HashMap::from([
            ("tableId".into(), s("t")),
            ("username".into(), s(METADATA_USERNAME)),
            ("displayName".into(), s("T")),
            ("createdAt".into(), s("2026-01-01T00:00:00.000000Z")),
            ("updatedAt".into(), s("2026-01-02T00:00:00.000000Z")),
            ("isArchived".into(), AttributeValue::Bool(true)),
            ("userCount".into(), n(3)),
            ("ownerIssuer".into(), s("https://issuer")),
            ("ownerSubject".into(), s("alice")),
        ]);
        let projection = projected(&playground, PLAYGROUND_ATTRIBUTES);
        assert_eq!(projection.len(), 6, "every attribute named exists");
        assert_eq!(playground_of(&projection), playground_of(&playground));
        let user: Item = HashMap::from([
            ("tableId".into(), s("t")),
            ("username".into(), s("bob")),
            ("submissionCount".into(), n(5)),
            ("totalCount".into(), n(9)),
            ("lastUpdated".into(), s("2026-01-01T00:00:00.000000Z")),
        ]);
        let projection = projected(&user, USER_ATTRIBUTES);
        assert_eq!(projection.len(), 4);
        assert_eq!(user_of(&projection), user_of(&user));
    }

    #[test]
    fn old_rows_are_read_leniently() {
        let item: Item = HashMap::from([
            ("tableId".into(), s("t")),
            ("username".into(), s(METADATA_USERNAME)),
            ("userCount".into(), AttributeValue::N("3.0".into())),
            ("isArchived".into(), s("true")),
        ]);
        let p = playground_of(&item).unwrap();
        assert_eq!(p.user_count, 3);
        assert!(p.is_archived);
        assert_eq!(p.display_name, "t");
        assert!(user_of(&item).is_none(), "the metadata row is not a user");
    }
}
