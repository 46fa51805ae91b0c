//! Reads by an ARN guessed before the object is described, so a kind whose read needs the ARN
//! its describe call answers (a table's tags) waits one round trip, not two. (The alarms' and
//! log groups' tags are guessed the same way, many in one call: [`super::tag_index`].) The
//! guess is built from the object's name, the region and the account (AWS names these ARNs
//! after the object), and is only a head start: the answer counts when the described ARN
//! is the guessed one, and otherwise the read is made again by the described ARN. So a wrong
//! guess (another partition, a format AWS changes) costs a call, never a wrong answer, and the
//! early answer of an object that turns out absent is dropped with it.

use std::future::Future;

use crate::aws::AwsClients;
use crate::resource::{Fields, ResourceError};

/// What was read early, and by which ARN.
pub struct Early<T> {
    arn: String,
    answer: Result<T, ResourceError>,
}

/// `read` by `service`'s ARN of `resource` (`table/NAME`, ...), when the object is `expected`
/// to exist (a refresh of what the state records: a lookup of an object that may not be there,
/// or a read back after a write, waits for the describe instead of spending a call on a guess)
/// and the account is known already (it is on every run that has checked the state's owner; a
/// guess is never worth an STS call of its own).
pub async fn start<T, Fut>(
    aws: &AwsClients,
    expected: bool,
    service: &str,
    resource: &str,
    read: impl FnOnce(String) -> Fut,
) -> Option<Early<T>>
where
    Fut: Future<Output = Result<T, ResourceError>>,
{
    if !expected {
        return None;
    }
    let arn = aws.known_arn(service, resource)?;
    let answer = read(arn.clone()).await;
    Some(Early { arn, answer })
}

/// `read` run beside the describe call when the object is `expected` to exist (see [`start`]);
/// `None`, without a call, otherwise. For a read that needs only the object's name.
pub async fn when<T>(expected: bool, read: impl Future<Output = T>) -> Option<T> {
    match expected {
        true => Some(read.await),
        false => None,
    }
}

/// `read` of every object a refresh hands a kind (`read_many`'s `(id, recorded)` pairs), all
/// at once, in order.
pub async fn each<'a, T, Fut>(
    objects: &'a [(String, Fields)],
    read: impl Fn(&'a str) -> Fut,
) -> Vec<T>
where
    Fut: Future<Output = T>,
{
    futures::future::join_all(objects.iter().map(|(id, _)| read(id))).await
}

/// The early answer when it was read by `arn`, the object's real ARN; otherwise `read` by it.
pub async fn confirm<T, Fut>(
    early: Option<Early<T>>,
    arn: &str,
    read: impl FnOnce(String) -> Fut,
) -> Result<T, ResourceError>
where
    Fut: Future<Output = Result<T, ResourceError>>,
{
    match early {
        Some(early) if early.arn == arn => early.answer,
        _ => read(arn.to_string()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn early(arn: &str, answer: Result<u8, ResourceError>) -> Option<Early<u8>> {
        Some(Early {
            arn: arn.to_string(),
            answer,
        })
    }

    #[tokio::test]
    async fn an_early_answer_counts_only_for_the_real_arn() {
        let again = |arn: String| async move { Ok(if arn == "real" { 2 } else { 9 }) };
        assert_eq!(
            confirm(early("real", Ok(1)), "real", again).await.ok(),
            Some(1)
        );
        assert_eq!(
            confirm(early("guess", Ok(1)), "real", again).await.ok(),
            Some(2)
        );
        assert_eq!(confirm(None, "real", again).await.ok(), Some(2));
        // An early error by a wrong guess is dropped; by the real ARN it is the answer.
        let failed = || Err(ResourceError::Invalid("denied".into()));
        assert_eq!(
            confirm(early("guess", failed()), "real", again).await.ok(),
            Some(2)
        );
        assert!(
            confirm(early("real", failed()), "real", again)
                .await
                .is_err()
        );
    }
}
