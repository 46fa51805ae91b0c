//! The ids in a request's path, validated before a handler sees them.
//!
//! Every route under `/tables/{tableId}` needs the same two steps (take the path apart, check
//! each id); doing them in an extractor keeps the handlers to their one job and answers a bad
//! id with the same JSON 400 everywhere.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::validate;

/// `/tables/{tableId}`: a valid playground id.
#[derive(Debug, Clone)]
pub struct TableIdPath(pub String);

/// `/tables/{tableId}/users/{username}`: a valid playground id and a valid, unreserved
/// username.
#[derive(Debug, Clone)]
pub struct UserPath {
    pub table_id: String,
    pub username: String,
}

impl<S: Send + Sync> FromRequestParts<S> for TableIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(table_id) = Path::<String>::from_request_parts(parts, state).await?;
        validate::table_id(&table_id)?;
        Ok(Self(table_id))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UserPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((table_id, username)) =
            Path::<(String, String)>::from_request_parts(parts, state).await?;
        validate::table_id(&table_id)?;
        validate::username(&username)?;
        Ok(Self { table_id, username })
    }
}
