//! Tags, one helper per service: each brings an object's tags from what it has to what is
//! declared with that service's own two calls (untag the keys that go, tag the values that are
//! new or changed), so no kind writes its own.

use std::collections::HashMap;
use std::future::Future;

use super::errors::AwsResult;
use super::typed::Update;
use crate::aws::AwsClients;
use crate::resource::{ResourceError, Tags};

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

/// Tags as the SDKs that take a map want them.
pub fn as_map(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// [`as_map`] with the signature of the conversions that can fail (IAM's, DynamoDB's).
fn map(tags: &Tags) -> Result<HashMap<String, String>, ResourceError> {
    Ok(as_map(tags))
}

/// One helper per service: `$name(aws, target, change)` brings the tags of the object an update
/// changes to the declared ones, when `tags` is among its changed fields, with `$untag` and
/// `$tag` on `aws.$client`, the object named by `$by`, the tags converted by `$convert`.
macro_rules! service_tags {
    ($($(#[$doc:meta])* $name:ident: $client:ident.{$untag:ident, $tag:ident}($by:ident), $convert:path;)*) => {$(
        $(#[$doc])*
        pub async fn $name<S>(
            aws: &AwsClients,
            target: &str,
            change: &Update<'_, S>,
        ) -> Result<(), ResourceError> {
            if !change.has("tags") {
                return Ok(());
            }
            sync(
                &change.current_tags(),
                change.tags,
                |keys| async move {
                    let call = aws.$client.$untag().$by(target).set_tag_keys(Some(keys));
                    call.send().await.aws(&operation(stringify!($untag))).map(drop)
                },
                |set| async move {
                    let call = aws.$client.$tag().$by(target).set_tags(Some($convert(&set)?));
                    call.send().await.aws(&operation(stringify!($tag))).map(drop)
                },
            )
            .await
        }
    )*};
}

/// `untag_resource` → `UntagResource`: the operation's name in errors.
fn operation(method: &str) -> String {
    method
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

service_tags! {
    /// An IAM role's tags, by role name.
    iam_role: iam.{untag_role, tag_role}(role_name), iam;
    /// A DynamoDB table's tags, by ARN.
    dynamodb: dynamodb.{untag_resource, tag_resource}(resource_arn), dynamodb_tags;
    /// A Lambda function's tags, by ARN.
    lambda: lambda.{untag_resource, tag_resource}(resource), map;
    /// An API Gateway resource's tags (an API, a stage), by ARN.
    apigw: apigw.{untag_resource, tag_resource}(resource_arn), map;
    /// A CloudWatch Logs log group's tags, by its ARN without `:*`.
    logs: logs.{untag_resource, tag_resource}(resource_arn), map;
    /// A CloudWatch alarm's tags, by ARN (PutMetricAlarm tags only a new alarm).
    cloudwatch: cloudwatch.{untag_resource, tag_resource}(resource_arn), cloudwatch_tags;
    /// An SNS topic's tags, by ARN.
    sns: sns.{untag_resource, tag_resource}(resource_arn), sns_tags;
}

/// Tags as the SDKs that answer with a map give them.
pub fn from_map(tags: &HashMap<String, String>) -> Tags {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// `$to`: tags in the shape of a service whose `Tag` must have a key and a value (its builder
/// fails without them); `$from`, where given: that service's tags as they are now.
macro_rules! tag_shape {
    ($service:literal, $tag:ty, $to:ident $(, $from:ident)?) => {
        #[doc = concat!("Tags in ", $service, "'s shape.")]
        pub fn $to(tags: &Tags) -> Result<Vec<$tag>, ResourceError> {
            built($service, tags, |k, v| <$tag>::builder().key(k).value(v).build())
        }
        $(
            #[doc = concat!("A ", $service, " object's tags as they are now.")]
            pub fn $from(tags: &[$tag]) -> Tags {
                let pairs = tags.iter().map(|t| (t.key().to_string(), t.value().to_string()));
                pairs.collect()
            }
        )?
    };
}

tag_shape!("IAM", aws_sdk_iam::types::Tag, iam, from_iam);
tag_shape!("DynamoDB", aws_sdk_dynamodb::types::Tag, dynamodb_tags);
tag_shape!("SNS", aws_sdk_sns::types::Tag, sns_tags, from_sns);

/// Tags in CloudWatch's shape (its `Tag` builder cannot fail).
pub fn cloudwatch_tags(tags: &Tags) -> Result<Vec<aws_sdk_cloudwatch::types::Tag>, ResourceError> {
    let tag = |(k, v): (&String, &String)| {
        aws_sdk_cloudwatch::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
    };
    Ok(tags.iter().map(tag).collect())
}

/// A CloudWatch object's tags as they are now (its `Tag` has optional parts; a tag never lacks
/// its key, an empty value stands for a missing one).
pub fn from_cloudwatch(tags: &[aws_sdk_cloudwatch::types::Tag]) -> Tags {
    let pair = |t: &aws_sdk_cloudwatch::types::Tag| {
        let (key, value) = (t.key()?, t.value().unwrap_or_default());
        Some((key.to_string(), value.to_string()))
    };
    tags.iter().filter_map(pair).collect()
}

/// Tags in the shape of a `service` whose tag builder can fail (a missing key or value), with
/// the tag's key in the error.
fn built<T, E: std::fmt::Display>(
    service: &str,
    tags: &Tags,
    build: impl Fn(&str, &str) -> Result<T, E>,
) -> Result<Vec<T>, ResourceError> {
    tags.iter()
        .map(|(k, v)| {
            build(k, v).map_err(|e| ResourceError::Invalid(format!("{service} tag {k}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_as_aws_names_them() {
        assert_eq!(operation("untag_resource"), "UntagResource");
        assert_eq!(operation("tag_role"), "TagRole");
    }

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
