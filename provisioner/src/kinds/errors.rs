//! The one place SDK errors become [`ResourceError`]s, and not-found becomes "absent".
//!
//! Every kind maps its SDK errors here so the engine and the retry predicates see one shape:
//! the operation, the AWS error code and AWS's own message. Not-found is decided by the code
//! alone (each service has its own name for it); every other error stays an error, so "access
//! denied" is never mistaken for "absent".

use std::error::Error;

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::resource::ResourceError;

/// Error codes meaning "this object does not exist", across the services we use: CloudWatch
/// says `ResourceNotFound` of a dashboard (its `DashboardNotFoundError`), SNS `NotFound` of a
/// topic or subscription (its `NotFoundException`).
const NOT_FOUND_CODES: &[&str] = &[
    "NoSuchEntity",
    "ResourceNotFoundException",
    "NotFoundException",
    "TableNotFoundException",
    "ResourceNotFound",
    "NotFound",
];

/// Maps an SDK error of `operation` into [`ResourceError::Aws`], keeping AWS's code; the message
/// is one line with AWS's own words and, for the classes that have one, the fix (an endpoint
/// that cannot be reached, no credentials, access denied): [`state::explain`]. The SDK's full
/// chain is logged at `-v`.
pub fn aws_error<E, R>(operation: &str, error: SdkError<E, R>) -> ResourceError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    let code = error.code().map(str::to_string);
    let message = state::explain::explain(&error, operation);
    ResourceError::Aws {
        operation: operation.to_string(),
        code,
        message,
    }
}

/// SDK results as [`ResourceError`]s named by their operation: `call.send().await.aws("GetRole")?`.
pub trait AwsResult<T> {
    fn aws(self, operation: &str) -> Result<T, ResourceError>;
}

impl<T, E, R> AwsResult<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    fn aws(self, operation: &str) -> Result<T, ResourceError> {
        self.map_err(|e| aws_error(operation, e))
    }
}

/// Every item of a paginated listing (the SDK's `into_paginator().items().send()`), its
/// errors named by `operation`: the listings of a role's policies and of log groups by prefix
/// are read whole.
pub async fn every_item<T, E, R>(
    items: PaginationStream<Result<T, SdkError<E, R>>>,
    operation: &str,
) -> Result<Vec<T>, ResourceError>
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    items.try_collect().await.aws(operation)
}

/// "Not found" as what it means to the caller: absence for a read, success for a delete.
pub trait NotFound<T> {
    /// `Ok(None)` when the object does not exist; every other error stays an error.
    fn absent(self) -> Result<Option<T>, ResourceError>;
    /// `Ok(())` when the object does not exist (already deleted).
    fn gone(self) -> Result<(), ResourceError>;
}

impl<T> NotFound<T> for Result<T, ResourceError> {
    fn absent(self) -> Result<Option<T>, ResourceError> {
        not_found_as_none(self)
    }

    fn gone(self) -> Result<(), ResourceError> {
        not_found_as_none(self).map(|_| ())
    }
}

/// AWS's error code, when the error is AWS's and has one (what retry predicates look at).
pub fn code(error: &ResourceError) -> Option<&str> {
    match error {
        ResourceError::Aws { code, .. } => code.as_deref(),
        _ => None,
    }
}

/// True when the error is AWS's and its message contains `text` (for the transient errors AWS
/// tells apart only by their message).
pub fn says(error: &ResourceError, text: &str) -> bool {
    matches!(error, ResourceError::Aws { message, .. } if message.contains(text))
}

/// True when the error says the object does not exist.
pub fn is_not_found(error: &ResourceError) -> bool {
    matches!(error, ResourceError::Aws { code: Some(code), .. } if NOT_FOUND_CODES.contains(&code.as_str()))
}

/// Turns a not-found error into `Ok(None)`; every other error stays an error.
pub fn not_found_as_none<T>(result: Result<T, ResourceError>) -> Result<Option<T>, ResourceError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if is_not_found(&error) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Turns a not-found error into success, for deletes.
pub fn ignore_not_found(result: Result<(), ResourceError>) -> Result<(), ResourceError> {
    not_found_as_none(result).map(|_| ())
}

/// What the kinds' tests of their retry predicates share: AWS's errors, and the check that a
/// predicate retries exactly the errors it is meant for.
#[cfg(test)]
pub mod testing {
    use crate::resource::ResourceError;

    /// An error as [`super::aws_error`] makes it from AWS's answer `code`: `message`.
    pub fn aws(code: &str, message: &str) -> ResourceError {
        ResourceError::Aws {
            operation: "Op".into(),
            code: Some(code.into()),
            message: message.into(),
        }
    }

    /// Asserts that `retries` holds for each of `retried` and for none of `not_retried`.
    pub fn assert_retries(
        retries: fn(&ResourceError) -> bool,
        retried: &[ResourceError],
        not_retried: &[ResourceError],
    ) {
        for error in retried {
            assert!(retries(error), "not retried: {error}");
        }
        for error in not_retried {
            assert!(!retries(error), "retried: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(code: Option<&str>) -> ResourceError {
        ResourceError::Aws {
            operation: "Op".into(),
            code: code.map(Into::into),
            message: "m".into(),
        }
    }

    #[test]
    fn predicates_see_only_awss_code_and_message() {
        assert_eq!(
            code(&aws(Some("ResourceConflictException"))),
            Some("ResourceConflictException")
        );
        assert_eq!(code(&aws(None)), None);
        assert_eq!(
            code(&ResourceError::Invalid("ResourceConflictException".into())),
            None
        );
        assert!(says(&aws(None), "m"));
        assert!(!says(&aws(None), "other"));
        assert!(!says(&ResourceError::Timeout("m".into()), "m"));
    }

    #[test]
    fn only_not_found_codes_are_absent() {
        for code in NOT_FOUND_CODES {
            assert!(matches!(
                not_found_as_none::<()>(Err(aws(Some(code)))),
                Ok(None)
            ));
        }
        for code in [Some("AccessDenied"), Some("AccessDeniedException"), None] {
            assert!(not_found_as_none::<()>(Err(aws(code))).is_err(), "{code:?}");
            assert!(ignore_not_found(Err(aws(code))).is_err(), "{code:?}");
        }
        assert!(ignore_not_found(Err(aws(Some("NoSuchEntity")))).is_ok());
        assert!(matches!(not_found_as_none(Ok(3)), Ok(Some(3))));
    }
}
