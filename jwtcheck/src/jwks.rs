//! The issuer's public keys (a JWKS), by `kid`, from a file or a URL, cached.
//!
//! A file is read once at start. A URL is fetched once at start and again when a token names a
//! `kid` the cache lacks (the issuer rotated its keys), at most once per
//! [`REFETCH_INTERVAL`], so a stream of tokens with made-up `kid`s cannot turn into a stream
//! of requests to the issuer. Only keys usable with RS256 (RSA) or ES256 (EC P-256) are kept;
//! each key is bound to its one algorithm, so a token cannot pick another one for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Least time between two fetches of a URL JWKS.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(300);
/// Bound on one fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// A verification key and the one algorithm it verifies.
#[derive(Clone)]
pub struct Key {
    pub decoding: DecodingKey,
    pub algorithm: Algorithm,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

type Keys = HashMap<String, Key>;

/// Why the keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("fetching {url}: {detail}")]
    Fetch { url: String, detail: String },
    #[error("{origin} is not a JWKS document: {detail}")]
    Parse { origin: String, detail: String },
    #[error("{0} holds no RS256 or ES256 key with a kid")]
    NoKeys(String),
}

/// Where the keys come from.
#[derive(Debug)]
enum Source {
    File,
    Url { last_fetch: Mutex<Instant> },
}

/// The keys of one issuer.
#[derive(Debug)]
pub struct KeyStore {
    origin: String,
    source: Source,
    keys: RwLock<Arc<Keys>>,
}

impl KeyStore {
    /// Loads `origin`: an `http://` or `https://` URL, else a file path.
    pub async fn load(origin: &str) -> Result<Self, JwksError> {
        let is_url = origin.starts_with("http://") || origin.starts_with("https://");
        let text = if is_url {
            fetch(origin).await?
        } else {
            std::fs::read_to_string(origin).map_err(|source| JwksError::Read {
                path: origin.to_string(),
                source,
            })?
        };
        let keys = parse(&text, origin)?;
        let source = if is_url {
            Source::Url {
                last_fetch: Mutex::new(Instant::now()),
            }
        } else {
            Source::File
        };
        Ok(Self {
            origin: origin.to_string(),
            source,
            keys: RwLock::new(Arc::new(keys)),
        })
    }

    /// The key named `kid`, refetching a URL JWKS once per interval when it is unknown.
    pub async fn key(&self, kid: &str) -> Option<Key> {
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        let Source::Url { last_fetch } = &self.source else {
            return None;
        };
        {
            let mut last = last_fetch.lock().ok()?;
            if last.elapsed() < REFETCH_INTERVAL {
                return None;
            }
            *last = Instant::now();
        }
        match fetch(&self.origin)
            .await
            .and_then(|t| parse(&t, &self.origin))
        {
            Ok(keys) => {
                if let Ok(mut current) = self.keys.write() {
                    *current = Arc::new(keys);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "refreshing the JWKS failed; keeping the old keys")
            }
        }
        self.cached(kid)
    }

    fn cached(&self, kid: &str) -> Option<Key> {
        self.keys.read().ok()?.get(kid).cloned()
    }
}

/// The usable keys of a JWKS document.
pub fn parse(text: &str, origin: &str) -> Result<Keys, JwksError> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| JwksError::Parse {
        origin: origin.to_string(),
        detail: e.to_string(),
    })?;
    let keys: Keys = set
        .keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let declared = jwk.common.key_algorithm;
            let (decoding, algorithm) = match &jwk.algorithm {
                AlgorithmParameters::RSA(rsa) => (
                    DecodingKey::from_rsa_components(&rsa.n, &rsa.e).ok()?,
                    Algorithm::RS256,
                ),
                AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => (
                    DecodingKey::from_ec_components(&ec.x, &ec.y).ok()?,
                    Algorithm::ES256,
                ),
                _ => return None,
            };
            let agrees = match declared {
                None => true,
                Some(KeyAlgorithm::RS256) => algorithm == Algorithm::RS256,
                Some(KeyAlgorithm::ES256) => algorithm == Algorithm::ES256,
                Some(_) => false,
            };
            agrees.then_some((
                kid,
                Key {
                    decoding,
                    algorithm,
                },
            ))
        })
        .collect();
    if keys.is_empty() {
        return Err(JwksError::NoKeys(origin.to_string()));
    }
    Ok(keys)
}

/// GETs a JWKS over HTTP(S) with the system's roots, bounded in time and size.
async fn fetch(url: &str) -> Result<String, JwksError> {
    crate::fetch::get_text(url, MAX_JWKS_BYTES, FETCH_TIMEOUT)
        .await
        .map_err(|e| JwksError::Fetch {
            url: e.url,
            detail: e.detail,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rs256_and_p256_keys_with_a_kid_are_kept() {
        let text = r#"{"keys": [
            {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "r512", "alg": "RS512", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "e", "crv": "P-256", "x": "AQAB", "y": "AQAB"},
            {"kty": "EC", "kid": "e384", "crv": "P-384", "x": "AQAB", "y": "AQAB"},
            {"kty": "oct", "kid": "h", "k": "AQAB"}
        ]}"#;
        let keys = parse(text, "test").unwrap();
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["e", "r"]);
        assert_eq!(keys["r"].algorithm, Algorithm::RS256);
        assert_eq!(keys["e"].algorithm, Algorithm::ES256);
    }

    #[test]
    fn documents_without_usable_keys_are_refused() {
        assert!(matches!(parse("{}", "t"), Err(JwksError::Parse { .. })));
        assert!(matches!(
            parse(r#"{"keys": []}"#, "t"),
            Err(JwksError::NoKeys(_))
        ));
    }
}
