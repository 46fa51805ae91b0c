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
/// function, API, integration, stage, invoke permission.
const NOT_ROUTES: usize = 10;

#[test]
fn the_stack_has_every_resource_once_with_known_dependencies() {
    let list = desired_resources(&resolved(""), &artifacts(false));
    let addresses: BTreeSet<&str> = list.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(addresses.len(), list.len(), "addresses are unique");
    assert_eq!(list.len(), NOT_ROUTES + contract::ROUTES.len());
    for d in &list {
        for dep in &d.depends_on {
            assert!(addresses.contains(dep.as_str()), "{} -> {dep}", d.address);
        }
    }
    assert!(!addresses.contains("lambda_layer_version.extra"));
    let with_layer = desired_resources(&resolved(""), &artifacts(true));
    assert_eq!(with_layer.len(), list.len() + 1);
}

/// The provisioner's part of the route agreement (the function's part is
/// `function/tests/contract.rs`): one route per entry of the contract, no other, each at
/// `apigw_route.<name>` with the contract's key, and `openapi.json` documents the same.
#[test]
fn the_deployed_routes_are_exactly_the_contracts_and_openapis() {
    let list = desired_resources(&resolved(""), &artifacts(false));
    let deployed: BTreeSet<(String, String)> = list
        .iter()
        .filter(|d| d.kind == "apigw_route")
        .map(|d| {
            (
                d.address.clone(),
                d.fields["route_key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let contract: BTreeSet<(String, String)> = contract::ROUTES
        .iter()
        .map(|r| (format!("apigw_route.{}", r.name()), r.key()))
        .collect();
    assert_eq!(deployed, contract);

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
