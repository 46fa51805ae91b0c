//! Reading a Terraform state (format version 4) and mapping the original configuration's
//! resources to this stack's addresses and the physical ids our kinds read them by.
//!
//! Mapping is by resource type (the original has one resource of each), except routes, which
//! map by their `route_key` attribute, so the Terraform resource names do not matter.

use serde::Deserialize;
use serde_json::Value;

use crate::desired::ROUTES;

/// The parts of a Terraform v4 state this tool reads.
#[derive(Debug, Clone, Deserialize)]
pub struct TerraformState {
    pub version: u32,
    #[serde(default)]
    pub terraform_version: String,
    #[serde(default)]
    pub serial: u64,
    #[serde(default)]
    pub lineage: String,
    #[serde(default)]
    pub resources: Vec<TerraformResource>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TerraformResource {
    #[serde(default)]
    pub module: Option<String>,
    pub mode: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub instances: Vec<TerraformInstance>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TerraformInstance {
    #[serde(default)]
    pub index_key: Option<Value>,
    #[serde(default)]
    pub attributes: Value,
}

/// One Terraform resource instance and where it goes here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mapping {
    /// `aws_apigatewayv2_route.route["get_tables"]`.
    pub terraform_address: String,
    /// `apigw_route.get_tables`, or `None` when this stack has no place for it.
    pub address: Option<String>,
    /// The id our kind reads it by.
    pub id: Option<String>,
    /// Why it is not mapped.
    pub note: Option<String>,
}

/// Errors reading a Terraform state.
#[derive(Debug, thiserror::Error)]
pub enum TerraformStateError {
    #[error(
        "{source_name} is not a Terraform state file ({error}); pass the terraform.tfstate file \
         (or `terraform state pull > state.json`)"
    )]
    Parse { source_name: String, error: String },
    #[error(
        "{source_name} is a Terraform state of format version {version}; only version 4 \
         (Terraform 0.12 and later) is read. Run `terraform apply` once with a current Terraform \
         to upgrade it"
    )]
    Version { source_name: String, version: u32 },
}

/// Parses `bytes` (read from `source_name`) as a Terraform v4 state.
pub fn parse(source_name: &str, bytes: &[u8]) -> Result<TerraformState, TerraformStateError> {
    let state: TerraformState =
        serde_json::from_slice(bytes).map_err(|e| TerraformStateError::Parse {
            source_name: source_name.to_string(),
            error: e.to_string(),
        })?;
    if state.version != 4 {
        return Err(TerraformStateError::Version {
            source_name: source_name.to_string(),
            version: state.version,
        });
    }
    Ok(state)
}

fn attr<'a>(attributes: &'a Value, key: &str) -> Option<&'a str> {
    attributes
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn terraform_address(resource: &TerraformResource, instance: &TerraformInstance) -> String {
    let mut address = String::new();
    if let Some(module) = &resource.module {
        address.push_str(module);
        address.push('.');
    }
    if resource.mode == "data" {
        address.push_str("data.");
    }
    address.push_str(&format!("{}.{}", resource.kind, resource.name));
    match &instance.index_key {
        Some(Value::String(key)) => address.push_str(&format!("[\"{key}\"]")),
        Some(other) => address.push_str(&format!("[{other}]")),
        None => {}
    }
    address
}

/// Our address and id for one instance, or the reason there is none.
fn map_instance(kind: &str, a: &Value) -> Result<(String, String), String> {
    let need = |key: &str| {
        attr(a, key)
            .map(str::to_string)
            .ok_or_else(|| format!("its state has no `{key}` attribute"))
    };
    Ok(match kind {
        "aws_iam_role" => ("iam_role.lambda".into(), need("name")?),
        "aws_iam_role_policy_attachment" => (
            "iam_role_policy_attachment.basic_execution".into(),
            format!("{}/{}", need("role")?, need("policy_arn")?),
        ),
        "aws_iam_role_policy" => (
            "iam_role_policy.dynamodb".into(),
            format!("{}:{}", need("role")?, need("name")?),
        ),
        "aws_dynamodb_table" => ("dynamodb_table.playground".into(), need("name")?),
        "aws_cloudwatch_log_group" => ("log_group.lambda".into(), need("name")?),
        "aws_lambda_function" => ("lambda_function.api".into(), need("function_name")?),
        "aws_lambda_layer_version" => ("lambda_layer_version.extra".into(), need("arn")?),
        "aws_apigatewayv2_api" => ("apigw_api.http".into(), need("id")?),
        "aws_apigatewayv2_integration" => ("apigw_integration.lambda".into(), need("id")?),
        "aws_apigatewayv2_route" => {
            let key = need("route_key")?;
            let route = ROUTES
                .iter()
                .find(|(_, k)| *k == key)
                .map(|(name, _)| *name)
                .ok_or_else(|| format!("the route `{key}` is not part of the API contract"))?;
            (format!("apigw_route.{route}"), need("id")?)
        }
        "aws_apigatewayv2_stage" => ("apigw_stage.main".into(), need("name")?),
        "aws_lambda_permission" => ("lambda_permission.apigw".into(), need("statement_id")?),
        other => return Err(format!("this stack has no resource of type {other}")),
    })
}

/// Maps every managed instance; `declared` says which of our addresses the stack declares.
pub fn map_resources(state: &TerraformState, declared: &[String]) -> Vec<Mapping> {
    let mut mappings = Vec::new();
    for resource in state.resources.iter().filter(|r| r.mode == "managed") {
        for instance in &resource.instances {
            let terraform_address = terraform_address(resource, instance);
            let mapping = match map_instance(&resource.kind, &instance.attributes) {
                Ok((address, _)) if !declared.contains(&address) => Mapping {
                    terraform_address,
                    address: None,
                    id: None,
                    note: Some(format!(
                        "the stack declares no {address} (e.g. no [lambda] layer_zip); left unmanaged"
                    )),
                },
                Ok((address, id)) => Mapping {
                    terraform_address,
                    address: Some(address),
                    id: Some(id),
                    note: None,
                },
                Err(note) => Mapping {
                    terraform_address,
                    address: None,
                    id: None,
                    note: Some(note),
                },
            };
            mappings.push(mapping);
        }
    }
    // Two Terraform resources for one address (say, two tables): only the first is adopted.
    let mut seen = std::collections::BTreeSet::new();
    for m in &mut mappings {
        if let Some(address) = &m.address
            && !seen.insert(address.clone())
        {
            m.note = Some(format!(
                "{address} is already taken by another resource; left unmanaged"
            ));
            m.address = None;
            m.id = None;
        }
    }
    mappings
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "version": 4, "terraform_version": "1.11.4", "serial": 7, "lineage": "abc",
      "outputs": {},
      "resources": [
        {"mode": "managed", "type": "aws_dynamodb_table", "name": "playground", "provider": "p",
         "instances": [{"schema_version": 1, "attributes": {"name": "PlaygroundScores", "id": "PlaygroundScores"}}]},
        {"mode": "managed", "type": "aws_apigatewayv2_route", "name": "route", "provider": "p",
         "instances": [{"index_key": "get_tables", "attributes": {"id": "r1", "route_key": "GET /tables"}},
                       {"index_key": "odd", "attributes": {"id": "r2", "route_key": "GET /odd"}}]},
        {"mode": "managed", "type": "aws_iam_role_policy_attachment", "name": "basic", "provider": "p",
         "instances": [{"attributes": {"id": "x-2024", "role": "r", "policy_arn": "arn:aws:iam::aws:policy/P"}}]},
        {"mode": "managed", "type": "aws_lambda_layer_version", "name": "extra", "provider": "p",
         "instances": [{"attributes": {"arn": "arn:aws:lambda:us-east-1:1:layer:l:3"}}]},
        {"mode": "data", "type": "aws_caller_identity", "name": "me", "provider": "p",
         "instances": [{"attributes": {"account_id": "1"}}]}
      ]
    }"#;

    #[test]
    fn a_v4_state_maps_by_type_and_route_key() {
        let state = parse("sample", SAMPLE.as_bytes()).unwrap();
        let declared: Vec<String> = [
            "dynamodb_table.playground",
            "apigw_route.get_tables",
            "iam_role_policy_attachment.basic_execution",
        ]
        .map(String::from)
        .to_vec();
        let m = map_resources(&state, &declared);
        assert_eq!(m.len(), 5, "data sources are skipped: {m:?}");
        assert_eq!(m[0].address.as_deref(), Some("dynamodb_table.playground"));
        assert_eq!(m[0].id.as_deref(), Some("PlaygroundScores"));
        assert_eq!(
            m[1].terraform_address,
            "aws_apigatewayv2_route.route[\"get_tables\"]"
        );
        assert_eq!(m[1].address.as_deref(), Some("apigw_route.get_tables"));
        assert_eq!(m[1].id.as_deref(), Some("r1"));
        assert!(m[2].address.is_none() && m[2].note.as_ref().unwrap().contains("GET /odd"));
        assert_eq!(m[3].id.as_deref(), Some("r/arn:aws:iam::aws:policy/P"));
        assert!(m[4].address.is_none() && m[4].note.as_ref().unwrap().contains("layer_zip"));
    }

    #[test]
    fn other_formats_are_refused_with_a_way_forward() {
        let e = parse("old.tfstate", br#"{"version": 3}"#).unwrap_err();
        assert!(e.to_string().contains("version 3"));
        let e = parse("x.json", b"not json").unwrap_err();
        assert!(e.to_string().contains("terraform state pull"));
    }
}
