//! One function per route: validate, call the store once or twice, shape the JSON answer.
//!
//! Field names and status codes are the contract with existing clients; they must not change.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::body::JsonObject;
use crate::config::Config;
use crate::domain::{Playground, UserScores};
use crate::error::ApiError;
use crate::pagination::{TablesCursor, UsersCursor, page_limit};
use crate::path_ids::{TableIdPath, UserPath};
use crate::store::{CreateOutcome, PutUserOutcome, UpdateOutcome};
use crate::validate;

/// The OpenAPI 3 description of this API, shipped in the binary.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::bad_request("Invalid path parameter: ids are 1 to 64 characters of [A-Za-z0-9_-]")
    }
}

impl From<QueryRejection> for ApiError {
    fn from(_: QueryRejection) -> Self {
        ApiError::bad_request("Invalid query string")
    }
}

/// A listing's `?limit=` (defaulted and clamped as configured) and `?lastKey=`.
fn page_params(params: Params, config: &Config) -> Result<(u32, Option<String>), ApiError> {
    let Query(mut params) = params?;
    let limit = page_limit(
        params.get("limit").map(String::as_str),
        config.page_limit_default,
        config.page_limit_max,
    );
    Ok((limit, params.remove("lastKey")))
}

fn playground_json(p: &Playground) -> Value {
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

fn user_json(u: &UserScores) -> Value {
    json!({
        "username": u.username,
        "submissionCount": u.submission_count,
        "totalCount": u.total_count,
        "lastUpdated": u.last_updated,
    })
}

fn page_json(field: &str, items: Vec<Value>, last_key: Option<Value>) -> Json<Value> {
    let mut body = Map::new();
    body.insert(field.to_string(), Value::Array(items));
    if let Some(key) = last_key {
        body.insert("lastKey".to_string(), key);
    }
    Json(Value::Object(body))
}

/// `POST /tables`
pub async fn create_table(
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let new = validate::new_playground(&body.0)?;
    match state.store.create_playground(&new).await? {
        CreateOutcome::Created => Ok((
            StatusCode::CREATED,
            Json(json!({
                "tableId": new.table_id,
                "displayName": new.display_name,
                "message": "Table created successfully",
            })),
        )
            .into_response()),
        CreateOutcome::AlreadyExists => Err(ApiError::Conflict("Table already exists")),
    }
}

/// `GET /tables`
pub async fn list_tables(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let (limit, last_key) = page_params(params, &state.config)?;
    let cursor = TablesCursor::decode(last_key.as_deref());
    let page = state.store.list_playgrounds(limit, cursor.as_ref()).await?;
    let items = page.items.iter().map(playground_json).collect();
    Ok(page_json("tables", items, page.next.map(|c| c.to_json())))
}

/// `GET /tables/{tableId}`
pub async fn get_table(
    State(state): State<AppState>,
    TableIdPath(table_id): TableIdPath,
) -> Result<Json<Value>, ApiError> {
    let table_id = table_id.as_str();
    match state.store.get_playground(table_id).await? {
        Some(p) => Ok(Json(playground_json(&p))),
        None => Err(ApiError::NotFound("Table not found")),
    }
}

/// `PATCH /tables/{tableId}`
pub async fn update_table(
    State(state): State<AppState>,
    TableIdPath(table_id): TableIdPath,
    body: JsonObject,
) -> Result<Json<Value>, ApiError> {
    let table_id = table_id.as_str();
    let patch = validate::playground_patch(&body.0)?;
    match state.store.update_playground(table_id, &patch).await? {
        UpdateOutcome::Updated => Ok(Json(json!({"message": "Table updated successfully"}))),
        UpdateOutcome::NotFound => Err(ApiError::NotFound("Table not found")),
    }
}

/// `GET /tables/{tableId}/users`
pub async fn list_users(
    State(state): State<AppState>,
    TableIdPath(table_id): TableIdPath,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let table_id = table_id.as_str();
    let (limit, last_key) = page_params(params, &state.config)?;
    let cursor = UsersCursor::decode(last_key.as_deref(), table_id);
    let page = state
        .store
        .list_users(table_id, limit, cursor.as_ref())
        .await?;
    // A user row is only ever written together with its playground's count (one transaction
    // that requires the playground), and playgrounds are never deleted: a page with users
    // proves the playground exists. Only an empty page needs the existence read, which keeps
    // the common listing at one DynamoDB call instead of two.
    if page.items.is_empty() && !state.store.playground_exists(table_id).await? {
        return Err(ApiError::NotFound("Table not found"));
    }
    let items = page.items.iter().map(user_json).collect();
    let last_key = page.next.map(|c| c.to_json(table_id));
    Ok(page_json("users", items, last_key))
}

/// `GET /tables/{tableId}/users/{username}`
pub async fn get_user(
    State(state): State<AppState>,
    path: UserPath,
) -> Result<Json<Value>, ApiError> {
    let (table_id, username) = (path.table_id.as_str(), path.username.as_str());
    if let Some(user) = state.store.get_user(table_id, username).await? {
        return Ok(Json(user_json(&user)));
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
    path: UserPath,
    body: JsonObject,
) -> Result<Json<Value>, ApiError> {
    let (table_id, username) = (path.table_id.as_str(), path.username.as_str());
    let scores = validate::scores(&body.0)?;
    match state.store.put_user(table_id, username, scores).await? {
        PutUserOutcome::Created | PutUserOutcome::Updated => Ok(Json(json!({
            "username": username,
            "submissionCount": scores.submission_count,
            "totalCount": scores.total_count,
            "message": "User data updated successfully",
        }))),
        PutUserOutcome::PlaygroundNotFound => Err(ApiError::NotFound("Table not found")),
    }
}

/// `GET /openapi.json`
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

/// Any path no route matches.
pub async fn route_not_found() -> ApiError {
    ApiError::NotFound("Route not found")
}

/// A known path with a method it does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
