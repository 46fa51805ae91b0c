//! Reading a Terraform state (format version 4) and mapping the original configuration's
//! resources to this stack's addresses and the physical ids our kinds read them by.
//!
//! Mapping is by identity, never by order or Terraform name: the original's function is the
//! anchor, and every other object maps through what it is to that function (its role by ARN,
//! its table by `TABLE_NAME`, the API by the integration that targets it, attachments by role
//! and policy ARN, routes by route key). Objects the stack does not declare but that would
//! otherwise be left behind (the original's customer-managed table policy and its attachment)
//! are mapped under their Terraform names so that the plan removes them after the stack's own
//! policy is in place.

use serde::Deserialize;
use serde_json::Value;

use crate::desired::{self, BASIC_EXECUTION_POLICY_ARN};
use crate::resource::Desired;

mod by_name;
mod mapping;

pub use mapping::Mapping;

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

/// One managed instance of the Terraform state.
struct Instance<'a> {
    address: String,
    kind: &'a str,
    /// The Terraform resource name (`lambda_exec_role`), for addresses of removed objects.
    name: &'a str,
    attributes: &'a Value,
}

impl Instance<'_> {
    fn attr(&self, key: &str) -> Option<&str> {
        attr(self.attributes, key)
    }
}

/// What the original's function says about the rest: the objects the stack manages are found
/// through it (its role, its table, its layers, the API integrated with it), by physical id or
/// ARN, never by the order or the names of the Terraform resources.
struct Anchor<'a> {
    name: &'a str,
    arn: &'a str,
    role_arn: Option<&'a str>,
    table: Option<&'a str>,
    layers: Vec<&'a str>,
}

fn anchor<'a>(instances: &[Instance<'a>], declared_name: Option<&str>) -> Option<Anchor<'a>> {
    let functions: Vec<&Instance<'a>> = instances
        .iter()
        .filter(|i| i.kind == "aws_lambda_function")
        .collect();
    let chosen = match functions.as_slice() {
        [only] => Some(*only),
        many => many
            .iter()
            .find(|f| f.attr("function_name").is_some() && f.attr("function_name") == declared_name)
            .copied(),
    }?;
    let a = chosen.attributes;
    Some(Anchor {
        name: attr(a, "function_name")?,
        arn: attr(a, "arn")?,
        role_arn: attr(a, "role"),
        table: a
            .pointer("/environment/0/variables/TABLE_NAME")
            .and_then(Value::as_str),
        layers: a
            .get("layers")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
    })
}

/// Maps every managed instance to this stack's addresses by identity. `declared` is the stack's
/// declaration: its addresses, and the names it gives the function and the stage.
pub fn map_resources(state: &TerraformState, declared: &[Desired]) -> Vec<Mapping> {
    let instances: Vec<Instance<'_>> = state
        .resources
        .iter()
        .filter(|r| r.mode == "managed")
        .flat_map(|r| {
            r.instances.iter().map(move |i| Instance {
                address: terraform_address(r, i),
                kind: &r.kind,
                name: &r.name,
                attributes: &i.attributes,
            })
        })
        .collect();
    let declared_name = |address: &str| {
        declared
            .iter()
            .find(|d| d.address == address)
            .map(|d| d.name.as_str())
    };
    let function = anchor(&instances, declared_name("lambda_function.api"));
    let role = instances.iter().find(|i| {
        i.kind == "aws_iam_role"
            && match &function {
                Some(f) => f.role_arn.is_some() && i.attr("arn") == f.role_arn,
                None => {
                    instances
                        .iter()
                        .filter(|j| j.kind == "aws_iam_role")
                        .count()
                        == 1
                }
            }
    });
    let role_name = role.and_then(|r| r.attr("name"));
    let integrates_function = |i: &Instance<'_>| {
        function.as_ref().is_some_and(|f| {
            i.attr("integration_uri")
                .is_some_and(|uri| uri.contains(f.arn))
        })
    };
    let api_id = instances
        .iter()
        .find(|i| i.kind == "aws_apigatewayv2_integration" && integrates_function(i))
        .and_then(|i| i.attr("api_id"))
        .or_else(|| {
            let apis: Vec<_> = instances
                .iter()
                .filter(|i| i.kind == "aws_apigatewayv2_api")
                .collect();
            match apis.as_slice() {
                [only] => only.attr("id"),
                _ => None,
            }
        });
    let on_api = |i: &Instance<'_>| api_id.is_some() && i.attr("api_id") == api_id;
    let declared_addresses: Vec<&str> = declared.iter().map(|d| d.address.as_str()).collect();
    // Policies attached to the function's role by an attachment the stack does not declare.
    let removed_policy = |arn: &str| {
        instances
            .iter()
            .find(|p| p.kind == "aws_iam_policy" && p.attr("arn") == Some(arn))
    };
    let removal_address = |kind: &str, name: &str| {
        let address = format!("{kind}.{name}");
        if declared_addresses.contains(&address.as_str()) {
            format!("{kind}.{name}_terraform")
        } else {
            address
        }
    };
    let stage_candidates = instances
        .iter()
        .filter(|i| i.kind == "aws_apigatewayv2_stage" && on_api(i))
        .count();

    let mut mappings: Vec<Mapping> = instances
        .iter()
        .map(|i| {
            let need = |key: &str| {
                i.attr(key)
                    .map(str::to_string)
                    .ok_or_else(|| format!("its state has no `{key}` attribute"))
            };
            // The id the kind of the same Terraform type reads its object by.
            let id = || {
                crate::kinds::all()
                    .iter()
                    .find(|k| k.about().terraform_type == i.kind)
                    .and_then(|k| k.terraform_id(i.attributes))
                    .ok_or_else(|| format!("its state has no id for a {}", i.kind))
            };
            // Whether the instance is on the stack's function (a permission, an alias).
            let on_function = || {
                let target = i.attr("function_name");
                function
                    .as_ref()
                    .is_some_and(|f| target == Some(f.name) || target == Some(f.arn))
            };
            let mapped = (|| -> Result<Mapping, String> {
                let to = |address: &str, id: String| Mapping::to(&i.address, address.into(), id);
                match i.kind {
                    "aws_lambda_function" => match &function {
                        Some(f) if i.attr("arn") == Some(f.arn) => {
                            Ok(to("lambda_function.api", id()?))
                        }
                        _ => Err("not the stack's function".into()),
                    },
                    "aws_iam_role" if Some(i.address.as_str()) == role.map(|r| r.address.as_str()) => {
                        Ok(to("iam_role.lambda", id()?))
                    }
                    "aws_iam_role" => Err("not the function's execution role".into()),
                    "aws_iam_role_policy_attachment" if i.attr("role") == role_name => {
                        let policy_arn = need("policy_arn")?;
                        let id = id()?;
                        if policy_arn == BASIC_EXECUTION_POLICY_ARN {
                            return Ok(to("iam_role_policy_attachment.basic_execution", id));
                        }
                        let mut mapping = to(&removal_address("iam_role_policy_attachment", i.name), id);
                        mapping.depends_on.push("iam_role.lambda".into());
                        if let Some(policy) = removed_policy(&policy_arn) {
                            mapping.depends_on.push(removal_address("iam_policy", policy.name));
                        }
                        mapping.note = Some(
                            "the stack does not declare it: removed once the stack's own policy grants the access".into(),
                        );
                        Ok(mapping)
                    }
                    "aws_iam_role_policy_attachment" => Err("not attached to the function's role".into()),
                    "aws_iam_policy" => {
                        let arn = need("arn")?;
                        let attached = instances.iter().any(|a| {
                            a.kind == "aws_iam_role_policy_attachment"
                                && a.attr("role") == role_name
                                && role_name.is_some()
                                && a.attr("policy_arn") == Some(arn.as_str())
                        });
                        if !attached {
                            return Err("not attached to the function's role".into());
                        }
                        let mut mapping = to(&removal_address("iam_policy", i.name), id()?);
                        mapping.depends_on.push("iam_role.lambda".into());
                        mapping.note = Some(
                            "the stack grants the table access with its own inline policy: removed once that is in place".into(),
                        );
                        Ok(mapping)
                    }
                    "aws_iam_role_policy" if i.attr("role") == role_name => {
                        Ok(to("iam_role_policy.dynamodb", id()?))
                    }
                    "aws_iam_role_policy" => Err("not a policy of the function's role".into()),
                    "aws_dynamodb_table" => {
                        let name = need("name")?;
                        let tables = instances.iter().filter(|t| t.kind == "aws_dynamodb_table").count();
                        let ours = match function.as_ref().and_then(|f| f.table) {
                            Some(table) => table == name,
                            None => tables == 1,
                        };
                        if ours {
                            Ok(to("dynamodb_table.playground", id()?))
                        } else {
                            Err("not the table the function uses (its TABLE_NAME)".into())
                        }
                    }
                    "aws_cloudwatch_log_group" => {
                        let name = need("name")?;
                        match (&function, by_name::declared_address(i.kind, i.attributes, declared)) {
                            (Some(f), _) if name == format!("/aws/lambda/{}", f.name) => {
                                Ok(to("log_group.lambda", id()?))
                            }
                            (_, Some(address)) => Ok(to(address, id()?)),
                            _ => Err("not one of the stack's log groups".into()),
                        }
                    }
                    "aws_lambda_layer_version" => {
                        let arn = need("arn")?;
                        if function.as_ref().is_some_and(|f| f.layers.contains(&arn.as_str())) {
                            Ok(to("lambda_layer_version.extra", id()?))
                        } else {
                            Err("not a layer of the function".into())
                        }
                    }
                    "aws_apigatewayv2_api" if i.attr("id").is_some() && i.attr("id") == api_id => {
                        Ok(to("apigw_api.http", id()?))
                    }
                    "aws_apigatewayv2_api" => Err("not the API integrated with the function".into()),
                    "aws_apigatewayv2_integration" if on_api(i) && integrates_function(i) => {
                        Ok(to("apigw_integration.lambda", id()?))
                    }
                    "aws_apigatewayv2_route" if on_api(i) => {
                        let key = need("route_key")?;
                        let route = desired::contract::ROUTES
                            .iter()
                            .find(|r| r.key() == key)
                            .map(|r| r.name())
                            .ok_or_else(|| format!("the route `{key}` is not part of the API contract"))?;
                        Ok(to(&format!("apigw_route.{route}"), id()?))
                    }
                    "aws_apigatewayv2_stage"
                        if on_api(i)
                            && (stage_candidates == 1
                                || i.attr("name") == declared_name("apigw_stage.main")) =>
                    {
                        Ok(to("apigw_stage.main", id()?))
                    }
                    "aws_lambda_permission"
                        if on_function() && i.attr("principal") == Some("apigateway.amazonaws.com") =>
                    {
                        if i.attr("qualifier") == Some(desired::LIVE_ALIAS) {
                            return Ok(to("lambda_permission.apigw", id()?));
                        }
                        // The original's is on the function itself; the stack's is on the alias
                        // the integration is moved to. The old one goes last, so API Gateway is
                        // never without a permission for what it invokes.
                        let mut mapping = to(&removal_address("lambda_permission", i.name), id()?);
                        mapping.depends_on.push("lambda_function.api".into());
                        let function = i.attr("function_name").unwrap_or_default();
                        mapping.recorded.insert("function_name".into(), function.into());
                        mapping.note = Some(format!(
                            "API Gateway's permission on the function itself: the stack's is on the alias `{}`, which the integration invokes once it is in place; removed after that",
                            desired::LIVE_ALIAS
                        ));
                        Ok(mapping)
                    }
                    "aws_lambda_permission" => Err("not API Gateway's permission on the function".into()),
                    "aws_lambda_alias" => {
                        if on_function() && i.attr("name") == Some(desired::LIVE_ALIAS) {
                            Ok(to("lambda_alias.live", id()?))
                        } else {
                            Err(format!("not the function's `{}` alias", desired::LIVE_ALIAS))
                        }
                    }
                    "aws_apigatewayv2_authorizer"
                        if on_api(i) && i.attr("authorizer_type") == Some("JWT") =>
                    {
                        Ok(to(desired::AUTHORIZER, id()?))
                    }
                    "aws_apigatewayv2_integration"
                    | "aws_apigatewayv2_route"
                    | "aws_apigatewayv2_stage"
                    | "aws_apigatewayv2_authorizer" => {
                        Err("not on the API integrated with the function".into())
                    }
                    other => match by_name::declared_address(other, i.attributes, declared) {
                        Some(address) => Ok(to(address, id()?)),
                        None => Err(format!("this stack declares no {other} of that name")),
                    },
                }
            })();
            mapped.unwrap_or_else(|note| Mapping::unmapped(&i.address, note))
        })
        .collect();

    for m in &mut mappings {
        let Some(address) = &m.address else { continue };
        if !m.is_removal() && !declared_addresses.contains(&address.as_str()) {
            let note = format!(
                "the stack declares no {address} (e.g. no [lambda] layer_zip); left unmanaged"
            );
            *m = Mapping::unmapped(&m.terraform_address, note);
        }
    }
    // Two Terraform resources for one address: neither is adopted (no guessing by order).
    let addresses: Vec<Option<String>> = mappings.iter().map(|m| m.address.clone()).collect();
    for m in &mut mappings {
        let Some(address) = m.address.clone() else {
            continue;
        };
        let others: Vec<&str> = mappings_with(&addresses, &address);
        if others.len() > 1 {
            let note = format!(
                "{address} matches {} Terraform resources; none was adopted: import the right \
                 one with `provisioner import`",
                others.len()
            );
            *m = Mapping::unmapped(&m.terraform_address, note);
        }
    }
    mappings
}

fn mappings_with<'a>(addresses: &'a [Option<String>], address: &str) -> Vec<&'a str> {
    addresses
        .iter()
        .filter_map(|a| a.as_deref())
        .filter(|a| *a == address)
        .collect()
}

#[cfg(test)]
mod tests;
