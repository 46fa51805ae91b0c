//! `lambda_permission`: lets API Gateway invoke the function (one statement of its policy).
//!
//! Fields (all force replacement, as Lambda has no "update permission"): `function_name`,
//! `action`, `principal`, `source_arn`. The id is the statement id (`AllowApiGatewayInvoke`);
//! the function comes from the recorded fields. Read parses the function's resource policy
//! (GetPolicy) and picks the statement with our Sid; a missing function or statement is absent.

use async_trait::async_trait;
use serde_json::Value;

use super::errors::{aws_error, ignore_not_found, not_found_as_none};
use super::fields;
use crate::aws::AwsClients;
use crate::kind::{Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind};
use crate::retry::{RetryPolicy, is_lambda_update_in_progress, retry};

const KIND: &str = "lambda_permission";

/// The `lambda_permission` kind.
#[derive(Debug, Default)]
pub struct LambdaPermission;

#[async_trait]
impl ResourceKind for LambdaPermission {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn replace_on(&self) -> &'static [&'static str] {
        &["function_name", "action", "principal", "source_arn"]
    }

    /// Statement ids are unique per function: another statement id, or the same one on
    /// another function, can exist beside the old statement.
    fn coexists_with(&self, desired: &Desired, old: &Observed) -> bool {
        desired.name != old.id
            || desired.fields.get("function_name") != old.fields.get("function_name")
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        let function = fields::string(KIND, recorded, "function_name")?;
        let output = not_found_as_none(
            retry(
                &RetryPolicy::default(),
                is_lambda_update_in_progress,
                || async {
                    aws.lambda
                        .get_policy()
                        .function_name(function)
                        .send()
                        .await
                        .map_err(|e| aws_error("GetPolicy", e))
                },
            )
            .await,
        )?;
        let Some(policy) = output.as_ref().and_then(|o| o.policy()) else {
            return Ok(None);
        };
        let policy = fields::parse_policy_document(KIND, policy)?;
        Ok(find_statement(&policy, id).map(|statement| observe(function, id, statement)))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let declared = &desired.fields;
        let function = fields::string(KIND, declared, "function_name")?;
        retry(
            &RetryPolicy::default(),
            is_lambda_update_in_progress,
            || async {
                aws.lambda
                    .add_permission()
                    .function_name(function)
                    .statement_id(&desired.name)
                    .action(fields::string(KIND, declared, "action")?)
                    .principal(fields::string(KIND, declared, "principal")?)
                    .source_arn(fields::string(KIND, declared, "source_arn")?)
                    .send()
                    .await
                    .map_err(|e| aws_error("AddPermission", e))
            },
        )
        .await?;
        self.read(aws, &desired.name, declared).await?.ok_or_else(|| {
            ResourceError::Invalid(format!(
                "{KIND}: statement {} is missing from {function}'s policy right after it was added",
                desired.name
            ))
        })
    }

    async fn update(
        &self,
        _aws: &AwsClients,
        _desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        match changes.first() {
            None => Ok(current.clone()),
            Some(change) => Err(ResourceError::Invalid(format!(
                "{KIND}: field `{}` can only change by replacing the permission",
                change.field
            ))),
        }
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        recorded: &Fields,
    ) -> Result<(), ResourceError> {
        let function = fields::string(KIND, recorded, "function_name")?;
        ignore_not_found(
            retry(
                &RetryPolicy::default(),
                is_lambda_update_in_progress,
                || async {
                    aws.lambda
                        .remove_permission()
                        .function_name(function)
                        .statement_id(id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| aws_error("RemovePermission", e))
                },
            )
            .await,
        )
    }
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

/// Normalises one policy statement into the declared fields.
fn observe(function: &str, sid: &str, statement: &Value) -> Observed {
    let principal = match statement.get("Principal") {
        Some(Value::String(p)) => Value::String(p.clone()),
        Some(Value::Object(p)) => p
            .get("Service")
            .or_else(|| p.get("AWS"))
            .cloned()
            .unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let action = match statement.get("Action") {
        Some(Value::Array(actions)) if actions.len() == 1 => actions[0].clone(),
        Some(action) => action.clone(),
        None => Value::Null,
    };
    let source_arn = statement
        .get("Condition")
        .and_then(|c| c.get("ArnLike"))
        .and_then(|c| c.get("AWS:SourceArn"))
        .cloned()
        .unwrap_or(Value::Null);
    Observed {
        id: sid.to_string(),
        arn: None,
        fields: fields::fields([
            ("function_name", Value::String(function.to_string())),
            ("action", action),
            ("principal", principal),
            ("source_arn", source_arn),
        ]),
        outputs: Fields::new(),
        tags: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
        let fields = observed.map(|o| o.fields).unwrap_or_default();
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
    }
}
