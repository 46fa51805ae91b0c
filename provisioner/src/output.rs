//! The stack's outputs: what a user (or CI) needs after an apply, stored in the state so
//! `provisioner output` answers without calling AWS.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::engine::refs::Outputs;
use crate::stack::ResolvedStack;

/// The outputs of an applied environment, from the resources' outputs and the stack.
pub fn stack_outputs(stack: &ResolvedStack, outputs: &Outputs) -> BTreeMap<String, Value> {
    let get =
        |address: &str, output: &str| outputs.get(address).and_then(|o| o.get(output)).cloned();
    let mut out = BTreeMap::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            out.insert(name.to_string(), value);
        }
    };
    let endpoint = get("apigw_api.http", "api_endpoint");
    put(
        "api_base_url",
        endpoint.as_ref().and_then(Value::as_str).map(|e| {
            Value::String(format!(
                "{}/{}",
                e.trim_end_matches('/'),
                stack.api.stage_name
            ))
        }),
    );
    put("api_endpoint", endpoint);
    put("api_id", get("apigw_api.http", "id"));
    put(
        "stage_name",
        Some(Value::String(stack.api.stage_name.clone())),
    );
    put(
        "dynamodb_table_name",
        Some(Value::String(stack.table.name.clone())),
    );
    put(
        "dynamodb_table_arn",
        get("dynamodb_table.playground", "arn"),
    );
    put(
        "lambda_name",
        Some(Value::String(stack.lambda.function_name.clone())),
    );
    put("lambda_arn", get("lambda_function.api", "arn"));
    put("lambda_role_arn", get("iam_role.lambda", "arn"));
    put(
        "log_group_name",
        Some(Value::String(stack.lambda.log_group.clone())),
    );
    put("region", Some(Value::String(stack.region.clone())));
    put(
        "environment",
        Some(Value::String(stack.environment.clone())),
    );
    out
}

/// `name = value` lines, strings quoted as in Terraform's output.
pub fn render(outputs: &BTreeMap<String, Value>) -> String {
    outputs
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect()
}

/// An output's value bare, as `output NAME --raw` prints it for scripts: only strings, numbers
/// and booleans have one (as in Terraform).
pub fn raw(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_string()),
        _ => Err(format!(
            "the output {name} is not a string, number or boolean, so it has no raw form: \
             print it with --json"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;

    #[test]
    fn base_url_is_the_endpoint_and_the_stage() {
        let stack = crate::stack::Stack::parse(Path::new("s.toml"), "[env.dev]\n".into())
            .unwrap()
            .resolve("dev")
            .unwrap();
        let mut outputs = Outputs::new();
        outputs.insert(
            "apigw_api.http".into(),
            json!({"api_endpoint": "https://abc.execute-api.us-east-1.amazonaws.com", "id": "abc"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let out = stack_outputs(&stack, &outputs);
        assert_eq!(
            out["api_base_url"],
            "https://abc.execute-api.us-east-1.amazonaws.com/dev"
        );
        assert_eq!(out["dynamodb_table_name"], "aimodelshare-dev-playground");
        assert_eq!(out["lambda_name"], "aimodelshare-dev-api");
        assert!(render(&out).contains("lambda_name = \"aimodelshare-dev-api\"\n"));
    }
}
