//! The JSON shapes of the API's answers: a playground, a user, a page of either.
//!
//! Field names are the contract with existing clients; they must not change. A playground and
//! a user are written field by field straight into the body, a buffer sized from the strings
//! beforehand, exactly the bytes `serde_json` writes for them (the tests hold the two against
//! each other): through serde, a page of 50 cost about 3,700 instructions per item, most of
//! them in per-byte escaping and per-write buffer checks of field names that never need
//! escaping; here names are literals and a value is copied whole unless it needs escaping
//! (then `serde_json` escapes it). A page is cut to the body bound of [`crate::page_body`]
//! here, where the JSON is made.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::domain::{Playground, UserScores};
use crate::page_body::{ITEM_OVERHEAD_BYTES, escapable, fitting, json_str_len};
use crate::pagination::{TablesCursor, UsersCursor};

/// A field's value.
#[derive(Clone, Copy)]
enum Field<'a> {
    Text(&'a str),
    Number(u64),
    Flag(bool),
}

/// A JSON body being written.
struct Body(Vec<u8>);

impl Body {
    fn with_capacity(bytes: usize) -> Self {
        Self(Vec::with_capacity(bytes))
    }

    /// JSON text that needs no escaping (punctuation and field names). Inlined, so that a
    /// literal is copied as the constant it is, with no call to `memcpy`.
    #[inline(always)]
    fn raw(&mut self, text: &str) {
        self.0.extend_from_slice(text.as_bytes());
    }

    /// `text` as a JSON string, escaped as `serde_json` escapes it.
    fn string(&mut self, text: &str) {
        // DEL counts as escapable here, though `serde_json` writes it as it is: such a rare
        // string just takes the slow path to the same bytes.
        if escapable(text.as_bytes()) == 0 {
            self.0.reserve(text.len() + 2);
            self.0.push(b'"');
            self.0.extend_from_slice(text.as_bytes());
            self.0.push(b'"');
        } else {
            // Writing a string into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut self.0, text);
        }
    }

    /// A whole number, in decimal.
    fn number(&mut self, value: u64) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = value;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.0.extend_from_slice(&digits[start..]);
    }

    /// An object: each present field's value after its literal prefix (`{"name":` for the
    /// first, `,"name":` for the others), then `}`.
    fn object(&mut self, fields: &[(&str, Option<Field<'_>>)]) {
        for &(prefix, value) in fields {
            let Some(value) = value else { continue };
            self.raw(prefix);
            match value {
                Field::Text(text) => self.string(text),
                Field::Number(n) => self.number(n),
                Field::Flag(flag) => self.raw(if flag { "true" } else { "false" }),
            }
        }
        self.raw("}");
    }

    /// A playground: `{"tableId","displayName","createdAt","isArchived","userCount",
    /// "updatedAt"?}`.
    fn playground(&mut self, p: &Playground) {
        self.object(&[
            (r#"{"tableId":"#, Some(Field::Text(&p.table_id))),
            (r#","displayName":"#, Some(Field::Text(&p.display_name))),
            (r#","createdAt":"#, Some(Field::Text(&p.created_at))),
            (r#","isArchived":"#, Some(Field::Flag(p.is_archived))),
            (r#","userCount":"#, Some(Field::Number(p.user_count))),
            (r#","updatedAt":"#, p.updated_at.as_deref().map(Field::Text)),
        ]);
    }

    /// A user's scores: `{"username","submissionCount","totalCount","lastUpdated"}`.
    fn user(&mut self, u: &UserScores) {
        self.object(&[
            (r#"{"username":"#, Some(Field::Text(&u.username))),
            (
                r#","submissionCount":"#,
                Some(Field::Number(u.submission_count)),
            ),
            (r#","totalCount":"#, Some(Field::Number(u.total_count))),
            (r#","lastUpdated":"#, Some(Field::Text(&u.last_updated))),
        ]);
    }

    /// A page: `{"<field>":[items...],"lastKey"?:{...}}`.
    fn page<T>(
        mut self,
        field: &str,
        items: &[T],
        item: fn(&mut Self, &T),
        last_key: Option<Value>,
    ) -> Self {
        self.raw("{\"");
        self.raw(field);
        self.raw("\":[");
        for (i, one) in items.iter().enumerate() {
            if i > 0 {
                self.raw(",");
            }
            item(&mut self, one);
        }
        self.raw("]");
        if let Some(last_key) = last_key {
            self.raw(r#","lastKey":"#);
            // A map of strings into a Vec: cannot fail.
            let _ = serde_json::to_writer(&mut self.0, &last_key);
        }
        self.raw("}");
        self
    }

    /// The answer: status 200, `Content-Type: application/json`, as axum's [`Json`] answers.
    fn into_response(self) -> Response {
        json_response(self.0)
    }
}

/// A JSON body as axum's [`Json`] answers it (status 200, `Content-Type: application/json`).
fn json_response(body: Vec<u8>) -> Response {
    let json = HeaderValue::from_static("application/json");
    ([(header::CONTENT_TYPE, json)], body).into_response()
}

/// `value` as a JSON answer: the very response axum's [`Json`] makes (status 200,
/// `Content-Type: application/json`, the same bytes), serialised into a buffer of `capacity`
/// bytes where `Json` starts at 128 and grows by copying.
pub fn json<T: Serialize>(value: &T, capacity: usize) -> Response {
    let mut body = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => json_response(body),
        // Not reached by the API's shapes (string keys only); answered as `Json` answers it.
        Err(_) => Json(value).into_response(),
    }
}

/// `GET /tables/{tableId}`'s answer.
pub fn playground(p: &Playground) -> Response {
    let mut body = Body::with_capacity(playground_size(p));
    body.playground(p);
    body.into_response()
}

/// `GET /tables/{tableId}/users/{username}`'s answer.
pub fn user(u: &UserScores) -> Response {
    let mut body = Body::with_capacity(user_size(u));
    body.user(u);
    body.into_response()
}

/// An upper bound on the bytes of a playground's JSON.
fn playground_size(p: &Playground) -> usize {
    ITEM_OVERHEAD_BYTES
        + json_str_len(&p.table_id)
        + json_str_len(&p.display_name)
        + json_str_len(&p.created_at)
        + p.updated_at.as_deref().map_or(0, json_str_len)
}

/// An upper bound on the bytes of a user's JSON.
fn user_size(u: &UserScores) -> usize {
    ITEM_OVERHEAD_BYTES + json_str_len(&u.username) + json_str_len(&u.last_updated)
}

/// A `GET /tables` page, cut to the body bound; `next` is the store's cursor after the whole
/// page, replaced by the cursor after the last item kept when the page is cut.
pub fn tables_page(items: &[Playground], next: Option<TablesCursor>) -> Response {
    let (kept, bytes) = fitting(items, playground_size);
    let last_key = if kept < items.len() {
        items
            .get(kept.wrapping_sub(1))
            .map(|p| TablesCursor::after(p).to_json())
    } else {
        next.map(|c| c.to_json())
    };
    Body::with_capacity(bytes)
        .page("tables", &items[..kept], Body::playground, last_key)
        .into_response()
}

/// A `GET /tables/{tableId}/users` page, cut to the body bound like [`tables_page`].
pub fn users_page(table_id: &str, items: &[UserScores], next: Option<UsersCursor>) -> Response {
    let (kept, bytes) = fitting(items, user_size);
    let last_key = if kept < items.len() {
        items
            .get(kept.wrapping_sub(1))
            .map(|u| UsersCursor::after(u).to_json(table_id))
    } else {
        next.map(|c| c.to_json(table_id))
    };
    Body::with_capacity(bytes)
        .page("users", &items[..kept], Body::user, last_key)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The shapes as `serde_json` writes them, the reference the writer must match.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct PlaygroundOut<'a> {
        table_id: &'a str,
        display_name: &'a str,
        created_at: &'a str,
        is_archived: bool,
        user_count: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        updated_at: Option<&'a str>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct UserOut<'a> {
        username: &'a str,
        submission_count: u64,
        total_count: u64,
        last_updated: &'a str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct TablesPage<'a> {
        tables: Vec<PlaygroundOut<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_key: Option<Value>,
    }

    fn reference(p: &Playground) -> PlaygroundOut<'_> {
        PlaygroundOut {
            table_id: &p.table_id,
            display_name: &p.display_name,
            created_at: &p.created_at,
            is_archived: p.is_archived,
            user_count: p.user_count,
            updated_at: p.updated_at.as_deref(),
        }
    }

    fn written(write: impl FnOnce(&mut Body)) -> String {
        let mut body = Body::with_capacity(0);
        write(&mut body);
        String::from_utf8(body.0).unwrap()
    }

    proptest! {
        #[test]
        fn playgrounds_are_written_as_serde_json_writes_them(
            table_id in ".*", display_name in ".*", created_at in "[ -~\u{0}-\u{1f}\u{7f}é]*",
            updated_at in proptest::option::of(".*"), is_archived: bool, user_count: u64,
        ) {
            let p = Playground { table_id, display_name, created_at, updated_at, is_archived, user_count };
            let expected = serde_json::to_string(&reference(&p)).unwrap();
            prop_assert_eq!(written(|b| b.playground(&p)), expected);
        }

        #[test]
        fn users_are_written_as_serde_json_writes_them(
            username in ".*", last_updated in ".*", submission_count: u64, total_count: u64,
        ) {
            let u = UserScores { username, submission_count, total_count, last_updated };
            let expected = serde_json::to_string(&UserOut {
                username: &u.username,
                submission_count: u.submission_count,
                total_count: u.total_count,
                last_updated: &u.last_updated,
            }).unwrap();
            prop_assert_eq!(written(|b| b.user(&u)), expected);
        }
    }

    #[test]
    fn pages_are_written_as_serde_json_writes_them() {
        let p = |id: &str, updated: Option<&str>| Playground {
            table_id: id.into(),
            display_name: format!("name \"{id}\"\n"),
            created_at: "2026-01-01T00:00:00.000000Z".into(),
            updated_at: updated.map(str::to_string),
            is_archived: id == "b",
            user_count: 7,
        };
        let items = [p("a", None), p("b", Some("2026-01-02T00:00:00.000000Z"))];
        let cursor = TablesCursor::after(&items[1]).to_json();
        for (slice, last_key) in [
            (&items[..], None),
            (&items[..], Some(cursor.clone())),
            (&items[..0], Some(cursor)),
        ] {
            let expected = serde_json::to_string(&TablesPage {
                tables: slice.iter().map(reference).collect(),
                last_key: last_key.clone(),
            })
            .unwrap();
            let body = Body::with_capacity(0).page("tables", slice, Body::playground, last_key);
            assert_eq!(String::from_utf8(body.0).unwrap(), expected);
        }
    }
}
