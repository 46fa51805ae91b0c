//! Turning SDK errors into [`StateError`]s without losing AWS's own words.
//!
//! The backends must tell "not there" (absent state, free lock) apart from every other failure:
//! an access-denied must never read as "no state yet", or the provisioner would create a second
//! copy of everything. So "not found" is decided here, narrowly, and the rest carries the SDK's
//! full error text.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::StateError;

/// HTTP status of a service error, if the service answered at all.
pub(crate) fn status<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// The AWS error code (`NoSuchKey`, `PreconditionFailed`, ...), if any.
pub(crate) fn code<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Option<&str> {
    error.code()
}

/// The thing asked for is not there: `NoSuchKey`, `NoSuchVersion`, `NotFound`,
/// `ResourceNotFoundException`, or a bare 404 without an error code (HEAD responses have no
/// body). A missing *bucket* is not "not found": reading it as "no state yet" would make the
/// provisioner create a second copy of everything.
pub(crate) fn is_not_found<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match code(error) {
        Some(code) => matches!(
            code,
            "NoSuchKey" | "NoSuchVersion" | "NotFound" | "ResourceNotFoundException"
        ),
        None => status(error) == Some(404),
    }
}

/// What a read that may find nothing got: `Ok(None)` when the thing asked for is not there
/// ([`is_not_found`]), any other failure as [`aws`]. The one place the backends, the lock and
/// the bootstrap make that decision.
pub(crate) fn found<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    operation: &str,
    target: &str,
) -> Result<Option<T>, StateError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(aws(operation, target, e)),
    }
}

/// A failed `If-Match` / `If-None-Match` (412), or S3's 409 for a concurrent conditional write.
pub(crate) fn is_precondition_failed<E: ProvideErrorMetadata>(
    error: &SdkError<E, HttpResponse>,
) -> bool {
    matches!(
        code(error),
        Some("PreconditionFailed" | "ConditionalRequestConflict")
    ) || matches!(status(error), Some(412))
}

/// Any other failure, with the operation and one line that says what to do about it
/// ([`crate::explain`]).
pub(crate) fn aws<E>(operation: &str, target: &str, error: SdkError<E, HttpResponse>) -> StateError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    StateError::Aws {
        operation: format!("{operation} on {target}"),
        message: crate::explain::explain(&error, target),
    }
}
