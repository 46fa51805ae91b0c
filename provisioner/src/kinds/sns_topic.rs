//! `sns_topic`: an SNS topic, where the environment's alarms send their notifications and which
//! people (e-mail) or systems subscribe to.
//!
//! Id: the topic ARN, which every SNS call takes. SNS makes it of the region, the account and
//! the name, so it is known only once the account is (after apply); the name is declared and a
//! new one replaces the topic. One the state lost is found again at the ARN its name gives.
//! Only the tags change in place.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::{AwsResult, NotFound};
use super::tags;
use super::typed::{About, Found, Kind, Made, Read, TerraformId, Update};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};

/// The `sns_topic` kind.
pub struct SnsTopic;

/// A topic's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The topic's name (`<prefix>-<env>-...`), the last part of its ARN.
    pub name: String,
}

#[async_trait]
impl Kind for SnsTopic {
    const ABOUT: About = About::kind("sns_topic", "the topic ARN")
        .terraform("aws_sns_topic", TerraformId::Attribute("arn"))
        .aws_assigns_id()
        .replace_on(&["name"]);
    type Spec = Spec;

    /// The topics named as the environment's objects.
    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        let actions = [
            "sns:CreateTopic",
            "sns:DeleteTopic",
            "sns:GetTopicAttributes",
            "sns:ListTagsForResource",
            "sns:TagResource",
            "sns:UntagResource",
        ];
        vec![scope.allow("SnsTopics", &actions, topics(scope))]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let call = aws.sns.get_topic_attributes().topic_arn(id);
        if call
            .send()
            .await
            .aws("GetTopicAttributes")
            .absent()?
            .is_none()
        {
            return Ok(None);
        }
        let listed = aws.sns.list_tags_for_resource().resource_arn(id);
        let Some(listed) = listed.send().await.aws("ListTagsForResource").absent()? else {
            return Ok(None); // deleted in between
        };
        let name = id.rsplit(':').next().unwrap_or_default().to_string();
        Ok(Some(
            Found::new(id, Spec { name })
                .with_arn(id)
                .with_output("arn", id)
                .with_tags(tags::from_sns(listed.tags())),
        ))
    }

    async fn find_existing(aws: &AwsClients, _name: &str, spec: &Spec, _tags: &Tags) -> Read<Spec> {
        let account = aws.account_id().await?;
        let arn = format!("arn:aws:sns:{}:{account}:{}", aws.region, spec.name);
        Self::read(aws, &arn, &Fields::new()).await
    }

    async fn create(aws: &AwsClients, _name: &str, spec: &Spec, tags: &Tags) -> Made<Spec> {
        let tags = (!tags.is_empty()).then(|| tags::sns_tags(tags));
        let call = aws
            .sns
            .create_topic()
            .name(&spec.name)
            .set_tags(tags.transpose()?);
        let created = call.send().await.aws("CreateTopic")?;
        let arn = created.topic_arn().unwrap_or_default();
        Self::read_back(aws, arn, &Fields::new()).await
    }

    async fn update(aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        tags::sns(aws, change.id, change).await?;
        Self::read_back(aws, change.id, &Fields::new()).await
    }

    /// DeleteTopic, which takes the topic's subscriptions with it.
    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let call = aws.sns.delete_topic().topic_arn(id);
        call.send().await.aws("DeleteTopic").gone()
    }
}

/// The ARNs of the environment's topics.
pub fn topics(scope: &DeployScope<'_>) -> String {
    scope.arn("sns", &format!("{}-*", scope.env.name_base))
}
