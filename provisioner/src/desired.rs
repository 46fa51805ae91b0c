//! The stack's resources: a [`ResolvedStack`] turned into the list of [`Desired`] resources.
//!
//! This is the one place that knows what the playground stack is made of (the Terraform
//! `main.tf` of the original). Values another resource computes are references,
//! `{"$ref": "<address>.<output>"}`, optionally with a literal `prefix`/`suffix` around the
//! value (`{"$ref": "apigw_integration.lambda.id", "prefix": "integrations/"}`); the engine
//! resolves them, so a plan can show "(known after apply)" and kinds only ever see values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::kinds::apigw_authorizer::IDENTITY_SOURCE;
use crate::resource::{Desired, Fields};
use crate::stack::{ResolvedApi, ResolvedAuth, ResolvedStack, Throttle};
use contract::{Access, Deploy, Route};

/// The managed policy every Lambda needs to write its logs.
pub const BASIC_EXECUTION_POLICY_ARN: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
/// The statement id of the API Gateway invoke permission.
pub const PERMISSION_STATEMENT_ID: &str = "AllowApiGatewayInvoke";
/// The alias that serves the function's traffic: API Gateway invokes it, never `$LATEST`.
pub const LIVE_ALIAS: &str = "live";
/// Lambda runtime of a Rust binary named `bootstrap`.
pub const RUNTIME: &str = "provided.al2023";

/// The table calls the function makes (BatchWriteItem deletes a playground's rows;
/// TransactWriteItems is authorised through its
/// PutItem/UpdateItem/ConditionCheckItem parts): its inline policy grants exactly these, and
/// bootstrap's permissions boundary caps the role at these same calls.
pub const FUNCTION_TABLE_ACTIONS: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
];

/// The IAM path of the environment's roles, `/<name_prefix>/<env>/`. The deploy role may write
/// only roles under it, so a path per environment keeps one environment's deploy role away from
/// every other role in the account (its own included: deploy roles live at `/`).
pub fn function_role_path(stack: &ResolvedStack) -> String {
    format!("/{}/{}/", stack.name_prefix, stack.environment)
}

/// The name of the managed policy `provisioner bootstrap` creates as the permissions boundary
/// of the environment's roles (`<prefix>-<env>-function-boundary`). The function's role is
/// created with it and the deploy role may create roles only with it, so no role it makes can
/// do more than the function needs, whatever policy it is given.
pub fn boundary_policy_name(stack: &ResolvedStack) -> String {
    format!("{}-function-boundary", stack.name_base())
}

/// The API contract: routes, CORS lists, the table's keys and indexes. It is the function
/// crate's own source file, compiled here as a module: the deployed API and table are then the
/// ones the function serves and reads, without the provisioner depending on the function crate
/// (that would pull `lambda_http` and axum into the deploy tool).
#[path = "../../function/src/contract.rs"]
pub mod contract;

/// The methods of the deployed routes and `OPTIONS`, for CORS (sorted, as kinds normalise
/// lists): a method no deployed route has is not advertised to browsers.
pub fn cors_methods(api: &ResolvedApi) -> Vec<&'static str> {
    let mut methods: Vec<&str> = routes(api).iter().map(|r| r.method.as_str()).collect();
    methods.push("OPTIONS");
    methods.sort_unstable();
    methods.dedup();
    methods
}

/// The request headers clients send, for CORS (lower case and sorted, as kinds normalise them).
pub fn cors_headers() -> Vec<String> {
    let mut headers: Vec<String> = contract::cors_headers()
        .map(str::to_ascii_lowercase)
        .collect();
    headers.sort_unstable();
    headers
}

/// The routes of the API contract `api` deploys, in the contract's order: every route but
/// those its settings leave out (`DELETE /tables/{tableId}` without `allow_table_delete`).
pub fn routes(api: &ResolvedApi) -> Vec<&'static Route> {
    contract::ROUTES
        .iter()
        .filter(|route| match route.deploy {
            Deploy::Always => true,
            Deploy::WhenTableDeleteAllowed => api.allow_table_delete,
        })
        .collect()
}

/// Whether the authorizer guards `route` under `auth`: the writes always, the reads unless
/// they are public; health and the API's description never.
pub fn guarded(route: &Route, auth: Option<&ResolvedAuth>) -> bool {
    auth.is_some_and(|auth| match route.access {
        Access::Public => false,
        Access::Read => !auth.public_reads,
        Access::Write => true,
    })
}

/// The address of the JWT authorizer, declared when `[auth]` is enabled.
pub const AUTHORIZER: &str = "apigw_authorizer.jwt";

/// A throttle as the stage kind declares it.
fn throttle_fields(throttle: Throttle) -> Value {
    json!({ "rate_limit": throttle.rate_limit, "burst_limit": throttle.burst_limit })
}

/// The function's environment: its table and CORS origins, and with `[auth]` how to read the
/// verified claims API Gateway passes (the function never sees a token). The auth variables
/// are absent when auth is off, so turning it on is the only change to an existing function.
fn function_environment(stack: &ResolvedStack) -> Value {
    let mut environment = json!({
        "TABLE_NAME": stack.table.name,
        "SAFE_CONCURRENCY": stack.lambda.safe_concurrency.to_string(),
        "CORS_ALLOW_ORIGINS": stack.api.cors_allow_origins.join(","),
    });
    if let Some(auth) = &stack.auth {
        environment["AUTH_ENABLED"] = json!("true");
        environment["AUTH_USERNAME_CLAIM"] = json!(auth.username_claim);
        environment["AUTH_GROUPS_CLAIM"] = json!(auth.groups_claim);
        if let Some(group) = &auth.admin_group {
            environment["AUTH_ADMIN_GROUP"] = json!(group);
        }
    }
    environment
}

/// A code zip ready to upload: where it is and its Lambda-style hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub path: PathBuf,
    /// base64(SHA-256(zip)), Lambda's `CodeSha256`.
    pub sha256: String,
}

/// The zips the stack deploys (built or prebuilt, decided by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifacts {
    pub function: Artifact,
    pub layer: Option<Artifact>,
}

/// A reference to another resource's output.
pub fn reference(address: &str, output: &str) -> Value {
    json!({ "$ref": format!("{address}.{output}") })
}

fn reference_with(address: &str, output: &str, prefix: &str, suffix: &str) -> Value {
    json!({ "$ref": format!("{address}.{output}"), "prefix": prefix, "suffix": suffix })
}

fn fields(value: Value) -> Fields {
    match value {
        Value::Object(map) => map,
        _ => Fields::new(),
    }
}

struct Builder<'a> {
    stack: &'a ResolvedStack,
    out: Vec<Desired>,
}

impl Builder<'_> {
    fn add(&mut self, address: &str, name: &str, fields_value: Value, tagged: bool, deps: &[&str]) {
        let kind = address.split('.').next().unwrap_or(address).to_string();
        self.out.push(Desired {
            address: address.to_string(),
            kind,
            name: name.to_string(),
            fields: fields(fields_value),
            tags: if tagged {
                self.stack.tags.clone()
            } else {
                BTreeMap::new()
            },
            depends_on: deps.iter().map(ToString::to_string).collect(),
        });
    }
}

/// Every resource of one environment, in dependency order.
pub fn desired_resources(stack: &ResolvedStack, artifacts: &Artifacts) -> Vec<Desired> {
    let mut b = Builder {
        stack,
        out: Vec::new(),
    };
    let lambda = &stack.lambda;
    let table = &stack.table;

    b.add(
        "iam_role.lambda",
        &lambda.role_name,
        json!({
            "assume_role_policy": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "lambda.amazonaws.com" },
                    "Action": "sts:AssumeRole"
                }]
            },
            "description": format!("Runs {} ({} environment of {})", lambda.function_name, stack.environment, stack.stack_name),
            "path": function_role_path(stack),
            "permissions_boundary": boundary_policy_name(stack),
        }),
        true,
        &[],
    );
    b.add(
        "iam_role_policy_attachment.basic_execution",
        &format!("{}/{}", lambda.role_name, BASIC_EXECUTION_POLICY_ARN),
        // The role by reference, not by its (fixed) name: when the role is replaced (a trust
        // or path change re-creates it, taking its policies with it), its name is "known after
        // apply" and `role` forces this attachment's replacement too, so it is put back.
        json!({ "role": reference("iam_role.lambda", "name"), "policy_arn": BASIC_EXECUTION_POLICY_ARN }),
        false,
        &["iam_role.lambda"],
    );

    // The contract's indexes the stack asks for, and the attributes their keys need; both sorted
    // by name, as the kind normalises them. The two ordering indexes are sparse: each holds only
    // the rows that carry its sort attribute (playground rows, user rows).
    let mut declared = Vec::new();
    if table.ordered_indexes {
        declared.extend_from_slice(contract::ORDERING_INDEXES);
    }
    if table.by_user_index {
        declared.push(contract::BY_USER);
    }
    declared.sort_by_key(|index| index.name);
    let indexes: Vec<Value> = declared
        .iter()
        .map(|index| {
            json!({
                "name": index.name,
                "hash_key": index.hash.name,
                "range_key": index.range.name,
                "projection_type": "ALL",
            })
        })
        .collect();
    let attributes: Vec<Value> = contract::attribute_definitions(&declared)
        .iter()
        .map(|attribute| json!({ "name": attribute.name, "type": attribute.kind.as_str() }))
        .collect();
    b.add(
        "dynamodb_table.playground",
        &table.name,
        json!({
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": contract::HASH_KEY.name,
            "range_key": contract::RANGE_KEY.name,
            "attribute_definitions": attributes,
            "global_secondary_indexes": indexes,
            "point_in_time_recovery": table.point_in_time_recovery,
            "deletion_protection": table.deletion_protection,
        }),
        true,
        &[],
    );

    // Least privilege: exactly the item calls the function makes and DescribeTable, on this
    // environment's table and its indexes only.
    b.add(
        "iam_role_policy.dynamodb",
        &lambda.policy_name,
        json!({
            // By reference, as for the attachment: re-created with the role.
            "role": reference("iam_role.lambda", "name"),
            "policy": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "PlaygroundTable",
                    "Effect": "Allow",
                    "Action": FUNCTION_TABLE_ACTIONS,
                    "Resource": [
                        reference("dynamodb_table.playground", "arn"),
                        reference_with("dynamodb_table.playground", "arn", "", "/index/*")
                    ]
                }]
            }
        }),
        false,
        &["iam_role.lambda", "dynamodb_table.playground"],
    );

    b.add(
        "log_group.lambda",
        &lambda.log_group,
        json!({ "retention_in_days": lambda.log_retention_days }),
        true,
        &[],
    );

    let mut function_deps = vec![
        "iam_role.lambda",
        "iam_role_policy_attachment.basic_execution",
        "iam_role_policy.dynamodb",
        "dynamodb_table.playground",
        "log_group.lambda",
    ];
    let mut layers = Vec::new();
    if let Some(layer) = &artifacts.layer {
        b.add(
            "lambda_layer_version.extra",
            &lambda.layer_name,
            json!({
                "layer_name": lambda.layer_name,
                "code_sha256": layer.sha256,
                "zip_path": layer.path.display().to_string(),
                "compatible_runtimes": [RUNTIME],
                "compatible_architectures": [lambda.architecture.as_str()],
                "keep_versions": stack.release.keep_versions,
            }),
            false,
            &[],
        );
        function_deps.push("lambda_layer_version.extra");
        layers.push(reference("lambda_layer_version.extra", "arn"));
    }

    b.add(
        "lambda_function.api",
        &lambda.function_name,
        json!({
            "role_arn": reference("iam_role.lambda", "arn"),
            "runtime": RUNTIME,
            "handler": "bootstrap",
            "architecture": lambda.architecture.as_str(),
            "memory_size": lambda.memory_mb,
            "timeout": lambda.timeout_seconds,
            "environment": function_environment(stack),
            "layers": layers,
            "code_sha256": artifacts.function.sha256,
            "reserved_concurrency": lambda.reserved_concurrency,
            "tracing_mode": lambda.tracing.as_str(),
            "publish": true,
            "zip_path": artifacts.function.path.display().to_string(),
        }),
        true,
        &function_deps,
    );
    // The version every change publishes is served through the alias, which moves to it,
    // watched by the release alarms (made before it: it cannot watch what is not there).
    let release_alarms = monitoring::release_alarms(stack);
    let alarm_names: Vec<String> = release_alarms.iter().map(|(_, n)| n.clone()).collect();
    let mut alias_deps = vec!["lambda_function.api"];
    alias_deps.extend(release_alarms.iter().map(|(address, _)| address.as_str()));
    b.add(
        "lambda_alias.live",
        LIVE_ALIAS,
        json!({
            "function_name": lambda.function_name,
            "function_version": reference("lambda_function.api", "version"),
            "additional_version_weights": {},
            "keep_versions": stack.release.keep_versions,
            "rollout": monitoring::rollout(stack, &alarm_names),
        }),
        false,
        &alias_deps,
    );

    let mut origins = stack.api.cors_allow_origins.clone();
    origins.sort();
    b.add(
        "apigw_api.http",
        &stack.api.name,
        json!({
            "name": stack.api.name,
            "protocol_type": "HTTP",
            "cors": {
                "allow_origins": origins,
                "allow_methods": cors_methods(&stack.api),
                "allow_headers": cors_headers(),
                "max_age": 300,
            },
        }),
        true,
        &[],
    );
    b.add(
        "apigw_integration.lambda",
        &format!("{}-lambda", stack.api.name),
        json!({
            "api_id": reference("apigw_api.http", "id"),
            "integration_type": "AWS_PROXY",
            // The alias's ARN, said as the function's with the alias's name: the same value,
            // known as soon as the function is (an adopted Terraform stack has no alias yet).
            "integration_uri": reference_with("lambda_function.api", "arn", "", &format!(":{LIVE_ALIAS}")),
            "payload_format_version": "2.0",
            "timeout_ms": 29000,
        }),
        false,
        // After the permission on the alias: API Gateway never invokes what it may not.
        &[
            "apigw_api.http",
            "lambda_alias.live",
            "lambda_permission.apigw",
        ],
    );
    let auth = stack.auth.as_ref();
    if let Some(auth) = auth {
        b.add(
            AUTHORIZER,
            &format!("{}-jwt", stack.api.name),
            json!({
                "api_id": reference("apigw_api.http", "id"),
                "issuer": auth.issuer,
                "audience": auth.audience,
                "identity_source": [IDENTITY_SOURCE],
            }),
            false,
            &["apigw_api.http"],
        );
    }
    let mut write_throttles = serde_json::Map::new();
    for route in routes(&stack.api) {
        let key = route.key();
        let guarded = guarded(route, auth);
        let mut deps = vec!["apigw_api.http", "apigw_integration.lambda"];
        if guarded {
            deps.push(AUTHORIZER);
        }
        b.add(
            &format!("apigw_route.{}", route.name()),
            &key,
            json!({
                "api_id": reference("apigw_api.http", "id"),
                "route_key": key,
                "target": reference_with("apigw_integration.lambda", "id", "integrations/", ""),
                "authorization_type": guarded.then_some("JWT"),
                "authorizer_id": guarded.then(|| reference(AUTHORIZER, "id")),
            }),
            false,
            &deps,
        );
        if let (Access::Write, Some(throttle)) = (route.access, stack.api.throttling.writes) {
            write_throttles.insert(key, throttle_fields(throttle));
        }
    }
    b.add(
        "log_group.api_access",
        &access_log_group(stack),
        json!({ "retention_in_days": lambda.log_retention_days }),
        true,
        &[],
    );
    b.add(
        "apigw_stage.main",
        &stack.api.stage_name,
        json!({
            "api_id": reference("apigw_api.http", "id"),
            "auto_deploy": true,
            "default_throttle": stack.api.throttling.all.map(throttle_fields),
            "route_throttles": write_throttles,
            "access_log": {
                "destination_arn": reference("log_group.api_access", "arn"),
                "format": ACCESS_LOG_FORMAT,
            },
        }),
        false,
        &["apigw_api.http", "log_group.api_access"],
    );
    b.add(
        "lambda_permission.apigw",
        PERMISSION_STATEMENT_ID,
        json!({
            "function_name": lambda.function_name,
            "qualifier": LIVE_ALIAS,
            "action": "lambda:InvokeFunction",
            "principal": "apigateway.amazonaws.com",
            "source_arn": reference_with("apigw_api.http", "execution_arn", "", "/*/*"),
        }),
        false,
        &["lambda_alias.live", "apigw_api.http"],
    );
    monitoring::add_monitoring(&mut b);
    b.out
}

mod monitoring;
pub use monitoring::{ACCESS_LOG_FORMAT, access_log_group};

#[cfg(test)]
mod tests;
