//! The JSON shapes of the API's answers: a playground, a user, a page of either.
//!
//! Field names are the contract with existing clients; they must not change. The shapes are
//! structs serialised straight to the body (no intermediate `serde_json::Value` maps: a page
//! of 50 built as maps cost more CPU than everything else the handler does). A page is cut to
//! the body bound of [`crate::page_body`] here, where the JSON is made.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::domain::{Playground, UserScores};
use crate::page_body::{ITEM_OVERHEAD_BYTES, fitting, json_str_len};
use crate::pagination::{TablesCursor, UsersCursor};

/// A playground as the API shows it.
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

impl<'a> From<&'a Playground> for PlaygroundOut<'a> {
    fn from(p: &'a Playground) -> Self {
        Self {
            table_id: &p.table_id,
            display_name: &p.display_name,
            created_at: &p.created_at,
            is_archived: p.is_archived,
            user_count: p.user_count,
            updated_at: p.updated_at.as_deref(),
        }
    }
}

/// One user's scores as the API shows them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserOut<'a> {
    username: &'a str,
    submission_count: u64,
    total_count: u64,
    last_updated: &'a str,
}

impl<'a> From<&'a UserScores> for UserOut<'a> {
    fn from(u: &'a UserScores) -> Self {
        Self {
            username: &u.username,
            submission_count: u.submission_count,
            total_count: u.total_count,
            last_updated: &u.last_updated,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TablesPage<'a> {
    tables: Vec<PlaygroundOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_key: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsersPage<'a> {
    users: Vec<UserOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_key: Option<Value>,
}

/// `GET /tables/{tableId}`'s answer.
pub fn playground(p: &Playground) -> Response {
    Json(PlaygroundOut::from(p)).into_response()
}

/// `GET /tables/{tableId}/users/{username}`'s answer.
pub fn user(u: &UserScores) -> Response {
    Json(UserOut::from(u)).into_response()
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
    let kept = fitting(items, playground_size);
    let last_key = if kept < items.len() {
        items
            .get(kept.wrapping_sub(1))
            .map(|p| TablesCursor::after(p).to_json())
    } else {
        next.map(|c| c.to_json())
    };
    let tables = items[..kept].iter().map(PlaygroundOut::from).collect();
    Json(TablesPage { tables, last_key }).into_response()
}

/// A `GET /tables/{tableId}/users` page, cut to the body bound like [`tables_page`].
pub fn users_page(table_id: &str, items: &[UserScores], next: Option<UsersCursor>) -> Response {
    let kept = fitting(items, user_size);
    let last_key = if kept < items.len() {
        items
            .get(kept.wrapping_sub(1))
            .map(|u| UsersCursor::after(u).to_json(table_id))
    } else {
        next.map(|c| c.to_json(table_id))
    };
    let users = items[..kept].iter().map(UserOut::from).collect();
    Json(UsersPage { users, last_key }).into_response()
}
