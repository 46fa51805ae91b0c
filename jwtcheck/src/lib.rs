//! Bearer-token verification as API Gateway's JWT authorizer does it, for the two places that
//! stand in for API Gateway on a developer's machine: `function serve` (no gateway in front of
//! the router) and `provisioner serve` (the deployed API served locally).
//!
//! Why a crate of its own: the function must stay small (it is the Lambda zip) and the
//! provisioner must not depend on the function (that would pull `lambda_http` and axum into the
//! deploy tool), yet both must verify tokens identically. The verification was the function's
//! `auth::{jwt, jwks, ring_verify}`; it moved here unchanged and the function re-exports it
//! under the same paths, so there is one implementation and neither binary gains code it did
//! not already link (`ring`, hyper and rustls are in both).
//!
//! - [`jwt`]: the checks (signature by the `kid`'s key, RS256/ES256 only, `iss`, `aud`, `exp`,
//!   `nbf` with leeway);
//! - [`jwks`]: the issuer's keys from a file or a URL, cached and refetched on an unknown `kid`;
//! - [`fetch`]: the bounded HTTP(S) GET the JWKS (and the provisioner's downloads) use;
//! - [`ring_verify`]: jsonwebtoken's signature checks done by `ring`.

pub mod fetch;
pub mod jwks;
pub mod jwt;
pub mod ring_verify;

pub use jwks::{JwksError, KeyStore};
pub use jwt::{JwtVerifier, TokenError};
