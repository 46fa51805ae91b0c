//! One line a person can act on for any failed AWS call, instead of the SDK's debug dump.
//!
//! The SDK's error chain repeats itself and prints whole HTTP responses; an operator needs to
//! know which class of problem it is and what to do: the endpoint cannot be reached, no
//! credentials were found, access was denied, the state bucket or lock table is missing, or
//! what AWS itself said. The full chain is still logged, at `-v`.

use std::error::Error;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What AWS (or the way to it) answered, in one line with the fix when the class has one.
/// `target` names what was asked for (a bucket, a lock table, a role), for the hints.
pub fn explain<E, R>(error: &SdkError<E, R>, target: &str) -> String
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    tracing::info!(target_object = target, error = %DisplayErrorContext(error), "AWS call failed");
    match error {
        SdkError::ServiceError(_) => service_error(error.code(), error.message(), target),
        SdkError::DispatchFailure(failure) => {
            let chain = DisplayErrorContext(error).to_string();
            // The credentials chain fails before any request is sent, as a dispatch failure.
            if chain.contains("credential") {
                no_credentials()
            } else if failure.is_timeout() {
                format!(
                    "timed out before {} answered; {}",
                    endpoint(),
                    network_hint()
                )
            } else {
                format!(
                    "cannot reach {} ({}); {}",
                    endpoint(),
                    innermost(error),
                    network_hint()
                )
            }
        }
        SdkError::TimeoutError(_) => {
            format!("timed out waiting for {}; {}", endpoint(), network_hint())
        }
        SdkError::ResponseError(_) => format!(
            "{} sent an answer that could not be read ({}); is it an AWS endpoint?",
            endpoint(),
            innermost(error)
        ),
        _ => DisplayErrorContext(error).to_string(),
    }
}

/// A service's own error: its code and message, with the fix for the classes that have one.
fn service_error(code: Option<&str>, message: Option<&str>, target: &str) -> String {
    let said = match (code, message) {
        (Some(code), Some(message)) if !message.is_empty() => format!("{code}: {message}"),
        (Some(code), _) => code.to_string(),
        (None, Some(message)) => message.to_string(),
        (None, None) => "an error without a code or message".to_string(),
    };
    let hint = match code.unwrap_or_default() {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthorizationError" => Some(
            "The credentials in use may not do this (AWS names the action, resource and \
             identity above); use a role that may, e.g. the environment's deploy role from \
             `provisioner bootstrap`, or see `provisioner bootstrap --print-policy`"
                .to_string(),
        ),
        "NoSuchBucket" => Some(
            "The bucket does not exist: create the state bucket and lock table with \
             `provisioner bootstrap`, or fix [backend] bucket in the stack file"
                .to_string(),
        ),
        "ResourceNotFoundException" if target.contains("lock table") => Some(
            "The lock table does not exist: create the state bucket and lock table with \
             `provisioner bootstrap`, or fix [backend] lock_table in the stack file"
                .to_string(),
        ),
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            Some("The credentials have expired: sign in again (e.g. `aws sso login`)".into())
        }
        "InvalidClientTokenId" | "UnrecognizedClientException" | "SignatureDoesNotMatch" => Some(
            "The credentials are not valid for this account or endpoint: check AWS_PROFILE or \
             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                .into(),
        ),
        _ => None,
    };
    match hint {
        Some(hint) => format!("{said}. {hint}"),
        None => said,
    }
}

fn no_credentials() -> String {
    "no AWS credentials found (looked in the environment variables AWS_ACCESS_KEY_ID and \
     AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the ~/.aws files, a web identity token, the ECS and \
     EC2 instance metadata): set a profile (`aws sso login --profile NAME`, then AWS_PROFILE=NAME) \
     or the two variables; in GitHub Actions, aws-actions/configure-aws-credentials"
        .to_string()
}

/// The endpoint the SDK was sent to, as the user configured it.
fn endpoint() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => format!("the endpoint {url} (from AWS_ENDPOINT_URL)"),
        _ => "AWS".to_string(),
    }
}

fn network_hint() -> &'static str {
    if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        "is the server at AWS_ENDPOINT_URL running, and is the URL right?"
    } else {
        "check the network, a proxy (HTTPS_PROXY) and the stack's region"
    }
}

/// The last error of the chain: the one that says what really happened ("Connection refused").
fn innermost(error: &(dyn Error + 'static)) -> String {
    let mut last: &(dyn Error + 'static) = error;
    while let Some(source) = last.source() {
        last = source;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    fn service(code: &str, message: &str) -> SdkError<ErrorMetadata, Response> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        SdkError::service_error(meta, raw)
    }

    #[test]
    fn access_denied_keeps_aws_words_and_says_what_to_do() {
        let text = explain(
            &service(
                "AccessDenied",
                "User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: iam:GetRole",
            ),
            "role r",
        );
        assert!(text.starts_with("AccessDenied: User: arn:aws:sts::1:assumed-role/x/y"));
        assert!(text.contains("may not do this"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn a_missing_lock_table_or_bucket_points_at_bootstrap() {
        let table = explain(
            &service("ResourceNotFoundException", "Requested resource not found"),
            "DynamoDB lock table t",
        );
        assert!(table.contains("provisioner bootstrap"), "{table}");
        let bucket = explain(&service("NoSuchBucket", "nope"), "s3://b");
        assert!(bucket.contains("The bucket does not exist"), "{bucket}");
        // A missing *resource* that is not the lock table has no such hint.
        let other = explain(&service("ResourceNotFoundException", "x"), "table t");
        assert_eq!(other, "ResourceNotFoundException: x");
    }
}
