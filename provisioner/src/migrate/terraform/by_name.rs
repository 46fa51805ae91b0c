//! Terraform objects of the kinds the stack names itself (its alarms, its dashboard, the alarms'
//! topic and its subscriptions, the stage's access log group): each maps to the one declared
//! resource of that kind with its name, so a Terraform stack that grew them is adopted whole.

use serde_json::Value;

use crate::resource::Desired;

/// The attributes a Terraform object of these types names it by: an alarm's and a dashboard's
/// `id` is its name; a log group and a topic have `name`; a subscription, its `endpoint`.
const NAMING_ATTRIBUTES: &[&str] = &["id", "name", "endpoint"];

/// The address of the declared resource of `terraform_type`'s kind named as the object whose
/// Terraform `attributes` are given; `None` unless exactly one matches.
pub(super) fn declared_address<'a>(
    terraform_type: &str,
    attributes: &Value,
    declared: &'a [Desired],
) -> Option<&'a str> {
    let kinds: Vec<&str> = crate::kinds::all()
        .iter()
        .filter(|k| k.about().terraform_type == terraform_type)
        .map(|k| k.about().name)
        .collect();
    let names: Vec<&str> = NAMING_ATTRIBUTES
        .iter()
        .filter_map(|key| attributes.get(*key).and_then(Value::as_str))
        .collect();
    let mut matching = declared
        .iter()
        .filter(|d| kinds.contains(&d.kind.as_str()) && names.contains(&d.name.as_str()));
    match (matching.next(), matching.next()) {
        (Some(only), None) => Some(only.address.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::declared_address;
    use crate::resource::Desired;

    fn declared(address: &str, name: &str) -> Desired {
        Desired {
            address: address.into(),
            kind: address.split('.').next().unwrap().into(),
            name: name.into(),
            fields: Default::default(),
            tags: Default::default(),
            depends_on: Vec::new(),
        }
    }

    #[test]
    fn an_object_maps_to_the_declared_one_of_its_kind_and_name() {
        let stack = [
            declared(
                "cloudwatch_metric_alarm.function_errors",
                "s-dev-function-errors",
            ),
            declared("cloudwatch_metric_alarm.api_5xx", "s-dev-api-5xx"),
            declared("cloudwatch_dashboard.main", "s-dev"),
            declared("log_group.api_access", "/aws/apigateway/s-dev-http-api"),
        ];
        let alarm = json!({ "id": "s-dev-api-5xx", "alarm_name": "s-dev-api-5xx" });
        let found = declared_address("aws_cloudwatch_metric_alarm", &alarm, &stack);
        assert_eq!(found, Some("cloudwatch_metric_alarm.api_5xx"));
        let dashboard = json!({ "id": "s-dev", "dashboard_name": "s-dev" });
        let found = declared_address("aws_cloudwatch_dashboard", &dashboard, &stack);
        assert_eq!(found, Some("cloudwatch_dashboard.main"));
        let logs = json!({ "name": "/aws/apigateway/s-dev-http-api" });
        let found = declared_address("aws_cloudwatch_log_group", &logs, &stack);
        assert_eq!(found, Some("log_group.api_access"));
        // Another stack's alarm, or an alarm named as the dashboard: nothing.
        let foreign = json!({ "id": "other-dev-api-5xx" });
        assert_eq!(
            declared_address("aws_cloudwatch_metric_alarm", &foreign, &stack),
            None
        );
        let odd = json!({ "id": "s-dev" });
        assert_eq!(
            declared_address("aws_cloudwatch_metric_alarm", &odd, &stack),
            None
        );
    }
}
