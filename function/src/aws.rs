//! The SDK configuration: one `aws_config` load with the retry and time budget of a request,
//! and the HTTPS client it uses.
//!
//! Throttling and transient errors are retried by the SDK's standard strategy (exponential
//! backoff with jitter), and every call is bounded so a request finishes well inside the
//! Lambda timeout (10 s) even when DynamoDB is slow: 4 attempts of at most 2 s, 6 s in all.

use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Attempts per DynamoDB call, the first included.
pub const MAX_ATTEMPTS: u32 = 4;

/// The roots of Amazon Trust Services (Amazon Root CA 1-4 and Starfield Services Root CA G2,
/// which cross-signs them), the only CAs behind AWS service endpoints.
const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// Where the function runs, which decides where its AWS settings come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// On Lambda: region and credentials from the variables Lambda sets (`AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and only the Amazon
    /// Trust Services roots, compiled in: the function talks to DynamoDB and nothing else.
    /// Loading the system's certificate store (some 150 files) and building the default
    /// credential chain (SSO, web identity, ECS, IMDS providers) were the largest parts of the
    /// cold start before (10.8 ms then, 1.6 to 3.4 ms since depending on the machine: see
    /// docs/benchmarks.md).
    Lambda,
    /// On a workstation or CI: the whole default chain (profiles, SSO...) and the system's
    /// certificate store, since `AWS_ENDPOINT_URL` may point at any HTTPS endpoint.
    Local,
}

/// Loads the SDK configuration for `host`. Endpoint overrides (`AWS_ENDPOINT_URL[_DYNAMODB]`)
/// and the other `AWS_*` settings are read the usual way on both hosts.
pub async fn sdk_config(host: Host) -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client(host))
        // DynamoDB bodies are a few KB and every attempt is already bounded by the attempt
        // timeout below, so the throughput monitor on each body (its timers and per-chunk
        // bookkeeping) would only add CPU to every call.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_secs(1)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(6))
                .build(),
        );
    let loader = match host {
        Host::Lambda => loader
            .region(EnvironmentVariableRegionProvider::new())
            .credentials_provider(EnvironmentVariableCredentialsProvider::new()),
        Host::Local => loader,
    };
    loader.load().await
}

/// rustls on ring: the same protocol as the SDK's default client, without aws-lc-rs's size.
fn https_client(host: Host) -> SharedHttpClient {
    let trust_store = match host {
        Host::Lambda => TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS),
        Host::Local => TrustStore::default(),
    };
    let tls = TlsContext::builder()
        .with_trust_store(trust_store)
        .build()
        .expect("a TLS context from a trust store always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_roots_are_five_certificates() {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let certs = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(certs.len(), 5);
    }
}
