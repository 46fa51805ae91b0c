//! Who is calling, and what they may change.
//!
//! Reads are public; every write needs an identity once auth is on. The identity always comes
//! from a *verified* token: on Lambda, API Gateway's JWT authorizer verified it and passes its
//! claims in the request context ([`lambda_claims`]), so the function never decodes a token
//! there; `function serve` has no gateway in front, so it verifies the bearer token itself
//! ([`jwt`]). Both paths end in the same [`Identity`] and the same rules ([`rules`]).

pub mod claims;
pub mod lambda_claims;
pub mod rules;

/// The token verification `function serve` uses, shared with `provisioner serve` through the
/// `jwtcheck` crate (see its docs for why it is a crate of its own), under its old paths.
pub use jwtcheck::{jwks, jwt, ring_verify};

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::config::ClaimNames;
use crate::error::ApiError;

pub use claims::Identity;
pub use jwt::JwtVerifier;

/// Where identities come from.
#[derive(Debug, Clone)]
pub enum Authenticator {
    /// Auth off: writes are open and record no owner (today's API).
    Off,
    /// On Lambda behind API Gateway's JWT authorizer: the verified claims of the request
    /// context.
    GatewayClaims(ClaimNames),
    /// `function serve`: the bearer token, verified here.
    Bearer(Arc<JwtVerifier>, ClaimNames),
}

/// The caller of a write: nobody in particular when auth is off, else a verified identity.
///
/// As an extractor it answers 401 when auth is on and the request carries no valid identity,
/// before the handler reads the body or calls DynamoDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Auth is off: every write is allowed and records no owner.
    Open,
    /// A verified identity.
    Known(Identity),
}

impl Caller {
    /// The identity, when auth is on.
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Self::Open => None,
            Self::Known(identity) => Some(identity),
        }
    }
}

impl Authenticator {
    /// The caller of a request with these parts.
    pub async fn caller(&self, parts: &Parts) -> Result<Caller, ApiError> {
        match self {
            Self::Off => Ok(Caller::Open),
            Self::GatewayClaims(names) => lambda_claims::identity(parts, names)
                .map(Caller::Known)
                .ok_or(ApiError::Unauthorized(
                    "Authentication required: the request carries no verified identity",
                )),
            Self::Bearer(verifier, names) => {
                let token = bearer_token(parts).ok_or(ApiError::Unauthorized(
                    "Authentication required: send Authorization: Bearer <token>",
                ))?;
                let claims = verifier.verify(token).await.map_err(|e| {
                    tracing::info!(reason = %e, "token refused");
                    ApiError::Unauthorized("Invalid or expired token")
                })?;
                Identity::from_json_claims(&claims, names)
                    .map(Caller::Known)
                    .ok_or(ApiError::Unauthorized(
                        "The token names no issuer and subject",
                    ))
            }
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.auth.caller(parts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(authorization: Option<&str>) -> Parts {
        let mut request = Request::builder().uri("/tables");
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively_and_nothing_else_is() {
        assert_eq!(bearer_token(&parts(Some("Bearer abc"))), Some("abc"));
        assert_eq!(bearer_token(&parts(Some("bearer  abc "))), Some("abc"));
        assert_eq!(bearer_token(&parts(Some("Basic abc"))), None);
        assert_eq!(bearer_token(&parts(Some("Bearer "))), None);
        assert_eq!(bearer_token(&parts(None)), None);
    }

    #[tokio::test]
    async fn gateway_mode_without_claims_is_401_and_off_is_open() {
        let off = Authenticator::Off.caller(&parts(None)).await.unwrap();
        assert_eq!(off, Caller::Open);
        let gateway = Authenticator::GatewayClaims(ClaimNames::default());
        assert!(matches!(
            gateway.caller(&parts(Some("Bearer x"))).await,
            Err(ApiError::Unauthorized(_))
        ));
    }
}
