//! The SDK configuration: one `aws_config` load with the retry and time budget of a request.
//!
//! Throttling and transient errors are retried by the SDK's standard strategy (exponential
//! backoff with jitter), and every call is bounded so a request finishes well inside the
//! Lambda timeout (10 s) even when DynamoDB is slow: 4 attempts of at most 2 s, 6 s in all.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Attempts per DynamoDB call, the first included.
pub const MAX_ATTEMPTS: u32 = 4;

/// Loads the SDK configuration from the usual sources (environment, profile, role).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
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
        )
        .load()
        .await
}
