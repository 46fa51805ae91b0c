//! The JSON shapes of the API's answers: a playground, a user, a page of either.
//!
//! Field names are the contract with existing clients; they must not change. A page is cut
//! to the body bound of [`crate::page_body`] here, where the JSON is made.

use axum::Json;
use serde_json::{Map, Value, json};

use crate::domain::{Playground, UserScores};
use crate::page_body::{ITEM_OVERHEAD_BYTES, fitting, json_str_len};

pub fn playground_json(p: &Playground) -> Value {
    let mut body = json!({
        "tableId": p.table_id,
        "displayName": p.display_name,
        "createdAt": p.created_at,
        "isArchived": p.is_archived,
        "userCount": p.user_count,
    });
    if let (Some(updated), Some(object)) = (&p.updated_at, body.as_object_mut()) {
        object.insert("updatedAt".into(), json!(updated));
    }
    body
}

/// An upper bound on the bytes of [`playground_json`].
fn playground_size(p: &Playground) -> usize {
    ITEM_OVERHEAD_BYTES
        + json_str_len(&p.table_id)
        + json_str_len(&p.display_name)
        + json_str_len(&p.created_at)
        + p.updated_at.as_deref().map_or(0, json_str_len)
}

pub fn user_json(u: &UserScores) -> Value {
    json!({
        "username": u.username,
        "submissionCount": u.submission_count,
        "totalCount": u.total_count,
        "lastUpdated": u.last_updated,
    })
}

/// An upper bound on the bytes of [`user_json`].
fn user_size(u: &UserScores) -> usize {
    ITEM_OVERHEAD_BYTES + json_str_len(&u.username) + json_str_len(&u.last_updated)
}

/// A listing page `{field: [...], "lastKey"?}` of `items` cut to the body bound; `next` is
/// the store's cursor after the whole page, `after` the cursor after one item, used when the
/// page is cut.
fn page<T, C>(
    field: &str,
    items: &[T],
    next: Option<C>,
    to_json: fn(&T) -> Value,
    size: fn(&T) -> usize,
    after: impl Fn(&T) -> Value,
    encode: impl Fn(C) -> Value,
) -> Json<Value> {
    let kept = fitting(items, size);
    let last_key = if kept < items.len() {
        items.get(kept.wrapping_sub(1)).map(after)
    } else {
        next.map(encode)
    };
    let mut body = Map::new();
    body.insert(
        field.to_string(),
        Value::Array(items[..kept].iter().map(to_json).collect()),
    );
    if let Some(key) = last_key {
        body.insert("lastKey".to_string(), key);
    }
    Json(Value::Object(body))
}

/// A `GET /tables` page.
pub fn tables_page(
    items: &[Playground],
    next: Option<crate::pagination::TablesCursor>,
) -> Json<Value> {
    use crate::pagination::TablesCursor;
    page(
        "tables",
        items,
        next,
        playground_json,
        playground_size,
        |p| TablesCursor::after(p).to_json(),
        |c| c.to_json(),
    )
}

/// A `GET /tables/{tableId}/users` page.
pub fn users_page(
    table_id: &str,
    items: &[UserScores],
    next: Option<crate::pagination::UsersCursor>,
) -> Json<Value> {
    use crate::pagination::UsersCursor;
    page(
        "users",
        items,
        next,
        user_json,
        user_size,
        |u| UsersCursor::after(u).to_json(table_id),
        |c| c.to_json(table_id),
    )
}
