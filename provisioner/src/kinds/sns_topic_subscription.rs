//! `sns_topic_subscription`: one endpoint (an e-mail address, a queue, a function) subscribed
//! to a topic. Nothing of it changes in place: a new topic, protocol or endpoint is another
//! subscription. Subscriptions cannot be tagged.
//!
//! Id: the subscription ARN, which SNS assigns. An e-mail (or HTTP) subscription stays pending
//! until its owner follows the link SNS mails them, and SNS answers Subscribe with the words
//! `pending confirmation` instead of an ARN for it, unless asked for the ARN
//! (`ReturnSubscriptionArn`), as create does: so the id is known at once, and a pending
//! subscription reads like any other (its `pending_confirmation` output says it is pending).
//! The listing of a topic's subscriptions shows a pending one as `PendingConfirmation`, not
//! its ARN, so one the state lost is found again there, by protocol and endpoint, only once
//! confirmed; a pending one is adopted by create instead, as Subscribe answers the existing
//! subscription of the same topic, protocol and endpoint.
//!
//! AWS refuses to unsubscribe a pending subscription, and deletes one that is not confirmed
//! after 48 hours by itself: delete treats it as gone. The emulator confirms every
//! subscription at once, so this path is shown by a recorded-response test.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::{self, AwsResult, NotFound};
use super::sns_topic;
use super::typed::{About, Found, Kind, Made, Read, TerraformId};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, ResourceError, Tags};

/// The `sns_topic_subscription` kind.
pub struct SnsTopicSubscription;

/// A subscription's declared fields, each of which forces replacement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub topic_arn: String,
    /// `email`, `sqs`, `lambda`, `https`, ...
    pub protocol: String,
    /// Where the protocol delivers: an address, a queue's or a function's ARN, a URL.
    pub endpoint: String,
}

/// What forces a replacement: every declared field (a test holds it to [`Spec`]'s).
const EVERY_FIELD: &[&str] = &["topic_arn", "protocol", "endpoint"];

#[async_trait]
impl Kind for SnsTopicSubscription {
    const ABOUT: About = About::kind("sns_topic_subscription", "the subscription ARN")
        .terraform("aws_sns_topic_subscription", TerraformId::Attribute("arn"))
        .aws_assigns_id()
        .replace_on(EVERY_FIELD);
    type Spec = Spec;

    /// Subscribing to and listing the environment's topics only. Reading and removing a
    /// subscription, though, cannot be confined: IAM knows no resource for
    /// GetSubscriptionAttributes and Unsubscribe (they are authorised on `*`).
    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        let subscribe = ["sns:ListSubscriptionsByTopic", "sns:Subscribe"];
        let own = ["sns:GetSubscriptionAttributes", "sns:Unsubscribe"];
        vec![
            scope.allow("SnsSubscribe", &subscribe, sns_topic::topics(scope)),
            scope.allow("SnsSubscriptions", &own, "*"),
        ]
    }

    async fn read(aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let call = aws.sns.get_subscription_attributes().subscription_arn(id);
        let Some(found) = call
            .send()
            .await
            .aws("GetSubscriptionAttributes")
            .absent()?
        else {
            return Ok(None);
        };
        let attributes = found.attributes.unwrap_or_default();
        let text = |key: &str| attributes.get(key).cloned().unwrap_or_default();
        let spec = Spec {
            topic_arn: text("TopicArn"),
            protocol: text("Protocol"),
            endpoint: text("Endpoint"),
        };
        let pending = text("PendingConfirmation") == "true";
        Ok(Some(
            Found::new(id, spec)
                .with_arn(id)
                .with_output("arn", id)
                .with_output("pending_confirmation", pending),
        ))
    }

    /// The topic's confirmed subscription of the declared protocol and endpoint.
    async fn find_existing(aws: &AwsClients, _name: &str, spec: &Spec, _tags: &Tags) -> Read<Spec> {
        let listing = aws
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(&spec.topic_arn);
        let listed = listing.into_paginator().items().send();
        let Some(listed) = errors::every_item(listed, "ListSubscriptionsByTopic")
            .await
            .absent()?
        else {
            return Ok(None); // no topic, so no subscription
        };
        let confirmed = listed.iter().find(|s| {
            s.protocol() == Some(spec.protocol.as_str())
                && s.endpoint() == Some(spec.endpoint.as_str())
                && s.subscription_arn()
                    .is_some_and(|arn| arn.starts_with("arn:"))
        });
        match confirmed.and_then(|s| s.subscription_arn()) {
            Some(arn) => Self::read(aws, arn, &Fields::new()).await,
            None => Ok(None),
        }
    }

    async fn create(aws: &AwsClients, _name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        let call = aws
            .sns
            .subscribe()
            .topic_arn(&spec.topic_arn)
            .protocol(&spec.protocol)
            .endpoint(&spec.endpoint)
            .return_subscription_arn(true);
        let made = call.send().await.aws("Subscribe")?;
        let arn = made.subscription_arn().unwrap_or_default();
        Self::read_back(aws, arn, &Fields::new()).await
    }

    async fn delete(aws: &AwsClients, id: &str, _recorded: &Fields) -> Result<(), ResourceError> {
        let call = aws.sns.unsubscribe().subscription_arn(id);
        match call.send().await.aws("Unsubscribe") {
            Err(error) if is_pending_confirmation(&error) => {
                tracing::info!(
                    subscription = id,
                    "the subscription is pending confirmation, which AWS does not unsubscribe: \
                     it is deleted by AWS 48 hours after it was made unless confirmed"
                );
                Ok(())
            }
            result => result.gone(),
        }
    }
}

/// Unsubscribe's refusal of a subscription nobody confirmed yet.
fn is_pending_confirmation(error: &ResourceError) -> bool {
    errors::code(error) == Some("InvalidParameter") && errors::says(error, "pending confirmation")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::errors::testing::{assert_retries, aws};

    #[test]
    fn every_declared_field_forces_replacement() {
        let declared = crate::kinds::spec_fields::spec_fields::<Spec>();
        assert_eq!(declared, EVERY_FIELD);
    }

    #[test]
    fn only_the_refusal_of_a_pending_subscription_counts_as_gone() {
        let pending = "Invalid parameter: Cannot unsubscribe a subscription that is pending \
                       confirmation";
        assert_retries(
            is_pending_confirmation,
            &[aws("InvalidParameter", pending)],
            &[
                aws("InvalidParameter", "Invalid parameter: SubscriptionArn"),
                aws("AuthorizationError", pending),
            ],
        );
    }
}
