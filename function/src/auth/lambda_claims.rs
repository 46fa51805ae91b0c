//! The identity API Gateway's JWT authorizer verified, from `requestContext.authorizer.jwt`.
//!
//! `lambda_http` puts the event's request context in the request's extensions; the claims
//! there were checked by API Gateway (signature, issuer, audience, expiry) before the
//! function was invoked, so they are trusted as they are and no token is decoded here. A
//! request without them (auth on, but a route not behind the authorizer) has no identity.

use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use super::Identity;
use crate::config::ClaimNames;

/// The verified identity of the request, if API Gateway passed claims.
pub fn identity(parts: &Parts, names: &ClaimNames) -> Option<Identity> {
    let RequestContext::ApiGatewayV2(context) = parts.extensions.get::<RequestContext>()? else {
        return None;
    };
    let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
    Identity::from_string_claims(|name| claims.get(name).map(String::as_str), names)
}
