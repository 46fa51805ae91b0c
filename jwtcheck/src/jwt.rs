//! Bearer-token verification for `function serve`, where no API Gateway verifies for us.
//!
//! The same checks API Gateway's JWT authorizer makes: signature by a key of the issuer's
//! JWKS chosen by the token's `kid`, algorithm RS256 or ES256 (the key's own, never one the
//! token picks), `iss`, `aud`, `exp` and `nbf` with [`LEEWAY_SECONDS`] of clock skew.
//! Anything wrong is one error for the caller (401), never a panic or a 500.

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde_json::{Map, Value};

use crate::jwks::{JwksError, KeyStore};
use crate::ring_verify;

/// Clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 60;

/// Why a token was refused (logged, never shown beyond "invalid token").
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token or header: {0}")]
    Malformed(String),
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(Algorithm),
    #[error("the token names no kid")]
    NoKid,
    #[error("no key {0:?} in the issuer's JWKS")]
    UnknownKid(String),
    #[error("algorithm {token:?} does not match key {kid:?} ({key:?})")]
    KeyMismatch {
        kid: String,
        token: Algorithm,
        key: Algorithm,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Verifies tokens of one issuer for a set of audiences.
#[derive(Debug)]
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    keys: KeyStore,
}

impl JwtVerifier {
    /// A verifier for `issuer` and `audiences`, its keys loaded from `jwks` (file or URL).
    pub async fn new(
        issuer: String,
        audiences: Vec<String>,
        jwks: &str,
    ) -> Result<Self, JwksError> {
        ring_verify::install();
        Ok(Self {
            issuer,
            audiences,
            keys: KeyStore::load(jwks).await?,
        })
    }

    /// The claims of `token` once every check passed.
    pub async fn verify(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let header = decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(TokenError::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(TokenError::NoKid)?;
        let key = self
            .keys
            .key(&kid)
            .await
            .ok_or_else(|| TokenError::UnknownKid(kid.clone()))?;
        if key.algorithm != header.alg {
            return Err(TokenError::KeyMismatch {
                kid,
                token: header.alg,
                key: key.algorithm,
            });
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        decode::<Map<String, Value>>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}
