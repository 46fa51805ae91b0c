//! One module per AWS resource kind, and the registry the engine looks kinds up in.
//!
//! The stack (`desired.rs`) declares these kinds, addresses and fields; each module owns the
//! AWS calls and the normalisation of what AWS reports into exactly these shapes. A field value
//! `{"$ref": "<address>.<output>"}` in a declaration is resolved by the engine before a kind
//! sees it (at plan time an unresolved one prints as `(known after apply)`).
//!
//! | address | physical name / id | declared fields | outputs |
//! |---|---|---|---|
//! | `iam_role.lambda` | `<prefix>-<env>-lambda` (role name) at path `/<prefix>/<env>/` | `assume_role_policy` (JSON object, replace), `description`, `path` (replace), `permissions_boundary` (policy name or ARN) | `arn`, `name` |
//! | `iam_role_policy_attachment.basic_execution` | id `<role>/<policy_arn>` | `role`, `policy_arn` (all force replacement) | — |
//! | `iam_role_policy.dynamodb` | policy name `<prefix>-<env>-dynamodb`, id `<role>:<name>` | `role` (replace), `policy` (JSON object) | — |
//! | `dynamodb_table.playground` | table name | `billing_mode`, `hash_key`, `range_key`, `attribute_definitions` (sorted list of `{name,type}`), `global_secondary_indexes` (sorted list of `{name,hash_key,range_key,projection_type}`), `point_in_time_recovery` (bool), `deletion_protection` (bool); keys force replacement | `arn`, `name` |
//! | `log_group.lambda` | `/aws/lambda/<function name>` | `retention_in_days` | `arn` |
//! | `lambda_layer_version.extra` (optional) | layer name `<prefix>-<env>-extra`, id = version ARN | `layer_name`, `code_sha256` (base64 SHA-256 of the zip), `zip_path` (not compared), `compatible_runtimes`, `compatible_architectures`; every field forces replacement | `arn` (version ARN) |
//! | `lambda_function.api` | `<prefix>-<env>-api` | `role_arn`, `runtime` (`provided.al2023`), `handler` (`bootstrap`), `architecture` (`arm64`/`x86_64`), `memory_size`, `timeout`, `environment` (object), `layers` (list of ARNs), `code_sha256`, `zip_path` (not compared) | `arn`, `invoke_arn`, `name` |
//! | `apigw_api.http` | name `<prefix>-<env>-http-api`, id = API id | `protocol_type` (`HTTP`), `cors` (`{allow_origins, allow_methods, allow_headers, max_age}`, sorted lists) | `id`, `api_endpoint`, `execution_arn` |
//! | `apigw_integration.lambda` | id = integration id | `api_id` (replace), `integration_type` (`AWS_PROXY`), `integration_uri` (function ARN), `payload_format_version` (`2.0`), `timeout_ms` (29000) | `id` |
//! | `apigw_route.<name>` ×7 | id = route id | `api_id` (replace), `route_key` (`POST /tables`, ...), `target` (`integrations/<id>`) | `id` |
//! | `apigw_stage.main` | stage name (`dev`, ...) | `api_id` (replace), `auto_deploy` (true) | `invoke_url` |
//! | `lambda_permission.apigw` | statement id `AllowApiGatewayInvoke` | `function_name`, `action`, `principal`, `source_arn` (all replace) | — |
//! | `iam_policy.<name>` (never declared: a customer-managed policy `migrate` adopts so the plan removes it) | id = policy ARN | `name` (replace), `policy` (JSON object) | `arn`, `name` |
//!
//! Route names: `post_tables`, `get_tables`, `get_table`, `patch_table`, `get_users`, `get_user`,
//! `put_user` (the seven routes of the API contract).
//!
//! "Not compared" fields (like `zip_path`) are carried for create/update only: a kind lists
//! them in [`Kind::NOT_COMPARED`](typed::Kind::NOT_COMPARED) and never records them.
//!
//! The engine finds a kind by name through [`lookup`] (or walks [`all`]) and never names one.
//! Each kind file follows terraform-provider-aws' order: CRUD, `find_*` (not-found becomes
//! `None`), waits, retry predicates. A kind is written as a [`typed::Kind`] (see there) and
//! registered as `&Typed::<K>::NEW`; the API Gateway kinds still implement [`ResourceKind`] by
//! hand. Helpers keep the kinds uniform: [`errors`] maps every SDK error into
//! [`ResourceError::Aws`](crate::kind::ResourceError) with AWS's code and message (and decides
//! not-found), [`tags`] brings tags to the declared ones with each service's calls, and
//! [`fields`] parses what AWS reports that needs it (percent-encoded policies) and reads the
//! declared values of the kinds written by hand.

pub mod apigw_api;
pub mod apigw_integration;
pub mod apigw_pages;
pub mod apigw_route;
pub mod apigw_stage;
pub mod dynamodb_table;
pub mod errors;
pub mod fields;
pub mod iam_policy;
pub mod iam_role;
pub mod iam_role_policy;
pub mod iam_role_policy_attachment;
pub mod lambda_function;
pub mod lambda_layer_version;
pub mod lambda_permission;
pub mod log_group;
pub mod tags;
pub mod typed;

use crate::kind::ResourceKind;
use typed::Typed;

/// Every kind the provisioner knows, in the order of the table above.
static ALL: &[&dyn ResourceKind] = &[
    &Typed::<iam_role::IamRole>::NEW,
    &Typed::<iam_role_policy_attachment::IamRolePolicyAttachment>::NEW,
    &Typed::<iam_role_policy::IamRolePolicy>::NEW,
    &Typed::<dynamodb_table::DynamodbTable>::NEW,
    &Typed::<log_group::LogGroup>::NEW,
    &Typed::<lambda_layer_version::LambdaLayerVersion>::NEW,
    &Typed::<lambda_function::LambdaFunction>::NEW,
    &Typed::<apigw_api::ApigwApi>::NEW,
    &Typed::<apigw_integration::ApigwIntegration>::NEW,
    &Typed::<apigw_route::ApigwRoute>::NEW,
    &Typed::<apigw_stage::ApigwStage>::NEW,
    &Typed::<lambda_permission::LambdaPermission>::NEW,
    &Typed::<iam_policy::IamPolicy>::NEW,
];

/// Every kind the provisioner knows.
pub fn all() -> &'static [&'static dyn ResourceKind] {
    ALL
}

/// The kind named `kind` (as in addresses: `lambda_function`), if there is one.
pub fn lookup(kind: &str) -> Option<&'static dyn ResourceKind> {
    ALL.iter().copied().find(|k| k.kind() == kind)
}

/// The `dev` environment of a default stack file in account `123456789012`, for the tests of
/// the kinds' deploy statements.
#[cfg(test)]
pub(crate) fn dev_env() -> crate::bootstrap::policies::EnvScope {
    let path = std::path::Path::new("stack.toml");
    let stack =
        crate::stack::Stack::parse(path, "[env.dev]\n".to_string()).and_then(|s| s.resolve("dev"));
    match stack {
        Ok(stack) => crate::bootstrap::policies::EnvScope::of(&stack, "deploy-dev".into()),
        Err(e) => panic!("the default stack resolves: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::bootstrap::evaluate::{Request, evaluate};
    use crate::bootstrap::policies::{DeployScope, PolicyInputs, deploy_policy};

    fn strings(value: Option<&Value>) -> Vec<String> {
        match value {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Every call an `Allow` statement lets through: each action on each resource (a `*`
    /// standing for one name of the environment), with the values its conditions ask for.
    fn requests(statement: &Value) -> Vec<Request> {
        let mut context = Vec::new();
        if let Some(Value::Object(operators)) = statement.get("Condition") {
            for keys in operators.values().filter_map(Value::as_object) {
                for (key, values) in keys {
                    for value in strings(Some(values)) {
                        context.push((key.clone(), value));
                    }
                }
            }
        }
        let mut out = Vec::new();
        for action in strings(statement.get("Action")) {
            for resource in strings(statement.get("Resource")) {
                let mut request = Request::new(&action, &resource.replace('*', "x"));
                for (key, value) in &context {
                    request = request.with(key, value);
                }
                out.push(request);
            }
        }
        out
    }

    /// The deploy policy is made of the kinds' statements: each call a kind asks for is granted
    /// (no deny of the policy gets in its way, the removal of a policy `migrate` adopted
    /// included), and every Sid is unique.
    #[test]
    fn the_deploy_policy_grants_what_every_kind_asks_for() {
        let env = dev_env();
        let scope = DeployScope {
            account_id: "123456789012",
            env: &env,
        };
        let inputs = PolicyInputs {
            account_id: "123456789012".into(),
            repository: "owner/repo".into(),
            environments: vec![env.clone()],
            state_bucket: "state".into(),
            lock_table: Some("locks".into()),
            lock_table_region: "us-east-1".into(),
        };
        let deploy = deploy_policy(&inputs, &env);
        let mut sids: Vec<&str> = deploy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        let count = sids.len();
        sids.sort_unstable();
        sids.dedup();
        assert_eq!(sids.len(), count, "Sids are unique in one policy: {sids:?}");
        let mut checked = 0;
        for kind in all() {
            for statement in kind.deploy_statements(&scope) {
                for request in requests(&statement) {
                    assert!(
                        evaluate(std::slice::from_ref(&deploy), &request).is_allowed(),
                        "{}: {} is not granted: {request:?}",
                        kind.kind(),
                        statement["Sid"]
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "{checked}");
        let boundary = format!("arn:aws:iam::123456789012:policy/{}", env.boundary_name);
        let delete = Request::new("iam:DeletePolicy", &boundary);
        assert!(
            !evaluate(std::slice::from_ref(&deploy), &delete).is_allowed(),
            "the boundary itself stays out of reach"
        );
    }

    #[test]
    fn every_kind_is_found_by_its_own_name_and_names_are_unique() {
        for kind in all() {
            assert_eq!(lookup(kind.kind()).map(|k| k.kind()), Some(kind.kind()));
        }
        let mut names: Vec<_> = all().iter().map(|k| k.kind()).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate kind names");
        assert!(lookup("no_such_kind").is_none());
    }

    #[test]
    fn every_kind_of_the_table_is_registered() {
        for kind in [
            "iam_role",
            "iam_role_policy_attachment",
            "iam_role_policy",
            "dynamodb_table",
            "log_group",
            "lambda_layer_version",
            "lambda_function",
            "apigw_api",
            "apigw_integration",
            "apigw_route",
            "apigw_stage",
            "lambda_permission",
            "iam_policy",
        ] {
            assert!(lookup(kind).is_some(), "{kind} is not registered");
        }
        assert_eq!(all().len(), 13);
    }
}
