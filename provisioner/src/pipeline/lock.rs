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
    let guard = session
        .backend
        .lock(state::LockOptions {
            operation: operation.to_string(),
            timeout: session.lock_timeout,
        })
        .await?;
    tracing::info!(lock_id = guard.id(), operation, "state locked");
    let result = body().await;
    let released = guard.release().await;
    let value = result?;
    released.map_err(|e| PipelineError::Unlock(Box::new(e)))?;
    Ok(value)
}
