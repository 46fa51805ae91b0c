//! Counting AWS calls for `--stats`: a wrapper around the SDK's HTTP client that counts every
//! request it sends (retries included), in all and per operation, so benchmarks can report
//! calls per command and tests can check which calls a command makes.
//!
//! Wrapping the HTTP client (instead of adding an interceptor to each service client) counts
//! every client built from the one `SdkConfig`, the state backend's included.
//!
//! An operation is named `<service>.<Operation>`, the service being the SigV4 signing name of
//! the request (`dynamodb`, `lambda`, `apigateway`, `logs`, `iam`, `sts`, `s3`):
//! - the provisioner's own clients attach the SDK's operation metadata to each request
//!   ([`provisioner::aws::NameOperation`]): `apigateway.GetApi`, `lambda.GetFunction`;
//! - other requests (the state crate builds its own S3 and DynamoDB clients) are named by their
//!   `X-Amz-Target` header when the protocol has one (`dynamodb.PutItem` for the lock), else by
//!   their HTTP method (`s3.GET`, `s3.PUT`, `s3.HEAD`, `s3.DELETE`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_smithy_runtime_api::client::orchestrator::Metadata;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// How many HTTP requests went to AWS in this process.
static CALLS: AtomicUsize = AtomicUsize::new(0);

/// Requests per operation name (see the module docs).
static OPERATIONS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// The number of AWS requests sent so far.
pub fn calls() -> usize {
    CALLS.load(Ordering::Relaxed)
}

/// Requests sent so far per operation, sorted by name.
pub fn operations() -> BTreeMap<String, usize> {
    OPERATIONS.lock().map(|o| o.clone()).unwrap_or_default()
}

/// `<service>.<Operation>` of one request (see the module docs).
fn operation_name(request: &HttpRequest) -> String {
    let metadata = request.extension::<Metadata>();
    let service = request
        .headers()
        .get("authorization")
        .and_then(signing_name)
        .map(str::to_string)
        .or_else(|| metadata.map(|m| m.service().to_ascii_lowercase()))
        .unwrap_or_else(|| "unknown".to_string());
    let operation = metadata
        .map(|m| m.name().to_string())
        .or_else(|| {
            // `DynamoDB_20120810.PutItem`, `Logs_20140328.DescribeLogGroups`.
            let target = request.headers().get("x-amz-target")?;
            target.rsplit('.').next().map(str::to_string)
        })
        .unwrap_or_else(|| request.method().to_string());
    format!("{service}.{operation}")
}

/// The service of a SigV4 `Authorization` header: `.../<date>/<region>/<service>/aws4_request`.
fn signing_name(authorization: &str) -> Option<&str> {
    let scope = authorization.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    scope.split('/').nth(3).filter(|s| !s.is_empty())
}

/// `sdk` with its HTTP client wrapped to count requests (the command's own client, see
/// [`provisioner::http_client`]).
pub fn counting(sdk: aws_config::SdkConfig) -> aws_config::SdkConfig {
    let inner = sdk
        .http_client()
        .unwrap_or_else(provisioner::http_client::client);
    sdk.into_builder()
        .http_client(CountingClient { inner })
        .build()
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
        if let Ok(mut operations) = OPERATIONS.lock() {
            *operations.entry(operation_name(&request)).or_default() += 1;
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&'static str, &'static str)]) -> HttpRequest {
        let mut request = HttpRequest::empty();
        for (name, value) in headers {
            request.headers_mut().insert(*name, *value);
        }
        request
    }

    const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
        Credential=testing/20250101/us-east-1/dynamodb/aws4_request, \
        SignedHeaders=host;x-amz-date, Signature=abc";

    #[test]
    fn the_sdk_metadata_names_the_operation_and_the_signature_the_service() {
        let mut request = request(&[("authorization", AUTHORIZATION)]);
        request.add_extension(Metadata::new("DescribeTable", "DynamoDB"));
        assert_eq!(operation_name(&request), "dynamodb.DescribeTable");
    }

    #[test]
    fn without_metadata_the_target_header_or_the_method_names_it() {
        let request = request(&[
            ("authorization", AUTHORIZATION),
            ("x-amz-target", "DynamoDB_20120810.PutItem"),
        ]);
        assert_eq!(operation_name(&request), "dynamodb.PutItem");
        let mut s3 = HttpRequest::get("http://127.0.0.1/bucket/key").expect("a request");
        s3.headers_mut().insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=abc",
        );
        assert_eq!(operation_name(&s3), "s3.GET");
    }

    #[test]
    fn an_unsigned_request_takes_the_service_from_the_metadata() {
        let mut request = HttpRequest::empty();
        request.add_extension(Metadata::new("AssumeRoleWithWebIdentity", "STS"));
        assert_eq!(operation_name(&request), "sts.AssumeRoleWithWebIdentity");
        assert_eq!(operation_name(&HttpRequest::empty()), "unknown.GET");
    }
}
