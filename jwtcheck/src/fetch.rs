//! A bounded HTTP(S) GET: the system's roots, a time limit, a size limit. The JWKS and the
//! OpenID configuration are fetched with it, and `provisioner serve` downloads the function's
//! zip (GetFunction's presigned `Code.Location`) with it, so one small client serves all three.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Why a GET failed: the URL and what went wrong, in one line.
#[derive(Debug, thiserror::Error)]
#[error("fetching {url}: {detail}")]
pub struct FetchError {
    pub url: String,
    pub detail: String,
}

/// GETs `url` (http or https), at most `max_bytes` of body, each of the answer's head and its
/// body within `timeout`; a status other than 2xx is an error.
pub async fn get(url: &str, max_bytes: usize, timeout: Duration) -> Result<Bytes, FetchError> {
    let failed = |detail: String| FetchError {
        url: url.to_string(),
        detail,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| failed(e.to_string()))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| failed(e.to_string()))?;
    let response = tokio::time::timeout(timeout, client.get(uri))
        .await
        .map_err(|_| failed("timed out".into()))?
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("status {}", response.status())));
    }
    let body = tokio::time::timeout(
        timeout,
        Limited::new(response.into_body(), max_bytes).collect(),
    )
    .await
    .map_err(|_| failed("timed out".into()))?
    .map_err(|e| failed(e.to_string()))?;
    Ok(body.to_bytes())
}

/// [`get`] as UTF-8 text.
pub async fn get_text(
    url: &str,
    max_bytes: usize,
    timeout: Duration,
) -> Result<String, FetchError> {
    let bytes = get(url, max_bytes, timeout).await?;
    String::from_utf8(bytes.to_vec()).map_err(|e| FetchError {
        url: url.to_string(),
        detail: e.to_string(),
    })
}
