//! `lambda_permission`: lets API Gateway invoke the function (one statement of its policy).
//!
//! Fields (all force replacement, as Lambda has no "update permission"): `function_name`,
//! `qualifier` (an alias, whose policy is its own; none for the unqualified function),
//! `action`, `principal`, `source_arn`. The id is the statement id (`AllowApiGatewayInvoke`);
//! the function and qualifier come from the recorded fields. Read parses the function's resource policy
//! (GetPolicy) and picks the statement with our Sid; a missing function or statement is absent.
//! A statement can hold what no declaration can (several actions, principals, no condition):
//! such a value reads as its JSON text (or empty), so it differs from any declaration.
//!
//! Statement ids are unique per function (or alias) only, so a replacement with another
//! statement id, or on another function or alias, is added before the old statement is
//! removed: moving the API's permission from the function to its alias never leaves the API
//! without one. The function's policy
//! cannot change while the function itself is being updated: every call is retried while
//! Lambda says so ([`update_in_progress`]).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{AwsResult, NotFound};
use super::fields;
use super::lambda_function::{functions, update_in_progress};
use super::typed::{About, Found, Kind, Made, Read, TerraformId};
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::resource::{Fields, Observed, ResourceError, Tags};
use crate::retry::{RetryPolicy, retry};

/// The `lambda_permission` kind.
pub struct LambdaPermission;

/// A permission's declared fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The function's name.
    pub function_name: String,
    /// The alias whose policy holds the statement; `None`: the unqualified function's.
    #[serde(default)]
    pub qualifier: Option<String>,
    /// `lambda:InvokeFunction`.
    pub action: String,
    /// The service allowed to call (`apigateway.amazonaws.com`).
    pub principal: String,
    /// The calls allowed, by the caller's ARN pattern (the API's `execution_arn/*/*`).
    pub source_arn: String,
}

#[async_trait]
impl Kind for LambdaPermission {
    const ABOUT: About = About::kind("lambda_permission", "the statement id")
        .terraform(
            "aws_lambda_permission",
            TerraformId::Attribute("statement_id"),
        )
        .replace_on(&[
            "function_name",
            "qualifier",
            "action",
            "principal",
            "source_arn",
        ]);
    type Spec = Spec;

    /// Statement ids are unique per policy: another statement id, or the same one on another
    /// function or alias, can exist beside the old statement.
    fn coexists_with(name: &str, spec: &Spec, old: &Observed) -> bool {
        let old_text = |field: &str| old.fields.get(field).and_then(Value::as_str);
        name != old.id
            || old_text("function_name") != Some(spec.function_name.as_str())
            || old_text("qualifier") != spec.qualifier.as_deref()
    }

    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value> {
        vec![
            json!({
                "Sid": "FunctionPolicyReadAndRemove",
                "Effect": "Allow",
                "Action": ["lambda:GetPolicy", "lambda:RemovePermission"],
                "Resource": functions(scope),
            }),
            json!({
                "Sid": "InvokeOnlyByApiGateway",
                "Effect": "Allow",
                "Action": "lambda:AddPermission",
                "Resource": functions(scope),
                "Condition": { "StringEquals": { "lambda:Principal": "apigateway.amazonaws.com" } },
            }),
        ]
    }

    async fn read(aws: &AwsClients, id: &str, recorded: &Fields) -> Read<Spec> {
        let function = function_of(recorded)?;
        let qualifier = qualifier_of(recorded);
        let output = retry(&RetryPolicy::default(), update_in_progress, || async {
            let call = aws.lambda.get_policy().function_name(function);
            call.set_qualifier(qualifier.clone())
                .send()
                .await
                .aws("GetPolicy")
        })
        .await
        .absent()?;
        let Some(policy) = output.as_ref().and_then(|o| o.policy()) else {
            return Ok(None);
        };
        let policy = fields::parse_policy_document(Self::NAME, policy)?;
        let found = find_statement(&policy, id).map(|statement| observe(function, id, statement));
        Ok(found.map(|mut found| {
            found.spec.qualifier = qualifier;
            found
        }))
    }

    async fn create(aws: &AwsClients, name: &str, spec: &Spec, _tags: &Tags) -> Made<Spec> {
        retry(&RetryPolicy::default(), update_in_progress, || async {
            let call = aws
                .lambda
                .add_permission()
                .function_name(&spec.function_name)
                .set_qualifier(spec.qualifier.clone())
                .statement_id(name)
                .action(&spec.action)
                .principal(&spec.principal)
                .source_arn(&spec.source_arn);
            call.send().await.aws("AddPermission")
        })
        .await?;
        let recorded = crate::kinds::typed::to_fields(spec);
        Self::read(aws, name, &recorded).await?.ok_or_else(|| {
            ResourceError::Invalid(format!(
                "{}: statement {name} is missing from {}'s policy right after it was added",
                Self::NAME,
                spec.function_name
            ))
        })
    }

    async fn delete(aws: &AwsClients, id: &str, recorded: &Fields) -> Result<(), ResourceError> {
        let function = function_of(recorded)?;
        retry(&RetryPolicy::default(), update_in_progress, || async {
            let call = aws
                .lambda
                .remove_permission()
                .function_name(function)
                .set_qualifier(qualifier_of(recorded))
                .statement_id(id);
            call.send().await.aws("RemovePermission").map(drop)
        })
        .await
        .gone()
    }
}

/// The function a recorded permission belongs to.
fn function_of(recorded: &Fields) -> Result<&str, ResourceError> {
    fields::string(LambdaPermission::NAME, recorded, "function_name")
}

/// The alias a recorded permission's statement is on, if any.
fn qualifier_of(recorded: &Fields) -> Option<String> {
    let qualifier = recorded.get("qualifier").and_then(Value::as_str);
    qualifier.filter(|q| !q.is_empty()).map(str::to_string)
}

/// The statement with `Sid == sid` in a resource policy.
fn find_statement<'a>(policy: &'a Value, sid: &str) -> Option<&'a Value> {
    let statements = policy.get("Statement")?;
    let list = match statements {
        Value::Array(list) => list.as_slice(),
        single => std::slice::from_ref(single),
    };
    list.iter()
        .find(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
}

/// One policy statement in the declared shape.
fn observe(function: &str, sid: &str, statement: &Value) -> Found<Spec> {
    let principal = match statement.get("Principal") {
        Some(Value::Object(p)) => p.get("Service").or_else(|| p.get("AWS")),
        Some(p @ Value::String(_)) => Some(p),
        _ => None,
    };
    let action = match statement.get("Action") {
        Some(Value::Array(actions)) if actions.len() == 1 => actions.first(),
        action => action,
    };
    let source_arn = statement
        .get("Condition")
        .and_then(|c| c.get("ArnLike"))
        .and_then(|c| c.get("AWS:SourceArn"));
    let spec = Spec {
        function_name: function.to_string(),
        qualifier: None,
        action: text(action),
        principal: text(principal),
        source_arn: text(source_arn),
    };
    Found::new(sid, spec)
}

/// A statement's value as a declared string: a string as is, anything else as its JSON text,
/// nothing as empty.
fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_our_statement_and_normalises_it() {
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "other", "Action": "lambda:GetFunction", "Principal": "*"},
                {
                    "Sid": "AllowApiGatewayInvoke",
                    "Effect": "Allow",
                    "Principal": {"Service": "apigateway.amazonaws.com"},
                    "Action": "lambda:InvokeFunction",
                    "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                    "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:1:abc/*/*"}}
                }
            ]
        });
        let statement = find_statement(&policy, "AllowApiGatewayInvoke");
        let observed = statement.map(|s| observe("f", "AllowApiGatewayInvoke", s));
        let fields = observed
            .map(|o| crate::kinds::typed::to_fields(&o.spec))
            .unwrap_or_default();
        assert_eq!(
            fields.get("principal"),
            Some(&json!("apigateway.amazonaws.com"))
        );
        assert_eq!(fields.get("action"), Some(&json!("lambda:InvokeFunction")));
        assert_eq!(
            fields.get("source_arn"),
            Some(&json!("arn:aws:execute-api:us-east-1:1:abc/*/*"))
        );
        assert!(find_statement(&policy, "missing").is_none());
        let other = find_statement(&policy, "other").map(|s| observe("f", "other", s));
        assert_eq!(other.map(|o| o.spec.source_arn), Some(String::new()));
    }

    fn spec_for_alias(old: &Observed) -> Spec {
        serde_json::from_value(Value::Object(old.fields.clone())).expect("a permission")
    }

    #[test]
    fn another_statement_id_function_or_alias_can_exist_beside_the_old_one() {
        let spec = Spec {
            function_name: "f".into(),
            qualifier: None,
            action: "lambda:InvokeFunction".into(),
            principal: "apigateway.amazonaws.com".into(),
            source_arn: "arn:aws:execute-api:us-east-1:1:abc/*/*".into(),
        };
        let old = Observed {
            id: "AllowApiGatewayInvoke".into(),
            arn: None,
            fields: crate::kinds::typed::to_fields(&spec),
            outputs: Fields::new(),
            tags: None,
            tags_indexed: false,
        };
        assert!(!LambdaPermission::coexists_with(
            "AllowApiGatewayInvoke",
            &spec,
            &old
        ));
        assert!(LambdaPermission::coexists_with("Other", &spec, &old));
        let elsewhere = Spec {
            function_name: "g".into(),
            ..spec
        };
        assert!(LambdaPermission::coexists_with(
            "AllowApiGatewayInvoke",
            &elsewhere,
            &old
        ));
        let on_the_alias = Spec {
            qualifier: Some("live".into()),
            ..spec_for_alias(&old)
        };
        assert!(LambdaPermission::coexists_with(
            "AllowApiGatewayInvoke",
            &on_the_alias,
            &old
        ));
    }
}
