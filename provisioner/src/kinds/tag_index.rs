//! The tags of several objects from one call: the Resource Groups Tagging API's `GetResources`
//! with the objects' ARNs, instead of one `ListTagsForResource` each. A refresh reads every
//! alarm of the stack (seven by default) and both log groups; on an API that answers one request
//! at a time that is most of a no-op plan's wait.
//!
//! The index is AWS's second copy of the tags, kept eventually consistent: right after a
//! `TagResource` it can still show the old tags for a while. So its answer is a head start,
//! never the answer of record:
//! - an object it does not list is read by its own call: one never tagged (GetResources lists
//!   only what is or was tagged), one not indexed yet, one whose ARN was guessed wrong, or every
//!   object when the call failed (a deploy role made before it was allowed `tag:GetResources`);
//! - the tags it lists are marked as read from the index
//!   ([`Found::with_indexed_tags`](super::typed::Found::with_indexed_tags)), and a refresh reads
//!   again by the object's own call every indexed object whose tags are not exactly the stack's
//!   ([`crate::engine::refresh`]). A stale index therefore never shows a change that is not
//!   there (after an apply that changed tags, say); at worst, a tag edited by hand in the last
//!   moments shows as drift one plan later.

use std::collections::HashMap;
use std::future::Future;

use super::errors::AwsResult;
use super::typed::Found;
use crate::aws::AwsClients;
use crate::resource::{ResourceError, Tags};

/// The most ARNs one `GetResources` takes.
const MAX_ARNS_PER_CALL: usize = 100;

/// The tags the index holds for the ARNs asked, by ARN.
#[derive(Debug, Default)]
pub struct TagIndex {
    by_arn: HashMap<String, Tags>,
}

impl TagIndex {
    /// The tags the index lists for `arn`; `None` when it does not list it (read it by the
    /// object's own call).
    pub fn get(&self, arn: &str) -> Option<&Tags> {
        self.by_arn.get(arn)
    }

    /// `found` (the object of ARN `arn`) with its tags: the index's, marked as such, when it
    /// lists `arn`; otherwise `read` by the object's own call.
    pub async fn tag<S, Fut>(
        &self,
        found: Found<S>,
        arn: &str,
        read: impl FnOnce(String) -> Fut,
    ) -> Result<Found<S>, ResourceError>
    where
        Fut: Future<Output = Result<Tags, ResourceError>>,
    {
        Ok(match self.get(arn) {
            Some(tags) => found.with_indexed_tags(tags.clone()),
            None => found.with_tags(read(arn.to_string()).await?),
        })
    }
}

/// The index's tags of the objects `resources` of `service` (`alarm:NAME`, `log-group:NAME`),
/// by the ARNs AWS gives them, when the account is known already ([`AwsClients::known_arn`]);
/// nothing at all, without a call, otherwise. A failed call is logged and leaves the index
/// empty: every object is then read by its own call, as before the index was used.
pub async fn read(aws: &AwsClients, service: &str, resources: &[String]) -> TagIndex {
    let arns: Vec<String> = resources
        .iter()
        .filter_map(|resource| aws.known_arn(service, resource))
        .collect();
    let mut index = TagIndex::default();
    for chunk in arns.chunks(MAX_ARNS_PER_CALL) {
        let call = aws.tagging.get_resources();
        let call = call.set_resource_arn_list(Some(chunk.to_vec()));
        match call.send().await.aws("GetResources") {
            Ok(answer) => index
                .by_arn
                .extend(listed(answer.resource_tag_mapping_list())),
            Err(error) => {
                tracing::debug!(%error, service, "tag index unavailable; reading each object's tags");
                return TagIndex::default();
            }
        }
    }
    index
}

/// The ARNs and tags of one `GetResources` answer.
fn listed(
    mappings: &[aws_sdk_resourcegroupstagging::types::ResourceTagMapping],
) -> impl Iterator<Item = (String, Tags)> + '_ {
    mappings.iter().filter_map(|mapping| {
        let arn = mapping.resource_arn()?.to_string();
        let tags = mapping
            .tags()
            .iter()
            .map(|tag| (tag.key().to_string(), tag.value().to_string()));
        Some((arn, tags.collect()))
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};

    use super::*;

    fn mapping(arn: Option<&str>, tags: &[(&str, &str)]) -> ResourceTagMapping {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(*k).value(*v).build());
        let tags: Result<Vec<Tag>, _> = tags.collect();
        ResourceTagMapping::builder()
            .set_resource_arn(arn.map(str::to_string))
            .set_tags(Some(tags.expect("a key and a value")))
            .build()
    }

    #[test]
    fn an_answer_is_read_by_arn_and_a_mapping_without_one_is_left_out() {
        let answer = [
            mapping(Some("arn:a"), &[("k", "v"), ("provisioner:stack", "s")]),
            mapping(None, &[("k", "lost")]),
            mapping(Some("arn:b"), &[]),
        ];
        let index = TagIndex {
            by_arn: listed(&answer).collect(),
        };
        let a = index.get("arn:a").expect("listed");
        assert_eq!(a.get("k").map(String::as_str), Some("v"));
        assert_eq!(a.len(), 2);
        assert_eq!(index.get("arn:b"), Some(&Tags::new()));
        assert_eq!(index.get("arn:c"), None);
        assert_eq!(index.by_arn.len(), 2);
    }
}
