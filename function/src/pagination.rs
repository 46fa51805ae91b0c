//! Page size and the `lastKey` cursor of the two listings.
//!
//! A cursor is handed to the client as a plain JSON object and comes back JSON-encoded in
//! `?lastKey=`. Everything about it is untrusted: a cursor that does not parse, has the wrong
//! shape, or belongs to another playground is ignored and the first page is served, so a
//! client can never turn a bad cursor into a 500 or into a peek at another playground.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use crate::domain::{MAX_COUNT, Playground, UserScores};
use crate::validate::{is_valid_id, username};

/// Longest `createdAt` accepted in a cursor (ISO-8601 stamps are ~27 characters).
const MAX_TIMESTAMP_LEN: usize = 64;

/// The page size for `?limit=`: default when absent or not a whole number, else clamped to
/// `1..=max`.
pub fn page_limit(raw: Option<&str>, default: u32, max: u32) -> u32 {
    let Some(raw) = raw.map(str::trim) else {
        return default;
    };
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return default;
    }
    if negative {
        return 1;
    }
    // All digits: a parse failure can only be an overflow, which clamps to the max.
    digits
        .parse::<u64>()
        .map_or(max, |n| n.clamp(1, u64::from(max)) as u32)
}

/// A listing's page size (by [`page_limit`]) and cursor text, from its query string: the
/// last `limit` and the last `lastKey` count, as they did when the query was read into a map
/// (each pair overwriting the one before). Read pair by pair, with the percent-decoding
/// `serde_urlencoded` applies (`form_urlencoded`, which it uses), and no map: its hashing and
/// its copies of every name and value cost a listing about 2,000 instructions.
pub fn page_query(query: Option<&str>, default: u32, max: u32) -> (u32, Option<String>) {
    let (mut limit, mut last_key) = (None, None);
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*name {
            "limit" => limit = Some(value),
            "lastKey" => last_key = Some(value),
            _ => {}
        }
    }
    let limit = page_limit(limit.as_deref(), default, max);
    (limit, last_key.map(Cow::into_owned))
}

/// Position after the last playground of a `GET /tables` page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablesCursor {
    pub table_id: String,
    pub created_at: String,
}

impl TablesCursor {
    /// The position right after `playground`.
    pub fn after(playground: &Playground<'_>) -> Self {
        Self {
            table_id: playground.table_id.to_string(),
            created_at: playground.created_at.to_string(),
        }
    }

    /// The JSON value returned to the client as `lastKey`.
    pub fn to_json(&self) -> Value {
        json!({ "tableId": self.table_id, "createdAt": self.created_at })
    }

    /// Reads a `?lastKey=` value; `None` (first page) unless it is a well-formed cursor.
    pub fn decode(raw: Option<&str>) -> Option<Self> {
        let object = parse_object(raw?)?;
        let table_id = string_field(&object, "tableId").filter(|id| is_valid_id(id))?;
        let created_at = string_field(&object, "createdAt")
            .filter(|t| !t.is_empty() && t.len() <= MAX_TIMESTAMP_LEN)?;
        Some(Self {
            table_id,
            created_at,
        })
    }
}

/// Position after the last user of a `GET /tables/{tableId}/users` page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersCursor {
    pub username: String,
    pub submission_count: u64,
}

impl UsersCursor {
    /// The position right after `user`.
    pub fn after(user: &UserScores<'_>) -> Self {
        Self {
            username: user.username.to_string(),
            submission_count: user.submission_count,
        }
    }

    /// The JSON value returned to the client as `lastKey`; it names its playground so that it
    /// is recognised as foreign when sent to another one.
    pub fn to_json(&self, table_id: &str) -> Value {
        json!({
            "tableId": table_id,
            "username": self.username,
            "submissionCount": self.submission_count.to_string(),
        })
    }

    /// Reads a `?lastKey=` value for playground `table_id`; `None` (first page) unless it is a
    /// well-formed cursor of that playground.
    pub fn decode(raw: Option<&str>, table_id: &str) -> Option<Self> {
        let object = parse_object(raw?)?;
        if string_field(&object, "tableId")? != table_id {
            return None;
        }
        let name = string_field(&object, "username")?;
        username(&name).ok()?;
        let submission_count = match object.get("submissionCount")? {
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse::<u64>().ok()?
            }
            Value::Number(n) => n.as_u64()?,
            _ => return None,
        };
        (submission_count <= MAX_COUNT).then_some(Self {
            username: name,
            submission_count,
        })
    }
}

fn parse_object(raw: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(raw).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn string_field(object: &Map<String, Value>, field: &str) -> Option<String> {
    object.get(field)?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limit_defaults_and_clamps() {
        assert_eq!(page_limit(None, 50, 500), 50);
        assert_eq!(page_limit(Some("abc"), 50, 500), 50);
        assert_eq!(page_limit(Some("3.5"), 50, 500), 50);
        assert_eq!(page_limit(Some(""), 50, 500), 50);
        assert_eq!(page_limit(Some("7"), 50, 500), 7);
        assert_eq!(page_limit(Some("0"), 50, 500), 1);
        assert_eq!(page_limit(Some("-4"), 50, 500), 1);
        assert_eq!(page_limit(Some("501"), 50, 500), 500);
        assert_eq!(page_limit(Some("99999999999999999999999"), 50, 500), 500);
    }

    #[test]
    fn tables_cursor_round_trips() {
        let c = TablesCursor {
            table_id: "t-1".into(),
            created_at: "2026-01-01T00:00:00.000000Z".into(),
        };
        let text = c.to_json().to_string();
        assert_eq!(TablesCursor::decode(Some(&text)), Some(c));
    }

    #[test]
    fn users_cursor_round_trips_and_rejects_foreign_playgrounds() {
        let c = UsersCursor {
            username: "alice".into(),
            submission_count: 12,
        };
        let text = c.to_json("t1").to_string();
        assert_eq!(UsersCursor::decode(Some(&text), "t1"), Some(c));
        assert_eq!(UsersCursor::decode(Some(&text), "t2"), None);
    }

    #[test]
    fn malformed_cursors_mean_first_page() {
        for raw in [
            "",
            "garbage",
            "[]",
            "{}",
            "null",
            r#"{"tableId": 3, "createdAt": "x"}"#,
            r#"{"tableId": "bad id", "createdAt": "x"}"#,
            r#"{"tableId": "t", "createdAt": ""}"#,
        ] {
            assert_eq!(TablesCursor::decode(Some(raw)), None, "{raw}");
        }
        for raw in [
            r#"{"tableId": "t1", "username": "_metadata", "submissionCount": "1"}"#,
            r#"{"tableId": "t1", "username": "a", "submissionCount": "-1"}"#,
            r#"{"tableId": "t1", "username": "a", "submissionCount": 1.5}"#,
            r#"{"tableId": "t1", "username": "a"}"#,
        ] {
            assert_eq!(UsersCursor::decode(Some(raw), "t1"), None, "{raw}");
        }
    }

    /// [`page_query`] the way the handlers read a query before: into a map, through axum's
    /// `Query` extractor.
    fn through_a_map(query: &str) -> (u32, Option<String>) {
        use std::collections::HashMap;
        let uri: axum::http::Uri = format!("/tables?{query}").parse().unwrap();
        let axum::extract::Query(mut params) =
            axum::extract::Query::<HashMap<String, String>>::try_from_uri(&uri).unwrap();
        let limit = page_limit(params.get("limit").map(String::as_str), 50, 500);
        (limit, params.remove("lastKey"))
    }

    #[test]
    fn queries_read_as_through_a_map() {
        for query in [
            "",
            "limit=5",
            "limit=5&limit=7",
            "lastKey=%7B%22a%22%3A1%7D&limit=2",
            "lastKey=a+b&lastKey=c",
            "limit",
            "li%6Dit=3",
            "x=1&limit=%FF",
        ] {
            assert_eq!(
                page_query(Some(query), 50, 500),
                through_a_map(query),
                "{query}"
            );
        }
        assert_eq!(page_query(None, 50, 500), (50, None));
    }

    proptest! {
        #[test]
        fn any_query_reads_as_through_a_map(
            query in "((limit|lastKey|li%6dit|x|)(=([a-z0-9+&;=]|%[0-9A-Fa-f]{2}|%){0,6})?&?){0,4}",
        ) {
            prop_assert_eq!(page_query(Some(&query), 50, 500), through_a_map(&query));
        }

        #[test]
        fn any_text_decodes_without_panicking(raw in ".*") {
            let _ = TablesCursor::decode(Some(&raw));
            let _ = UsersCursor::decode(Some(&raw), "t1");
        }

        #[test]
        fn limit_is_always_in_range(raw in ".*") {
            let n = page_limit(Some(&raw), 50, 500);
            prop_assert!((1..=500).contains(&n));
        }
    }
}
