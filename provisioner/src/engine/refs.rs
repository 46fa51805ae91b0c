//! References between resources: `{"$ref": "<address>.<output>", "prefix"?, "suffix"?}`.
//!
//! At plan time a reference to a resource that does not exist yet (or will be replaced) stays
//! unresolved and prints as "(known after apply)"; at apply time its producer has run, so every
//! reference must resolve before a kind sees the declaration.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::resource::{Desired, Fields};

/// Outputs of every resource known so far, by address.
pub type Outputs = BTreeMap<String, Fields>;

/// Splits `lambda_function.api.arn` into (`lambda_function.api`, `arn`).
pub fn split(reference: &str) -> Option<(&str, &str)> {
    reference.rsplit_once('.')
}

/// `value` with every reference whose producer's output is known replaced by its value.
pub fn resolve(value: &Value, outputs: &Outputs) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                return lookup(reference, map, outputs).unwrap_or_else(|| value.clone());
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), resolve(v, outputs)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, outputs)).collect()),
        other => other.clone(),
    }
}

fn lookup(reference: &str, map: &Fields, outputs: &Outputs) -> Option<Value> {
    let (address, output) = split(reference)?;
    let value = outputs.get(address)?.get(output)?;
    let prefix = map.get("prefix").and_then(Value::as_str).unwrap_or("");
    let suffix = map.get("suffix").and_then(Value::as_str).unwrap_or("");
    if prefix.is_empty() && suffix.is_empty() {
        return Some(value.clone());
    }
    let text = value.as_str()?;
    Some(Value::String(format!("{prefix}{text}{suffix}")))
}

/// A copy of `desired` with its fields resolved as far as `outputs` allows.
pub fn resolve_desired(desired: &Desired, outputs: &Outputs) -> Desired {
    let mut out = desired.clone();
    out.fields = desired
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), resolve(v, outputs)))
        .collect();
    out
}

/// The first reference left in `value`, if any.
pub fn first_reference(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => match map.get("$ref") {
            Some(Value::String(r)) => Some(r.clone()),
            _ => map.values().find_map(first_reference),
        },
        Value::Array(items) => items.iter().find_map(first_reference),
        _ => None,
    }
}

/// Every address `value` refers to.
pub fn referenced_addresses(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                if let Some((address, _)) = split(r) {
                    into.push(address.to_string());
                }
            } else {
                map.values().for_each(|v| referenced_addresses(v, into));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| referenced_addresses(v, into)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn resolves_nested_references_with_prefix_and_suffix() {
        let mut outputs = Outputs::new();
        outputs.insert(
            "dynamodb_table.playground".into(),
            json!({"arn": "arn:t"}).as_object().unwrap().clone(),
        );
        let value = json!({
            "Resource": [
                {"$ref": "dynamodb_table.playground.arn"},
                {"$ref": "dynamodb_table.playground.arn", "prefix": "", "suffix": "/index/*"},
                {"$ref": "apigw_api.http.id"}
            ]
        });
        let resolved = resolve(&value, &outputs);
        assert_eq!(resolved["Resource"][0], "arn:t");
        assert_eq!(resolved["Resource"][1], "arn:t/index/*");
        assert_eq!(
            resolved["Resource"][2],
            json!({"$ref": "apigw_api.http.id"})
        );
        assert_eq!(
            first_reference(&resolved).as_deref(),
            Some("apigw_api.http.id")
        );
        let mut addresses = Vec::new();
        referenced_addresses(&value, &mut addresses);
        assert_eq!(addresses.len(), 3);
        assert_eq!(addresses[2], "apigw_api.http");
    }
}
