//! One function per route: validate, call the store once or twice, shape the JSON answer.
//!
//! Field names and status codes are the contract with existing clients; they must not change.

use axum::extract::rejection::PathRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::AppState;
use crate::auth::Caller;
use crate::body::JsonObject;
use crate::config::Config;
use crate::error::ApiError;
use crate::pagination::{TablesCursor, UsersCursor, page_query};
use crate::path_ids::{TableIdPath, UserPath};
use crate::responses;
use crate::store::{ChangeOutcome, CreateOutcome, PutUserOutcome, Row};
use crate::validate;

/// The OpenAPI 3 description of this API, shipped in the binary.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::bad_request("Invalid path parameter: ids are 1 to 64 characters of [A-Za-z0-9_-]")
    }
}

/// A listing's `?limit=` (defaulted and clamped as configured) and `?lastKey=`.
fn page_params(query: Option<&str>, config: &Config) -> (u32, Option<String>) {
    page_query(query, config.page_limit_default, config.page_limit_max)
}

/// `POST /tables`
pub async fn create_table(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let new = validate::new_playground(&body.0)?;
    let owner = caller.identity();
    match state.store.create_playground(&new, owner).await? {
        CreateOutcome::Created => {
            let created = Created {
                display_name: &new.display_name,
                message: "Table created successfully",
                table_id: &new.table_id,
            };
            let capacity = 64 + 6 * (new.display_name.len() + new.table_id.len());
            Ok((StatusCode::CREATED, responses::json(&created, capacity)).into_response())
        }
        CreateOutcome::AlreadyExists => Err(ApiError::Conflict("Table already exists")),
    }
}

/// `POST /tables`'s answer. Fields in name order, as the `serde_json` map this answer was
/// built as before put them: the bytes are unchanged.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created<'a> {
    display_name: &'a str,
    message: &'static str,
    table_id: &'a str,
}

/// `PUT .../users/{username}`'s answer, fields in name order like [`Created`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserWritten<'a> {
    message: &'static str,
    submission_count: u64,
    total_count: u64,
    username: &'a str,
}

/// The answer that is only a message.
#[derive(Serialize)]
struct Message {
    message: &'static str,
}

/// `GET /tables`
pub async fn list_tables(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (limit, last_key) = page_params(query.as_deref(), &state.config);
    let cursor = TablesCursor::decode(last_key.as_deref());
    let rows = state.store.list_playgrounds(limit, cursor.as_ref()).await?;
    let page = rows.page();
    Ok(responses::tables_page(&page.items, page.next))
}

/// `GET /tables/{tableId}`
pub async fn get_table(
    State(state): State<AppState>,
    TableIdPath(table_id): TableIdPath,
) -> Result<Response, ApiError> {
    let table_id = table_id.as_str();
    let row = state.store.get_playground(table_id).await?;
    match row.as_ref().and_then(Row::value) {
        Some(p) => Ok(responses::playground(&p)),
        None => Err(ApiError::NotFound("Table not found")),
    }
}

/// `PATCH /tables/{tableId}`
pub async fn update_table(
    State(state): State<AppState>,
    caller: Caller,
    TableIdPath(table_id): TableIdPath,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let table_id = table_id.as_str();
    let patch = validate::playground_patch(&body.0)?;
    let outcome = state
        .store
        .update_playground(table_id, &patch, caller.owner_check())
        .await?;
    changed(outcome, "Table updated successfully")
}

/// `DELETE /tables/{tableId}`
pub async fn delete_table(
    State(state): State<AppState>,
    caller: Caller,
    TableIdPath(table_id): TableIdPath,
) -> Result<Response, ApiError> {
    let outcome = state
        .store
        .delete_playground(&table_id, caller.owner_check())
        .await?;
    changed(outcome, "Table deleted successfully")
}

/// The answer to a change of a playground that its owner or an admin may make.
fn changed(outcome: ChangeOutcome, message: &'static str) -> Result<Response, ApiError> {
    match outcome {
        ChangeOutcome::Done => Ok(responses::json(&Message { message }, 64)),
        ChangeOutcome::NotFound => Err(ApiError::NotFound("Table not found")),
        ChangeOutcome::Forbidden => Err(ApiError::Forbidden(
            "Only the playground's owner or an admin may change it",
        )),
    }
}

/// `GET /tables/{tableId}/users`
pub async fn list_users(
    State(state): State<AppState>,
    TableIdPath(table_id): TableIdPath,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let table_id = table_id.as_str();
    let (limit, last_key) = page_params(query.as_deref(), &state.config);
    let cursor = UsersCursor::decode(last_key.as_deref(), table_id);
    let rows = state
        .store
        .list_users(table_id, limit, cursor.as_ref())
        .await?;
    let page = rows.page();
    // A user row is only ever written together with its playground's count (one transaction
    // that requires the playground), and a deletion removes the users before the playground:
    // a page with users proves the playground exists (or is being deleted). Only an empty
    // page needs the existence read, which keeps the common listing at one DynamoDB call.
    if page.items.is_empty() && !state.store.playground_exists(table_id).await? {
        return Err(ApiError::NotFound("Table not found"));
    }
    Ok(responses::users_page(table_id, &page.items, page.next))
}

/// `GET /tables/{tableId}/users/{username}`
pub async fn get_user(State(state): State<AppState>, path: UserPath) -> Result<Response, ApiError> {
    let (table_id, username) = (path.table_id.as_str(), path.username.as_str());
    let row = state.store.get_user(table_id, username).await?;
    if let Some(user) = row.as_ref().and_then(Row::value) {
        return Ok(responses::user(&user));
    }
    if state.store.playground_exists(table_id).await? {
        Err(ApiError::NotFound("User not found in table"))
    } else {
        Err(ApiError::NotFound("Table not found"))
    }
}

/// `PUT /tables/{tableId}/users/{username}`
pub async fn put_user(
    State(state): State<AppState>,
    caller: Caller,
    path: UserPath,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let (table_id, username) = (path.table_id.as_str(), path.username.as_str());
    caller.may_write_user(username)?;
    let scores = validate::scores(&body.0)?;
    match state.store.put_user(table_id, username, scores).await? {
        PutUserOutcome::Created | PutUserOutcome::Updated => {
            let written = UserWritten {
                message: "User data updated successfully",
                submission_count: scores.submission_count,
                total_count: scores.total_count,
                username,
            };
            Ok(responses::json(&written, 192))
        }
        PutUserOutcome::PlaygroundNotFound => Err(ApiError::NotFound("Table not found")),
    }
}

/// `GET /openapi.json`
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

/// `GET /health`'s answer, the bytes `serde_json` wrote for it: a constant.
const HEALTH_JSON: &str = concat!(
    r#"{"status":"ok","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""}"#
);

/// `GET /health`: liveness and the version, no DynamoDB call.
pub async fn health() -> Response {
    let json = HeaderValue::from_static("application/json");
    ([(header::CONTENT_TYPE, json)], HEALTH_JSON).into_response()
}

/// Any path no route matches.
pub async fn route_not_found() -> ApiError {
    ApiError::NotFound("Route not found")
}

/// A known path with a method it does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
