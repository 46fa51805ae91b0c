//! The stack's resources as declared: every resource once, the settings the stack file gives,
//! least privilege, and the API contract deployed exactly (routes, CORS, table), with the values
//! existing deployments hold pinned.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::stack::Stack;

fn resolved(extra: &str) -> ResolvedStack {
    Stack::parse(Path::new("stack.toml"), format!("{extra}\n[env.dev]\n"))
        .unwrap()
        .resolve("dev")
        .unwrap()
}

/// The declared resource at `address`.
fn declared<'a>(list: &'a [Desired], address: &str) -> &'a Desired {
    let found = list.iter().find(|d| d.address == address);
    found.unwrap_or_else(|| panic!("{address} is not declared"))
}

fn artifacts(layer: bool) -> Artifacts {
    let artifact = |name: &str| Artifact {
        path: PathBuf::from(name),
        sha256: "c2hh".into(),
    };
    Artifacts {
        function: artifact("function.zip"),
        layer: layer.then(|| artifact("layer.zip")),
    }
}

/// The resources besides the routes: role, attachment, table, table policy, log group,
/// function, its alias, API, integration, access log group, stage, invoke permission, and with
/// the default `[alarms]` seven alarms and the dashboard.
const NOT_ROUTES: usize = 20;

#[test]
fn the_stack_has_every_resource_once_with_known_dependencies() {
    let list = desired_resources(&resolved(""), &artifacts(false));
    let addresses: BTreeSet<&str> = list.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(addresses.len(), list.len(), "addresses are unique");
    assert_eq!(list.len(), NOT_ROUTES + routes(&resolved("").api).len());
    for d in &list {
        for dep in &d.depends_on {
            assert!(addresses.contains(dep.as_str()), "{} -> {dep}", d.address);
        }
    }
    assert!(!addresses.contains("lambda_layer_version.extra"));
    let with_layer = desired_resources(&resolved(""), &artifacts(true));
    assert_eq!(with_layer.len(), list.len() + 1);
}

/// The routes `extra`'s stack deploys: (address, route key).
fn deployed_routes(extra: &str) -> BTreeSet<(String, String)> {
    let list = desired_resources(&resolved(extra), &artifacts(false));
    list.iter()
        .filter(|d| d.kind == "apigw_route")
        .map(|d| {
            (
                d.address.clone(),
                d.fields["route_key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The provisioner's part of the route agreement (the function's part is
/// `function/tests/contract.rs`): one route per entry of the contract, no other, each at
/// `apigw_route.<name>` with the contract's key, and `openapi.json` documents the same. The
/// delete route is deployed only where the stack allows it.
#[test]
fn the_deployed_routes_are_exactly_the_contracts_and_openapis() {
    let deployed = deployed_routes("[api]\nallow_table_delete = true\n");
    let contract: BTreeSet<(String, String)> = contract::ROUTES
        .iter()
        .map(|r| (format!("apigw_route.{}", r.name()), r.key()))
        .collect();
    assert_eq!(deployed, contract);
    let by_default = deployed_routes("");
    let missing: Vec<&String> = contract
        .difference(&by_default)
        .map(|(_, key)| key)
        .collect();
    assert_eq!(missing, ["DELETE /tables/{tableId}"]);

    let openapi: Value =
        serde_json::from_str(include_str!("../../../function/src/openapi.json")).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                documented.insert(format!("{} {path}", method.to_ascii_uppercase()));
            }
        }
    }
    let keys: BTreeSet<String> = deployed.into_iter().map(|(_, key)| key).collect();
    assert_eq!(
        keys, documented,
        "openapi.json documents the deployed routes"
    );
}

/// Existing deployments and states hold these exact values: a change here is a plan (or a
/// replacement) against every one of them, so they are pinned literally.
#[test]
fn the_contract_gives_the_values_deployments_hold() {
    let list = desired_resources(&resolved(""), &artifacts(false));
    let find = |address: &str| list.iter().find(|d| d.address == address).unwrap();
    let cors = &find("apigw_api.http").fields["cors"];
    assert_eq!(
        cors["allow_methods"],
        json!(["GET", "OPTIONS", "PATCH", "POST", "PUT"])
    );
    let with_delete = desired_resources(
        &resolved("[api]\nallow_table_delete = true\n"),
        &artifacts(false),
    );
    assert_eq!(
        declared(&with_delete, "apigw_api.http").fields["cors"]["allow_methods"],
        json!(["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"])
    );
    assert_eq!(
        cors["allow_headers"],
        json!(["authorization", "content-type"])
    );
    for (name, key) in [
        ("post_tables", "POST /tables"),
        ("get_tables", "GET /tables"),
        ("get_table", "GET /tables/{tableId}"),
        ("patch_table", "PATCH /tables/{tableId}"),
        ("get_users", "GET /tables/{tableId}/users"),
        ("get_user", "GET /tables/{tableId}/users/{username}"),
        ("put_user", "PUT /tables/{tableId}/users/{username}"),
        ("get_openapi", "GET /openapi.json"),
        ("get_health", "GET /health"),
    ] {
        let route = find(&format!("apigw_route.{name}"));
        assert_eq!(route.name, key);
        assert_eq!(route.fields["route_key"], key);
    }

    let index = |name: &str, hash: &str, range: &str| json!({ "name": name, "hash_key": hash, "range_key": range, "projection_type": "ALL" });
    let attribute = |name: &str, kind: &str| json!({ "name": name, "type": kind });
    let keys_only = json!([attribute("tableId", "S"), attribute("username", "S")]);
    let with_ordering = json!([
        attribute("createdAt", "S"),
        attribute("submissionCount", "N"),
        attribute("tableId", "S"),
        attribute("username", "S"),
    ]);
    let by_user = index("byUser", "username", "tableId");
    let by_created_at = index("byCreatedAt", "username", "createdAt");
    let by_submission_count = index("bySubmissionCount", "tableId", "submissionCount");
    for (extra, attributes, indexes) in [
        (
            "",
            &with_ordering,
            json!([by_created_at, by_submission_count, by_user]),
        ),
        (
            "[table]\nby_user_index = false\n",
            &with_ordering,
            json!([by_created_at, by_submission_count]),
        ),
        (
            "[table]\nordered_indexes = false\n",
            &keys_only,
            json!([by_user]),
        ),
        (
            "[table]\nordered_indexes = false\nby_user_index = false\n",
            &keys_only,
            json!([]),
        ),
    ] {
        let list = desired_resources(&resolved(extra), &artifacts(false));
        let table = list.iter().find(|d| d.kind == "dynamodb_table").unwrap();
        assert_eq!(table.fields["hash_key"], "tableId", "{extra}");
        assert_eq!(table.fields["range_key"], "username", "{extra}");
        assert_eq!(
            &table.fields["attribute_definitions"], attributes,
            "{extra}"
        );
        assert_eq!(table.fields["global_secondary_indexes"], indexes, "{extra}");
    }
}

#[test]
fn names_and_function_settings_follow_the_stack() {
    let list = desired_resources(&resolved("[lambda]\nmemory_mb = 512\n"), &artifacts(false));
    let function = declared(&list, "lambda_function.api");
    assert_eq!(function.name, "aimodelshare-dev-api");
    assert_eq!(function.fields["memory_size"], 512);
    assert_eq!(
        function.fields["environment"]["TABLE_NAME"],
        "aimodelshare-dev-playground"
    );
    assert_eq!(function.fields["environment"]["CORS_ALLOW_ORIGINS"], "*");
    assert_eq!(function.tags["provisioner:environment"], "dev");
    let table = list.iter().find(|d| d.kind == "dynamodb_table").unwrap();
    assert_eq!(
        table.fields["global_secondary_indexes"][2]["name"],
        "byUser"
    );
    assert_eq!(
        table.fields["attribute_definitions"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(table.fields["point_in_time_recovery"], true);
}

#[test]
fn the_policy_grants_only_the_items_calls_on_the_table() {
    let list = desired_resources(&resolved(""), &artifacts(false));
    let policy = list.iter().find(|d| d.kind == "iam_role_policy").unwrap();
    let statements = policy.fields["policy"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    let actions = statements[0]["Action"].as_array().unwrap();
    assert!(
        actions
            .iter()
            .all(|a| a.as_str().unwrap().starts_with("dynamodb:"))
    );
    assert!(!actions.iter().any(|a| a.as_str().unwrap().contains('*')));
    assert_eq!(statements[0]["Resource"].as_array().unwrap().len(), 2);
}

#[test]
fn the_roles_policies_follow_a_replaced_role() {
    let list = desired_resources(&resolved(""), &artifacts(false));
    for address in [
        "iam_role_policy_attachment.basic_execution",
        "iam_role_policy.dynamodb",
    ] {
        let d = declared(&list, address);
        assert_eq!(d.fields["role"], reference("iam_role.lambda", "name"));
    }
}

#[test]
fn the_role_lives_under_the_environments_path_with_the_boundary() {
    let list = desired_resources(&resolved(""), &artifacts(false));
    let role = declared(&list, "iam_role.lambda");
    assert_eq!(role.fields["path"], "/aimodelshare/dev/");
    assert_eq!(
        role.fields["permissions_boundary"],
        "aimodelshare-dev-function-boundary"
    );
}

const AUTH: &str = "[auth]\nenabled = true\nissuer = \"https://issuer.example.com\"\naudience = [\"client-b\", \"client-a\"]\nadmin_group = \"admins\"\n";

/// With `[auth]`, one JWT authorizer guards exactly the writes (and the reads when they are not
/// public); health and the API's description stay open; the function learns how to read the
/// verified claims. Without it, nothing about auth is declared but the routes' open state.
#[test]
fn auth_guards_the_writes_with_one_authorizer() {
    let guarded = |extra: &str| -> BTreeSet<String> {
        let list = desired_resources(&resolved(extra), &artifacts(false));
        list.iter()
            .filter(|d| d.kind == "apigw_route" && d.fields["authorization_type"] == "JWT")
            .inspect(|d| {
                assert_eq!(d.fields["authorizer_id"], reference(AUTHORIZER, "id"));
                assert!(d.depends_on.iter().any(|dep| dep == AUTHORIZER));
            })
            .map(|d| d.name.clone())
            .collect()
    };
    assert!(guarded("").is_empty());
    assert_eq!(
        guarded(AUTH),
        BTreeSet::from([
            "PATCH /tables/{tableId}".to_string(),
            "POST /tables".to_string(),
            "PUT /tables/{tableId}/users/{username}".to_string(),
        ])
    );
    let all_but_public = guarded(&format!("{AUTH}public_reads = false\n"));
    assert_eq!(all_but_public.len(), 7);
    assert!(!all_but_public.contains("GET /health"));
    assert!(!all_but_public.contains("GET /openapi.json"));

    let list = desired_resources(&resolved(AUTH), &artifacts(false));
    let authorizer = declared(&list, AUTHORIZER);
    assert_eq!(authorizer.name, "aimodelshare-dev-http-api-jwt");
    assert_eq!(authorizer.fields["issuer"], "https://issuer.example.com");
    assert_eq!(
        authorizer.fields["audience"],
        json!(["client-a", "client-b"])
    );
    assert_eq!(
        authorizer.fields["identity_source"],
        json!(["$request.header.Authorization"])
    );
    let environment = &declared(&list, "lambda_function.api").fields["environment"];
    assert_eq!(environment["AUTH_ENABLED"], "true");
    assert_eq!(environment["AUTH_USERNAME_CLAIM"], "sub");
    assert_eq!(environment["AUTH_GROUPS_CLAIM"], "cognito:groups");
    assert_eq!(environment["AUTH_ADMIN_GROUP"], "admins");

    let open = desired_resources(&resolved(""), &artifacts(false));
    assert!(!open.iter().any(|d| d.kind == "apigw_authorizer"));
    let environment = declared(&open, "lambda_function.api").fields["environment"].clone();
    let keys: BTreeSet<&String> = environment.as_object().unwrap().keys().collect();
    let expected = ["CORS_ALLOW_ORIGINS", "SAFE_CONCURRENCY", "TABLE_NAME"];
    assert!(keys.iter().eq(expected.iter()), "{keys:?}");
}

/// Throttling and reserved concurrency reach the stage and the function as declared, and are
/// declared as absent (`null`, `{}`) when unset, so removing them from the stack is a change.
#[test]
fn limits_reach_the_stage_and_the_function() {
    let list = desired_resources(&resolved(""), &artifacts(false));
    let stage = declared(&list, "apigw_stage.main");
    assert_eq!(stage.fields["default_throttle"], Value::Null);
    assert_eq!(stage.fields["route_throttles"], json!({}));
    let function = declared(&list, "lambda_function.api");
    assert_eq!(function.fields["reserved_concurrency"], Value::Null);

    let limits = "[api]\nthrottle_rate_limit = 50.0\nthrottle_burst_limit = 100\nwrite_throttle_rate_limit = 5.0\nwrite_throttle_burst_limit = 10\n[lambda]\nreserved_concurrency = 20\n";
    let list = desired_resources(&resolved(limits), &artifacts(false));
    let stage = declared(&list, "apigw_stage.main");
    assert_eq!(
        stage.fields["default_throttle"],
        json!({ "rate_limit": 50.0, "burst_limit": 100 })
    );
    let writes = stage.fields["route_throttles"].as_object().unwrap();
    let keys: BTreeSet<&str> = writes.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "PATCH /tables/{tableId}",
            "POST /tables",
            "PUT /tables/{tableId}/users/{username}"
        ])
    );
    assert!(
        writes
            .values()
            .all(|t| *t == json!({ "rate_limit": 5.0, "burst_limit": 10 }))
    );
    let function = declared(&list, "lambda_function.api");
    assert_eq!(function.fields["reserved_concurrency"], 20);
}
