//! Bounded retries and waits for AWS's eventual consistency.
//!
//! Real AWS answers some calls with errors that only mean "not yet": a role created a second ago
//! cannot be assumed by Lambda yet, PITR cannot be enabled on a table that is still being created,
//! a Lambda function rejects a second update while the first is in progress. Each kind names the
//! ones it expects, next to its calls, as a predicate for what it waits for
//! (`retry(&policy, role_not_yet_assumable, || op)`), and everything else fails at once.
//! Throttling is the SDK's own retry's job (its standard mode retries it with backoff).
//!
//! Waits (`poll_until`) are the other half: poll a status until it is stable, with a fast first
//! poll (the emulator is instantly consistent, so tests never sleep) and a hard time bound (a
//! resource stuck in `Pending` becomes a [`ResourceError::Timeout`], never a hang).

use std::future::Future;
use std::time::Duration;

use crate::resource::ResourceError;

/// How often and how long to retry: exponential backoff, bounded in attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first one included (1 means "no retry").
    pub max_attempts: u32,
    /// Delay before the second attempt.
    pub initial_delay: Duration,
    /// Cap on any single delay.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// For IAM propagation and Lambda conflicts on real AWS: about two minutes in total.
    pub const AWS_EVENTUAL_CONSISTENCY: Self = Self {
        max_attempts: 12,
        initial_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(20),
    };

    /// Delay after the failed attempt number `attempt` (1-based): doubles each time, capped.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_delay
            .checked_mul(factor)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::AWS_EVENTUAL_CONSISTENCY
    }
}

/// Runs `op` until it succeeds, fails with an error `is_retryable` rejects, or the policy's
/// attempts are used up (then the last error is returned).
pub async fn retry<T, Op, Fut>(
    policy: &RetryPolicy,
    is_retryable: impl Fn(&ResourceError) -> bool,
    mut op: Op,
) -> Result<T, ResourceError>
where
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ResourceError>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(error) if attempt < policy.max_attempts && is_retryable(&error) => {
                let delay = policy.delay_after(attempt);
                // One line at the default verbosity: a wait of seconds is not a hang.
                tracing::warn!(
                    "AWS is not ready yet (attempt {attempt}), trying again in {delay:?}: {error}"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Polls `check` until it returns `Some` (stable), an error, or `timeout` passes. The first
/// poll is immediate; later ones back off from 200 ms up to 5 s.
pub async fn poll_until<T, Check, Fut>(
    what: &str,
    timeout: Duration,
    mut check: Check,
) -> Result<T, ResourceError>
where
    Check: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ResourceError>>,
{
    const POLL: RetryPolicy = RetryPolicy {
        max_attempts: u32::MAX,
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(5),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut attempt = 1;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(ResourceError::Timeout(format!(
                "{what} did not happen within {timeout:?}; check the resource in the AWS console \
                 and run the command again"
            )));
        }
        tokio::time::sleep(POLL.delay_after(attempt).min(deadline - now)).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::kinds::errors::code;

    fn aws(code: &str, message: &str) -> ResourceError {
        ResourceError::Aws {
            operation: "Test".into(),
            code: Some(code.into()),
            message: message.into(),
        }
    }

    /// A transient error of the tests' own.
    fn conflict(error: &ResourceError) -> bool {
        code(error) == Some("ResourceConflictException")
    }

    const FAST: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(3),
    };

    #[test]
    fn delays_double_and_are_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        let delays: Vec<_> = (1..=5).map(|a| policy.delay_after(a).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 500, 500]);
        assert_eq!(policy.delay_after(u32::MAX), Duration::from_millis(500));
    }

    #[test]
    fn default_policy_is_bounded_to_a_few_minutes() {
        let policy = RetryPolicy::default();
        let total: Duration = (1..policy.max_attempts)
            .map(|a| policy.delay_after(a))
            .sum();
        assert!(total > Duration::from_secs(30), "{total:?}");
        assert!(total < Duration::from_secs(300), "{total:?}");
    }

    #[tokio::test]
    async fn retries_a_transient_error_until_success() {
        let calls = AtomicU32::new(0);
        let result = retry(&FAST, conflict, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(aws("ResourceConflictException", "update in progress")),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result.ok(), Some("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn stops_at_once_on_a_permanent_error() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry(&FAST, conflict, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(aws("AccessDenied", "not allowed"))
        })
        .await;
        assert!(
            matches!(result, Err(ResourceError::Aws { code: Some(c), .. }) if c == "AccessDenied")
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_with_the_last_error() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry(&FAST, conflict, || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Err(aws("ResourceConflictException", &format!("attempt {n}")))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), FAST.max_attempts);
        assert!(
            matches!(result, Err(ResourceError::Aws { message, .. }) if message == "attempt 3")
        );
    }

    #[tokio::test]
    async fn poll_until_returns_once_stable_and_times_out_otherwise() {
        let calls = AtomicU32::new(0);
        let value = poll_until("ready", Duration::from_secs(5), || async {
            Ok((calls.fetch_add(1, Ordering::SeqCst) >= 1).then_some(7))
        })
        .await;
        assert_eq!(value.ok(), Some(7));
        let never: Result<(), _> =
            poll_until("never", Duration::from_millis(50), || async { Ok(None) }).await;
        assert!(matches!(never, Err(ResourceError::Timeout(m)) if m.contains("never")));
    }
}
