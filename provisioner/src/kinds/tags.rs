//! Tags, one helper per service: each brings an object's tags from what it has to what is
//! declared with that service's own two calls (untag the keys that go, tag the values that are
//! new or changed), so no kind writes its own.

use std::collections::HashMap;
use std::future::Future;

use super::errors::AwsResult;
use crate::aws::AwsClients;
use crate::kind::{ResourceError, Tags};

/// The keys to remove and the values to set to go from `current` to `desired`.
pub fn changes(current: &Tags, desired: &Tags) -> (Vec<String>, Tags) {
    let remove = current
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .cloned()
        .collect();
    let set = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (remove, set)
}

/// Runs the service's untag and tag calls for what differs, and nothing when nothing does.
async fn sync<U, T>(
    current: &Tags,
    desired: &Tags,
    untag: impl FnOnce(Vec<String>) -> U,
    tag: impl FnOnce(Tags) -> T,
) -> Result<(), ResourceError>
where
    U: Future<Output = Result<(), ResourceError>>,
    T: Future<Output = Result<(), ResourceError>>,
{
    let (remove, set) = changes(current, desired);
    if !remove.is_empty() {
        untag(remove).await?;
    }
    if !set.is_empty() {
        tag(set).await?;
    }
    Ok(())
}

fn hash_map(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// An IAM role's tags.
pub async fn iam_role(
    aws: &AwsClients,
    role: &str,
    current: &Tags,
    desired: &Tags,
) -> Result<(), ResourceError> {
    sync(
        current,
        desired,
        |keys| async move {
            let call = aws
                .iam
                .untag_role()
                .role_name(role)
                .set_tag_keys(Some(keys));
            call.send().await.aws("UntagRole").map(drop)
        },
        |set| async move {
            let call = aws
                .iam
                .tag_role()
                .role_name(role)
                .set_tags(Some(iam(&set)?));
            call.send().await.aws("TagRole").map(drop)
        },
    )
    .await
}

/// Tags in IAM's shape.
pub fn iam(tags: &Tags) -> Result<Vec<aws_sdk_iam::types::Tag>, ResourceError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ResourceError::Invalid(format!("IAM tag {k}: {e}")))
        })
        .collect()
}

/// A DynamoDB table's tags.
pub async fn dynamodb(
    aws: &AwsClients,
    arn: &str,
    current: &Tags,
    desired: &Tags,
) -> Result<(), ResourceError> {
    sync(
        current,
        desired,
        |keys| async move {
            let call = aws
                .dynamodb
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys));
            call.send().await.aws("UntagResource").map(drop)
        },
        |set| async move {
            let call = aws
                .dynamodb
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(dynamodb_tags(&set)?));
            call.send().await.aws("TagResource").map(drop)
        },
    )
    .await
}

/// Tags in DynamoDB's shape.
pub fn dynamodb_tags(tags: &Tags) -> Result<Vec<aws_sdk_dynamodb::types::Tag>, ResourceError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_dynamodb::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ResourceError::Invalid(format!("DynamoDB tag {k}: {e}")))
        })
        .collect()
}

/// A Lambda function's tags.
pub async fn lambda(
    aws: &AwsClients,
    arn: &str,
    current: &Tags,
    desired: &Tags,
) -> Result<(), ResourceError> {
    sync(
        current,
        desired,
        |keys| async move {
            let call = aws
                .lambda
                .untag_resource()
                .resource(arn)
                .set_tag_keys(Some(keys));
            call.send().await.aws("UntagResource").map(drop)
        },
        |set| async move {
            let call = aws
                .lambda
                .tag_resource()
                .resource(arn)
                .set_tags(Some(hash_map(&set)));
            call.send().await.aws("TagResource").map(drop)
        },
    )
    .await
}

/// An API Gateway resource's tags (an API, a stage).
pub async fn apigw(
    aws: &AwsClients,
    arn: &str,
    current: &Tags,
    desired: &Tags,
) -> Result<(), ResourceError> {
    sync(
        current,
        desired,
        |keys| async move {
            let call = aws
                .apigw
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys));
            call.send().await.aws("UntagResource").map(drop)
        },
        |set| async move {
            let call = aws
                .apigw
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(hash_map(&set)));
            call.send().await.aws("TagResource").map(drop)
        },
    )
    .await
}

/// A CloudWatch Logs log group's tags (by its ARN without `:*`).
pub async fn logs(
    aws: &AwsClients,
    arn: &str,
    current: &Tags,
    desired: &Tags,
) -> Result<(), ResourceError> {
    sync(
        current,
        desired,
        |keys| async move {
            let call = aws
                .logs
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys));
            call.send().await.aws("UntagResource").map(drop)
        },
        |set| async move {
            let call = aws
                .logs
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(hash_map(&set)));
            call.send().await.aws("TagResource").map(drop)
        },
    )
    .await
}

/// Tags as the SDKs that take a map want them.
pub fn as_map(tags: &Tags) -> HashMap<String, String> {
    hash_map(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_values_are_set_and_dropped_keys_removed() {
        let current = Tags::from([("a".into(), "1".into()), ("b".into(), "2".into())]);
        let desired = Tags::from([("a".into(), "1".into()), ("c".into(), "3".into())]);
        let (remove, set) = changes(&current, &desired);
        assert_eq!(remove, vec!["b".to_string()]);
        assert_eq!(set, Tags::from([("c".into(), "3".into())]));
        assert_eq!(changes(&desired, &desired), (vec![], Tags::new()));
    }
}
