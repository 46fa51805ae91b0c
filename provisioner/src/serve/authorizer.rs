//! The API's JWT authorizers, enforced before the function is invoked.
//!
//! "Controlling access to HTTP APIs with JWT authorizers" (API Gateway developer guide): the
//! token comes from the identity source (`$request.header.Authorization`, with or without
//! `Bearer `); it must be signed by a key of the issuer's JWKS and carry the configured issuer,
//! an allowed audience and an unexpired `exp`; otherwise the answer is 401
//! `{"message":"Unauthorized"}` and the function is not invoked. The claims of a valid token
//! reach the function in `requestContext.authorizer.jwt.claims`, every value as a string.
//!
//! The checks are the shared `jwtcheck` crate's, the very code `function serve` verifies with.
//! The keys come from `--jwks FILE` when given (a local issuer), else from the `jwks_uri` of the
//! issuer's OpenID configuration (`<issuer>/.well-known/openid-configuration`), as API Gateway
//! finds them.

use std::time::Duration;

use http::HeaderMap;
use jwtcheck::JwtVerifier;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::ServeError;

/// Bound on fetching the OpenID configuration.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_DISCOVERY_BYTES: usize = 64 * 1024;

/// One JWT authorizer as GetAuthorizers describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtConfig {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    /// The header the token is read from, lower case (`authorization`).
    pub header: String,
}

impl JwtConfig {
    /// The header named by an identity source `$request.header.NAME`; `None` for any other
    /// source, which this gateway cannot evaluate.
    pub fn header_of(identity_source: &str) -> Option<String> {
        identity_source
            .strip_prefix("$request.header.")
            .map(str::to_ascii_lowercase)
    }
}

/// An authorizer ready to verify.
#[derive(Debug)]
pub struct Authorizer {
    header: String,
    verifier: JwtVerifier,
}

#[derive(Deserialize)]
struct OpenIdConfiguration {
    jwks_uri: String,
}

impl Authorizer {
    /// Loads the keys of `config`'s issuer: `jwks` (a file or URL) when given, else discovered.
    pub async fn load(config: &JwtConfig, jwks: Option<&str>) -> Result<Self, ServeError> {
        let source = match jwks {
            Some(jwks) => jwks.to_string(),
            None => discover(&config.issuer).await?,
        };
        let verifier = JwtVerifier::new(config.issuer.clone(), config.audiences.clone(), &source)
            .await
            .map_err(|e| ServeError::Keys(config.name.clone(), e.to_string()))?;
        Ok(Self {
            header: config.header.clone(),
            verifier,
        })
    }

    /// The claims API Gateway passes on for a request with `headers`, or `None` (401).
    pub async fn authorize(&self, headers: &HeaderMap) -> Option<Map<String, Value>> {
        let value = headers.get(self.header.as_str())?.to_str().ok()?.trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        match self.verifier.verify(token).await {
            Ok(claims) => Some(string_claims(&claims)),
            Err(error) => {
                tracing::info!(%error, "JWT authorizer refused the token");
                None
            }
        }
    }
}

/// The issuer's `jwks_uri`, from its OpenID configuration.
async fn discover(issuer: &str) -> Result<String, ServeError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let failed = |detail: String| ServeError::Discovery {
        issuer: issuer.to_string(),
        detail,
    };
    let text = jwtcheck::fetch::get_text(&url, MAX_DISCOVERY_BYTES, DISCOVERY_TIMEOUT)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let config: OpenIdConfiguration =
        serde_json::from_str(&text).map_err(|e| failed(format!("{url}: {e}")))?;
    Ok(config.jwks_uri)
}

/// The claims as API Gateway passes them: strings stay, numbers and booleans become their
/// text, an array becomes `[a b]` (its items space-separated in brackets), an object its JSON.
pub fn string_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(flatten(value))))
        .collect()
}

fn flatten(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(flatten).collect();
            format!("[{}]", inner.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Controlling access to HTTP APIs with JWT authorizers": the claims reach the function as
    /// strings; an array claim flattened as API Gateway does (`[editors admin]`).
    #[test]
    fn claims_are_passed_as_strings() {
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"sub":"alice","exp":1795715600,"email_verified":true,
                "cognito:groups":["editors","admin"]}"#,
        )
        .unwrap();
        let out = string_claims(&claims);
        assert_eq!(out["sub"], "alice");
        assert_eq!(out["exp"], "1795715600");
        assert_eq!(out["email_verified"], "true");
        assert_eq!(out["cognito:groups"], "[editors admin]");
    }

    #[test]
    fn only_header_identity_sources_are_read() {
        assert_eq!(
            JwtConfig::header_of("$request.header.Authorization").as_deref(),
            Some("authorization")
        );
        assert_eq!(JwtConfig::header_of("$request.querystring.token"), None);
    }
}
