//! Counting AWS calls for `--stats`: a wrapper around the SDK's HTTP client that counts every
//! request it sends (retries included), so benchmarks can report calls per command.
//!
//! Wrapping the HTTP client (instead of adding an interceptor to each service client) counts
//! every client built from the one `SdkConfig`, the state backend's included.

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// How many HTTP requests went to AWS in this process.
static CALLS: AtomicUsize = AtomicUsize::new(0);

/// The number of AWS requests sent so far.
pub fn calls() -> usize {
    CALLS.load(Ordering::Relaxed)
}

/// `sdk` with its HTTP client wrapped to count requests. `aws_config::load` leaves the client
/// unset (each service client picks the default later), so the default is built here: hyper 1
/// with rustls on aws-lc, proxy settings from the environment, as the SDK's own default.
pub fn counting(sdk: aws_config::SdkConfig) -> aws_config::SdkConfig {
    let inner = sdk.http_client().unwrap_or_else(default_client);
    sdk.into_builder()
        .http_client(CountingClient { inner })
        .build()
}

fn default_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut builder =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    })
}

#[derive(Debug)]
struct CountingClient {
    inner: SharedHttpClient,
}

impl HttpClient for CountingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        CALLS.fetch_add(1, Ordering::Relaxed);
        self.inner.call(request)
    }
}
