//! The JSON shapes of the API's answers: a playground, a user, a page of either.
//!
//! Field names are the contract with existing clients; they must not change. A playground and
//! a user are written field by field straight into the body, exactly the bytes `serde_json`
//! writes for them (the tests hold the two against each other): through serde, a page of 50
//! cost about 3,700 instructions per item, most of them in per-byte escaping and per-write
//! buffer checks of field names that never need escaping; here names are literals and a value
//! is copied whole unless it needs escaping (then `serde_json` escapes it). A page is cut to
//! the body bound of [`crate::page_body`] here, as its JSON is written.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::domain::{Playground, UserScores};
use crate::json_body::Body;
use crate::page_body::{ITEM_OVERHEAD_BYTES, page_capacity, within_bound};
use crate::pagination::{TablesCursor, UsersCursor};

/// The API's shapes, written with [`Body`]'s pieces.
impl Body {
    /// A playground: `{"tableId","displayName","createdAt","isArchived","userCount",
    /// "updatedAt"?}`, written straight through (a table of fields to loop over cost a page
    /// of 50 about 5,000 instructions more).
    fn playground(&mut self, p: &Playground<'_>) {
        self.raw(r#"{"tableId":"#);
        self.string(p.table_id);
        self.raw(r#","displayName":"#);
        self.string(p.display_name);
        self.raw(r#","createdAt":"#);
        self.string(p.created_at);
        self.raw(if p.is_archived {
            r#","isArchived":true,"userCount":"#
        } else {
            r#","isArchived":false,"userCount":"#
        });
        self.number(p.user_count);
        if let Some(updated_at) = p.updated_at {
            self.raw(r#","updatedAt":"#);
            self.string(updated_at);
        }
        self.raw("}");
    }

    /// A user's scores: `{"username","submissionCount","totalCount","lastUpdated"}`.
    fn user(&mut self, u: &UserScores<'_>) {
        self.raw(r#"{"username":"#);
        self.string(u.username);
        self.raw(r#","submissionCount":"#);
        self.number(u.submission_count);
        self.raw(r#","totalCount":"#);
        self.number(u.total_count);
        self.raw(r#","lastUpdated":"#);
        self.string(u.last_updated);
        self.raw("}");
    }

    /// A page's start and items, `{"<field>":[items...]`: each item is written and kept while
    /// the body stays within the bound; the first that passes it is taken back and ends the
    /// page (the first item is always kept, so paging advances: one DynamoDB item is at most
    /// 400 KB). Returns how many items were kept.
    fn items<T>(&mut self, field: &str, items: &[T], item: fn(&mut Self, &T)) -> usize {
        self.raw("{\"");
        self.raw(field);
        self.raw("\":[");
        for (kept, one) in items.iter().enumerate() {
            let start = self.len();
            if kept > 0 {
                self.raw(",");
            }
            item(self, one);
            if kept > 0 && !within_bound(self.len()) {
                self.cut(start);
                return kept;
            }
        }
        items.len()
    }

    /// A page's end, `],"lastKey"?:{...}}`.
    fn end_page(&mut self, last_key: Option<Value>) {
        self.raw("]");
        if let Some(last_key) = last_key {
            self.raw(r#","lastKey":"#);
            self.serialized(&last_key);
        }
        self.raw("}");
    }

    /// The answer: status 200, `Content-Type: application/json`, as axum's [`Json`] answers.
    fn into_response(self) -> Response {
        json_response(self.into_bytes())
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
pub fn playground(p: &Playground<'_>) -> Response {
    let mut body = Body::with_capacity(ITEM_OVERHEAD_BYTES + playground_strings(p));
    body.playground(p);
    body.into_response()
}

/// `GET /tables/{tableId}/users/{username}`'s answer.
pub fn user(u: &UserScores<'_>) -> Response {
    let mut body = Body::with_capacity(ITEM_OVERHEAD_BYTES + user_strings(u));
    body.user(u);
    body.into_response()
}

/// The bytes of a playground's strings, unescaped: with [`ITEM_OVERHEAD_BYTES`], its JSON's
/// size unless a string needs escaping.
fn playground_strings(p: &Playground<'_>) -> usize {
    p.table_id.len() + p.display_name.len() + p.created_at.len() + p.updated_at.map_or(0, str::len)
}

/// The bytes of a user's strings, unescaped, like [`playground_strings`].
fn user_strings(u: &UserScores<'_>) -> usize {
    u.username.len() + u.last_updated.len()
}

/// A `GET /tables` page, cut to the body bound; `next` is the store's cursor after the whole
/// page, replaced by the cursor after the last item kept when the page is cut.
pub fn tables_page(items: &[Playground<'_>], next: Option<TablesCursor>) -> Response {
    let after = |p: &Playground<'_>| TablesCursor::after(p).to_json();
    let next = next.map(|c| c.to_json());
    page(
        "tables",
        items,
        Body::playground,
        playground_strings,
        after,
        next,
    )
}

/// A `GET /tables/{tableId}/users` page, cut to the body bound like [`tables_page`].
pub fn users_page(table_id: &str, items: &[UserScores<'_>], next: Option<UsersCursor>) -> Response {
    let after = |u: &UserScores<'_>| UsersCursor::after(u).to_json(table_id);
    let next = next.map(|c| c.to_json(table_id));
    page("users", items, Body::user, user_strings, after, next)
}

/// A page of `items` under `field`, each written by `write` (its strings' bytes told by
/// `strings`), cut to the body bound: its `lastKey` is `next`, or the cursor `after` the last
/// item kept when the page is cut.
fn page<T>(
    field: &str,
    items: &[T],
    write: fn(&mut Body, &T),
    strings: fn(&T) -> usize,
    after: impl Fn(&T) -> Value,
    next: Option<Value>,
) -> Response {
    let capacity = page_capacity(items.len(), items.iter().map(strings).sum());
    let mut body = Body::with_capacity(capacity);
    let kept = body.items(field, items, write);
    let last_key = if kept < items.len() {
        items.get(kept.wrapping_sub(1)).map(after)
    } else {
        next
    };
    body.end_page(last_key);
    body.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_body::written;
    use crate::page_body::MAX_PAGE_BODY_BYTES;
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

    fn reference<'a>(p: &Playground<'a>) -> PlaygroundOut<'a> {
        PlaygroundOut {
            table_id: p.table_id,
            display_name: p.display_name,
            created_at: p.created_at,
            is_archived: p.is_archived,
            user_count: p.user_count,
            updated_at: p.updated_at,
        }
    }

    proptest! {
        #[test]
        fn playgrounds_are_written_as_serde_json_writes_them(
            table_id in ".*", display_name in ".*", created_at in "[ -~\u{0}-\u{1f}\u{7f}é]*",
            updated_at in proptest::option::of(".*"), is_archived: bool, user_count: u64,
        ) {
            let p = Playground {
                table_id: &table_id, display_name: &display_name, created_at: &created_at,
                updated_at: updated_at.as_deref(), is_archived, user_count,
            };
            let expected = serde_json::to_string(&reference(&p)).unwrap();
            prop_assert_eq!(written(|b| b.playground(&p)), expected);
        }

        #[test]
        fn users_are_written_as_serde_json_writes_them(
            username in ".*", last_updated in ".*", submission_count: u64, total_count: u64,
        ) {
            let u = UserScores {
                username: &username, submission_count, total_count, last_updated: &last_updated,
            };
            let expected = serde_json::to_string(&UserOut {
                username: u.username,
                submission_count: u.submission_count,
                total_count: u.total_count,
                last_updated: u.last_updated,
            }).unwrap();
            prop_assert_eq!(written(|b| b.user(&u)), expected);
        }
    }

    #[test]
    fn pages_are_written_as_serde_json_writes_them() {
        let names = ["name \"a\"\n", "name \"b\"\n"];
        let p = |i: usize, id, updated| Playground {
            table_id: id,
            display_name: names[i],
            created_at: "2026-01-01T00:00:00.000000Z",
            updated_at: updated,
            is_archived: id == "b",
            user_count: 7,
        };
        let items = [
            p(0, "a", None),
            p(1, "b", Some("2026-01-02T00:00:00.000000Z")),
        ];
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
            let mut body = Body::with_capacity(0);
            assert_eq!(body.items("tables", slice, Body::playground), slice.len());
            body.end_page(last_key);
            assert_eq!(String::from_utf8(body.into_bytes()).unwrap(), expected);
        }
    }

    proptest! {
        #[test]
        fn strings_longer_than_the_stage_are_written_whole(
            table_id in "[a-z]{0,300}", display_name in "[ -~]{0,600}", user_count: u64,
        ) {
            let p = Playground {
                table_id: &table_id, display_name: &display_name,
                created_at: "2026-01-01T00:00:00.000000Z", updated_at: None, is_archived: false,
                user_count,
            };
            let expected = serde_json::to_string(&reference(&p)).unwrap();
            prop_assert_eq!(written(|b| b.playground(&p)), expected);
        }
    }

    /// The body of `response`, as JSON text.
    async fn text(response: Response) -> String {
        let body = axum::body::to_bytes(response.into_body(), usize::MAX);
        String::from_utf8(body.await.unwrap().to_vec()).unwrap()
    }

    fn named<'a>(id: &'a str, display_name: &'a str) -> Playground<'a> {
        Playground {
            table_id: id,
            display_name,
            created_at: "2026-01-01T00:00:00.000000Z",
            updated_at: None,
            is_archived: false,
            user_count: 0,
        }
    }

    #[tokio::test]
    async fn small_pages_are_whole_and_large_ones_cut_under_the_bound() {
        let ids: Vec<String> = (0..500).map(|i| format!("t{i}")).collect();
        let small: Vec<Playground> = ids.iter().map(|id| named(id, "name")).collect();
        let page: Value = serde_json::from_str(&text(tables_page(&small, None)).await).unwrap();
        assert_eq!(page["tables"].as_array().unwrap().len(), 500);
        assert!(page.get("lastKey").is_none());

        // Escaped names grow past the capacity reserved from their unescaped bytes.
        let big = "\\x\"".repeat(8 * 1024);
        let names: Vec<Playground> = ids[..100].iter().map(|id| named(id, &big)).collect();
        let raw = text(tables_page(&names, None)).await;
        assert!(raw.len() < MAX_PAGE_BODY_BYTES, "{} bytes", raw.len());
        let page: Value = serde_json::from_str(&raw).unwrap();
        let kept = page["tables"].as_array().unwrap();
        assert!(kept.len() > 1 && kept.len() < names.len(), "{}", kept.len());
        let last = &names[kept.len() - 1];
        assert_eq!(kept.last().unwrap()["tableId"], last.table_id);
        assert_eq!(page["lastKey"], TablesCursor::after(last).to_json());
        // Another item would not have fitted with the envelope's end.
        let escaped = serde_json::to_string(&big).unwrap().len();
        assert!(!within_bound(raw.len() + escaped + 100));
    }

    #[tokio::test]
    async fn one_item_always_fits() {
        let name = "y".repeat(MAX_PAGE_BODY_BYTES);
        let huge = vec![named("t", &name)];
        let page: Value = serde_json::from_str(&text(tables_page(&huge, None)).await).unwrap();
        assert_eq!(page["tables"].as_array().unwrap().len(), 1);
        assert!(page.get("lastKey").is_none());
    }
}
