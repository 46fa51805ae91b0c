//! The one place a run takes the environment's state lock and gives it back, on every path,
//! errors and interruptions included.

use super::{PipelineError, Session};

/// Runs `body` holding `session`'s lock for `operation`, and releases it whatever happens.
/// The body's error wins over a failure to release (which is reported only when the body
/// succeeded).
pub async fn locked<T>(
    session: &Session,
    operation: &str,
    body: impl AsyncFnOnce() -> Result<T, PipelineError>,
) -> Result<T, PipelineError> {
    // Every locked run checks the state's owner, which needs the caller's account, right after
    // taking the lock: asking STS while the lock is taken saves a round trip. The answer is
    // cached; a failure is left for that check to report (it asks again).
    let (guard, _account) = tokio::join!(
        session.backend.lock(state::LockOptions {
            operation: operation.to_string(),
            timeout: session.lock_timeout,
        }),
        session.engine.aws.account_id(),
    );
    let guard = guard?;
    tracing::info!(lock_id = guard.id(), operation, "state locked");
    let result = body().await;
    let released = guard.release().await;
    let value = result?;
    released.map_err(|e| PipelineError::Unlock(Box::new(e)))?;
    Ok(value)
}
