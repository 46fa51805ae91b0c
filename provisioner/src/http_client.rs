//! The HTTP client every AWS call of a command goes through: the SDK's own default (hyper 1,
//! rustls on aws-lc, proxy settings from the environment), except that TLS is set up when the
//! first `https://` request is sent instead of when the first request of any kind is.
//!
//! Setting up TLS means reading and parsing the system's root certificates: on Debian that is
//! the bundle and then the ~150 files of `/etc/ssl/certs`, 10 to 20 ms before the first call,
//! about a sixth of a no-op plan against the local emulator. A command whose endpoint is plain
//! HTTP (`AWS_ENDPOINT_URL=http://127.0.0.1:...`: `scripts/dev`, the tests, the benchmarks) never
//! needs those certificates; a command against AWS loads them once, on its first request, as
//! before. What is sent, and how, does not change: each request goes to the same connector
//! the SDK would have built for its scheme.

use std::sync::OnceLock;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The client to give `aws_config`: plain HTTP for `http://` requests, TLS built on demand for
/// the rest.
pub fn client() -> SharedHttpClient {
    SharedHttpClient::new(BySchemeClient {
        plain: Builder::new().build_with_connector_fn(|settings, components| {
            connector_builder(settings, components).build_http()
        }),
        tls: Builder::new().build_with_connector_fn(|settings, components| {
            connector_builder(settings, components)
                .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
                .build()
        }),
    })
}

/// The settings both connectors share, as the SDK's default connector takes them.
fn connector_builder(
    settings: Option<&HttpConnectorSettings>,
    components: Option<&RuntimeComponents>,
) -> ConnectorBuilder {
    let mut builder = ConnectorBuilder::default();
    builder.set_connector_settings(settings.cloned());
    if let Some(components) = components {
        builder.set_sleep_impl(components.sleep_impl());
    }
    builder.set_proxy_config(Some(ProxyConfig::from_env()));
    builder
}

/// Two clients, each caching its connectors per settings (the SDK's `Builder` does that): the
/// TLS one builds its first connector, and so loads the root certificates, only when asked.
#[derive(Debug)]
struct BySchemeClient {
    plain: SharedHttpClient,
    tls: SharedHttpClient,
}

impl HttpClient for BySchemeClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(BySchemeConnector {
            plain: self.plain.http_connector(settings, components),
            tls_client: self.tls.clone(),
            settings: settings.clone(),
            components: components.clone(),
            tls: OnceLock::new(),
        })
    }
}

/// Sends `http://` requests through the plain connector and everything else through the TLS
/// one, asking the TLS client for its connector on the first such request.
#[derive(Debug)]
struct BySchemeConnector {
    plain: SharedHttpConnector,
    tls_client: SharedHttpClient,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
    tls: OnceLock<SharedHttpConnector>,
}

impl HttpConnector for BySchemeConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if is_plain_http(request.uri()) {
            return self.plain.call(request);
        }
        let tls = self.tls.get_or_init(|| {
            self.tls_client
                .http_connector(&self.settings, &self.components)
        });
        tls.call(request)
    }
}

/// Whether a request URI is plain HTTP; anything else (HTTPS, or a URI without a scheme, which
/// the TLS connector refuses with a clear error) goes to the TLS connector.
fn is_plain_http(uri: &str) -> bool {
    uri.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
}

#[cfg(test)]
mod tests {
    use super::is_plain_http;

    #[test]
    fn only_http_scheme_is_plain() {
        assert!(is_plain_http("http://127.0.0.1:4566/"));
        assert!(is_plain_http("HTTP://localhost/"));
        assert!(!is_plain_http("https://dynamodb.us-east-1.amazonaws.com/"));
        assert!(!is_plain_http("httpx://x"));
        assert!(!is_plain_http("/relative"));
    }
}
